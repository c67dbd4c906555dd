"""Reader outputs: the files beyond the site's pages, as jobs for digest.render.

Feeds (Atom + JSON Feed of the issues, of the papers and per topic, feeds.opml), the
search page and its index, BibTeX files, the e-mail edition of each issue, sitemap.xml
and robots.txt. The content of each comes from its own module (feeds, search,
citations, email, sitemap); this one forms each file's key beside what makes it.
Whatever needs absolute URLs is skipped without `base_url` (the build warns: W120).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache, partial

from digest import (
    citations,
    email,
    email_text,
    feeds,
    permalinks,
    search,
    search_index,
    sitemap,
    wording,
)
from digest.hashing import combine
from digest.organise import IssueView, Library, entry_digest
from digest.render import Job
from digest.views import Views


def _papers_key(items: tuple[list[feeds.StampedPaper], str]) -> str:
    """A papers feed shows each paper's entry and stamp, and its own `updated`."""
    papers, updated = items
    return combine(updated, *(entry_digest(p.entry) + p.updated for p in papers))


def _issues_key(items: tuple[list[IssueView], str]) -> str:
    """The site feed shows each issue's entry and its papers' one-liners, and its `updated`."""
    issues, updated = items
    return combine(updated, *(issue.digest for issue in issues))


def feed_jobs(views: Views) -> Iterator[Job]:
    """Atom and JSON feeds of the issues, of the papers and of every topic, and
    feeds.opml; needs base_url."""
    library = views.library
    if library.config.base_url is None:
        return
    to_html = views.markdown
    made = [
        (
            permalinks.SITE_FEED,
            permalinks.SITE_JSON_FEED,
            _issues_key(feeds.issue_items(library)),
            cache(partial(feeds.site_feed, library, to_html)),
        ),
        (
            permalinks.PAPERS_FEED,
            permalinks.PAPERS_JSON_FEED,
            _papers_key(feeds.paper_items(library)),
            cache(partial(feeds.papers_feed, library, to_html)),
        ),
    ]
    for topic in library.topics:
        slug = topic.theme.slug
        made.append(
            (
                permalinks.topic_feed_path(slug),
                permalinks.topic_json_feed_path(slug),
                _papers_key(feeds.topic_items(library, topic)),
                cache(partial(feeds.topic_feed, library, topic, to_html)),
            )
        )
    for atom, json, key, feed in made:  # each feed is made once, for both formats
        yield Job(atom, "feed.xml", key, partial(_feed_context, feed))
        yield Job(json, None, key, partial(_json_feed, feed))
    # The OPML names the settings' feeds only: the site's, the papers' and each topic's.
    yield Job(permalinks.FEEDS_OPML, "opml.xml", "", lambda: {"opml": feeds.opml(library)})


def _feed_context(feed: Callable[[], feeds.Feed]) -> dict[str, feeds.Feed]:
    return {"feed": feed()}


def _json_feed(feed: Callable[[], feeds.Feed]) -> str:
    return feeds.json_feed(feed())


def _email_text(context: Callable[[], email.EmailContext]) -> str:
    return email_text.email_text(context())


def search_jobs(views: Views) -> Iterator[Job]:
    """search/index.html (it names the issues' years and counts the papers) and the
    files of the index it reads (digest.search_index), each keyed by what it holds: the
    index's pieces come from the store, and its term shards are cut from all of them."""
    library = views.library
    url = permalinks.page_file(permalinks.SEARCH)

    def page() -> dict[str, object]:
        base = views.base(url, wording.page_title("Search", library.config.title), "search")
        return {**base, "search": search.search_page(library, search_index.HEAD_PATH)}

    yield Job(url, "search.html", library.site_map_digest, page)
    for made in search_index.index_files(library, views.store, views.site_key):
        yield Job(made.url, None, made.key, made.make)


def bibtex_jobs(views: Views) -> Iterator[Job]:
    """bibliography.bib (every paper) and <YYYY-MM-DD>/digest-<YYYY-MM-DD>.bib per issue
    with papers. Every page's footer links bibliography.bib, so it is written even empty."""
    library = views.library
    make = partial(citations.site_bibliography, library, views.bibtex_records)
    records = partial(views.bibtex_keys, library.papers.values())
    yield Job(permalinks.BIBLIOGRAPHY, None, library.digest, make, records)
    for issue in library.issues:
        if issue.papers:
            make = partial(citations.issue_bibliography, issue, views.bibtex_records)
            yield Job(permalinks.issue_bib_path(issue.date), None, issue.digest, make)


def email_jobs(views: Views) -> Iterator[Job]:
    """<YYYY-MM-DD>/email.html and email.txt for every issue; needs base_url."""
    library = views.library
    if library.config.base_url is None:
        return
    for issue in library.issues:
        context = cache(partial(email.email_context, library, issue))  # for both editions
        yield Job(permalinks.email_html_path(issue.date), "email.html", issue.digest, context)
        text = permalinks.email_text_path(issue.date)
        yield Job(text, None, issue.digest, partial(_email_text, context))


def sitemap_jobs(views: Views) -> Iterator[Job]:
    """sitemap.xml (needs base_url), the parts of a sitemap too large for one file, and
    robots.txt."""
    library = views.library
    if library.config.base_url is not None:
        pages = sitemap.sitemap_pages(library)
        entries = cache(partial(sitemap.sitemap_entries, library.config, pages))  # once for all
        parts = sitemap.part_count(pages)
        key = combine(library.site_map_digest, str(parts))
        if parts == 1:
            yield Job(permalinks.SITEMAP, "sitemap.xml", key, lambda: {"entries": entries()})
        else:
            make = partial(_sitemap_index, library, entries)
            yield Job(permalinks.SITEMAP, "sitemap-index.xml", key, make)
        for number in range(1, parts + 1) if parts > 1 else ():
            part = partial(_sitemap_part, entries, number)
            yield Job(sitemap.part_path(number), "sitemap.xml", combine(key, str(number)), part)
    yield Job(permalinks.ROBOTS, None, "", partial(sitemap.robots_txt, library))


SitemapEntries = Callable[[], list[sitemap.SitemapEntry]]


def _sitemap_index(library: Library, entries: SitemapEntries) -> dict[str, object]:
    return {"parts": sitemap.sitemap_index(library, entries())}


def _sitemap_part(entries: SitemapEntries, number: int) -> dict[str, object]:
    return {"entries": sitemap.sitemap_part(entries(), number)}


READER_BUILDERS = [feed_jobs, search_jobs, bibtex_jobs, email_jobs, sitemap_jobs]
