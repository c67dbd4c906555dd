"""Pages for readers beyond the core site, as page builders for `render_site`.

Feeds (Atom + JSON Feed per site and topic, feeds.opml), the search page and its index,
BibTeX files, the email edition of each issue, sitemap.xml and robots.txt. The content
of each comes from its own module (feeds, search, citations, email, sitemap); this one
only turns it into `RenderedPage`s. Whatever needs absolute URLs is skipped without
`base_url` (the build warns: W120).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

from digest import citations, email, feeds, permalinks, search, sitemap, wording
from digest.models import PaperEntry
from digest.organise import Library
from digest.page_cache import PageKeys
from digest.render import PageBuilder, RenderedPage, Renderer, of_issue, of_site


def _whole(keys: PageKeys) -> str:
    return keys.whole()


def _of_feed(items: tuple[list[PaperEntry], date]) -> Callable[[PageKeys], str]:
    """A feed shows its papers (with their issues) and its date, nothing else of the site."""
    papers, updated = items
    return lambda keys: keys.papers(papers, updated.isoformat())


def feed_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """Atom and JSON feeds for the site and every topic, and feeds.opml; needs base_url."""
    if library.config.base_url is None:
        return
    feeds_made: list[feeds.Feed] | None = None
    paths = [(permalinks.SITE_FEED, permalinks.SITE_JSON_FEED, feeds.site_items(library))] + [
        (
            permalinks.topic_feed_path(t.theme.slug),
            permalinks.topic_json_feed_path(t.theme.slug),
            feeds.topic_items(library, t),
        )
        for t in library.topics
    ]
    kept = [
        (
            renderer.kept(atom, "feed.xml", _of_feed(items)),
            renderer.kept(json, "feeds.json", _of_feed(items)),
        )
        for atom, json, items in paths
    ]
    if not all(atom and json for atom, json in kept):
        feeds_made = feeds.all_feeds(library, lambda text: renderer.markdown(text, 2))
    for number, (atom, json) in enumerate(kept):
        if atom and json:
            yield atom
            yield json
            continue
        assert feeds_made is not None
        feed = feeds_made[number]
        yield atom or renderer.page(feed.path, "feed.xml", {"feed": feed})
        yield json or RenderedPage(feed.json_path, feeds.json_feed(feed))
    url = permalinks.FEEDS_OPML
    yield renderer.kept(url, "opml.xml", of_site) or renderer.page(
        url, "opml.xml", {"opml": feeds.opml(library)}
    )


def search_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """search/index.html and the index it reads."""
    url = permalinks.page_file(permalinks.SEARCH)
    kept = renderer.kept(url, "search.html", _of_site_map)  # it lists the issues
    if kept is None:
        base = renderer.base(url, wording.page_title("Search", library.config.title), "search")
        kept = renderer.page(url, "search.html", {**base, "search": search.search_page(library)})
    yield kept
    yield renderer.kept(search.INDEX_PATH, "search.py", _whole) or RenderedPage(
        search.INDEX_PATH, search.index_json(library, renderer.views.search_rows)
    )


def bibtex_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """bibliography.bib (every paper) and <YYYY-MM-DD>/digest-<YYYY-MM-DD>.bib per issue."""
    record = renderer.views.bibtex
    if library.papers:
        url = permalinks.BIBLIOGRAPHY
        yield renderer.kept(url, "citations.py", _whole) or RenderedPage(
            url, citations.site_bibliography(library, record)
        )
    for issue in library.issues:
        if issue.papers:
            url = permalinks.issue_bib_path(issue.date)
            yield renderer.kept(url, "citations.py", of_issue(issue)) or RenderedPage(
                url, citations.issue_bibliography(issue, record)
            )


def email_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """<YYYY-MM-DD>/email.html and email.txt for every issue; needs base_url."""
    if library.config.base_url is None:
        return
    for issue in renderer.share(library.issues):
        html_url = permalinks.email_html_path(issue.date)
        text_url = permalinks.email_text_path(issue.date)
        html = renderer.kept(html_url, "email.html", of_issue(issue))
        text = renderer.kept(text_url, "email.py", of_issue(issue))
        if html and text:
            yield html
            yield text
            continue
        context = email.email_context(library, issue)
        yield html or renderer.page(html_url, "email.html", context)
        yield text or RenderedPage(text_url, email.email_text(context))


def _of_site_map(keys: PageKeys) -> str:
    return keys.site_map()


def sitemap_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    """sitemap.xml (needs base_url) and robots.txt."""
    if library.config.base_url is not None:
        kept = renderer.kept(permalinks.SITEMAP, "sitemap.xml", _of_site_map)
        if kept is None:
            entries = sitemap.sitemap_entries(library)
            kept = renderer.page(permalinks.SITEMAP, "sitemap.xml", {"entries": entries})
        yield kept
    yield renderer.kept(permalinks.ROBOTS, "sitemap.py", of_site) or RenderedPage(
        permalinks.ROBOTS, sitemap.robots_txt(library)
    )


READER_SPLITTABLE: set[PageBuilder] = {email_pages}  # see digest.render.SPLITTABLE

READER_BUILDERS: list[PageBuilder] = [
    feed_pages,
    search_pages,
    bibtex_pages,
    email_pages,
    sitemap_pages,
]
