"""Feeds: Atom 1.0 and JSON Feed 1.1 of the site's issues, of its papers and of each
topic, plus an OPML list of them all.

- The site feed (`feed.xml`, `feed.json`) has one item per issue: its title, a link to
  its page, the dek as summary, and as content the intro, each theme's papers as linked
  one-liners and the outlook: the issue as its e-mail edition tells it, each paper in
  one line.
- The papers feed (`papers.xml`, `papers.json`) and each topic's feed
  (`topics/<slug>/feed.xml`, `feed.json`) have one item per paper: its title, authors,
  summary and links, and a link to its page.

Item ids are tag URIs (RFC 4151) built from the site's host and path, the issue's date
and the path of the page the item links to:

    tag:digest-demo.github.io,2026-02-28:/diffusion/2026-02-28
    tag:digest-demo.github.io,2026-02-28:/diffusion/papers/dpcache

so they survive rebuilds, reordering and edits; a paper's changes only when it moves to
another issue, and any id when the site moves to another address.

An issue's item is stamped with the issue's date at midnight UTC. The papers of one
issue are stamped a second apart, in the order of the page the feed follows (the
issue's page for the papers feed: the order of its papers' cards; the topic's page for
a topic's feed): the last at midnight, each one before it a second later. So the
stamps are distinct and stable, and a reader that sorts newest first keeps the page's
order.

A feed holds whole issues, newest first, until it has at least `MIN_FEED_ITEMS` papers
(a topic's feed counts the topic's papers), so a reader never sees half an issue and a
site of 100,000 papers does not publish them all in one file. The site feed holds the
issues the papers feed holds.

Everything here needs absolute URLs, so it needs `base_url`; the build skips feeds
(with warning W120) when it is not set. A cross-reference (`[[id]]`) leads to the
paper's page at its absolute address (digest.xrefs). The Atom and OPML XML come from the templates
`feed.xml` and `opml.xml` (written as feeds.opml); the JSON Feed is serialised here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any, TypeVar
from urllib.parse import urlsplit

from digest import permalinks, wording, xrefs
from digest.markdown import html_at
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library, Topic

MIN_FEED_ITEMS = 100
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
PAPERS_FEED_TITLE = "{site}: papers"  # the papers feed's title, as base.html names it too
NO_ISSUES_YET = date(1970, 1, 1)  # `updated` of a feed when the site has no issue

# Markdown → HTML with its shallowest heading at the given level.
MarkdownToHtml = Callable[[str, int], str]
Group = TypeVar("Group")  # an issue, or the part of one a topic lists


@dataclass(frozen=True)
class FeedItem:
    id: str
    title: str
    url: str  # the item's page on this site
    external_url: str | None  # the paper itself (arXiv, DOI, publisher); None for an issue
    authors: tuple[str, ...]
    summary: str | None  # plain text: an issue's dek; None for a paper
    content_html: str
    updated: str  # RFC 3339, see the module docstring
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
class StampedPaper:
    """A paper as a feed lists it, with the time its item is stamped with."""

    entry: PaperEntry
    updated: str  # RFC 3339


@dataclass(frozen=True)
class OpmlOutline:
    title: str
    xml_url: str
    html_url: str


@dataclass(frozen=True)
class Opml:
    """What `feeds.opml` renders: the site feed, the papers feed, then each topic's."""

    title: str
    outlines: tuple[OpmlOutline, ...]


def rfc3339(day: date, seconds: int = 0) -> str:
    """`day` at midnight UTC plus `seconds`, as RFC 3339."""
    moment = datetime.combine(day, time(), UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def item_id(config: SiteConfig, issue_date: date, path: str) -> str:
    """The tag URI of the item linking to the page at `path`; see the module docstring."""
    parts = urlsplit(permalinks.absolute(config, ""))
    specific = f"{parts.path}{path}".rstrip("/")
    return f"tag:{parts.hostname},{issue_date.isoformat()}:{specific}"


def stamped(issue_date: date, papers: Sequence[PaperEntry]) -> list[StampedPaper]:
    """`papers` of one issue, in their page's order, each stamped a second after the next."""
    last = len(papers) - 1
    return [
        StampedPaper(entry, rfc3339(issue_date, last - place)) for place, entry in enumerate(papers)
    ]


def _whole_issues(groups: Iterable[tuple[Group, int]]) -> list[Group]:
    """The groups (of whole issues, newest first, each with its number of papers) a
    feed holds: until there are at least MIN_FEED_ITEMS papers."""
    chosen: list[Group] = []
    count = 0
    for group, size in groups:
        if count >= MIN_FEED_ITEMS:
            break
        chosen.append(group)
        count += size
    return chosen


def _latest(stamps: Iterable[str], library: Library) -> str:
    """A feed's `updated`: its newest item's stamp, else the site's latest issue's date."""
    fallback = library.latest.date if library.latest else NO_ISSUES_YET
    return max(stamps, default=rfc3339(fallback))


def feed_issues(library: Library) -> list[IssueView]:
    """The issues the site feed and the papers feed hold."""
    return _whole_issues((issue, len(issue.papers)) for issue in library.issues)


def paper_items(library: Library) -> tuple[list[StampedPaper], str]:
    """The papers the papers feed shows, stamped, and its `updated`."""
    papers = [
        paper for issue in feed_issues(library) for paper in stamped(issue.date, issue.card_order)
    ]
    return papers, _latest((paper.updated for paper in papers), library)


def topic_items(library: Library, topic: Topic) -> tuple[list[StampedPaper], str]:
    """The papers a topic's feed shows, stamped in the topic page's order, and its `updated`."""
    groups = _whole_issues((group, len(group.papers)) for group in topic.issues)
    papers = [paper for group in groups for paper in stamped(group.issue.date, group.papers)]
    return papers, _latest((paper.updated for paper in papers), library)


def issue_items(library: Library) -> tuple[list[IssueView], str]:
    """The issues the site feed shows and its `updated`."""
    issues = feed_issues(library)
    return issues, _latest((rfc3339(issue.date) for issue in issues), library)


# ---------------------------------------------------------------- items


def _paper_content(entry: PaperEntry, page_url: str, to_html: MarkdownToHtml) -> str:
    body = permalinks.absolutize(to_html(entry.paper.summary, 2), page_url)
    links = wording.labelled_links(entry.paper)
    if not links:
        return body
    anchors = " · ".join(
        f'<a href="{escape(url, quote=True)}">{escape(label)}</a>' for label, url in links
    )
    return f"{body}\n<p>{anchors}</p>"


def paper_item(
    library: Library, paper: StampedPaper, to_html: MarkdownToHtml = html_at
) -> FeedItem:
    config = library.config
    entry = paper.entry
    path = permalinks.paper_path(entry.id)
    page_url = permalinks.absolute(config, path)
    titles = {theme.slug: theme.title for theme in config.themes}
    return FeedItem(
        id=item_id(config, entry.issue_date, path),
        title=entry.paper.title,
        url=page_url,
        external_url=entry.paper.paper_url,
        authors=tuple(entry.paper.authors),
        summary=None,
        content_html=xrefs.resolve(
            _paper_content(entry, page_url, to_html), library, xrefs.absolute_place(library)
        ),
        updated=paper.updated,
        categories=tuple(titles[slug] for slug in entry.paper.themes if slug in titles),
    )


def _one_liners(config: SiteConfig, papers: Iterable[PaperEntry]) -> str:
    """Papers as a list of linked titles, each followed by its one-liner."""
    rows = []
    for entry in papers:
        url = permalinks.absolute(config, permalinks.paper_path(entry.id))
        title = escape(entry.paper.title, quote=False)
        line = escape(wording.one_liner(entry.paper), quote=False)
        rows.append(f'<li><a href="{escape(url, quote=True)}">{title}</a>: {line}</li>')
    return "<ul>\n" + "\n".join(rows) + "\n</ul>"


def _issue_content(config: SiteConfig, issue: IssueView, to_html: MarkdownToHtml) -> str:
    """The intro, each theme's papers as linked one-liners, then the outlook. As on the
    issue's page, each paper is listed once, under the first of its themes."""
    parts = [to_html(issue.issue.intro, 2)]
    for section in issue.sections:
        if section.cards:
            parts.append(f"<h2>{escape(section.theme.title)}</h2>")
            parts.append(_one_liners(config, section.cards))
    if issue.issue.outlook:
        parts.append(f"<h2>{escape(wording.OUTLOOK)}</h2>")
        parts.append(to_html(issue.issue.outlook, 3))
    page_url = permalinks.absolute(config, permalinks.issue_path(issue.date))
    return permalinks.absolutize("\n".join(parts), page_url)


def issue_item(library: Library, issue: IssueView, to_html: MarkdownToHtml = html_at) -> FeedItem:
    config = library.config
    path = permalinks.issue_path(issue.date)
    return FeedItem(
        id=item_id(config, issue.date, path),
        title=issue.issue.title,
        url=permalinks.absolute(config, path),
        external_url=None,
        authors=(),
        summary=wording.issue_dek(len(issue.papers), issue.issue.subject, issue.date),
        content_html=xrefs.resolve(
            _issue_content(config, issue, to_html), library, xrefs.absolute_place(library)
        ),
        updated=rfc3339(issue.date),
        categories=tuple(section.theme.title for section in issue.sections),
    )


# ---------------------------------------------------------------- feeds


def _feed(
    config: SiteConfig,
    paths: tuple[str, str],
    title: str,
    subtitle: str,
    home_path: str,
    updated: str,
    items: Iterable[FeedItem],
) -> Feed:
    atom, json_path = paths
    return Feed(
        path=atom,
        json_path=json_path,
        id=permalinks.absolute(config, atom),
        title=title,
        subtitle=subtitle,
        home_url=permalinks.absolute(config, home_path),
        feed_url=permalinks.absolute(config, atom),
        json_feed_url=permalinks.absolute(config, json_path),
        author=config.title,
        updated=updated,
        items=tuple(items),
    )


def site_feed(library: Library, to_html: MarkdownToHtml = html_at) -> Feed:
    """The site's issues."""
    config = library.config
    issues, updated = issue_items(library)
    return _feed(
        config,
        (permalinks.SITE_FEED, permalinks.SITE_JSON_FEED),
        config.title,
        config.description,
        permalinks.HOME,
        updated,
        (issue_item(library, issue, to_html) for issue in issues),
    )


def papers_feed(library: Library, to_html: MarkdownToHtml = html_at) -> Feed:
    """The papers of the issues the site feed holds."""
    config = library.config
    papers, updated = paper_items(library)
    return _feed(
        config,
        (permalinks.PAPERS_FEED, permalinks.PAPERS_JSON_FEED),
        PAPERS_FEED_TITLE.format(site=config.title),
        config.description,
        permalinks.HOME,
        updated,
        (paper_item(library, paper, to_html) for paper in papers),
    )


def topic_feed(library: Library, topic: Topic, to_html: MarkdownToHtml = html_at) -> Feed:
    config = library.config
    slug = topic.theme.slug
    papers, updated = topic_items(library, topic)
    return _feed(
        config,
        (permalinks.topic_feed_path(slug), permalinks.topic_json_feed_path(slug)),
        f"{config.title}: {topic.theme.title}",
        topic.theme.description,
        permalinks.topic_path(slug),
        updated,
        (paper_item(library, paper, to_html) for paper in papers),
    )


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
        if item.summary:
            entry["summary"] = item.summary
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
    home = permalinks.absolute(config, permalinks.HOME)
    outlines = [
        OpmlOutline(config.title, permalinks.absolute(config, permalinks.SITE_FEED), home),
        OpmlOutline(
            PAPERS_FEED_TITLE.format(site=config.title),
            permalinks.absolute(config, permalinks.PAPERS_FEED),
            home,
        ),
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
