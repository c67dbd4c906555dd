"""HTTP cache: answers from metadata services and link checks, kept on disk with a TTL.

Both network tools (`importer.py`, `links.py`) keep what they learnt under the content
root's `.digest-cache/` (git-ignored), so a second `digest new --from` or a CI rerun of
`digest check --links` does not ask the same host the same question again. One JSON file
per key, named by the key's digest (digest.hashing), written atomically (digest.files); an
unreadable or stale file is a miss, never an error. The clock is injected so tests can
age entries without waiting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digest.files import write_atomically
from digest.hashing import digest_bytes
from digest.store import folder_problem, notice


class DiskCache:
    """Key → JSON value, each stamped with the time it was stored."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.clock = clock
        # A cache folder (or the .digest-cache/ holding it) that is a link or a file is
        # never read or written through, as for the build's own cache.
        self.usable = True
        for place in (folder.parent, folder):
            problem = folder_problem(place)
            if problem is not None:
                notice(place, f"{place.name} is {problem}: running without the cache (remove it)")
                self.usable = False

    def _file(self, key: str) -> Path:
        return self.folder / f"{digest_bytes(key.encode('utf-8'))}.json"

    def get(self, key: str, ttl: float) -> Any | None:
        """The value stored under `key` within the last `ttl` seconds, else None."""
        if not self.usable:
            return None
        try:
            record = json.loads(self._file(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("key") != key:
            return None
        stored = record.get("stored_at")
        if not isinstance(stored, int | float) or not 0 <= self.clock() - stored <= ttl:
            return None
        return record.get("value")

    def put(self, key: str, value: Any) -> None:
        """Store `value`; a cache that cannot be written is skipped silently."""
        if not self.usable:
            return
        record = {"key": key, "stored_at": self.clock(), "value": value}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self._file(key), json.dumps(record, ensure_ascii=False))
        except OSError:
            return
