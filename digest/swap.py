"""Swap: put a finished site where the old one is in one step, and clean up after
builds that were stopped.

Beside an output folder `P/N` (`site/`), digest uses these names, and no others:

    P/.N-tmp-XXXXXXXX   a new site being written (locked while a build writes it)
    P/.N.digest-spare   the site before the current one, kept for the next build
    P/.N.digest-old     the old site, for an instant, where no atomic exchange exists
    P/.N-old-XXXXXXXX   left by digest versions that updated the site file by file

On Linux the finished folder and the site change places with one
renameat2(RENAME_EXCHANGE): a reader sees the old site or the new one, whatever
happens when. Elsewhere (or on a file system without it) the site is renamed to
`.N.digest-old` and the new folder to `N`; a build stopped between the two renames
leaves no `N`, and the next one (`recover`) puts `.N.digest-old` back.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import Any

from digest.manifest import MANIFEST

try:  # POSIX only: elsewhere builds of one folder are not kept apart (see `locked`)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_HELD: dict[str, int] = {}  # stage → the descriptor whose lock says it is being written


def spare_path(out: Path) -> Path:
    return out.parent / f".{out.name}.digest-spare"


def old_path(out: Path) -> Path:
    return out.parent / f".{out.name}.digest-old"


def stage_prefix(out: Path) -> str:
    return f".{out.name}-tmp-"


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """While inside, no other digest process changes the folders beside `out` (a lock on
    the folder that holds it, released when the process ends, however it ends)."""
    descriptor = -1
    if fcntl is not None:
        with suppress(OSError):
            descriptor = os.open(out.parent, os.O_RDONLY)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if descriptor >= 0:
            os.close(descriptor)


def hold(stage: Path) -> None:
    """Mark `stage` as being written by this process, so `recover` leaves it alone."""
    if fcntl is None:  # pragma: no cover - Windows
        return
    with suppress(OSError):
        descriptor = os.open(stage, os.O_RDONLY)
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _HELD[str(stage)] = descriptor


def release(stage: Path) -> None:
    descriptor = _HELD.pop(str(stage), -1)
    if descriptor >= 0:
        os.close(descriptor)


def _in_use(path: Path) -> bool:
    """True when another process holds `path` (see `hold`)."""
    if fcntl is None or str(path) in _HELD:  # pragma: no cover - Windows
        return str(path) in _HELD
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(descriptor)
    return False


def remove(path: Path) -> None:
    """Delete the folder (or file, or link) `path`, if there is one."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def recover(out: Path, *, lock: bool = True) -> None:
    """Clean up after builds of `out` that were stopped: when `out` is missing, put back
    the old site (or else a complete new one) that a swap left beside it, then delete
    every stage and old site that no running build holds. The spare stays. Without
    `lock`, the caller holds the lock already (`locked`)."""
    if lock:
        with locked(out):
            recover(out, lock=False)
        return
    try:
        names = os.listdir(out.parent)
    except OSError:
        return
    stage, legacy, old = stage_prefix(out), f".{out.name}-old-", old_path(out).name
    leftovers = sorted(n for n in names if n == old or n.startswith((stage, legacy)))
    leftovers = [n for n in leftovers if not _in_use(out.parent / n)]
    if not leftovers:
        return
    if not os.path.lexists(out):
        # The old site first: it was `out` when the swap began. A stage is complete
        # once its manifest is written, the last thing a build writes into it. An
        # earlier digest's old site is the last resort (it may be part of one).
        ordered = sorted(leftovers, key=lambda n: (n != old, n.startswith(legacy)))
        for name in ordered:
            folder = out.parent / name
            if name.startswith(stage) and not (folder / MANIFEST).is_file():
                continue
            if name.startswith(legacy) and not any(folder.iterdir()):
                continue
            with suppress(OSError):
                folder.rename(out)
                leftovers.remove(name)
                break
    for name in leftovers:
        remove(out.parent / name)


@cache
def _renameat2() -> Any:
    """The C library's renameat2, or None. (ctypes is imported only for a swap: a build
    that finds nothing changed never needs it.)"""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library without it (glibc < 2.28)
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchanged(new: Path, out: Path) -> bool:
    """Exchange the folders `new` and `out` atomically; False where that cannot be done."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(out), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    number = ctypes.get_errno()
    if number in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(number, os.strerror(number), str(new), None, str(out))


def exchange(new: Path, out: Path) -> None:
    """Put the folder `new` at `out`, and what was at `out` at `new`'s path."""
    if _exchanged(new, out):
        return
    old = old_path(out)
    remove(old)
    out.rename(old)
    try:
        new.rename(out)
    except BaseException:
        old.rename(out)
        raise
    old.rename(new)
