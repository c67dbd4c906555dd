"""Feeds: Atom 1.0 and JSON Feed 1.1 for the whole site and for each topic, plus an OPML list.

One item per paper. Its id is a tag URI (RFC 4151) built from the site's host and path,
the date of the paper's issue and the paper's id:

    tag:digest-demo.github.io,2026-02-28:/diffusion/papers/dpcache

so it survives rebuilds, reordering and edits to the paper; it changes only when the
paper moves to another issue or the site moves to another address. `updated` is the
issue's date. A feed holds whole issues, newest first, until it has at least
`MIN_FEED_ITEMS` items, so a reader never sees half an issue and a site of 100,000
papers does not publish them all in one file.

Everything here needs absolute URLs, so it needs `base_url`; the build skips feeds
(with warning W120) when it is not set. The Atom and OPML XML come from the templates
`feed.xml` and `opml.xml` (written as feeds.opml); the JSON Feed is serialised here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any
from urllib.parse import urlsplit

from digest import permalinks, wording
from digest.markdown import render_markdown
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library, Topic

MIN_FEED_ITEMS = 100
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

MarkdownToHtml = Callable[[str], str]


def summary_html(markdown: str) -> str:
    """A summary as HTML; its headings start at <h2>, below the item's title."""
    return render_markdown(markdown, top_heading=2).html


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    url: str  # the paper's page on this site
    external_url: str | None  # the paper itself (arXiv, DOI, publisher)
    authors: tuple[str, ...]
    content_html: str
    updated: str  # RFC 3339, the issue's date at midnight UTC
    categories: tuple[str, ...]  # theme titles


@dataclass(frozen=True)
class Feed:
    """What `feed.xml` renders and `json_feed` serialises."""

    path: str  # where the Atom file goes, relative to the site root
    json_path: str
    id: str
    title: str
    subtitle: str
    home_url: str  # the HTML page the feed follows
    feed_url: str
    json_feed_url: str
    author: str
    updated: str
    items: tuple[FeedItem, ...]


@dataclass(frozen=True)
class OpmlOutline:
    title: str
    xml_url: str
    html_url: str


@dataclass(frozen=True)
class Opml:
    """What `feeds.opml` renders: the site feed, then one outline per topic feed."""

    title: str
    outlines: tuple[OpmlOutline, ...]


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def item_id(config: SiteConfig, issue_date: date, paper_id: str) -> str:
    """The paper's tag URI; see the module docstring."""
    parts = urlsplit(permalinks.absolute(config, ""))
    specific = f"{parts.path}{permalinks.paper_path(paper_id)}".rstrip("/")
    return f"tag:{parts.hostname},{issue_date.isoformat()}:{specific}"


def _content_html(entry: PaperEntry, page_url: str, to_html: MarkdownToHtml = summary_html) -> str:
    body = permalinks.absolutize(to_html(entry.paper.summary), page_url)
    links = wording.labelled_links(entry.paper)
    if not links:
        return body
    anchors = " · ".join(
        f'<a href="{escape(url, quote=True)}">{escape(label)}</a>' for label, url in links
    )
    return f"{body}\n<p>{anchors}</p>"


def feed_item(
    library: Library, entry: PaperEntry, to_html: MarkdownToHtml = summary_html
) -> FeedItem:
    config = library.config
    issue = library.issue_of[entry.id]
    page_url = permalinks.absolute(config, permalinks.paper_path(entry.id))
    titles = {theme.slug: theme.title for theme in config.themes}
    return FeedItem(
        id=item_id(config, issue.date, entry.id),
        title=entry.paper.title,
        url=page_url,
        external_url=entry.paper.paper_url,
        authors=tuple(entry.paper.authors),
        content_html=_content_html(entry, page_url, to_html),
        updated=rfc3339(issue.date),
        categories=tuple(titles[slug] for slug in entry.paper.themes if slug in titles),
    )


def _recent(groups: Iterable[tuple[IssueView, tuple[PaperEntry, ...]]]) -> list[PaperEntry]:
    """Whole issues, newest first, until there are at least MIN_FEED_ITEMS papers."""
    chosen: list[PaperEntry] = []
    for _, papers in groups:
        if len(chosen) >= MIN_FEED_ITEMS:
            break
        chosen.extend(papers)
    return chosen


def site_items(library: Library) -> tuple[list[PaperEntry], date]:
    """The papers the site feed shows and the date it was last updated."""
    latest = library.latest
    papers = _recent((view, view.papers) for view in library.issues)
    return papers, latest.date if latest else date(1970, 1, 1)


def topic_items(library: Library, topic: Topic) -> tuple[list[PaperEntry], date]:
    """The papers a topic's feed shows and the date it was last updated."""
    papers = _recent((group.issue, group.papers) for group in topic.issues)
    if topic.issues:
        return papers, topic.issues[0].issue.date
    return papers, library.latest.date if library.latest else date(1970, 1, 1)


def site_feed(library: Library, to_html: MarkdownToHtml = summary_html) -> Feed:
    config = library.config
    papers, updated = site_items(library)
    return Feed(
        path=permalinks.SITE_FEED,
        json_path=permalinks.SITE_JSON_FEED,
        id=permalinks.absolute(config, permalinks.SITE_FEED),
        title=config.title,
        subtitle=config.description,
        home_url=permalinks.absolute(config, permalinks.HOME),
        feed_url=permalinks.absolute(config, permalinks.SITE_FEED),
        json_feed_url=permalinks.absolute(config, permalinks.SITE_JSON_FEED),
        author=config.title,
        updated=rfc3339(updated),
        items=tuple(feed_item(library, entry, to_html) for entry in papers),
    )


def topic_feed(library: Library, topic: Topic, to_html: MarkdownToHtml = summary_html) -> Feed:
    config = library.config
    slug = topic.theme.slug
    papers, updated = topic_items(library, topic)
    return Feed(
        path=permalinks.topic_feed_path(slug),
        json_path=permalinks.topic_json_feed_path(slug),
        id=permalinks.absolute(config, permalinks.topic_feed_path(slug)),
        title=f"{config.title}: {topic.theme.title}",
        subtitle=topic.theme.description,
        home_url=permalinks.absolute(config, permalinks.topic_path(slug)),
        feed_url=permalinks.absolute(config, permalinks.topic_feed_path(slug)),
        json_feed_url=permalinks.absolute(config, permalinks.topic_json_feed_path(slug)),
        author=config.title,
        updated=rfc3339(updated),
        items=tuple(feed_item(library, entry, to_html) for entry in papers),
    )


def all_feeds(library: Library, to_html: MarkdownToHtml = summary_html) -> list[Feed]:
    """The site feed, then one feed per configured topic (empty topics included)."""
    return [site_feed(library, to_html)] + [topic_feed(library, t, to_html) for t in library.topics]


def json_feed(feed: Feed) -> str:
    """The feed as JSON Feed 1.1 (https://jsonfeed.org/version/1.1), deterministic."""
    items: list[dict[str, Any]] = []
    for item in feed.items:
        entry: dict[str, Any] = {
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "content_html": item.content_html,
            "date_published": item.updated,
            "date_modified": item.updated,
        }
        if item.external_url:
            entry["external_url"] = item.external_url
        if item.authors:
            entry["authors"] = [{"name": name} for name in item.authors]
        if item.categories:
            entry["tags"] = list(item.categories)
        items.append(entry)
    document: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": feed.title,
        "home_page_url": feed.home_url,
        "feed_url": feed.json_feed_url,
        "authors": [{"name": feed.author}],
        "items": items,
    }
    if feed.subtitle:
        document["description"] = feed.subtitle
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def opml(library: Library) -> Opml:
    config = library.config
    outlines = [
        OpmlOutline(
            config.title,
            permalinks.absolute(config, permalinks.SITE_FEED),
            permalinks.absolute(config, permalinks.HOME),
        )
    ]
    outlines += [
        OpmlOutline(
            f"{config.title}: {topic.theme.title}",
            permalinks.absolute(config, permalinks.topic_feed_path(topic.theme.slug)),
            permalinks.absolute(config, permalinks.topic_path(topic.theme.slug)),
        )
        for topic in library.topics
    ]
    return Opml(f"{config.title}: feeds", tuple(outlines))
