"""Pool: work shared out over forked worker processes, when there is enough of it.

Checking entries and rendering pages is CPU work in Python, so one process uses one
core. `map_forked` splits a list into interleaved shares: this process works on the
first while a standard process pool (`concurrent.futures`, fork start method) works on
the others. Forking hands each worker the work function and its items, with everything
they reach (the library, the parsed templates): only results travel back, pickled.

A worker that raises, or dies, makes `map_forked` raise: the caller reports it. Nothing
is retried in this process behind the user's back.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

WORKERS_VARIABLE = "DIGEST_WORKERS"  # "1": never fork; another number caps the workers
MAX_WORKERS = 4

T = TypeVar("T")
R = TypeVar("R")

# What a forked worker was handed by `_adopt` (set in worker processes only).
_inherited: tuple[Callable[[Sequence[Any]], Any], list[Sequence[Any]]] | None = None


def worker_count(items: int, minimum: int) -> int:
    """How many processes to share `items` pieces of work over: 1 below `minimum` items,
    without fork, on one core, while other threads run (forking a threaded process can
    deadlock the child), or when `DIGEST_WORKERS` says "1"; else one per core, at most
    `MAX_WORKERS`."""
    cores = os.cpu_count() or 1
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting.isdigit() and int(setting) >= 1:
        cores = min(cores, int(setting))
    if items < minimum or cores < 2 or not hasattr(os, "fork"):
        return 1
    if threading.active_count() > 1:
        return 1
    return min(cores, MAX_WORKERS)


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
