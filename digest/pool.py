"""Pool: work shared out over forked worker processes, when there is enough of it.

Checking entries and rendering pages is CPU work in Python, so one process uses one
core. `map_forked` splits a list into interleaved shares: this process works on the
first while a standard process pool (`concurrent.futures`, fork start method) works on
the others. Forking hands each worker the work function and its items, with everything
they reach (the library, the parsed templates): only results travel back, pickled.

A worker that raises, or dies, makes `map_forked` raise: the caller reports it. Nothing
is retried in this process behind the user's back.

A forked worker starts out sharing its parent's memory, but Python writes to every
object it touches (reference counts), so the kernel copies those pages one by one: a
worker rendering the site comes to hold most of a copy of its parent. Workers are
forked only as far as such copies fit in `MEMORY_BUDGET_MB` (`DIGEST_MEMORY_MB`): a
site of a few thousand papers renders on every core, one of 100,000 papers, whose
build holds over a gigabyte, in one process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

WORKERS_VARIABLE = "DIGEST_WORKERS"  # "1": never fork; another number caps the workers
MAX_WORKERS = 4
MEMORY_VARIABLE = "DIGEST_MEMORY_MB"  # the budget below, in megabytes
MEMORY_BUDGET_MB = 2048

T = TypeVar("T")
R = TypeVar("R")

# What a forked worker was handed by `_adopt` (set in worker processes only).
_inherited: tuple[Callable[[Sequence[Any]], Any], list[Sequence[Any]]] | None = None


def worker_count(items: int, minimum: int) -> int:
    """How many processes to share `items` pieces of work over: 1 below `minimum` items,
    without fork, on one core, while other threads run (forking a threaded process can
    deadlock the child), or when `DIGEST_WORKERS` says "1"; else one per core, at most
    `MAX_WORKERS`, and only as many copies of this process as the memory budget holds."""
    cores = os.cpu_count() or 1
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting.isdigit() and int(setting) >= 1:
        cores = min(cores, int(setting))
    if items < minimum or cores < 2 or not hasattr(os, "fork"):
        return 1
    if threading.active_count() > 1:
        return 1
    fitting = int(_budget_mb() // max(1.0, resident_mb()))
    return max(1, min(cores, MAX_WORKERS, fitting))


def _budget_mb() -> float:
    setting = os.environ.get(MEMORY_VARIABLE, "").strip()
    return float(setting) if setting.isdigit() and int(setting) > 0 else MEMORY_BUDGET_MB


def resident_mb() -> float:
    """The memory this process holds, in megabytes (its peak where the current size
    cannot be read)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        pass
    import resource  # POSIX only, as fork is

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _adopt(work: Callable[[Sequence[Any]], Any], shares: list[Sequence[Any]]) -> None:
    global _inherited
    _inherited = (work, shares)


def _run_share(number: int) -> Any:
    assert _inherited is not None, "only run in a worker started by map_forked"
    work, shares = _inherited
    return work(shares[number])


def map_forked(work: Callable[[Sequence[T]], R], items: Sequence[T], workers: int) -> list[R]:
    """`work` on each of `workers` interleaved shares of `items` (`items[n::workers]`),
    the first in this process; the results in share order."""
    if workers < 2:
        return [work(items)]
    shares = [items[number::workers] for number in range(workers)]
    # Objects inherited and never freed would be copied page by page as the workers'
    # collector marks them; frozen, the collector leaves them alone.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            workers - 1, mp_context=context, initializer=_adopt, initargs=(work, shares)
        ) as pool:
            later = [pool.submit(_run_share, number) for number in range(1, workers)]
            first = work(shares[0])
            return [first, *(future.result() for future in later)]
    finally:
        gc.unfreeze()
