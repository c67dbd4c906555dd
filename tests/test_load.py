from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import load, yaml_nodes
from digest.content import load_content
from digest.diagnostics import Diagnostic
from digest.load import RawEntry, load_file
from digest.models import Paper, SiteConfig
from digest.validate import check_file
from digest.yaml_nodes import LoadError, Position, parse_yaml

from .conftest import MINIMAL_ISSUE, SiteFactory, examples, first_arguments, paper_yaml


def test_scalars_stay_as_written() -> None:
    data, _, _ = parse_yaml("arxiv: 2401.12340\nanswer: no\nyear: 2026\nempty:\nquoted: ''\n")
    assert data == {
        "arxiv": "2401.12340",
        "answer": "no",
        "year": "2026",
        "empty": None,
        "quoted": "",
    }


def test_every_key_and_value_keeps_its_position() -> None:
    text = "title: T\nlinks:\n  code: https://a.b/c\nauthors:\n  - A\n  - B\n"
    _, values, keys = parse_yaml(text)
    assert keys[("links", "code")] == Position(3, 3)
    assert values[("links", "code")] == Position(3, 9)
    assert values[("authors", 1)] == Position(6, 5)
    assert values[()] == Position(1, 1)


def test_position_falls_back_to_the_nearest_enclosing_value(tmp_path: Path) -> None:
    entry = RawEntry(
        tmp_path / "x.yaml", "x.yaml", "paper", "2026-01-01", {}, {("links",): Position(4, 3)}
    )
    assert entry.position_of(("links", "paper")) == Position(4, 3)
    assert entry.position_of(("nowhere",)) == Position(1, 1)


def test_duplicate_key_points_at_the_second_and_names_the_first() -> None:
    with pytest.raises(LoadError) as caught:
        parse_yaml("title: A\nsummary: x\ntitle: B\n")
    assert (caught.value.code, caught.value.line, caught.value.col) == ("E005", 3, 1)
    assert caught.value.hint == "'title' is already set on line 1; keep one of them"


def test_alias_bomb_is_rejected_after_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The budget counts expansions, so the loader stops long before anything big exists."""
    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    text = "\n".join(levels) + "\n"  # 9**10 "lol"s if expanded
    counted: list[int] = []
    real_count = yaml_nodes._Composer._count

    def counting(self: yaml_nodes._Composer, nodes: int, mark: Position) -> None:
        counted.append(nodes)
        real_count(self, nodes, mark)

    monkeypatch.setattr(yaml_nodes._Composer, "_count", counting)
    with pytest.raises(LoadError) as caught:
        parse_yaml(text)
    assert caught.value.code == "E007"
    assert len(counted) < 200  # a few dozen events, not billions
    assert sum(counted) < 10 * yaml_nodes.MAX_NODES


DEEP = 10_000
CROSSING = yaml_nodes.MAX_DEPTH + 1  # the level that crosses the limit


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [
        # The file's mapping is level 1; after "tags: ", level 2 opens at column 7.
        ("tags: " + "[" * DEEP + "]" * DEEP, 1, 7 + (CROSSING - 2)),
        ("tags: " + "{a: " * DEEP + "}" * DEEP, 1, 7 + 4 * (CROSSING - 2)),
        ("tags:\n" + "- " * DEEP + "x\n", 2, 1 + 2 * (CROSSING - 2)),
        ("".join(" " * level + f"k{level}:\n" for level in range(DEEP // 10)), CROSSING, CROSSING),
    ],
    ids=["flow-sequence", "flow-mapping", "block-sequence", "block-mapping"],
)
@pytest.mark.parametrize("parser", ["libyaml", "python"])
def test_deep_nesting_is_e008_where_the_limit_is_crossed(
    text: str, line: int, col: int, parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever nesting limit the installed PyYAML/libyaml has of its own (PyYAML 6.0.4's
    stops deep flow lists while scanning), digest's is the one reported, at its place."""
    if parser == "python":
        monkeypatch.setattr(yaml_nodes, "_Loader", yaml.SafeLoader)
    with pytest.raises(LoadError) as caught:
        parse_yaml(text)
    assert (caught.value.code, caught.value.line, caught.value.col) == ("E008", line, col)
    assert caught.value.message == f"values are nested more than {yaml_nodes.MAX_DEPTH} levels deep"


def test_oversized_file_is_rejected_before_parsing(make_site: SiteFactory) -> None:
    big = paper_yaml(summary="|\n" + "  words words words words\n" * 50_000)
    root = make_site(
        {"entries/2026-02-28/big.yaml": big, "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE}
    )
    loaded = load_file(root / "entries/2026-02-28/big.yaml", root, "2026-02-28")
    assert isinstance(loaded, Diagnostic)
    assert (loaded.code, loaded.line, loaded.col) == ("E002", 1, 1)
    assert loaded.path == "entries/2026-02-28/big.yaml"


def test_every_entry_file_is_scanned_and_a_broken_one_reports_itself(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/good.yaml": paper_yaml(),
            "entries/2026-02-28/bad.yaml": "title: [unclosed\n",
            "entries/2026-02-28/notes.txt": "not an entry",
            "entries/.hidden/x.yaml": "ignored: true\n",
        }
    )
    scanned = load.scan_entries(root / "entries", root)
    loaded = {
        shown: load_file(Path(path), root, folder)
        for folder, path, shown in (i for i in scanned.items if not isinstance(i, Diagnostic))
    }
    assert sorted(loaded) == [
        "entries/2026-02-28/_issue.yaml",
        "entries/2026-02-28/bad.yaml",
        "entries/2026-02-28/good.yaml",
    ]
    broken = loaded["entries/2026-02-28/bad.yaml"]
    assert isinstance(broken, Diagnostic) and broken.code == "E004"
    assert isinstance(loaded["entries/2026-02-28/good.yaml"], RawEntry)
    assert ("2026-02-28", "entries/2026-02-28/bad.yaml") in scanned.files


def test_missing_entries_folder_scans_nothing(tmp_path: Path) -> None:
    scanned = load.scan_entries(tmp_path / "entries", tmp_path)
    assert scanned.items == [] and scanned.files == []


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("title: 'Unclosed\nthemes: [safety]\n", (1, 8), "this quoted value is never closed"),
        ('a: 1\ntitle: "Unclosed\n', (2, 8), "this quoted value is never closed"),
        ("themes: [safety, theory\nsummary: x\n", (1, 9), "this list is not closed"),
        ("links: {code: https://x.org\nsummary: x\n", (1, 8), "this mapping is not closed"),
    ],
)
def test_an_unclosed_quote_or_bracket_is_reported_where_it_opens(
    text: str, where: tuple[int, int], message: str
) -> None:
    with pytest.raises(LoadError) as raised:
        parse_yaml(text)
    assert (raised.value.line, raised.value.col) == where
    assert message in raised.value.message


# ---------------------------------------------------------------- the plain fast path

# Pieces of YAML that entries are made of, and (in half the texts) some that parse_plain
# must decline: an anchor, an alias, a tag, a repeated key, a syntax error.
PLAIN_SCALARS = st.sampled_from(
    ["x", "'single'", '"dou\\"ble"', "2401.12340", "no", "", "~", "null", "[a, b]", "{a: 1}"]
)
DECLINED_SCALARS = st.sampled_from(
    ["&anchor x", "*anchor", "!!str 5", "!custom x", "{a: 1, a: 2}", "'unclosed", "a: b: c"]
)
BLOCK_SCALARS = st.sampled_from(["|\n  block\n  text", ">\n  folded", "[a, [b, {c: d}]]", "[]"])
CLEAN_SCALARS = st.one_of(PLAIN_SCALARS, PLAIN_SCALARS, BLOCK_SCALARS)
ODD_SCALARS = st.one_of(CLEAN_SCALARS, DECLINED_SCALARS)
YAML_KEYS = ["title", "tags", "links", "code", "'quoted key'", "a b"]


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """Mappings of the shapes entries take, nested, in block and flow style, with now and
    then something only the full composer handles (or reports)."""
    scalars = draw(st.sampled_from([CLEAN_SCALARS, ODD_SCALARS]))

    def block(depth: int, indent: str) -> list[str]:
        lines = []
        keys = draw(st.lists(st.sampled_from(YAML_KEYS), min_size=0 if depth else 1, unique=True))
        if keys and draw(st.integers(0, 9)) == 0:
            keys.append(keys[0])  # a repeated key
        for key in keys[:4]:
            shape = draw(
                st.sampled_from(["scalar", "scalar", "list", "map"] if depth < 3 else ["scalar"])
            )
            if shape == "scalar":
                value = draw(scalars).replace("\n", "\n" + indent)
                lines.append(f"{indent}{key}: {value}")
            elif shape == "list":
                lines.append(f"{indent}{key}:")
                for _ in range(draw(st.integers(1, 3))):
                    item = draw(scalars).partition("\n")[0]
                    lines.append(f"{indent}  - {item}")
            else:
                lines.append(f"{indent}{key}:")
                lines += block(depth + 1, indent + "  ") or [f"{indent}  k: v"]
        return lines

    text = "\n".join(block(0, "")) + "\n"
    if draw(st.integers(0, 9)) == 0:
        text = draw(st.sampled_from(["~: x\n", "- a list\n", "[a]\n", ""])) + text
    start = draw(st.sampled_from(["", "---\n", "%YAML 1.1\n---\n"]))
    return start + text + draw(st.sampled_from(["", "", "...\n", "---\nsecond: document\n"]))


@settings(max_examples=examples(400), deadline=None)
@given(yaml_texts())
def test_parse_plain_agrees_with_parse_yaml_or_declines(text: str) -> None:
    plain = yaml_nodes.parse_plain(text)
    if plain is None:
        return
    data, values = plain
    full, full_values, _ = parse_yaml(text)  # raises if parse_plain let a problem through
    assert data == full
    assert values == {location: full_values[location] for location in values}
    assert set(values) == {()} | {(key,) for key in full}


@pytest.mark.parametrize(
    "text",
    [
        "title: A\ntitle: B\n",  # repeated key: E005
        "~: x\n",  # empty key
        "a: &x 1\nb: *x\n",  # anchor and alias
        "a: !!str 1\n",  # a tag
        "[a, b]\n",  # not a mapping: E006
        "",  # empty: E003
        "a: 1\n---\nb: 2\n",  # two documents: E004
        "a: [" + "[" * 40 + "]" * 40 + "]\n",  # too deep: E008
        "a: [" + ", ".join(["x"] * (yaml_nodes.MAX_NODES + 1)) + "]\n",  # too big: E007
        "? [a]\n: b\n",  # a list as a key: E009
        "a: 'unclosed\n",  # syntax: E004
    ],
)
def test_parse_plain_declines_what_the_full_composer_reports(text: str) -> None:
    assert yaml_nodes.parse_plain(text) is None


def test_a_clean_entry_is_checked_without_positions_a_faulty_one_with(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions are composed only for a file with something to report, which is then
    reported exactly where it is."""
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/clean.yaml": paper_yaml(),
            "entries/2026-02-28/faulty.yaml": paper_yaml(links="\n  code: ftp://x.org/y"),
        }
    )
    composed = first_arguments(monkeypatch, load, "parse_yaml")
    config = SiteConfig()
    clean = check_file(root / "entries/2026-02-28/clean.yaml", root, "2026-02-28", config)
    assert clean.diagnostics == () and isinstance(clean.value, Paper) and composed == []
    faulty = check_file(root / "entries/2026-02-28/faulty.yaml", root, "2026-02-28", config)
    assert len(composed) == 1
    assert [(d.code, d.line, d.col) for d in faulty.diagnostics] == [("E106", 7, 9)]


# ------------------------------------------------------------------ the file system

POSIX = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs pipes and byte file names")


def run_digest(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`digest ARGS` in a child process with 1 GB of address space: a hang is a timeout
    and reading without end a MemoryError there, never the test run's."""

    def limited() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return subprocess.run(
        [sys.executable, "-c", "from digest.cli import main; main()", *args],
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        preexec_fn=limited,
        check=False,
    )


def problems(root: Path) -> list[str]:
    """Every diagnostic `digest check` would print for `root`, one line each."""
    content = load_content(root, cache=True)
    return [
        f"{d.path}:{d.line}:{d.col}: {d.code}: {d.message}"
        for d in content.report.sorted()
        if d.code != "W120"
    ]


@POSIX
def test_names_that_are_not_utf8_are_errors_not_crashes(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-01-02/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-02/a.yaml": paper_yaml()}
    )
    entries = os.fsencode(root / "entries")
    (Path(os.fsdecode(entries + b"/2026-01-02/\xff.yaml"))).write_text(paper_yaml())
    os.mkdir(entries + b"/\xfe2026")
    (Path(os.fsdecode(entries + b"/\xfe2026/b.yaml"))).write_text(paper_yaml())
    expected = [
        "entries/2026-01-02/\\xff.yaml:1:1: error[E011]: the file name is not valid UTF-8 "
        "(byte 0xff)",
        "entries/\\xfe2026:1:1: error[E011]: the folder name is not valid UTF-8 (byte 0xfe)",
    ]
    for command in (["check"], ["build"], ["build"], ["check", "--format", "json"]):
        done = run_digest(*command, "--root", str(root))
        assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
        if command == ["check", "--format", "json"]:
            assert '"path": "entries/\\\\xfe2026"' in done.stdout
        else:
            assert [line for line in done.stdout.splitlines() if "E011" in line] == expected


def test_yaml_files_in_a_folder_inside_an_issue_folder_are_in_the_wrong_place(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {
            "entries/2026-01-02/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-02/a.yaml": paper_yaml(),
            "entries/2026-01-02/nested/x.yaml": paper_yaml(),
            "entries/2026-01-02/nested/deeper/y.yml": paper_yaml(),
            "entries/2026-01-02/nested/notes.txt": "not an entry",
        }
    )
    assert problems(root) == [
        "entries/2026-01-02/nested/deeper/y.yml:1:1: E204: entries live directly in an "
        "issue folder, not in a folder inside it",
        "entries/2026-01-02/nested/x.yaml:1:1: E204: entries live directly in an issue "
        "folder, not in a folder inside it",
    ]


@POSIX
def test_entry_links_must_stay_in_the_content_root_and_lead_to_regular_files(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-02/_issue.yaml": MINIMAL_ISSUE,
            "shared/inside.yaml": paper_yaml(),
            "elsewhere-issue/_issue.yaml": MINIMAL_ISSUE,
        }
    )
    outside = tmp_path / "outside.yaml"
    outside.write_text(paper_yaml())
    os.mkfifo(tmp_path / "pipe")
    folder = root / "entries" / "2026-01-02"
    (folder / "inside.yaml").symlink_to(root / "shared" / "inside.yaml")  # fine: in the root
    (folder / "outside.yaml").symlink_to(outside)
    (folder / "secret.yaml").symlink_to("/proc/self/environ")
    os.mkfifo(folder / "pipe.yaml")
    (root / "entries" / "2026-01-03").symlink_to(tmp_path)  # a whole issue folder outside
    assert problems(root) == [
        f"entries/2026-01-02/outside.yaml:1:1: E010: it is a link to {outside}, outside the "
        "content root: not read",
        "entries/2026-01-02/pipe.yaml:1:1: E001: cannot read the file: it is a pipe (FIFO), "
        "not a regular file",
        "entries/2026-01-02/secret.yaml:1:1: E010: it is a link to /proc/self/environ, "
        "outside the content root: not read",
        f"entries/2026-01-03:1:1: E010: it is a link to {tmp_path}, outside the content "
        "root: not read",
    ]
    assert [p.id for p in load_content(root).papers] == ["inside"]


@POSIX
def test_an_entries_folder_that_links_out_of_the_root_is_not_read(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site({})
    (tmp_path / "shared" / "2026-01-02").mkdir(parents=True)
    (tmp_path / "shared" / "2026-01-02" / "_issue.yaml").write_text(MINIMAL_ISSUE)
    (root / "entries").symlink_to(tmp_path / "shared")
    assert problems(root) == [
        f"entries:1:1: E010: it is a link to {tmp_path / 'shared'}, outside the content root: "
        "not read"
    ]
