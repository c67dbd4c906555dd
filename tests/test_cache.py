"""The build cache on its own: stamps, the no-change check, file reuse, and bad cache files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from digest import build, cache, hashing
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


def count_listings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every folder that `os.listdir` is asked for, in order."""
    listed: list[str] = []
    listdir = os.listdir

    def counting(path: str) -> list[str]:
        listed.append(path)
        return listdir(path)

    monkeypatch.setattr(os, "listdir", counting)
    return listed


def first_build(root: Path) -> tuple[Path, BuildCache]:
    """A build of two pages into root/site, recorded: (the output folder, its cache)."""
    out = root / "site"
    first = make_cache(root, out)
    write_site(out, {"index.html": b"home", "papers/a/index.html": b"a"}, first)
    first.save(pages=2, files=2, diagnostics=[])
    return out, first


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


def test_a_site_written_whole_is_recorded_from_what_was_written(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every file of a site written whole into a new folder is one the build wrote: the
    # record lists no folder, and stats only the files not stamped as they were written.
    out = root / "site"
    first = make_cache(root, out)
    write_site(out, {"index.html": b"home", "papers/a/index.html": b"a"}, first)
    written = (out / "papers" / "a" / "index.html").stat()
    digest = first.written["papers/a/index.html"]
    first.stamped["papers/a/index.html"] = Stamp(written.st_size, written.st_mtime_ns, digest)
    scanned: list[str] = []
    statted: list[str] = []
    real_scandir, real_stat = os.scandir, os.stat

    def scanning(path: Any) -> Any:
        scanned.append(str(path))
        return real_scandir(path)

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        statted.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scanning)
    monkeypatch.setattr(os, "stat", stat)
    first.save(pages=2, files=2, diagnostics=[])
    monkeypatch.undo()
    assert scanned == []
    files = [path for path in statted if Path(path).is_file()]
    assert files == [f"{out}/index.html"]
    recorded = make_cache(root, out).previous
    assert sorted(recorded.outputs) == ["index.html", "papers/a/index.html"]
    assert set(recorded.dirs) == {"", "papers", "papers/a"}
    time.sleep(0.05)  # past the file system's clock tick
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    assert make_cache(root, out).unchanged() is not None


def test_folders_whose_times_are_unchanged_are_not_listed(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = first_build(root)
    time.sleep(0.05)  # past the file system's clock tick
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)  # trust the times at once
    listed = count_listings(monkeypatch)
    again = make_cache(root, out)
    assert set(again.previous.dirs) == {"", "papers", "papers/a"}
    assert again.unchanged() is not None
    assert listed == []

    (out / "papers" / "a" / "stray.txt").write_text("not ours")
    assert make_cache(root, out).unchanged() is None
    assert listed == [str(out / "papers" / "a")]
    (out / "papers" / "a" / "stray.txt").unlink()
    (out / "papers" / "b").mkdir()  # even an empty folder is not what the build left
    assert make_cache(root, out).unchanged() is None
    (out / "papers" / "b").rmdir()
    assert make_cache(root, out).unchanged() is not None  # listed again: the same names
    (out / "papers" / "a" / "index.html").unlink()
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


def test_a_sharded_store_rewrites_only_the_shards_that_changed(tmp_path: Path) -> None:
    path = tmp_path / "store"
    value = {f"key{number}": ("value", number) for number in range(200)}
    checksums = cache.write_shards(path, "tool", value, cache.Shards())
    assert len(checksums) == cache.SHARDS and all(checksums)
    stored = cache.read_shards(path, "tool", checksums)
    assert stored.merged() == value
    times = {n: cache.shard_path(path, n).stat().st_mtime_ns for n in range(cache.SHARDS)}
    time.sleep(0.05)  # past the file system's clock tick
    changed = {**value, "key7": ("edited", 7)}
    again = cache.write_shards(path, "tool", changed, stored)
    edited = cache.shard_of("key7")
    assert [n for n in range(cache.SHARDS) if again[n] != checksums[n]] == [edited]
    after = {n: cache.shard_path(path, n).stat().st_mtime_ns for n in range(cache.SHARDS)}
    assert [n for n in times if times[n] != after[n]] == [edited]
    assert cache.read_shards(path, "tool", again).merged() == changed
    # A shard the index does not name (left from another build) reads as empty; the
    # others are still good. Another tool, or no index: nothing at all.
    mixed = cache.read_shards(
        path, "tool", [*again[:edited], checksums[edited], *again[edited + 1 :]]
    )
    assert mixed.checksums[edited] == "" and "key7" not in mixed.merged()
    assert len(mixed.merged()) == len(value) - len(stored.parts[edited])
    assert cache.read_shards(path, "other-tool", again).merged() == {}
    assert cache.read_shards(path, "tool", None).merged() == {}
    # A removed and an added key rewrite their shards, and a shard that read as empty
    # is written again whole; every other shard stays as it was.
    fewer = {key: item for key, item in changed.items() if key != "key3"} | {"new": ("n", 0)}
    fixed = cache.write_shards(path, "tool", fewer, mixed)
    assert cache.read_shards(path, "tool", fixed).merged() == fewer
    rewritten = {cache.shard_of("key3"), cache.shard_of("new"), edited}
    assert all(fixed[n] == again[n] for n in range(cache.SHARDS) if n not in rewritten)
    assert all(fixed)


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


def started_cache(root: Path, out: Path) -> BuildCache:
    """`make_cache` with its output check started first, as `open_cache` does for a build."""
    previous = cache.read_state(
        root / cache.CACHE_DIR / cache.STATE_FILE, hashing.tool_fingerprint()
    )
    check = cache.OutputCheck(out, previous or cache.State())
    check.start()
    inputs = [(f"entry:{p.name}", p) for p in sorted((root / "entries").glob("*"))]
    return BuildCache(root, out, inputs, "", previous=previous, output_check=check)


def test_the_output_can_be_checked_early_in_another_process(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = first_build(root)
    monkeypatch.delenv(cache.WORKERS_VARIABLE, raising=False)
    checked_here: list[bool] = []
    check = cache.OutputCheck._check

    def spy(self: cache.OutputCheck) -> bool:
        checked_here.append(True)  # in a forked process, the parent's list stays empty
        return check(self)

    monkeypatch.setattr(cache.OutputCheck, "_check", spy)
    forked = cache.can_fork()

    assert started_cache(root, out).intact()
    (out / "index.html").write_bytes(b"HOME")  # same size, edited output
    assert not started_cache(root, out).intact()
    assert checked_here == ([] if forked else [True, True])

    # A build that fails before it needs the answer stops the process it started.
    unused = started_cache(root, out)
    process = unused.output_check._process
    unused.close()
    assert unused.output_check._process is None
    if forked:
        assert process is not None
        with pytest.raises(ChildProcessError):
            os.waitpid(process[0], os.WNOHANG)  # reaped: nothing left behind


def test_an_output_check_without_a_usable_answer_is_made_here(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, _ = first_build(root)
    monkeypatch.delenv(cache.WORKERS_VARIABLE, raising=False)
    if not cache.can_fork():
        pytest.skip("no fork here")
    silent = started_cache(root, out)
    assert silent.output_check._process is not None
    os.kill(silent.output_check._process[0], 9)  # dies before it answers
    assert silent.intact()
    (out / "index.html").unlink()
    broken = started_cache(root, out)
    assert broken.output_check._process is not None
    os.kill(broken.output_check._process[0], 9)
    assert not broken.intact()


@pytest.mark.parametrize("early", [False, True], ids=["checked here", "checked early"])
def test_a_no_change_build_records_the_folders_it_had_to_list(
    root: Path, monkeypatch: pytest.MonkeyPatch, early: bool
) -> None:
    # Right after a build, its folders' times are too close to the record to be trusted,
    # so the next check lists them; it then records them again, and the one after that
    # trusts them. A check made in a forked process sends back what it listed.
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.5)
    monkeypatch.delenv(cache.WORKERS_VARIABLE, raising=False)
    out, first = first_build(root)
    time.sleep(0.6)
    listed = count_listings(monkeypatch)
    again = started_cache(root, out) if early else make_cache(root, out)
    assert again.unchanged() is not None
    everything = sorted([str(out), str(out / "papers"), str(out / "papers" / "a")])
    assert sorted(listed) == ([] if early and cache.can_fork() else everything)
    assert sorted(again.output_check.listed) == ["", "papers", "papers/a"]
    again.refresh()
    listed.clear()
    third = make_cache(root, out)
    assert third.unchanged() is not None
    assert listed == []
    assert (third.previous.key, third.previous.outputs) == (first.key, again.previous.outputs)
    (out / "papers" / "a" / "stray.txt").write_text("not ours")  # still noticed
    assert make_cache(root, out).unchanged() is None


# ------------------------------------------------------------------ the cache folder


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
