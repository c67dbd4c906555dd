"""Render: the site's jobs → `RenderedPage` values (nothing is written here but a new stage).

Every file of the site is a `Job`: its url, the template that renders it (None for a
file made without one), the key of what it shows, and a function that makes its
context (or its content). The page builders (digest.pages, digest.reader_outputs) form
each key beside the context, from the digests digest.organise computed. `run_jobs`
skips a job whose key is the one the last build recorded for a file still on disk as
it left it, when the site's key (the tool, the settings, every template) is the last
build's too (digest.build);
the rest are rendered in this process when few, else over worker processes
(digest.pool). A Jinja error becomes a diagnostic at the template's path and line,
reported once per line however many pages it breaks; a worker that fails is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import jinja2

from digest.diagnostics import Diagnostic, error
from digest.markdown import analyse_all
from digest.models import markdown_texts
from digest.organise import Library
from digest.pool import map_forked, worker_count
from digest.store import Stamp, Store
from digest.template_set import Templates, template_line
from digest.views import PaperView, Views
from digest.wording import plural

CARD_MACROS, CARD_MACRO = "macros/papers.html", "compact"  # how a listing shows a paper
MIN_PARALLEL = 500  # pages to render before worker processes pay for their start-up

Made = Mapping[str, Any] | str | bytes


@dataclass(frozen=True)
class Job:
    """One file of the site. `key` names what it shows beyond the site's settings and
    templates; `make` returns the template's context, or without a template the file's
    content. `keeps` names the store's objects making it reads (digest.views' pieces),
    which stay in the store while the page is kept: the next edit may need them."""

    url: str
    template: str | None
    key: str
    make: Callable[[], Made]
    keeps: Callable[[], Iterable[str]] | None = None


@dataclass(frozen=True)
class RenderedPage:
    """One output file: `url` is its path under the site root, e.g. "papers/dpcache/index.html".

    A `kept` page was not rendered: the file the last build left at `url` stays. A
    `staged` page was written into the new site's folder as soon as it was rendered
    (digest.write.stage_page), `stamp` its file's; the content of either is empty. `key` is
    the job's.
    """

    url: str
    content: str | bytes
    kept: bool = False
    staged: bool = False
    key: str = ""
    stamp: Stamp | None = None  # of a staged page's file, as written


RENDER_ERRORS = (
    jinja2.TemplateError,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
)

Failures = dict[tuple[str, int, str], list[str]]  # (path, line, message) → urls it broke


@dataclass
class Renderer:
    """Renders templates into pages, gathering errors instead of raising them."""

    templates: Templates
    library: Library
    store: Store | None = None  # pieces kept from the last build
    site_key: str = ""
    failures: Failures = field(default_factory=dict)
    views: Views = field(init=False)

    def __post_init__(self) -> None:
        self.views = Views(self.library, self.store, self.site_key, render_card=self.card)

    def card(self, paper: PaperView) -> str:
        """A paper as a long listing shows it: the `compact` macro of macros/papers.html."""
        macros = self.templates.env.get_template(CARD_MACROS).module
        return str(getattr(macros, CARD_MACRO)(paper))

    def page(self, url: str, template: str, context: Mapping[str, Any]) -> RenderedPage | None:
        """Render one page; on failure note the error (reported once per template line)."""
        self.views.page_done()
        try:
            return RenderedPage(url, self.templates.env.get_template(template).render(context))
        except jinja2.TemplateSyntaxError as exc:
            where = (self.templates.display(exc.filename, template), exc.lineno or 1)
            message = f"template syntax error: {exc.message}"
        except RENDER_ERRORS as exc:
            where = template_line(self.templates, exc.__traceback__, template)
            text = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
            message = f"template error: {text or type(exc).__name__}"
        self.failures.setdefault((*where, message), []).append(url)
        return None

    def before_workers(self) -> None:
        """Make now, in this process, what every worker would otherwise make and keep
        for itself: each Markdown text of the library parsed once (the papers unpacked
        with it), and the store's new objects written out rather than inherited."""
        if self.store is not None:
            self.store.flush()
        analyse_all(_library_markdown(self.library))

    def run(self, job: Job) -> RenderedPage | None:
        made = job.make()
        if job.template is None:
            assert isinstance(made, str | bytes)
            return RenderedPage(job.url, made)
        assert isinstance(made, Mapping)
        return self.page(job.url, job.template, made)


def _library_markdown(library: Library) -> Iterator[str]:
    for view in library.issues:
        yield from markdown_texts(view.issue)
        for entry in view.papers:
            yield entry.paper.summary


def failure_report(failures: Failures) -> list[Diagnostic]:
    """One diagnostic per failing template line, naming the first page it broke."""
    found = []
    for (path, line, message), urls in failures.items():
        more = f" and {plural(len(urls) - 1, 'other page')}" if len(urls) > 1 else ""
        code = "E401" if message.startswith("template syntax") else "E402"
        found.append(error(path, line, 1, code, f"{message} (rendering {urls[0]}{more})"))
    return found


@dataclass
class Share:
    """What one process rendered: its pages, its template failures, and the pieces it
    made and used (for the store)."""

    pages: list[RenderedPage]
    failures: Failures
    written: set[str]
    added: dict[str, bytes]
    used: set[str]


def page_key(job: Job) -> str:
    """What the page's file is recorded under: its template and its key (the site's key
    is recorded once for the whole site, digest.build)."""
    return f"{job.template or ''}:{job.key}"


def run_jobs(
    jobs: Iterable[Job],
    renderer: Renderer,
    *,
    kept: Callable[[str, str], bool] = lambda url, key: False,
    each: Callable[[RenderedPage], RenderedPage] | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic]]:
    """Every page of the site, sorted by url, and every problem met making them.

    `kept(url, key)` says whether the file the last build left at `url` is the one this
    key makes; such a page comes back `kept`. `each` is applied to every page as it is
    rendered (digest.write's `stage_page`, which writes it out at once)."""
    pages: list[RenderedPage] = []
    todo: list[tuple[Job, str]] = []
    for job in jobs:
        key = page_key(job)
        if kept(job.url, key):
            pages.append(RenderedPage(job.url, b"", kept=True, key=key))
            if job.keeps is not None and renderer.store is not None:
                renderer.store.keep_known(job.keeps())
        else:
            todo.append((job, key))
    problems: list[Diagnostic] = []
    workers = worker_count(len(todo), MIN_PARALLEL)
    if workers > 1:
        renderer.before_workers()
    try:
        shares = map_forked(lambda share: _render_share(renderer, share, each), todo, workers)
    except (BrokenProcessPool, Exception) as exc:
        if workers < 2:
            raise
        return [], [_worker_failed(exc)]
    failures: Failures = {}
    for share in shares:
        pages += share.pages
        for where, urls in share.failures.items():
            failures.setdefault(where, []).extend(urls)
        if renderer.store is not None and share is not shares[0]:
            renderer.store.adopt(share.written, share.added, share.used)
    by_url: dict[str, RenderedPage] = {}
    for page in pages:
        if page.url in by_url:
            problems.append(
                error(page.url, 1, 1, "E403", f"two pages would be written to {page.url}")
            )
        by_url[page.url] = page
    return [by_url[url] for url in sorted(by_url)], problems + failure_report(failures)


def _render_share(
    renderer: Renderer,
    todo: Sequence[tuple[Job, str]],
    each: Callable[[RenderedPage], RenderedPage] | None,
) -> Share:
    pages = []
    for job, key in todo:
        page = renderer.run(job)
        if page is None:
            continue
        page = RenderedPage(page.url, page.content, key=key)
        pages.append(each(page) if each is not None else _encoded(page))
    store = renderer.store
    if store is None:
        return Share(pages, renderer.failures, set(), {}, set())
    store.flush()
    return Share(pages, renderer.failures, store.written, store.added, store.used)


def _encoded(page: RenderedPage) -> RenderedPage:
    """The page as UTF-8 bytes, as it will be written: half the memory of a str holding
    any non-ASCII character, and less to send back from a worker."""
    if isinstance(page.content, str):
        return RenderedPage(page.url, page.content.encode("utf-8"), key=page.key)
    return page


def _worker_failed(exc: BaseException) -> Diagnostic:
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return error(
        "digest build",
        1,
        1,
        "E408",
        f"a rendering worker process failed ({what})",
        hint="run again with DIGEST_WORKERS=1 to render in one process and see the error",
    )
