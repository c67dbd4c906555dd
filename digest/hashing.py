"""Hashing: the one hash that tells contents apart, wherever digest keys something by it.

Input and output stamps and the build's key (digest.cache), entry results
(digest.entry_cache), page keys (digest.page_cache, digest.views) and the HTTP cache's
file names (digest.http_cache) are all made here: `digest_bytes` for the bytes of one
thing, `combine` for several strings at once. `tool_fingerprint` is part of every cache
key, so a cache left by another version of digest (or by one that hashed differently)
simply misses.

It tells contents apart; it guards against no one: every file it keys lives in the
content root's own cache folder, written by digest alone.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from pathlib import Path

from digest import __version__


def digest_bytes(data: bytes) -> str:
    """The hex digest of `data`."""
    # SHA-1, not BLAKE2b: most CPUs compute it in hardware, twice as fast on a big site's pages.
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def combine(*parts: str) -> str:
    """The digest of `parts`, in order. Each part goes in after its length, so no two
    lists of parts are hashed as the same text: ("ab", "c") and ("a", "bc") differ."""
    text = "".join(f"{len(part)}:{part}" for part in parts)
    return digest_bytes(text.encode("utf-8", "surrogatepass"))


@cache
def tool_fingerprint() -> str:
    """Changes whenever digest itself may render differently: version, Python, sources.

    Taken once per process: the code that runs is the code imported at its start, even
    if the sources change later (under `digest serve`). The cache's own file format is
    in each cache file's header (digest.cache)."""
    package = Path(__file__).resolve().parent
    parts = [__version__, sys.version]
    for path in sorted(package.glob("*.py")):
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return combine(*parts)
