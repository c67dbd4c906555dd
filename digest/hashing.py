"""Hashing: the one hash that tells contents apart, wherever digest keys something by it.

Input and output stamps (digest.store), entry results (digest.entry_results), the
digests of the library (digest.organise), page keys (digest.pages, digest.reader_outputs)
and the HTTP cache's file names (digest.http_cache) are all made here: `digest_bytes` for
the bytes of one thing, `combine` for several strings at once. A store written by
another `tool_fingerprint` is started afresh, so nothing kept by another version of
digest (or of what it renders with) is ever used.

It tells contents apart; it guards against no one: every file it keys lives in the
content root's own cache folder, written by digest alone.
"""

from __future__ import annotations

import hashlib
import sys
from functools import cache
from importlib import metadata
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


# Their output is part of digest's: a new release of one may change a page.
RENDERING_LIBRARIES = (
    "jinja2",
    "markupsafe",
    "markdown-it-py",
    "mdit-py-plugins",
    "latex2mathml",
    "pydantic",
    "pyyaml",
)


@cache
def tool_fingerprint() -> str:
    """Changes whenever digest itself may render differently: its version, Python, its
    sources and the versions of the libraries that shape its output.

    Taken once per process: the code that runs is the code imported at its start, even
    if the sources change later (under `digest serve`)."""
    package = Path(__file__).resolve().parent
    parts = [__version__, sys.version]
    for library in RENDERING_LIBRARIES:
        try:
            parts.append(f"{library}={metadata.version(library)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{library}=?")
    for path in sorted(package.glob("*.py")):
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return combine(*parts)
