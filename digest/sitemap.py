"""Sitemap and robots.txt: every HTML page a search engine should know, with absolute URLs.

`sitemap.xml` lists the home page, the topic index and each topic, each issue, each
paper and the search page; `lastmod` is the date of the newest issue a page shows.
`robots.txt` allows everything and names the sitemap. Without `base_url` there is no
sitemap (its URLs must be absolute) and robots.txt carries no Sitemap line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from digest import permalinks
from digest.organise import Library


@dataclass(frozen=True)
class SitemapEntry:
    loc: str
    lastmod: str | None


def sitemap_entries(library: Library) -> list[SitemapEntry]:
    """Every page in a fixed order: home, issues, topics, papers (by id), search."""
    config = library.config
    latest = library.latest.date if library.latest else None

    def entry(path: str, day: date | None) -> SitemapEntry:
        return SitemapEntry(permalinks.absolute(config, path), day.isoformat() if day else None)

    entries = [entry(permalinks.HOME, latest)]
    entries += [entry(permalinks.issue_path(view.date), view.date) for view in library.issues]
    entries.append(entry(permalinks.TOPICS, latest))
    for topic in library.topics:
        newest = topic.issues[0].issue.date if topic.issues else None
        entries.append(entry(permalinks.topic_path(topic.theme.slug), newest))
    for paper_id in sorted(library.papers):
        entries.append(entry(permalinks.paper_path(paper_id), library.issue_of[paper_id].date))
    entries.append(entry(permalinks.SEARCH, None))
    return entries


def robots_txt(library: Library) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if library.config.base_url:
        lines.append(f"Sitemap: {permalinks.absolute(library.config, permalinks.SITEMAP)}")
    return "\n".join(lines) + "\n"
