"""Pages for readers beyond the core site, as page builders for `render_site`.

Feeds (Atom + JSON Feed per site and topic, feeds.opml), the search page and its index,
BibTeX files, the email edition of each issue, sitemap.xml and robots.txt. The content
of each comes from its own module (feeds, search, citations, email, sitemap); this one
only turns it into `RenderedPage`s. Whatever needs absolute URLs is skipped without
`base_url` (the build warns: W120).
"""

from __future__ import annotations

from collections.abc import Iterable

from digest import citations, email, feeds, permalinks, search, sitemap
from digest.organise import Library
from digest.render import PageBuilder, RenderedPage, Renderer


def feed_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """Atom and JSON feeds for the site and every topic, and feeds.opml; needs base_url."""
    if library.config.base_url is None:
        return
    for feed in feeds.all_feeds(library, lambda text: renderer.markdown(text, 2)):
        yield renderer.page(feed.path, "feed.xml", {"feed": feed})
        yield RenderedPage(feed.json_path, feeds.json_feed(feed))
    yield renderer.page(permalinks.FEEDS_OPML, "opml.xml", {"opml": feeds.opml(library)})


def search_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """search/index.html and the index it reads."""
    url = f"{permalinks.SEARCH}index.html"
    base = renderer.base(url, f"Search — {library.config.title}", "search")
    yield renderer.page(url, "search.html", {**base, "search": search.search_page(library)})
    yield RenderedPage(search.INDEX_PATH, search.build_index(library).to_json())


def bibtex_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """bibliography.bib (every paper) and <YYYY-MM-DD>/digest-<YYYY-MM-DD>.bib per issue."""
    if library.papers:
        yield RenderedPage(permalinks.BIBLIOGRAPHY, citations.site_bibliography(library))
    for issue in library.issues:
        if issue.papers:
            text = citations.issue_bibliography(issue)
            yield RenderedPage(permalinks.issue_bib_path(issue.date), text)


def email_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """<YYYY-MM-DD>/email.html and email.txt for every issue; needs base_url."""
    if library.config.base_url is None:
        return
    for issue in library.issues:
        context = email.email_context(library, issue)
        yield renderer.page(permalinks.email_html_path(issue.date), "email.html", context)
        yield RenderedPage(permalinks.email_text_path(issue.date), email.email_text(context))


def sitemap_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """sitemap.xml (needs base_url) and robots.txt."""
    if library.config.base_url is not None:
        entries = sitemap.sitemap_entries(library)
        yield renderer.page("sitemap.xml", "sitemap.xml", {"entries": entries})
    yield RenderedPage("robots.txt", sitemap.robots_txt(library))


READER_BUILDERS: list[PageBuilder] = [
    feed_pages,
    search_pages,
    bibtex_pages,
    email_pages,
    sitemap_pages,
]
