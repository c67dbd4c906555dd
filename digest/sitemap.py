"""Sitemap and robots.txt: every HTML page a search engine should know, with absolute URLs.

`sitemap.xml` lists the home page, each issue and the archive of them all, the topic
index and each topic, the tag and author indexes and each tag and author (when the site
has those pages), each paper and the search page; `lastmod` is the date of the newest
issue a page shows. A paginated listing is listed by its first page, its own address:
the pages after it show older papers, each of which has its own page in the sitemap.
A sitemap holds at most 50,000 URLs (the protocol's limit): a larger site's
`sitemap.xml` is a sitemap index naming `sitemaps/1.xml`, `sitemaps/2.xml`, ..., each
50,000 of the URLs in the same order. `robots.txt` allows everything and names the
sitemap. Without `base_url` there is no sitemap (its URLs must be absolute) and
robots.txt carries no Sitemap line.
"""

from __future__ import annotations

from collections.abc import Sequence, Sized
from dataclasses import dataclass
from datetime import date

from digest import permalinks
from digest.models import SiteConfig
from digest.organise import Library

MAX_URLS = 50_000  # in one sitemap file (sitemaps.org)


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None


def part_count(entries: Sized) -> int:
    """How many sitemap files the entries take; 1 means sitemap.xml holds them all."""
    return max(1, -(-len(entries) // MAX_URLS))


def part_path(number: int) -> str:
    """The file of the `number`th part (from 1) of a sitemap of several."""
    return f"sitemaps/{number}.xml"


def sitemap_part(entries: Sequence[SitemapEntry], number: int) -> list[SitemapEntry]:
    return list(entries[(number - 1) * MAX_URLS : number * MAX_URLS])


def sitemap_index(library: Library, entries: Sequence[SitemapEntry]) -> list[SitemapEntry]:
    """The parts of a large sitemap, each with the newest `lastmod` of its entries."""
    parts = []
    for number in range(1, part_count(entries) + 1):
        days = [e.lastmod for e in sitemap_part(entries, number) if e.lastmod]
        loc = permalinks.absolute(library.config, part_path(number))
        parts.append(SitemapEntry(loc, max(days) if days else None))
    return parts


def sitemap_pages(library: Library) -> list[tuple[str, date | None]]:
    """Every page's path and the date of the newest issue it shows, in a fixed order:
    home, issues, the issue archive, topics, tags, authors (each index, then its names
    A to Z), papers (by id), search."""
    config = library.config
    latest = library.latest.date if library.latest else None
    pages = [(permalinks.HOME, latest)]
    pages += [(permalinks.issue_path(view.date), view.date) for view in library.issues]
    pages.append((permalinks.ISSUES, latest))
    pages.append((permalinks.TOPICS, latest))
    for topic in library.topics:
        newest = topic.issues[0].issue.date if topic.issues else None
        pages.append((permalinks.topic_path(topic.theme.slug), newest))
    for enabled, index, names, path in (
        (config.tag_pages, permalinks.TAGS, library.tags, permalinks.tag_path),
        (config.author_pages, permalinks.AUTHORS, library.authors, permalinks.author_path),
    ):
        if enabled:
            pages.append((index, latest))
            pages += [(path(n.slug), n.papers[0].issue_date) for n in names.listings]
    for paper_id in sorted(library.papers):
        pages.append((permalinks.paper_path(paper_id), library.issue_of[paper_id].date))
    pages.append((permalinks.SEARCH, None))
    return pages


def sitemap_entries(
    config: SiteConfig, pages: Sequence[tuple[str, date | None]]
) -> list[SitemapEntry]:
    """The `sitemap_pages`, each with its absolute URL."""
    return [
        SitemapEntry(permalinks.absolute(config, path), day.isoformat() if day else None)
        for path, day in pages
    ]


def robots_txt(library: Library) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if library.config.base_url:
        lines.append(f"Sitemap: {permalinks.absolute(library.config, permalinks.SITEMAP)}")
    return "\n".join(lines) + "\n"
