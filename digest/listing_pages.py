"""Listing pages: each topic, tag and author with its papers newest first, the indexes of
topics, tags and authors, and the archive of every issue; their contexts and jobs.

A listing longer than a page (`page_size` papers, `[tool.digest]`; `INDEX_PAGE_SIZE`
names or issues in an index) is split by `permalinks.paginate`: page 1 at the listing's
own address, page k at `<listing>/page/<k>/`, each page linking the one before and the
one after it (`Pager`). A topic's page shows its papers as cards under the heading of
their issue; a tag's or an author's, one row each (digest.listing_views.PaperRow).

Each page's key covers what it shows beyond the site's settings and templates: the
listing's own header (its name and counts), the page's number and the number of pages,
and the digests (digest.organise) of the papers or issues on it; where cards link tag
and author pages, the library's `names_digest` too. An edit re-renders only the pages
that show the paper; a paper added or removed moves the papers after it, so the pages
after it in its listings render again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import TypeVar

from digest import permalinks, wording
from digest.hashing import combine
from digest.listing_views import NameSummary, Pager, PaperRow, paper_row
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library, Listing, NameIndex, Topic, entry_digest
from digest.render import Job
from digest.views import (
    BaseContext,
    IssueSummary,
    Link,
    TopicIssueView,
    TopicSummary,
    Views,
    page_root,
)

INDEX_PAGE_SIZE = 200  # names, or issues, a page of an index lists
CARD_HEADING = 4  # the level of a card's heading on a topic page (under its issue's)

Item = TypeVar("Item")
TopicItem = tuple[IssueView, PaperEntry]  # a paper of a topic, under its issue


class TopicsContext(BaseContext):
    topics: tuple[TopicSummary, ...]


class TopicContext(BaseContext):
    topic: TopicSummary
    issues: tuple[TopicIssueView, ...]  # the papers of this page, under their issues
    pager: Pager


class IssuesContext(BaseContext):
    issues: tuple[IssueSummary, ...]  # this page's, newest first
    count_text: str  # "250 issues": every issue of the site
    pager: Pager


class NamesContext(BaseContext):
    """The index of the tags, or of the authors: `tags.html`, `authors.html`."""

    names: tuple[NameSummary, ...]  # this page's, A to Z
    count: int  # every tag, or every author
    # "A", "B", ... each to its first name, on whichever page; none for a single initial
    initials: tuple[Link, ...]
    pager: Pager


class NameContext(BaseContext):
    """One tag's or one author's papers: `tag.html`, `author.html`."""

    name: str
    count: int
    count_text: str  # "12 papers"
    papers: tuple[PaperRow, ...]  # this page's, newest first
    pager: Pager


def topic_summary(topic: Topic, root: str) -> TopicSummary:
    return TopicSummary(
        slug=topic.theme.slug,
        title=topic.theme.title,
        description=topic.theme.description,
        count=topic.count,
        count_text=wording.papers_in_issues(topic.count, len(topic.issues)),
        latest=wording.format_date(topic.issues[0].issue.date) if topic.issues else None,
        url=root + permalinks.topic_path(topic.theme.slug),
    )


def pager(listing: str, number: int, count: int, root: str) -> Pager:
    """Page `number` of `count` of the listing at path `listing`, linked from `root`."""

    def link(to: int, there: bool) -> str | None:
        return root + permalinks.page_path(listing, to) if there else None

    # The first and last pages are linked when they are not the previous or next one.
    return Pager(
        number,
        count,
        first=link(1, number > 2),
        previous=link(number - 1, number > 1),
        next=link(number + 1, number < count),
        last=link(count, number < count - 1),
    )


def paged_title(name: str, number: int, count: int, site: str) -> str:
    """ "Acceleration, page 2 of 7 — Diffusion Digest"; page 1 is the listing's own name."""
    shown = name if number == 1 else f"{name}, page {number} of {count}"
    return wording.page_title(shown, site)


# A listing's page: its url, the items on it, its number and the number of pages.
MakePage = Callable[[str, Sequence[Item], int, int], BaseContext]


def paged_jobs(
    listing: str,
    template: str,
    items: Sequence[Item],
    size: int,
    header: str,
    items_key: Callable[[Sequence[Item]], str],
    make: MakePage[Item],
    keeps: Callable[[str, Sequence[Item]], Iterable[str]] | None = None,
) -> Iterator[Job]:
    """The jobs of every page of a listing at path `listing`: each page's key is the
    listing's `header` (the digest of what every page shows), the page's place, and
    `items_key` of the items on it. `keeps(url, items)` names the store's objects a
    page is made from (digest.render's Job)."""
    pages = permalinks.paginate(items, size)
    count = len(pages)
    for number, on_page in enumerate(pages, start=1):
        url = permalinks.page_file(permalinks.page_path(listing, number))
        key = combine(header, str(number), str(count), items_key(on_page))
        page_keeps = partial(keeps, url, on_page) if keeps is not None else None
        yield Job(url, template, key, partial(make, url, on_page, number, count), page_keeps)


# ------------------------------------------------------------------ topics


def topics_context(views: Views) -> TopicsContext:
    library = views.library
    url = permalinks.page_file(permalinks.TOPICS)
    base = views.base(url, wording.page_title("Topics", library.config.title), "topics")
    return {**base, "topics": tuple(topic_summary(t, base["root"]) for t in library.topics)}


def topic_context(
    topic: Topic, views: Views, url: str, items: Sequence[TopicItem], number: int, count: int
) -> TopicContext:
    title = paged_title(topic.theme.title, number, count, views.library.config.title)
    base = views.base(url, title, "topics", topic.theme.description)
    root = base["root"]
    issues = tuple(
        TopicIssueView(
            views.issue_summary(issue, root, 3),
            tuple(views.card(paper, root, CARD_HEADING) for _, paper in group),
        )
        for issue, group in _by_issue(items)
    )
    where = pager(permalinks.topic_path(topic.theme.slug), number, count, root)
    return {**base, "topic": topic_summary(topic, root), "issues": issues, "pager": where}


def _by_issue(items: Sequence[TopicItem]) -> Iterator[tuple[IssueView, list[TopicItem]]]:
    """The items in runs of one issue each (a page may start or end inside an issue)."""
    for _, group in groupby(items, key=lambda item: item[0].slug):
        run = list(group)
        yield run[0][0], run


def digests_key(digests: Iterable[str]) -> str:
    """Digests (each 40 hexadecimal digits, so none can run into the next) as one part
    of a key: a listing's page is keyed by the digests of the tens of papers on it, and
    tens of thousands of pages by all of them."""
    return "".join(digests)


def papers_key(papers: Sequence[PaperEntry]) -> str:
    # `p.digest` first: a read entry has its digest, and the key of every page of every
    # tag and author asks for tens of thousands of them on each build.
    return digests_key([p.digest or entry_digest(p) for p in papers])


def _topic_items_key(items: Sequence[TopicItem]) -> str:
    """Each issue's summary (its heading) once, then the papers under it."""
    return digests_key(
        digest
        for issue, group in _by_issue(items)
        for digest in (issue.own_digest, *(entry_digest(paper) for _, paper in group))
    )


def topic_jobs(views: Views) -> Iterator[Job]:
    """topics/ and each topic's pages. A topic's cards link tags and authors."""
    library = views.library
    url = permalinks.page_file(permalinks.TOPICS)
    yield Job(url, "topics.html", library.overview_digest, lambda: topics_context(views))
    for topic in library.topics:
        items = [(group.issue, paper) for group in topic.issues for paper in group.papers]
        newest = topic.issues[0].issue.slug if topic.issues else ""
        counts = (str(topic.count), str(len(topic.issues)), newest)
        header = combine(topic.theme.slug, *counts, library.names_digest)
        yield from paged_jobs(
            permalinks.topic_path(topic.theme.slug),
            "topic.html",
            items,
            library.config.page_size,
            header,
            _topic_items_key,
            partial(topic_context, topic, views),
            partial(_topic_cards, views),
        )


def _topic_cards(views: Views, url: str, items: Sequence[TopicItem]) -> list[str]:
    return views.card_keys([paper for _, paper in items], page_root(url), CARD_HEADING)


# ------------------------------------------------------------------ the issue archive


def issues_context(
    views: Views, url: str, items: Sequence[IssueView], number: int, count: int
) -> IssuesContext:
    library = views.library
    title = paged_title("All issues", number, count, library.config.title)
    base = views.base(url, title, "issues")
    root = base["root"]
    return {
        **base,
        "issues": tuple(views.issue_summary(view, root, 3) for view in items),
        "count_text": wording.plural(len(library.issues), "issue"),
        "pager": pager(permalinks.ISSUES, number, count, root),
    }


def issue_archive_jobs(views: Views) -> Iterator[Job]:
    """issues/: every issue, newest first, with its date, title and paper count."""
    issues = views.library.issues
    yield from paged_jobs(
        permalinks.ISSUES,
        "issues.html",
        issues,
        INDEX_PAGE_SIZE,
        combine("issues", str(len(issues))),
        lambda on_page: digests_key(view.own_digest for view in on_page),
        partial(issues_context, views),
    )


# ------------------------------------------------------------------ tags and authors


@dataclass(frozen=True)
class NameKind:
    """What sets tags and authors apart: where their pages live, their templates and
    titles, and whether the site has them."""

    section: str  # "tags" or "authors": the index's template and the current nav item
    template: str  # a name's pages' template: "tag.html"
    index: str  # the index's path, "tags/"
    path: Callable[[str], str]  # a name's slug → its listing's path
    title: str  # the index's title, "Tags"
    own_title: str  # a name's page title, "Papers tagged {name}"
    names: Callable[[Library], NameIndex]
    enabled: Callable[[SiteConfig], bool]  # its `[tool.digest]` switch


TAGS = NameKind(
    "tags",
    "tag.html",
    permalinks.TAGS,
    permalinks.tag_path,
    "Tags",
    "Papers tagged {name}",
    attrgetter("tags"),
    attrgetter("tag_pages"),
)
AUTHORS = NameKind(
    "authors",
    "author.html",
    permalinks.AUTHORS,
    permalinks.author_path,
    "Authors",
    "Papers by {name}",
    attrgetter("authors"),
    attrgetter("author_pages"),
)


def initial_group(initial: str) -> tuple[str, str]:
    """The A-to-Z group of a name's initial (Listing.initial): its label and its id."""
    if initial.isdigit():
        return "0\u20139", "0-9"  # an en dash, as between numbers
    return (initial.upper(), initial) if initial else ("Other", "other")


def first_of_each_initial(listings: Sequence[Listing]) -> dict[int, tuple[str, str]]:
    """Where each group of the A-to-Z index starts: position → its label and id."""
    starts: dict[int, tuple[str, str]] = {}
    seen: set[str] = set()
    for position, listing in enumerate(listings):
        group = initial_group(listing.initial)
        if group[1] not in seen:
            seen.add(group[1])
            starts[position] = group
    return starts


def names_context(
    kind: NameKind,
    starts: dict[int, tuple[str, str]],
    views: Views,
    url: str,
    items: Sequence[Listing],
    number: int,
    count: int,
) -> NamesContext:
    """`starts`: where each initial's group begins in the whole index."""
    library = views.library
    title = paged_title(kind.title, number, count, library.config.title)
    base = views.base(url, title, kind.section)
    root = base["root"]
    first = (number - 1) * INDEX_PAGE_SIZE
    names = tuple(
        NameSummary(
            listing.name,
            root + kind.path(listing.slug),
            len(listing.papers),
            wording.plural(len(listing.papers), "paper"),
            f"initial-{starts[first + n][1]}" if first + n in starts else None,
        )
        for n, listing in enumerate(items)
    )
    initials = tuple(
        Link(
            label,
            f"{root}{permalinks.page_path(kind.index, at // INDEX_PAGE_SIZE + 1)}#initial-{id_}",
        )
        for at, (label, id_) in starts.items()
    )
    return {
        **base,
        "names": names,
        "count": len(kind.names(library).listings),
        "initials": initials if len(initials) > 1 else (),
        "pager": pager(kind.index, number, count, root),
    }


def name_context(
    kind: NameKind,
    listing: Listing,
    views: Views,
    url: str,
    items: Sequence[PaperEntry],
    number: int,
    count: int,
) -> NameContext:
    site = views.library.config.title
    title = paged_title(kind.own_title.format(name=listing.name), number, count, site)
    base = views.base(url, title, kind.section)
    root = base["root"]
    total = len(listing.papers)
    return {
        **base,
        "name": listing.name,
        "count": total,
        "count_text": wording.plural(total, "paper"),
        "papers": tuple(paper_row(entry, root) for entry in items),
        "pager": pager(kind.path(listing.slug), number, count, root),
    }


def _name_jobs(kind: NameKind, views: Views) -> Iterator[Job]:
    """The index of one kind of name and the pages of each name; none when the site has
    no pages for them (`tag_pages`, `author_pages`)."""
    library = views.library
    if not kind.enabled(library.config):
        return
    listings = kind.names(library).listings
    starts = first_of_each_initial(listings)
    groups = (f"{id_}:{position}" for position, (_, id_) in starts.items())
    yield from paged_jobs(
        kind.index,
        f"{kind.section}.html",
        listings,
        INDEX_PAGE_SIZE,
        combine(kind.section, str(len(listings)), *groups),
        lambda on_page: combine(*(f"{n.slug}\0{n.name}\0{len(n.papers)}" for n in on_page)),
        partial(names_context, kind, starts, views),
    )
    for listing in listings:
        header = combine(kind.section, listing.slug, listing.name, str(len(listing.papers)))
        yield from paged_jobs(
            kind.path(listing.slug),
            kind.template,
            listing.papers,
            library.config.page_size,
            header,
            papers_key,
            partial(name_context, kind, listing, views),
        )


def tag_jobs(views: Views) -> Iterator[Job]:
    """tags/ and each tag's pages."""
    return _name_jobs(TAGS, views)


def author_jobs(views: Views) -> Iterator[Job]:
    """authors/ and each author's pages."""
    return _name_jobs(AUTHORS, views)
