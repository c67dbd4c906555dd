"""Listing views: the values of the tag and author listings (a row per paper, a name in
its index, the pager every paginated listing shows) and the lines of linked names
(tags, authors) that cards and paper pages show too. Built by digest.listing_pages and
digest.views; nothing here knows about Jinja.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from digest import permalinks, wording
from digest.models import PaperEntry
from digest.organise import NameIndex


@dataclass(frozen=True)
class NameLink:
    """One name of a list, a tag or an author: its page (None when it has none) and the
    words that follow it in a line of prose ("", ", ", " and ", " et al.")."""

    label: str
    url: str | None
    after: str = ""


@dataclass(frozen=True)
class PaperRow:
    """A paper as a tag's or an author's listing shows it, in one row."""

    id: str
    title: str
    url: str
    authors: str  # "Bowen Cui et al."
    issue_date: str
    issue_date_iso: str
    issue_url: str
    one_liner: str


@dataclass(frozen=True)
class NameSummary:
    """A tag or an author in its index: "caching", 12 papers."""

    name: str
    url: str
    count: int
    count_text: str  # "12 papers"
    anchor: str | None = None  # its id when it is the first of its initial ("initial-a")


@dataclass(frozen=True)
class Pager:
    """Where a page is in its listing: page `number` of `count`, and the links to the
    pages just before and after it, and to the first and the last where they are
    neither (each None where there is none). A listing of one page shows no pager."""

    number: int
    count: int
    first: str | None
    previous: str | None  # newer papers or issues, or the names before in A to Z
    next: str | None
    last: str | None


def name_links(
    names: Sequence[str], index: NameIndex, root: str, path: Callable[[str], str]
) -> tuple[NameLink, ...]:
    """Each name with the relative link to its page (`path` of its slug), if it has one."""
    slugs = index.slugs
    return tuple(
        NameLink(name, None if (slug := slugs.get(name)) is None else root + path(slug))
        for name in names
    )


def author_line(links: tuple[NameLink, ...], et_al: bool, short: bool) -> tuple[NameLink, ...]:
    """The authors as a line of prose, the words between the names included: as
    `wording.authors_short` writes them ("A, B and C"; "A et al." for a long or
    incomplete list) or, not `short`, as `wording.authors_full` ("A, B, C et al.")."""
    if not links:
        return ()
    if short and (et_al or len(links) > wording.MAX_LISTED_AUTHORS):
        return (NameLink(links[0].label, links[0].url, " et al."),)
    last = len(links) - 1
    ends = [", "] * last + [" et al." if et_al and not short else ""]
    if short and last:
        ends[-2] = " and "
    return tuple(NameLink(link.label, link.url, end) for link, end in zip(links, ends, strict=True))


def paper_row(entry: PaperEntry, root: str) -> PaperRow:
    paper = entry.paper
    return PaperRow(
        id=entry.id,
        title=paper.title,
        url=root + permalinks.paper_path(entry.id),
        authors=wording.authors_short(paper.authors, paper.et_al),
        issue_date=wording.format_date(entry.issue_date),
        issue_date_iso=entry.issue_date.isoformat(),
        issue_url=root + permalinks.issue_path(entry.issue_date),
        one_liner=wording.one_liner(paper),
    )
