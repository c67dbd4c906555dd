"""Parallel rendering: the page builders split over forked worker processes, when it pays.

Rendering is pure CPU work in Python (Markdown and Jinja), so one process uses one
core. With several cores and a big site, `render` forks workers that each run a share of
the page builders on their own `Renderer`. Forking hands every worker the library and
the parsed templates for free (nothing is pickled on the way in).
On a first build (no output folder yet) each worker writes its pages into the staging
folder as it renders them (digest.write.stage_page), so page contents never gather in
one process and writing overlaps rendering; otherwise the finished pages come back.

Each worker parses the Markdown its pages show (digest.markdown memoises it); a text
two workers both show is parsed twice, which costs less than parsing every text up
front in one more round of processes (most texts are plain prose: digest.plain_prose).

The output is the same as `render_site`'s by construction: pages are merged in builder
order and sorted by url. Anything unusual (a template error, a duplicate url, a builder
that reports a diagnostic, a worker that dies) makes the parallel result void and the
build renders serially instead, so error reports read exactly as in a serial build.

The builders that make one page per paper or per issue (`SPLIT_BUILDERS`) run in
several parts, each taking every n-th paper or issue. Every process takes the next
part or builder from a shared counter until none is left, longest first by each
builder's time in the last build (kept in the cache), else whole builders before parts.
Not used where forking is unsafe or unavailable (Windows, macOS' spawn default, a
process running other threads such as `digest serve`), nor for small sites.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from digest.cache import WORKERS_VARIABLE, can_fork
from digest.diagnostics import Diagnostic
from digest.organise import Library
from digest.page_cache import PageCache
from digest.readers import READER_SPLITTABLE
from digest.render import (
    SPLITTABLE,
    PageBuilder,
    RenderedPage,
    Renderer,
    render_site,
)
from digest.template_set import Templates
from digest.write import stage_page

SPLIT_BUILDERS = SPLITTABLE | READER_SPLITTABLE  # each runs in parts
PARTS_PER_WORKER = 4  # small enough parts for the processes to end close together
MIN_PAPERS = 1_000  # below this, forking costs more than it saves
DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True)
class Work:
    """One run of a builder: all of it, or part `which` of `count` (`SPLIT_BUILDERS`)."""

    builder: int  # index into Job.builders
    which: int = 0
    count: int = 1


@dataclass(frozen=True)
class Job:
    library: Library
    templates: Templates
    builders: tuple[PageBuilder, ...]
    work: tuple[Work, ...]  # longest first
    taken: Any  # a shared counter: how many of `work` some process has taken
    cache: PageCache | None
    site_key: str
    stage: Path | None
    beside: Callable[[], None] | None  # done by this process first (see `render_pages`)


@dataclass(frozen=True)
class Share:
    """What one worker sends back."""

    pages: list[tuple[int, list[RenderedPage]]]  # (builder index, pages of one run)
    diagnostics: list[Diagnostic]
    seconds: dict[str, float]  # builder name → time
    keys: dict[str, str]  # url → content key (digest.page_cache), with a cache
    pieces: dict[str, Any]  # the stored pieces it used, with a cache


A = TypeVar("A")
R = TypeVar("R")

_JOB: Job | None = None  # set in the parent just before forking; inherited by the workers


def builder_name(builder: PageBuilder) -> str:
    return f"{builder.__module__}.{getattr(builder, '__qualname__', repr(builder))}"


def worker_count(papers: int, cores: int, setting: str, threads: int, can_fork: bool) -> int:
    """How many processes to render with: 1 unless forking is safe and the site is big.

    `setting` is `DIGEST_WORKERS` from the environment: "1" renders serially (each worker
    holds its share of the pages in memory, so parallel rendering trades memory for
    time); another number caps the workers; empty means one per core, at most four.
    """
    wanted = setting.strip()
    if wanted.isdigit() and int(wanted) >= 1:
        cores = min(cores, int(wanted))
    if cores < 2 or papers < MIN_PAPERS or not can_fork:
        return 1
    if threads > 1:  # forking a threaded process can deadlock the child
        return 1
    return min(cores, 4)


def workers_for(library: Library) -> int:
    return worker_count(
        len(library.papers),
        os.cpu_count() or 1,
        os.environ.get(WORKERS_VARIABLE, ""),
        threading.active_count(),
        can_fork(),
    )


def _encoded(page: RenderedPage) -> RenderedPage:
    """The page as UTF-8 bytes, as it will be written: half the memory of a str holding
    any non-ASCII character, and less to send back to the parent."""
    if isinstance(page.content, str):
        return RenderedPage(page.url, page.content.encode("utf-8"))
    return page


def fork_map(work: Callable[[A], R], shares: list[A]) -> list[R]:
    """`[work(share) for share in shares]`: the first share in this process, the others in
    forked workers at the same time. Working here too saves one copy of everything the
    work touches (a forked worker's memory is shared only until it is written to)."""
    import multiprocessing  # only to fork: 6 ms, which a rebuild after an edit does without

    outermost = gc.get_freeze_count() == 0  # else a caller froze and will unfreeze
    gc.freeze()  # the workers' collector leaves the inherited objects (and their pages) alone
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(len(shares) - 1) as pool:
            others = pool.map_async(work, shares[1:])
            first = work(shares[0])
            return [first, *others.get()]
    finally:
        if outermost:
            gc.unfreeze()


def _finished(page: RenderedPage, stage: Path | None) -> RenderedPage:
    """Written into `stage` at once when there is one (the parent then holds no page
    content), else encoded to send back."""
    return stage_page(stage, page) if stage is not None else _encoded(page)


def _next_work(job: Job) -> Work | None:
    with job.taken.get_lock():
        index = job.taken.value
        job.taken.value = index + 1
    return job.work[index] if index < len(job.work) else None


def _render_share(process: int) -> Share:
    """Take the next piece of work until none is left: a process that finishes early
    takes more, so the processes end together whatever each piece costs."""
    job = _JOB
    assert job is not None, "render workers are forked after _JOB is set"
    if process == 0 and job.beside is not None:  # share 0 is this process's (`fork_map`)
        job.beside()
    cache = job.cache
    renderer = Renderer(job.templates, job.library, cache=cache, site_key=job.site_key)
    pages = []
    seconds: dict[str, float] = {}
    while (work := _next_work(job)) is not None:
        builder = job.builders[work.builder]
        renderer.part = (work.which, work.count)
        started = time.perf_counter()
        made = [_finished(page, job.stage) for page in builder(job.library, renderer) if page]
        pages.append((work.builder, made))
        name = builder_name(builder)
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
    problems = renderer.diagnostics + renderer.failures()
    keys = cache.keys if cache else {}
    pieces = cache.pieces if cache else {}
    return Share(pages, problems, seconds, keys, pieces)


def render(
    library: Library,
    templates: Templates,
    builders: Sequence[PageBuilder],
    workers: int,
    seconds: dict[str, float] | None = None,
    cache: PageCache | None = None,
    site_key: str = "",
    stage: Path | None = None,
    beside: Callable[[], None] | None = None,
) -> tuple[list[RenderedPage], dict[str, float]] | None:
    """Every page, sorted by url, rendered by `workers` processes; None to render serially.

    The work is taken longest first, by `seconds` (builder name → time in the last
    build); the builder times of this build are returned with the pages.
    """
    import multiprocessing  # see `fork_map`

    global _JOB
    if workers < 2:
        return None
    known = seconds or {}
    work: list[tuple[float, Work]] = []
    for index, builder in enumerate(builders):
        count = workers * PARTS_PER_WORKER if builder in SPLIT_BUILDERS else 1
        weight = known.get(builder_name(builder), DEFAULT_WEIGHT) / count
        work += [(weight, Work(index, which, count)) for which in range(count)]
    work.sort(key=lambda item: -item[0])  # stable: ties keep the builders' order
    taken = multiprocessing.get_context("fork").Value("i", 0)
    ordered = tuple(item for _, item in work)
    _JOB = Job(library, templates, tuple(builders), ordered, taken, cache, site_key, stage, beside)
    try:
        results = fork_map(_render_share, list(range(workers)))
    except Exception:  # noqa: BLE001 - a worker that fails means "render serially"
        return None
    finally:
        _JOB = None
    if any(share.diagnostics for share in results):
        return None
    by_builder: dict[int, list[RenderedPage]] = {}
    for share in results:
        for index, made in share.pages:
            by_builder.setdefault(index, []).extend(made)
    pages: dict[str, RenderedPage] = {}
    for index in range(len(builders)):
        for page in by_builder.get(index, []):
            if page.url in pages:
                return None
            pages[page.url] = page
    timings: dict[str, float] = {}
    for share in results:
        for name, spent in share.seconds.items():
            timings[name] = timings.get(name, 0.0) + spent
        if cache is not None:
            cache.keys.update(share.keys)
            cache.pieces.update(share.pieces)
    return [pages[url] for url in sorted(pages)], timings


def render_pages(
    library: Library,
    templates: Templates,
    builders: Sequence[PageBuilder],
    seconds: dict[str, float] | None = None,
    cache: PageCache | None = None,
    site_key: str = "",
    stage: Path | None = None,
    *,
    serial: bool = False,
    beside: Callable[[], None] | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic], dict[str, float]]:
    """`render_site`'s result, in parallel where that pays; plus this build's builder times.

    With `cache` (digest.page_cache), pages whose inputs did not change come back kept,
    and the pieces this build used are recorded in it. With `stage` (digest.write's
    `new_stage`), every page is written there as soon as it is rendered and comes back
    `staged`: no page content stays in memory. With `serial`, everything is rendered in
    this process. `beside` is work with no page of its own (saving the entry cache) that
    this process does while the forked workers start on the pages: they take more of
    them meanwhile. A serial render leaves it to the caller.
    """
    workers = 1 if serial else workers_for(library)
    if workers > 1:
        done = render(
            library, templates, builders, workers, seconds, cache, site_key, stage, beside
        )
        if done is not None:
            return done[0], [], done[1]
        if cache is not None:  # start afresh: the failed workers' keys never came back
            cache.keys.clear()
    each = partial(stage_page, stage) if stage is not None else None
    pages, problems = render_site(
        library, templates, builders, cache=cache, site_key=site_key, each=each
    )
    return pages, problems, dict(seconds or {})
