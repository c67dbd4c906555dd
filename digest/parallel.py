"""Parallel rendering: the page builders split over forked worker processes, when it pays.

Rendering is pure CPU work in Python (markdown-it-py and Jinja), so one process uses one
core. With several cores and a big site, `render` forks workers that each run a share of
the page builders on their own `Renderer`; the parent gathers the pages. Forking hands
every worker the library and the parsed templates for free (nothing is pickled on the
way in); only the finished pages come back.

The output is the same as `render_site`'s by construction: pages are merged in builder
order and sorted by url. Anything unusual (a template error, a duplicate url, a builder
that reports a diagnostic, a worker that dies) makes the parallel result void and the
build renders serially instead, so error reports read exactly as in a serial build.

Shares are balanced by each builder's time in the last build (kept in the cache), else
by a fixed guess. Not used where forking is unsafe or unavailable (Windows, macOS' spawn
default, a process running other threads such as `digest serve`), nor for small sites.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from digest.cache import MarkdownStore
from digest.diagnostics import Diagnostic
from digest.organise import Library
from digest.render import PageBuilder, RenderedPage, Renderer, Templates, render_site

MIN_PAPERS = 1_000  # below this, forking costs more than it saves
WORKERS_VARIABLE = "DIGEST_WORKERS"
DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True)
class Job:
    library: Library
    templates: Templates
    builders: tuple[PageBuilder, ...]
    markdown: dict[tuple[str, int], str]


@dataclass(frozen=True)
class Share:
    """What one worker sends back."""

    pages: list[tuple[int, list[RenderedPage]]]  # (builder index, its pages in order)
    diagnostics: list[Diagnostic]
    markdown: dict[tuple[str, int], str]  # the Markdown it rendered or reused
    seconds: dict[str, float]  # builder name → time


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
        "fork" in multiprocessing.get_all_start_methods(),
    )


def split(weights: Sequence[float], bins: int) -> list[list[int]]:
    """Indexes into `weights`, in `bins` groups of near-equal total (longest first)."""
    groups: list[list[int]] = [[] for _ in range(bins)]
    loads = [0.0] * bins
    for index in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        lightest = min(range(bins), key=lambda b: (loads[b], b))
        groups[lightest].append(index)
        loads[lightest] += weights[index]
    return [sorted(group) for group in groups if group]


def _encoded(page: RenderedPage) -> RenderedPage:
    """The page as UTF-8 bytes, as it will be written: half the memory of a str holding
    any non-ASCII character, and less to send back to the parent."""
    if isinstance(page.content, str):
        return RenderedPage(page.url, page.content.encode("utf-8"))
    return page


def _render_share(indexes: list[int]) -> Share:
    job = _JOB
    assert job is not None, "render workers are forked after _JOB is set"
    store = MarkdownStore(job.markdown)
    renderer = Renderer(job.templates, job.library, markdown_store=store)
    pages = []
    seconds = {}
    for index in indexes:
        builder = job.builders[index]
        started = time.perf_counter()
        made = [_encoded(page) for page in builder(job.library, renderer) if page is not None]
        pages.append((index, made))
        seconds[builder_name(builder)] = time.perf_counter() - started
    return Share(pages, renderer.diagnostics + renderer.failures(), store.used, seconds)


def render(
    library: Library,
    templates: Templates,
    builders: Sequence[PageBuilder],
    workers: int,
    markdown: MarkdownStore | None = None,
    seconds: dict[str, float] | None = None,
) -> tuple[list[RenderedPage], dict[str, float]] | None:
    """Every page, sorted by url, rendered by `workers` processes; None to render serially.

    `seconds` (builder name → time in the last build) balances the shares; the builder
    times of this build are returned with the pages.
    """
    global _JOB
    known = seconds or {}
    weights = [known.get(builder_name(b), DEFAULT_WEIGHT) for b in builders]
    shares = split(weights, workers)
    if len(shares) < 2:
        return None
    _JOB = Job(library, templates, tuple(builders), markdown.previous if markdown else {})
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(len(shares)) as pool:
            results = pool.map(_render_share, shares)
    except Exception:  # noqa: BLE001 - a worker that fails means "render serially"
        return None
    finally:
        _JOB = None
    if any(share.diagnostics for share in results):
        return None
    by_builder = dict(pair for share in results for pair in share.pages)
    pages: dict[str, RenderedPage] = {}
    for index in range(len(builders)):
        for page in by_builder[index]:
            if page.url in pages:
                return None
            pages[page.url] = page
    timings: dict[str, float] = {}
    for share in results:
        timings.update(share.seconds)
        if markdown is not None:
            for key, html in share.markdown.items():
                markdown.put(key, html)
    return [pages[url] for url in sorted(pages)], timings


def render_pages(
    library: Library,
    templates: Templates,
    builders: Sequence[PageBuilder],
    markdown: MarkdownStore | None = None,
    seconds: dict[str, float] | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic], dict[str, float]]:
    """`render_site`'s result, in parallel where that pays; plus this build's builder times."""
    workers = workers_for(library)
    if workers > 1:
        done = render(library, templates, builders, workers, markdown, seconds)
        if done is not None:
            return done[0], [], done[1]
    pages, problems = render_site(library, templates, builders, markdown=markdown)
    return pages, problems, dict(seconds or {})
