"""The on-disk cache shared by the importer and the link checker."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.http_cache import DiskCache
from tests.http_server import FakeClock


def test_values_live_for_their_ttl(tmp_path: Path) -> None:
    clock = FakeClock()
    cache = DiskCache(tmp_path / "c", clock)
    cache.put("https://a.test/x", {"state": "ok"})
    assert cache.get("https://a.test/x", ttl=60) == {"state": "ok"}
    clock.now += 61
    assert cache.get("https://a.test/x", ttl=60) is None
    assert cache.get("https://a.test/other", ttl=60) is None


def test_damaged_or_foreign_files_are_misses(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", FakeClock())
    cache.put("key", "value")
    (stored,) = (tmp_path / "c").iterdir()
    stored.write_text("{not json")
    assert cache.get("key", ttl=60) is None
    stored.write_text('{"key": "another key", "stored_at": 1000.0, "value": 1}')
    assert cache.get("key", ttl=60) is None
    stored.write_text('{"key": "key", "stored_at": "yesterday", "value": 1}')
    assert cache.get("key", ttl=60) is None


def test_an_unwritable_cache_is_skipped(tmp_path: Path) -> None:
    blocker = tmp_path / "c"
    blocker.write_text("a file where the cache folder should be")
    cache = DiskCache(blocker, FakeClock())
    cache.put("key", "value")  # no exception
    assert cache.get("key", ttl=60) is None


@pytest.mark.parametrize("linked", [".digest-cache", ".digest-cache/links"])
def test_a_cache_folder_that_is_a_link_is_never_written_through(
    tmp_path: Path, linked: str, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "root" / linked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "root" / linked).symlink_to(elsewhere)
    cache = DiskCache(tmp_path / "root" / ".digest-cache" / "links")
    cache.put("https://example.org/", {"status": 200})
    assert cache.get("https://example.org/", ttl=60) is None
    assert list(elsewhere.rglob("*")) == []
    assert "running without the cache" in capsys.readouterr().err
