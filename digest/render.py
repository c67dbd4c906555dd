"""Render: `Library` + the template set → `RenderedPage` values (nothing is written here).

The templates come loaded and checked from digest.template_set; a Jinja runtime error
while rendering becomes a diagnostic at the template's path and line, reported once per
line however many pages it breaks.

What each page shows (its context) comes from digest.pages and digest.views; this
module owns the `Renderer` and the page builders (each keeps a page whose inputs did not
change: digest.page_cache). Jinja is imported only here and in digest.template_set.

More pages are added by appending a `PageBuilder` to `PAGE_BUILDERS` (or passing a list
to `render_site`): a function `(library, renderer) -> Iterable[RenderedPage]`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import jinja2
from markupsafe import Markup

from digest import permalinks
from digest.cache import Stamp
from digest.diagnostics import Diagnostic, error
from digest.models import PaperEntry
from digest.organise import IssueView, Library, Topic
from digest.page_cache import PageCache, PageKeys
from digest.pages import (
    home_context,
    issue_context,
    not_found_context,
    paper_context,
    topic_context,
    topics_context,
)
from digest.template_set import Templates, template_line
from digest.views import BaseContext, PaperView, Views
from digest.wording import plural

T = TypeVar("T")
CARD_MACROS, CARD_MACRO = "macros/papers.html", "compact"  # how a listing shows a paper


@dataclass(frozen=True)
class RenderedPage:
    """One output file: `url` is its path under the site root, e.g. "papers/dpcache/index.html".

    A `kept` page was not rendered: its inputs are those of the file the last build left
    at `url` (digest.page_cache), which stays as it is; its `content` is empty. A `staged`
    page was written as soon as it was rendered into the folder that becomes the new site
    (digest.write.stage_page); its `content` is empty too, `stamp` the written file's.
    """

    url: str
    content: str | bytes
    kept: bool = False
    staged: bool = False
    stamp: Stamp | None = None


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


@dataclass
class Renderer:
    """Renders templates into pages, gathering errors instead of raising them."""

    templates: Templates
    library: Library
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _failures: dict[tuple[str, int, str], list[str]] = field(default_factory=dict)
    cache: PageCache | None = None  # what the last build wrote (digest.page_cache)
    site_key: str = ""  # digest.page_cache.site_fingerprint, with `cache`
    views: Views = field(init=False)
    keys: PageKeys = field(init=False)
    rendered: int = 0  # templates rendered (pages kept are not)
    part: tuple[int, int] = (0, 1)  # (which, of how many) when a builder is split

    def share(self, items: Sequence[T]) -> Sequence[T]:
        """The items a splittable builder makes pages of in this run: all of them, or
        every n-th when parallel rendering split it in n parts (digest.parallel)."""
        which, count = self.part
        return items if count == 1 else items[which::count]

    def __post_init__(self) -> None:
        files = self.cache.files if self.cache is not None else None
        self.keys = PageKeys(self.library, self.site_key, files)
        self.views = Views(self.library, self.cache, self.keys, render_card=self.card)

    def card(self, paper: PaperView) -> str:
        """A paper as a long listing shows it (digest.views' `Card`): the `compact` macro
        of macros/papers.html."""
        macros = self.templates.env.get_template(CARD_MACROS).module
        return str(getattr(macros, CARD_MACRO)(paper))

    def markdown(self, text: str, top_heading: int = 1) -> Markup:
        return self.views.markdown(text, top_heading)

    def kept(self, url: str, template: str, key: Callable[[PageKeys], str]) -> RenderedPage | None:
        """A kept page for `url` when the inputs `key` names are the last build's, else None.

        `template` names what makes the page (a template, or a module for other files)."""
        if self.cache is None:
            return None
        if self.cache.kept(url, f"{template}:{key(self.keys)}"):
            return RenderedPage(url, b"", kept=True)
        return None

    def page(self, url: str, template: str, context: Mapping[str, Any]) -> RenderedPage | None:
        """Render one page; on failure note the error (reported once per template line)."""
        self.rendered += 1
        self.views.page_done()
        try:
            content = self.templates.env.get_template(template).render(context)
            if self.cache is not None:
                self.cache.save_fragments(url)
            return RenderedPage(url, content)
        except jinja2.TemplateSyntaxError as exc:
            where = (self.templates.display(exc.filename, template), exc.lineno or 1)
            message = f"template syntax error: {exc.message}"
        except RENDER_ERRORS as exc:
            where = template_line(self.templates, exc.__traceback__, template)
            text = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
            message = f"template error: {text or type(exc).__name__}"
        self._failures.setdefault((*where, message), []).append(url)
        return None

    def failures(self) -> list[Diagnostic]:
        """One diagnostic per failing template line, naming the first page it broke."""
        found = []
        for (path, line, message), urls in self._failures.items():
            more = f" and {plural(len(urls) - 1, 'other page')}" if len(urls) > 1 else ""
            code = "E401" if message.startswith("template syntax") else "E402"
            found.append(error(path, line, 1, code, f"{message} (rendering {urls[0]}{more})"))
        return found

    def base(self, url: str, title: str, section: str, description: str = "") -> BaseContext:
        return self.views.base(url, title, section, description)


# ------------------------------------------------------------------ page builders


def _overview(keys: PageKeys) -> str:
    return keys.overview()


def of_site(keys: PageKeys) -> str:
    """For a page made from the configuration and templates alone: no key of its own,
    since the page cache checks the site's fingerprint for every page."""
    return ""


def _of_paper(entry: PaperEntry) -> Callable[[PageKeys], str]:
    return lambda keys: keys.paper(entry)


def of_issue(view: IssueView) -> Callable[[PageKeys], str]:
    return lambda keys: keys.issue(view)


def _of_topic(topic: Topic) -> Callable[[PageKeys], str]:
    return lambda keys: keys.topic(topic)


def home_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.page_file(permalinks.HOME)
    yield renderer.kept(url, "home.html", _overview) or renderer.page(
        url, "home.html", home_context(renderer.views)
    )


def issue_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for view in renderer.share(library.issues):
        url = permalinks.page_file(permalinks.issue_path(view.date))
        yield renderer.kept(url, "issue.html", of_issue(view)) or renderer.page(
            url, "issue.html", issue_context(view, renderer.views)
        )


def topic_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.page_file(permalinks.TOPICS)
    yield renderer.kept(url, "topics.html", _overview) or renderer.page(
        url, "topics.html", topics_context(renderer.views)
    )
    for topic in library.topics:
        url = permalinks.page_file(permalinks.topic_path(topic.theme.slug))
        yield renderer.kept(url, "topic.html", _of_topic(topic)) or renderer.page(
            url, "topic.html", topic_context(topic, renderer.views)
        )


def paper_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for paper_id in renderer.share(sorted(library.papers)):
        entry = library.papers[paper_id]
        url = permalinks.page_file(permalinks.paper_path(paper_id))
        yield renderer.kept(url, "paper.html", _of_paper(entry)) or renderer.page(
            url, "paper.html", paper_context(entry, renderer.views)
        )


def not_found_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.NOT_FOUND
    yield renderer.kept(url, "404.html", of_site) or renderer.page(
        url, "404.html", not_found_context(renderer.views)
    )


PageBuilder = Callable[[Library, Renderer], Iterable[RenderedPage | None]]

SPLITTABLE: set[PageBuilder] = {issue_pages, paper_pages}
"""Builders that make their pages from `renderer.share(...)` of a list, one page (or a
fixed few) per item: parallel rendering may run each in parts in different processes."""

PAGE_BUILDERS: list[PageBuilder] = [
    home_pages,
    issue_pages,
    topic_pages,
    paper_pages,
    not_found_pages,
]
"""The default site map. Later stages append builders here (feeds, search, sitemap)."""


def render_site(
    library: Library,
    templates: Templates,
    builders: Iterable[PageBuilder] | None = None,
    *,
    cache: PageCache | None = None,
    site_key: str = "",
    each: Callable[[RenderedPage], RenderedPage] | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic]]:
    """Every page of the site, sorted by url, and every problem met while rendering them.

    A page whose template fails is left out and reported; the others still render, so
    one run shows every broken template. With `cache`, pages whose inputs did not change
    since the last build come back `kept` instead of rendered. `each` is applied to every
    page as it is made (digest.parallel passes one that writes it out at once).
    """
    renderer = Renderer(templates, library, cache=cache, site_key=site_key)
    pages: dict[str, RenderedPage] = {}
    for builder in PAGE_BUILDERS if builders is None else builders:
        for page in builder(library, renderer):
            if page is None:
                continue
            if each is not None:
                page = each(page)
            if page.url in pages:
                renderer.diagnostics.append(
                    error(page.url, 1, 1, "E403", f"two pages would be written to {page.url}")
                )
            pages[page.url] = page
    return [pages[url] for url in sorted(pages)], renderer.diagnostics + renderer.failures()
