from __future__ import annotations

from pathlib import Path

import pytest

from digest import load
from digest.diagnostics import Diagnostic
from digest.load import LoadError, Position, RawEntry, load_file, parse_yaml

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml


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
    real_count = load._Composer._count

    def counting(self: load._Composer, nodes: int, mark: Position) -> None:
        counted.append(nodes)
        real_count(self, nodes, mark)

    monkeypatch.setattr(load._Composer, "_count", counting)
    with pytest.raises(LoadError) as caught:
        parse_yaml(text)
    assert caught.value.code == "E007"
    assert len(counted) < 200  # a few dozen events, not billions
    assert sum(counted) < 10 * load.MAX_NODES


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    """PyYAML's C composer recurses and can crash the interpreter on this input."""
    depth = 200_000
    with pytest.raises(LoadError) as caught:
        parse_yaml("tags: " + "[" * depth + "]" * depth)
    assert caught.value.code == "E008"


def test_oversized_file_is_rejected_before_parsing(make_site: SiteFactory) -> None:
    big = paper_yaml(summary="|\n" + "  words words words words\n" * 50_000)
    root = make_site(
        {"entries/2026-02-28/big.yaml": big, "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE}
    )
    loaded = load_file(root / "entries/2026-02-28/big.yaml", root, "2026-02-28")
    assert isinstance(loaded, Diagnostic)
    assert (loaded.code, loaded.line, loaded.col) == ("E002", 1, 1)
    assert loaded.path == "entries/2026-02-28/big.yaml"


def test_load_entries_reads_every_file_and_reports_the_broken(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/good.yaml": paper_yaml(),
            "entries/2026-02-28/bad.yaml": "title: [unclosed\n",
            "entries/2026-02-28/notes.txt": "not an entry",
            "entries/.hidden/x.yaml": "ignored: true\n",
        }
    )
    result = load.load_entries(root / "entries", root)
    assert sorted(e.display_path for e in result.entries) == [
        "entries/2026-02-28/_issue.yaml",
        "entries/2026-02-28/good.yaml",
    ]
    assert [(d.path, d.code) for d in result.diagnostics] == [
        ("entries/2026-02-28/bad.yaml", "E004")
    ]
    assert ("2026-02-28", "entries/2026-02-28/bad.yaml") in result.files


def test_missing_entries_folder_loads_nothing(tmp_path: Path) -> None:
    result = load.load_entries(tmp_path / "entries", tmp_path)
    assert result.entries == [] and result.diagnostics == []


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
