"""The store: stamps that are trusted only when they cannot be stale, objects that are
never wrong, and a damaged, foreign or locked store that costs a full build, nothing more."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from digest import build, store
from digest.pool import map_forked
from tests.conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

FILES = {
    "entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-03/alpha.yaml": paper_yaml(title='"Paper alpha"'),
}
CONFIG = 'base_url = "https://example.org/digest"\n'


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_a_stamp_is_reused_only_when_size_and_times_match_and_are_not_racy(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"one")
    old = time.time_ns() - 10_000_000_000
    os.utime(path, ns=(old, old))
    opened = store.Store(tmp_path / "s.sqlite")
    stamp, data = opened.stamp("a", path)
    assert data == b"one"
    opened.commit({"a": stamp}, time.time_ns() + 3_000_000_000)  # as if stamped 3 s later

    again = store.Store(tmp_path / "s.sqlite")
    assert again.stamp("a", path) == (stamp, None)  # not read: nothing can have changed
    path.write_bytes(b"two")  # same size; the mtime put back, but the ctime moves
    os.utime(path, ns=(old, old))
    changed, data = again.stamp("a", path)
    assert data == b"two" and changed.digest != stamp.digest

    racy = store.Store(tmp_path / "s.sqlite")
    path.write_bytes(b"six")
    now = time.time_ns()
    racy.commit({"a": racy.stamp("a", path)[0]}, now)  # stamped within a clock tick
    assert store.Store(tmp_path / "s.sqlite").stamp("a", path)[1] == b"six"  # read again


def test_objects_read_back_only_when_their_checksum_holds(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = store.Store(path)
    first.put("k", b"value")
    first.keep("v", {"a": 1})
    first.commit({}, 0)
    second = store.Store(path)
    assert second.get("k") == b"value" and second.value("v") == {"a": 1}
    with sqlite3.connect(path) as db:
        db.execute("UPDATE objects SET data = x'00ff' WHERE key = 'k'")
    assert store.Store(path).get("k") is None


def test_a_commit_with_prune_keeps_only_what_was_used(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = store.Store(path)
    first.put("old", b"1")
    first.put("kept", b"2")
    first.commit({}, 0)
    second = store.Store(path)
    assert second.get("kept") == b"2"
    second.put("new", b"3")
    second.commit({}, 0, prune=True)
    third = store.Store(path)
    assert (third.get("old"), third.get("kept"), third.get("new")) == (None, b"2", b"3")


def test_objects_are_written_out_as_they_add_up_and_the_record_only_at_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "FLUSH_BYTES", 10)
    path = tmp_path / "s.sqlite"
    store.Store(path).commit({}, 0)  # a store an earlier build left
    building = store.Store(path)
    building.put("small", b"1234")
    assert store.Store(path).get("small") is None  # under the threshold: still in memory
    building.put("large", b"0123456789")
    assert building.added == {}  # written out, not held
    other = store.Store(path)  # another process's view, before the build commits
    assert other.get("small") == b"1234" and other.get("large") == b"0123456789"
    assert "site" not in other.meta  # what the site is: not recorded yet
    assert building.get("large") == b"0123456789"  # the build itself reads it back
    building.commit({"a": store.Stamp(1, 2, "d", 3)}, 0, {}, {"site": "k"}, prune=True)
    after = store.Store(path)
    assert after.meta["site"] == "k" and after.get("small") == b"1234"


def test_what_a_worker_writes_out_is_known_to_the_build_that_forked_it(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    building = store.Store(path)

    def work(keys: Sequence[str]) -> tuple[set[str], dict[str, bytes], set[str]]:
        for key in keys:
            building.put(key, key.encode() * 10)
        building.flush()
        return building.written, building.added, building.used

    for written, added, used in map_forked(work, ["a", "b", "c", "d"], 2)[1:]:
        building.adopt(written, added, used)
    assert building.get_many(["a", "b", "c", "d"]) == {k: k.encode() * 10 for k in "abcd"}
    building.commit({}, 0, prune=True)  # what the worker made and used is kept
    assert store.Store(path).get_many(["b", "d"]) == {"b": b"b" * 10, "d": b"d" * 10}


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(b"garbage" * 1000),
        lambda path: path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 3]),
        lambda path: path.write_bytes(b"SQLite format 3\x00" + os.urandom(4000)),
    ],
    ids=["garbage", "truncated", "random-pages"],
)
def test_a_damaged_store_costs_a_full_build_and_is_made_afresh(
    make_site: SiteFactory, tmp_path: Path, damage: object, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    clean = tree(root / "site")
    path = root / store.CACHE_DIR / store.STORE_FILE
    damage(path)  # type: ignore[operator]
    store._NOTICED.clear()
    assert build.run(root, cache=True).ok
    assert tree(root / "site") == clean
    assert "notice:" in capsys.readouterr().err
    assert store.Store(path).outputs  # recorded again


def test_a_store_from_another_version_is_cleared(make_site: SiteFactory) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    path = root / store.CACHE_DIR / store.STORE_FILE
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = 'other' WHERE name = 'tool'")
    foreign = store.Store(path)
    assert foreign.outputs == {} and foreign.stamps == {}
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM objects").fetchone() == (0,)


def test_a_locked_store_means_a_build_without_it(
    make_site: SiteFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    clean = tree(root / "site")
    (root / "entries/2026-01-03/alpha.yaml").write_text(paper_yaml(title='"Edited"'))
    other = sqlite3.connect(root / store.CACHE_DIR / store.STORE_FILE, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another build, committing
    try:
        store._NOTICED.clear()
        result = build.run(root, cache=True)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert result.ok
    assert "in use by another build" in capsys.readouterr().err
    assert tree(root / "site") != clean
    assert "Edited" in (root / "site/papers/alpha/index.html").read_text()


def test_a_cache_folder_that_is_a_link_is_never_used(
    make_site: SiteFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(FILES, CONFIG)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / store.CACHE_DIR).symlink_to(elsewhere)
    store._NOTICED.clear()
    assert build.run(root, cache=True).ok
    assert list(elsewhere.iterdir()) == []
    assert "is a link" in capsys.readouterr().err
