"""The build cache on its own: stamps, the no-change check, file reuse, and bad cache files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from digest import build, cache
from digest.cache import BuildCache, Stamp, stamp_files

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml
from .test_load import POSIX, run_digest


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
    recorded = Stamp(first.size, first.mtime_ns, "recorded", first.ctime_ns)
    later = time.time_ns() + 10**10  # the record was taken well after the file's last change
    assert stamp_files([("a", path)], {"a": recorded}, later)["a"].digest == "recorded"
    path.write_text("two")  # same size, new mtime: hashed again
    again = stamp_files([("a", path)], {"a": recorded}, time.time_ns())["a"]
    assert again.digest not in ("recorded", first.digest)
    # Recorded within a clock tick of the file's mtime: a later same-size edit could hide.
    racy = Stamp(again.size, again.mtime_ns, "recorded", again.ctime_ns)
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
    write_site(out, {"a.html": b"a"}, first)
    first.save(1, 1, [])
    path = root / cache.CACHE_DIR / cache.STATE_FILE
    assert callable(damage)
    path.write_bytes(damage(path.read_bytes()))
    second = make_cache(root, out)
    assert second.unchanged() is None
    assert second.previous.outputs == {}


def test_a_cache_from_another_tool_version_is_ignored(root: Path) -> None:
    out = root / "site"
    first = make_cache(root, out)
    write_site(out, {"a.html": b"a"}, first)
    first.save(1, 1, [])
    state = root / cache.CACHE_DIR / cache.STATE_FILE
    assert make_cache(root, out).unchanged() is not None
    cache.write_payload(state, "another-version", make_cache(root, out).previous)
    assert make_cache(root, out).unchanged() is None


def test_an_edit_that_puts_the_old_mtime_back_is_still_seen(tmp_path: Path) -> None:
    entry = tmp_path / "a.yaml"
    entry.write_bytes(b"title: one\n")
    old = time.time() - 3600
    os.utime(entry, (old, old))
    first = stamp_files([("a", entry)], {}, time.time_ns())
    before = entry.stat()
    entry.write_bytes(b"title: two\n")  # same size
    os.utime(entry, ns=(before.st_atime_ns, before.st_mtime_ns))
    second = stamp_files([("a", entry)], first, time.time_ns() + 10**10)
    assert second["a"].digest != first["a"].digest


def test_changed_inputs_counts_added_removed_and_edited_files(root: Path) -> None:
    out = root / "site"
    (root / "entries" / "b.yaml").write_text("title: B\n")
    old(root / "entries" / "b.yaml")
    first = make_cache(root, out)
    write_site(out, {"index.html": b"home"}, first)
    first.save(pages=1, files=1, diagnostics=[])
    assert make_cache(root, out).changed_inputs() == 0
    (root / "entries" / "a.yaml").write_text("title: A, edited\n")
    (root / "entries" / "b.yaml").unlink()
    (root / "entries" / "c.yaml").write_text("title: C\n")
    assert make_cache(root, out).changed_inputs() == 3


def _small_site(make_site: SiteFactory) -> Path:
    return make_site(
        {"entries/2026-01-02/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-02/a.yaml": paper_yaml()}
    )


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@POSIX
def test_a_pipe_for_a_cache_file_does_not_hang_the_build(make_site: SiteFactory) -> None:
    root = _small_site(make_site)
    assert build.run(root, cache=True).ok
    for name in ("state", "entries", "pages"):
        (root / ".digest-cache" / name).unlink()
        os.mkfifo(root / ".digest-cache" / name)
    done = run_digest("build", "--root", str(root), timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert build.run(root, cache=True).ok  # and the cache works again


@pytest.mark.parametrize("kind", ["link", "file"])
def test_a_cache_folder_that_is_a_link_or_a_file_is_never_used(
    make_site: SiteFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "link" and not hasattr(os, "symlink"):
        pytest.skip("needs symbolic links")
    root = _small_site(make_site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("someone else's")
    (elsewhere / "templates-0123456789abcdef").mkdir()  # looks like a cache's own folder
    if kind == "link":
        (root / ".digest-cache").symlink_to(elsewhere)
    else:
        (root / ".digest-cache").write_text("not a folder")
    before = _tree(elsewhere)
    for _ in range(2):
        result = build.run(root, cache=True)
        assert result.ok, result.report.diagnostics
        assert (root / "site" / "papers" / "a" / "index.html").is_file()
    assert _tree(elsewhere) == before
    assert (elsewhere / "templates-0123456789abcdef").is_dir()
    if kind == "link":
        assert (root / ".digest-cache").is_symlink()
        what = f"a link to {elsewhere}"
    else:
        assert (root / ".digest-cache").read_text() == "not a folder"
        what = "not a folder"
    assert capsys.readouterr().err == (
        f"notice: .digest-cache is {what}: running without the cache (remove it, and the "
        "next build makes the folder)\n"
    )
