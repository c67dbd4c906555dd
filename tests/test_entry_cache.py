"""The entry cache: a cached `load_content` equals an uncached one, whatever happened between."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import build, cache, entry_cache, files, hashing, load, markdown, validate
from digest.build import Content, load_content
from digest.cache import CACHE_DIR, read_payload
from digest.hashing import tool_fingerprint
from digest.models import PackedPaper
from digest.organise import organise
from tests.conftest import MINIMAL_ISSUE, count_parses, first_arguments, paper_yaml

from .conftest import examples

ISSUES = ("2026-01-03", "2026-01-10")
IDS = ("alpha", "beta", "gamma", "delta")
THEMES = ("acceleration", "safety", "medical", "theory")


def config_text(themes: tuple[str, ...]) -> str:
    listed = "".join(f'  {{ slug = "{t}", title = "{t.title()}" }},\n' for t in themes)
    return f'[tool.digest]\ntitle = "Digest"\nthemes = [\n{listed}]\n'


def snapshot(content: Content) -> tuple[object, ...]:
    """Everything `load_content` decides, in a comparable form."""
    return (
        content.config,
        content.papers,
        content.issues,
        content.report.diagnostics,
        content.paper_count,
        content.issue_count,
    )


def backdate(path: Path, seconds: float = 60.0) -> None:
    """Make a file old enough for its recorded stat to be trusted (git's racy rule)."""
    when = time.time() - seconds
    os.utime(path, (when, when))


def new_root(root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    (root / "entries").mkdir(parents=True)
    (root / "pyproject.toml").write_text(config_text(THEMES))
    for issue in ISSUES:
        (root / "entries" / issue).mkdir()
        (root / "entries" / issue / "_issue.yaml").write_text(MINIMAL_ISSUE)
    (root / "entries" / ISSUES[0] / "alpha.yaml").write_text(paper_yaml(arxiv="2401.12345"))
    return root


def settled_root(root: Path, beta: str | None = None) -> Path:
    """`new_root` plus a paper beta in the second issue, every entry old enough for its
    recorded stat to be trusted."""
    new_root(root)
    (root / "entries" / ISSUES[1] / "beta.yaml").write_text(beta or paper_yaml())
    for path in paper_files(root):
        backdate(path)
    return root


def paper_files(root: Path) -> list[Path]:
    return sorted((root / "entries").glob("*/*.yaml"))


def apply(root: Path, operation: tuple[object, ...]) -> None:
    kind = operation[0]
    papers = [p for p in paper_files(root) if p.name != "_issue.yaml"]
    if kind == "add":
        _, paper, issue, theme, arxiv = operation
        text = paper_yaml(themes=f"[{theme}]", arxiv=str(arxiv) if arxiv else None)
        (root / "entries" / str(issue) / f"{paper}.yaml").write_text(text)
    elif kind == "config":
        _, kept = operation
        (root / "pyproject.toml").write_text(config_text(tuple(THEMES[: int(str(kept))])))
    elif kind == "issue":
        _, issue, present = operation
        path = root / "entries" / str(issue) / "_issue.yaml"
        if present:
            path.write_text(MINIMAL_ISSUE)
        else:
            path.unlink(missing_ok=True)
    elif papers:
        path = papers[int(str(operation[1])) % len(papers)]
        if kind == "edit":
            path.write_text(paper_yaml(title=f'"{operation[2]}"'))
        elif kind == "same-size":  # new bytes, same size, the old mtime put back
            before = path.stat()
            data = bytearray(path.read_bytes())
            data[-2] = ord("!") if data[-2] != ord("!") else ord("?")
            path.write_bytes(bytes(data))
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        elif kind == "touch":  # a new mtime, the same bytes
            os.utime(path)
        elif kind == "delete":
            path.unlink()
        elif kind == "rename":
            path.rename(path.parent.parent / str(operation[2]) / f"{operation[3]}.yaml")
        elif kind == "break":
            path.write_text("title: [unclosed\n")
        elif kind == "fix":
            path.write_text(paper_yaml())


operations = st.one_of(
    st.tuples(
        st.just("add"),
        st.sampled_from(IDS),
        st.sampled_from(ISSUES),
        st.sampled_from(THEMES),
        st.sampled_from(["", "2401.12345", "2401.12345v2", "2402.00001"]),
    ),
    st.tuples(st.just("edit"), st.integers(0, 5), st.sampled_from(["One", "Two", "Three"])),
    st.tuples(st.sampled_from(["delete", "break", "fix", "touch", "same-size"]), st.integers(0, 5)),
    st.tuples(st.just("rename"), st.integers(0, 5), st.sampled_from(ISSUES), st.sampled_from(IDS)),
    st.tuples(st.just("config"), st.integers(1, 4)),
    st.tuples(st.just("issue"), st.sampled_from(ISSUES), st.booleans()),
)


@settings(
    max_examples=examples(30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(operations, min_size=1, max_size=8), st.booleans())
def test_cached_load_equals_uncached_after_any_edits(
    tmp_path: Path, steps: list[tuple[object, ...]], aged: bool
) -> None:
    """After each edit the cached result matches a fresh one, with or without trusted stats."""
    root = new_root(tmp_path / "root")
    for operation in steps:
        if aged:  # stats older than the record: only stat changes make a file be re-read
            for path in [*paper_files(root), root / "pyproject.toml"]:
                backdate(path, 3600.0)
        cached = load_content(root, cache=True)
        assert snapshot(cached) == snapshot(load_content(root))
        apply(root, operation)
    assert snapshot(load_content(root, cache=True)) == snapshot(load_content(root))


def no_loading(*args: object, **kwargs: object) -> Content:
    """In place of `build.load_content`, for a build that must load no entry."""
    raise AssertionError("entries were loaded")


def count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    real = validate.check_file

    def counting(path: str | Path, *args: object, **kwargs: object) -> validate.FileResult:
        checked.append(Path(path).name)
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(entry_cache, "check_file", counting)
    return checked


def test_only_changed_files_are_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = settled_root(tmp_path / "root")
    checked = count_checks(monkeypatch)
    load_content(root, cache=True)
    assert len(checked) == 4
    checked.clear()
    load_content(root, cache=True)
    assert checked == []
    os.utime(root / "entries" / ISSUES[1] / "beta.yaml")  # touched: hashed, not re-checked
    (root / "entries" / ISSUES[0] / "alpha.yaml").write_text(paper_yaml(title='"New"'))
    content = load_content(root, cache=True)
    assert checked == ["alpha.yaml"]
    assert {p.paper.title for p in content.papers} == {"New", "A Paper About Things"}


def test_a_config_change_checks_every_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_root(tmp_path / "root")
    load_content(root, cache=True)
    checked = count_checks(monkeypatch)
    (root / "pyproject.toml").write_text(config_text(("safety",)))
    content = load_content(root, cache=True)
    assert len(checked) == 3
    assert [d.code for d in content.report.errors] == ["E105"]  # acceleration is gone


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data[:-20] + bytes(20),
        lambda data: b"not a cache at all",
        lambda data: b"",
    ],
)
def test_a_damaged_entry_cache_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: object
) -> None:
    root = new_root(tmp_path / "root")
    expected = snapshot(load_content(root, cache=True))
    path = root / CACHE_DIR / entry_cache.ENTRIES_FILE
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    checked = count_checks(monkeypatch)
    assert snapshot(load_content(root, cache=True)) == expected
    assert len(checked) == 3  # nothing was trusted
    assert read_payload(path, tool_fingerprint()) is not None  # rewritten


def test_a_cache_of_another_site_is_not_trusted(tmp_path: Path) -> None:
    """Copied from a root with the same paths and stats but other bytes and another config."""
    first = new_root(tmp_path / "first")
    second = new_root(tmp_path / "second")
    (second / "pyproject.toml").write_text(config_text(("safety",)))
    load_content(first, cache=True)
    shutil.copytree(first / CACHE_DIR, second / CACHE_DIR)
    assert snapshot(load_content(second, cache=True)) == snapshot(load_content(second))


def test_a_cache_that_cannot_be_written_means_no_cache_and_no_error(tmp_path: Path) -> None:
    root = new_root(tmp_path / "root")
    expected = snapshot(load_content(root))
    (root / CACHE_DIR).write_text("a file where the cache folder would go")
    assert snapshot(load_content(root, cache=True)) == expected
    mode = root.stat().st_mode
    (root / CACHE_DIR).unlink()
    root.chmod(stat.S_IRUSR | stat.S_IXUSR)  # read-only (stops writes unless running as root)
    try:
        assert snapshot(load_content(root, cache=True)) == expected
    finally:
        root.chmod(mode)


def test_checking_in_two_processes_gives_the_same_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_root(tmp_path / "root")
    for number in range(30):
        text = paper_yaml(arxiv="2401.12345") if number % 7 == 0 else paper_yaml()
        if number % 9 == 0:
            text = "title: [broken\n"
        (root / "entries" / ISSUES[number % 2] / f"p{number:02d}.yaml").write_text(text)
    serial = snapshot(load_content(root))
    monkeypatch.setattr(entry_cache, "MIN_PARALLEL", 2)
    used: list[int] = []
    real = entry_cache._check_in_two

    def spy(work: list[entry_cache.Work], *args: object) -> object:
        used.append(len(work))
        return real(work, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(entry_cache, "_check_in_two", spy)
    monkeypatch.delenv(cache.WORKERS_VARIABLE, raising=False)
    assert snapshot(load_content(root)) == serial
    if cache.can_fork():
        assert used == [33]

    def failing(*args: object) -> object:
        raise OSError("no more processes")

    monkeypatch.setattr(entry_cache, "_check_in_two", failing)
    assert snapshot(load_content(root)) == serial  # fell back to one process


def test_a_build_parses_the_markdown_of_what_it_checks_once_for_every_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker that checks half the entries hands its Markdown parses back, so the
    # processes forked to render (from this one) parse none of them again.
    root = new_root(tmp_path / "root")
    for number in range(20):
        summary = f"|\n  Paper {number} does *things*, [quickly](https://x.org/{number})."
        path = root / "entries" / ISSUES[number % 2] / f"p{number:02d}.yaml"
        path.write_text(paper_yaml(summary=summary))
    monkeypatch.setattr(entry_cache, "MIN_PARALLEL", 2)
    monkeypatch.delenv(cache.WORKERS_VARIABLE, raising=False)
    markdown.forget()
    content = load_content(root, analysing=True)
    parsed = count_parses(monkeypatch)
    texts = [paper.paper.summary for paper in content.papers]
    texts += [
        text
        for issue in content.issues
        for text in (issue.issue.intro, issue.issue.outlook)
        if text
    ]
    assert len(texts) > 20 and [markdown.analyse(text) for text in texts]
    assert parsed == []
    markdown.forget()
    load_content(root)  # `digest check` renders nothing: it parses no Markdown
    assert [markdown.analyse(text) for text in texts] and len(parsed) == len(set(texts))


def test_a_no_change_build_loads_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = new_root(tmp_path / "root")
    (root / "pyproject.toml").write_text(config_text(THEMES) + 'base_url = "https://example.org"\n')
    (root / "entries" / ISSUES[1] / "beta.yaml").write_text(paper_yaml(authors="[]"))  # W101
    for path in [*paper_files(root), root / "pyproject.toml"]:
        backdate(path)
    first = build.run(root, cache=True)
    assert first.ok
    expected = (first.report.diagnostics, first.pages, first.files)

    monkeypatch.setattr(build, "load_content", no_loading)
    again = build.run(root, cache=True)
    assert again.ok
    assert (again.report.diagnostics, again.pages, again.files) == expected
    assert (again.content.paper_count, again.content.issue_count) == (2, 2)
    assert [d.code for d in again.report.diagnostics] == ["W101"]
    monkeypatch.undo()
    (root / "entries" / ISSUES[1] / "beta.yaml").write_text(paper_yaml())
    monkeypatch.setattr(build, "load_content", no_loading)
    with pytest.raises(AssertionError, match="entries were loaded"):
        build.run(root, cache=True)  # an edited entry: no shortcut


def test_cached_papers_stay_packed_until_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checking and organising need a paper's title, themes and contribution only; the
    # model itself is unpickled when a page shows it.
    beta_entry = paper_yaml(title='"Beta"', themes="[safety, theory]", contribution="dataset")
    root = settled_root(tmp_path / "root", beta_entry)
    fresh = load_content(root, cache=True)
    cached = load_content(root, cache=True)
    assert all(isinstance(entry.stored, PackedPaper) for entry in cached.papers)

    def refused(self: PackedPaper) -> object:
        raise AssertionError("unpacked")

    monkeypatch.setattr(PackedPaper, "unpack", refused)
    assert cached.config is not None
    library = organise(cached.config, cached.issues, cached.papers, include_drafts=False)
    assert [t.count for t in library.topics] == [1, 1, 0, 1]
    assert [g.label for g in library.issues[0].under_the_hood] == ["Datasets & benchmarks"]
    monkeypatch.undo()
    assert cached.papers == fresh.papers  # the same papers, packed or not
    beta = next(entry for entry in cached.papers if entry.id == "beta")
    assert beta.paper.themes == ["safety", "theory"] and beta.paper.contribution == "dataset"


def test_a_build_knows_unchanged_entries_by_its_own_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The build stamps every input before loading; the entry cache takes those stamps
    # instead of looking at each file again, and stats only what they say changed.
    root = settled_root(tmp_path / "root")
    assert build.run(root, cache=True).ok
    edited = root / "entries" / ISSUES[0] / "alpha.yaml"
    edited.write_text(paper_yaml(title='"New"'))
    stats: list[str] = []
    real_stat = os.stat

    def counting(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if str(path).endswith(".yaml"):
            stats.append(Path(path).name)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", counting)
    checked = count_checks(monkeypatch)
    listings: list[Path] = []

    def counted(folder: Path, root: Path | None = None) -> list[tuple[str, str]]:
        listings.append(folder)
        return files.entry_paths(folder, root)

    monkeypatch.setattr(load, "entry_paths", counted)
    monkeypatch.setattr(cache, "entry_paths", counted)
    result = build.run(root, cache=True)
    assert result.ok
    assert checked == ["alpha.yaml"]
    assert listings == [root / "entries"]  # listed once, for the stamps and the loading
    # One stat per entry, to stamp it; the changed one is then read from a descriptor
    # (digest.files' `read_regular`), not stat'ed again.
    assert sorted(stats) == sorted(p.name for p in paper_files(root))
    assert {p.paper.title for p in result.content.papers} == {"New", "A Paper About Things"}
    monkeypatch.undo()
    assert snapshot(load_content(root, cache=True)) == snapshot(load_content(root))


def test_a_first_build_hashes_each_entry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The build's stamps carry every entry's hash: the entry cache records them as they
    # are instead of reading and hashing each file a second time before checking it.
    root = settled_root(tmp_path / "root")
    entries = [path.read_bytes() for path in (root / "entries").rglob("*.yaml")]
    hashed: list[bytes] = []
    real_digest = hashing.digest_bytes

    def counting(data: bytes) -> str:
        if data in entries:
            hashed.append(data)
        return real_digest(data)

    monkeypatch.setattr(cache, "digest_bytes", counting)
    monkeypatch.setattr(entry_cache, "digest_bytes", counting)
    assert build.run(root, cache=True).ok
    assert sorted(hashed) == sorted(entries)
    monkeypatch.undo()
    stored = entry_cache.EntryCache(root, load_content(root).config)  # type: ignore[arg-type]
    assert len(stored.previous) == len(entries)  # and every result was recorded


def test_a_first_build_reads_each_entry_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no build recorded, nothing can be unchanged: the entries are not stamped
    # before loading, the process that checks each one stamps the very bytes it checks.
    root = settled_root(tmp_path / "root")
    entries = sorted(str(path) for path in (root / "entries").rglob("*.yaml"))
    opened: list[str] = []
    real_open, real_read = os.open, Path.read_bytes

    def opening(path: Any, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    def reading(self: Path) -> bytes:
        opened.append(str(self))
        return real_read(self)

    monkeypatch.setattr(os, "open", opening)
    monkeypatch.setattr(Path, "read_bytes", reading)
    first = build.run(root, cache=True)
    assert first.ok
    assert sorted(path for path in opened if path.endswith(".yaml")) == entries
    monkeypatch.undo()

    monkeypatch.setattr(build, "load_content", no_loading)
    again = build.run(root, cache=True)  # those stamps make the build's record
    assert again.ok and again.pages == first.pages


def test_a_build_after_a_check_takes_the_checked_stamps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `digest check` recorded the entries, no build did: the build reuses every result
    # and records its stamp, and the next build knows that nothing changed.
    root = settled_root(tmp_path / "root")
    load_content(root, cache=True)
    checked = count_checks(monkeypatch)
    assert build.run(root, cache=True).ok
    assert checked == []

    monkeypatch.setattr(build, "load_content", no_loading)
    assert build.run(root, cache=True).ok


def test_a_build_that_fails_still_records_the_checked_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A build saves its entry cache as it renders; one that stops before rendering (a
    # content error) saves it on its way out, so the next check or build reuses it.
    root = settled_root(tmp_path / "root", "title: [broken\n")
    assert not build.run(root, cache=True).ok
    fresh = snapshot(load_content(root))
    checked = count_checks(monkeypatch)
    assert snapshot(load_content(root, cache=True)) == fresh
    assert checked == []


def test_a_no_change_build_reads_the_configuration_only_when_its_file_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The settings a build needs before it knows whether anything changed (where the site
    # and the entries are, the check levels) are recorded with the config file's stamp
    # and used while the file holds the same bytes, however its times changed.
    from digest import config as config_module

    root = settled_root(tmp_path / "root")
    config = root / "pyproject.toml"
    config.write_text(config_text(THEMES) + '[tool.digest.checks]\nW120 = "ignore"\n')
    assert build.run(root, cache=True).ok
    reads = first_arguments(monkeypatch, config_module, "load_config")
    config.write_text(config.read_text())  # new times, the same bytes
    replayed = build.run(root, cache=True)
    assert replayed.ok and replayed.content.config is None and reads == []
    assert replayed.report.levels == {"W120": "ignore"} and replayed.report.sorted() == []
    assert replayed.content.paper_count == 2

    config.write_text(
        config.read_text().replace("[tool.digest]\n", '[tool.digest]\nout = "public"\n')
    )
    moved = build.run(root, cache=True)
    assert moved.ok and moved.out == root / "public" and reads
    assert (root / "public" / "index.html").is_file()
    reads.clear()
    replayed = build.run(root, cache=True)
    assert replayed.ok and replayed.out == root / "public" and reads == []
