"""The entry cache: a cached `load_content` equals an uncached one, whatever happened between."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import build, cache, entry_cache, validate
from digest.build import Content, load_content
from digest.cache import CACHE_DIR, read_payload
from digest.hashing import tool_fingerprint
from tests.conftest import MINIMAL_ISSUE, paper_yaml

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
