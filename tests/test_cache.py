"""The build cache on its own: stamps, the no-change check, file reuse, and bad cache files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from digest import cache
from digest.cache import BuildCache, MarkdownStore, Stamp, stamp_files


def old(path: Path, seconds: float = 10.0) -> Path:
    """Backdate `path` so its recorded hash may be trusted (see RACY_SECONDS)."""
    when = time.time() - seconds
    os.utime(path, (when, when))
    return path


def test_stamps_reuse_a_hash_only_when_size_and_mtime_match_and_are_not_racy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("one")
    old(path)
    first = stamp_files([("a", path)], {}, time.time_ns())["a"]
    recorded = Stamp(first.size, first.mtime_ns, "recorded")
    assert stamp_files([("a", path)], {"a": recorded}, time.time_ns())["a"].digest == "recorded"
    path.write_text("two")  # same size, new mtime: hashed again
    again = stamp_files([("a", path)], {"a": recorded}, time.time_ns())["a"]
    assert again.digest not in ("recorded", first.digest)
    # Recorded within a clock tick of the file's mtime: a later same-size edit could hide.
    racy = Stamp(again.size, again.mtime_ns, "recorded")
    assert stamp_files([("a", path)], {"a": racy}, again.mtime_ns + 1)["a"].digest == again.digest
    assert stamp_files([("gone", tmp_path / "gone")], {}, 0)["gone"].digest == "unreadable"


def make_cache(root: Path, out: Path, options: str = "") -> BuildCache:
    inputs = [(f"entry:{p.name}", p) for p in sorted((root / "entries").glob("*"))]
    return BuildCache(root, out, inputs, options)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "entries").mkdir()
    (tmp_path / "entries" / "a.yaml").write_text("title: A\n")
    old(tmp_path / "entries" / "a.yaml")
    return tmp_path


def write_site(out: Path, files: dict[str, bytes], built: BuildCache) -> None:
    out.mkdir(exist_ok=True)
    for url, data in files.items():
        (out / url).parent.mkdir(parents=True, exist_ok=True)
        if built.reuse(url, data) is None:
            (out / url).write_bytes(data)


def test_nothing_changed_is_recognised_and_everything_else_is_not(root: Path) -> None:
    out = root / "site"
    first = make_cache(root, out)
    assert first.unchanged() is None  # no previous build
    write_site(out, {"index.html": b"home", "papers/a/index.html": b"a"}, first)
    first.save(pages=2, files=2, diagnostics=[])

    again = make_cache(root, out)
    state = again.unchanged()
    assert state is not None
    assert (state.pages, state.files) == (2, 2)
    assert make_cache(root, out, options="drafts").unchanged() is None

    (out / "stray.txt").write_text("not ours")
    assert make_cache(root, out).unchanged() is None
    (out / "stray.txt").unlink()
    (out / "index.html").write_bytes(b"HOME")  # same size, edited output
    assert make_cache(root, out).unchanged() is None


def test_an_edited_input_changes_the_key(root: Path) -> None:
    first = make_cache(root, root / "site")
    (root / "entries" / "a.yaml").write_text("title: B\n")
    assert make_cache(root, root / "site").key != first.key
    (root / "entries" / "b.yaml").write_text("title: B\n")
    assert len({make_cache(root, root / "site").key, first.key}) == 2


def test_reuse_only_an_identical_untouched_file(root: Path) -> None:
    out = root / "site"
    first = make_cache(root, out)
    write_site(out, {"a.html": b"same", "b.html": b"before"}, first)
    first.save(pages=2, files=2, diagnostics=[])
    second = make_cache(root, out)
    assert second.reuse("a.html", b"same") == out / "a.html"
    assert second.reuse("b.html", b"after!") is None
    assert second.reuse("new.html", b"same") is None
    os.utime(out / "a.html", ns=(1, 1))  # touched since: not trusted
    assert second.reuse("a.html", b"same") is None


def test_markdown_store_keeps_only_what_this_build_used(root: Path) -> None:
    out = root / "site"
    first = make_cache(root, out)
    first.markdown.put(("*a*", 1), "<p><em>a</em></p>\n")
    first.markdown.put(("b", 1), "<p>b</p>\n")
    write_site(out, {"i.html": b"i"}, first)
    first.save(1, 1, [])
    second = make_cache(root, out)
    assert second.markdown.get(("*a*", 1)) == "<p><em>a</em></p>\n"
    second.markdown.put(("*a*", 1), "<p><em>a</em></p>\n")
    second.save(1, 1, [])
    assert make_cache(root, out).markdown.previous == {("*a*", 1): "<p><em>a</em></p>\n"}


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),
        lambda data: b"garbage\n\nnot a pickle",
        lambda data: data.replace(b"digest-cache", b"other-cache", 1),
        lambda data: data.replace(f"\n{cache.FORMAT}\n".encode(), b"\n999\n", 1),
    ],
    ids=["empty", "truncated", "flipped-bit", "garbage", "wrong-magic", "future-format"],
)
def test_a_damaged_cache_file_is_ignored(root: Path, damage: object) -> None:
    out = root / "site"
    first = make_cache(root, out)
    first.markdown.put(("x", 1), "<p>x</p>\n")
    write_site(out, {"a.html": b"a"}, first)
    first.save(1, 1, [])
    for name in (cache.STATE_FILE, cache.MARKDOWN_FILE):
        path = root / cache.CACHE_DIR / name
        assert callable(damage)
        path.write_bytes(damage(path.read_bytes()))
    second = make_cache(root, out)
    assert second.unchanged() is None
    assert second.previous.outputs == {}
    assert second.markdown.get(("x", 1)) is None


def test_a_cache_from_another_tool_version_is_ignored(root: Path) -> None:
    out = root / "site"
    first = make_cache(root, out)
    write_site(out, {"a.html": b"a"}, first)
    first.save(1, 1, [])
    state = root / cache.CACHE_DIR / cache.STATE_FILE
    assert make_cache(root, out).unchanged() is not None
    cache._write(state, "another-version", make_cache(root, out).previous)
    assert make_cache(root, out).unchanged() is None


def test_markdown_store_reads_previous_and_records_used() -> None:
    store = MarkdownStore({("a", 1): "A"})
    assert store.get(("a", 1)) == "A"
    assert store.get(("b", 1)) is None
    store.put(("b", 2), "B")
    assert store.used == {("b", 2): "B"}
