"""Organise: valid entries → a `Library` (issues, themes, contributions), sorted for reading.

Ordering, documented in docs/site.md and relied on by every page:
- issues newest first;
- inside an issue's theme section, papers by title (case-insensitive), then id;
- inside an "Under the hood" group, papers by the label it shows (`Paper.hood_label`,
  case-insensitive), then id;
- on a topic page, newest issue first, then the same title order inside each issue;
- a tag's or an author's papers in that order too; the tags and the authors themselves
  A to Z (digest.names tells which spellings are one name, and gives its slug).
Drafts are left out unless `include_drafts` is set; their papers with them. Tags and
authors are gathered only when their pages are built (`tag_pages`, `author_pages`).

On an issue's page each paper has one full card, in the section of the first theme its
entry lists; the sections of its other themes mention it ("also in this issue"). A
topic lists it under every theme. A paper with several contributions is in the group
of each.

Beside the structure, `organise` computes its digests, each from the digests of what it
holds (a Merkle tree): a paper's is its entry's (digest.entry_results: file bytes, path
and configuration); an issue's covers its entry and its papers; the library's, what
the overview pages and the sitemap show. A listing page (a topic's, a tag's, an
author's) is keyed by the digests of the papers and issues on it. A
tag's or an author's slug is its own name's (digest.names) unless another name shares
it: `NameIndex.displaced` is the digest of those few, part of the key of every page that
links names. Each page's key is made from these where its context is made
(digest.pages, digest.listing_pages, digest.reader_outputs).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import NamedTuple

from digest.hashing import combine
from digest.models import Issue, IssueEntry, PaperEntry, SiteConfig, Theme
from digest.names import assign_slugs, name_key, plain_slug
from digest.wording import HOOD_GROUPS

# Each contribution's place in HOOD_GROUPS, the "Under the hood" groups in their order.
_GROUP_OF: dict[str, int] = {
    kind: number for number, group in enumerate(HOOD_GROUPS) for kind in group.kinds
}


@dataclass(frozen=True)
class ThemeSection:
    """One theme's part of an issue: the editor's prose, then the papers."""

    theme: Theme
    prose: str | None
    papers: tuple[PaperEntry, ...]  # every paper on the theme, as its topic lists them
    cards: tuple[PaperEntry, ...]  # those whose first theme it is: their card is here
    also: tuple[PaperEntry, ...]  # the others, whose card is in another section


@dataclass(frozen=True)
class ContributionGroup:
    label: str
    papers: tuple[PaperEntry, ...]


@dataclass(frozen=True)
class IssueView:
    date: date
    issue: Issue
    source: str
    papers: tuple[PaperEntry, ...]  # every paper of the issue once, in title order
    sections: tuple[ThemeSection, ...]  # configured theme order, themes without papers left out
    card_order: tuple[PaperEntry, ...]  # every paper once, in the order the page shows cards
    under_the_hood: tuple[ContributionGroup, ...]  # groups without papers left out
    own_digest: str  # its entry and its paper count: what a summary of it shows
    digest: str  # its entry and every paper in it

    @cached_property
    def slug(self) -> str:  # asked for by every key and link to the issue
        return self.date.isoformat()


@dataclass(frozen=True)
class TopicIssue:
    """The papers of one theme that appeared in one issue."""

    issue: IssueView
    papers: tuple[PaperEntry, ...]


@dataclass(frozen=True)
class Topic:
    theme: Theme
    issues: tuple[TopicIssue, ...]  # newest first

    @property
    def count(self) -> int:
        return sum(len(group.papers) for group in self.issues)


class Listing(NamedTuple):
    """One tag's or one author's papers. (A named tuple, not a frozen dataclass: a
    library has thousands of them, made on every build, and a named tuple is made in C.)"""

    name: str  # the spelling most of its papers use (whitespace runs made one space)
    slug: str
    papers: tuple[PaperEntry, ...]  # newest first: issues newest first, then title order
    initial: str  # what it is filed under A to Z: "a" to "z", "0" to "9", "" for neither


@dataclass(frozen=True)
class NameIndex:
    """Every tag, or every author, of the library (none when its pages are not built)."""

    listings: tuple[Listing, ...]  # A to Z
    slugs: dict[str, str]  # each spelling an entry writes → the slug of its name's page
    displaced: str  # the digest of the slugs that are not their names' own, "" if none


NO_NAMES = NameIndex((), {}, "")


@dataclass(frozen=True)
class Library:
    config: SiteConfig
    issues: tuple[IssueView, ...]  # newest first
    topics: tuple[Topic, ...]  # configured theme order, all themes (a topic may be empty)
    papers: dict[str, PaperEntry]  # by id, every published paper
    issue_of: dict[str, IssueView]  # paper id → its issue
    overview_digest: str  # what the home and topics pages show
    site_map_digest: str  # which pages there are: issues, papers, topics, tags, authors
    digest: str  # every issue and paper, in order
    tags: NameIndex = NO_NAMES
    authors: NameIndex = NO_NAMES

    @cached_property
    def names_digest(self) -> str:
        """What links to tag and author pages show beyond each paper's own entry: part
        of the key of every page that links names."""
        return combine(self.tags.displaced, self.authors.displaced)

    @property
    def latest(self) -> IssueView | None:
        return self.issues[0] if self.issues else None


def entry_digest(entry: PaperEntry | IssueEntry) -> str:
    """The entry's digest, or one of its model when it was not read from a file (tests)."""
    if entry.digest:
        return entry.digest
    if isinstance(entry, PaperEntry):
        return combine(
            entry.id, entry.issue_date.isoformat(), entry.source, entry.paper.model_dump_json()
        )
    return combine(entry.date.isoformat(), entry.source, entry.issue.model_dump_json())


def paper_order(entry: PaperEntry) -> tuple[str, str]:
    return (entry.outline.title.casefold(), entry.id)


def hood_order(entry: PaperEntry) -> tuple[str, str]:
    """The order of an "Under the hood" group: by the label each line starts with."""
    return (entry.outline.hood_label.casefold(), entry.id)


def _section(
    theme: Theme, prose: str | None, papers: list[PaperEntry], home: dict[str, str]
) -> ThemeSection:
    """`papers` in title order; `home` is the theme each paper has its card under."""
    cards = tuple(p for p in papers if home[p.id] == theme.slug)
    also = tuple(p for p in papers if home[p.id] != theme.slug)
    return ThemeSection(theme, prose, tuple(papers), cards, also)


def _hood(papers: tuple[PaperEntry, ...]) -> tuple[ContributionGroup, ...]:
    """The "Under the hood" groups: each paper once in the group of each contribution."""
    in_group: list[list[PaperEntry]] = [[] for _ in HOOD_GROUPS]
    for paper in papers:
        for number in sorted({_GROUP_OF[kind] for kind in paper.outline.contributions}):
            in_group[number].append(paper)
    return tuple(
        ContributionGroup(group.label, tuple(sorted(members, key=hood_order)))
        for group, members in zip(HOOD_GROUPS, in_group, strict=True)
        if members
    )


def _issue_view(
    issue: IssueEntry, papers: list[PaperEntry], themes: tuple[Theme, ...]
) -> IssueView:
    ordered = tuple(sorted(papers, key=paper_order))
    # One pass over the papers, each put in its themes' lists; its card goes under the
    # first of them (validation refuses a theme that is not configured).
    by_theme: dict[str, list[PaperEntry]] = {theme.slug: [] for theme in themes}
    home: dict[str, str] = {}
    for paper in ordered:
        for slug in paper.outline.themes:
            if slug in by_theme:
                by_theme[slug].append(paper)
                home.setdefault(paper.id, slug)
    sections = tuple(
        _section(theme, issue.issue.themes.get(theme.slug), by_theme[theme.slug], home)
        for theme in themes
        if by_theme[theme.slug]
    )
    card_order = tuple(paper for section in sections for paper in section.cards)
    own = combine(entry_digest(issue), str(len(ordered)))
    whole = combine(own, *map(entry_digest, ordered))
    return IssueView(
        issue.date,
        issue.issue,
        issue.source,
        ordered,
        sections,
        card_order,
        _hood(ordered),
        own,
        whole,
    )


def _topic(theme: Theme, views: tuple[IssueView, ...]) -> Topic:
    groups = tuple(
        TopicIssue(view, section.papers)
        for view in views
        for section in view.sections
        if section.theme.slug == theme.slug
    )
    return Topic(theme, groups)


def _overview_digest(views: tuple[IssueView, ...], topics: tuple[Topic, ...]) -> str:
    """Every issue's own entry and paper count, the latest issue's sections (how many
    cards each) and whether it has an "Under the hood", each topic's paper count,
    issues and newest issue."""
    parts = [view.own_digest for view in views]
    if views:
        latest = views[0]
        parts += [latest.slug, str(bool(latest.under_the_hood))]
        parts += [f"{s.theme.slug}:{len(s.cards)}" for s in latest.sections]
    for topic in topics:
        newest = topic.issues[0].issue.slug if topic.issues else ""
        parts.append(f"{topic.theme.slug}:{topic.count}:{len(topic.issues)}:{newest}")
    return combine(*parts)


def _site_map_digest(
    views: tuple[IssueView, ...], topics: tuple[Topic, ...], names: tuple[NameIndex, ...]
) -> str:
    """Which issues, papers, topics, tags and authors there are, and the newest issue of
    each topic, tag and author."""
    parts = [f"{view.slug}:{','.join(p.id for p in view.papers)}" for view in views]
    parts += [f"{t.theme.slug}:{t.issues[0].issue.slug if t.issues else ''}" for t in topics]
    for index in names:
        parts.append(str(len(index.listings)))
        parts += [f"{n.slug}:{n.papers[0].issue_date.isoformat()}" for n in index.listings]
    return combine(*parts)


def _by_spelling(ordered: Sequence[PaperEntry], field: str) -> dict[str, list[PaperEntry]]:
    """The papers of each spelling `field` ("tags" or "authors") holds, in one pass over
    the papers, kept in their order."""
    names_of = attrgetter(field)
    found: defaultdict[str, list[PaperEntry]] = defaultdict(list)
    for entry in ordered:
        for spelling in names_of(entry.outline):
            papers = found[spelling]
            if not papers or papers[-1] is not entry:  # a name written twice in one entry
                papers.append(entry)
    return found


def _listings(ordered: Sequence[PaperEntry], field: str) -> NameIndex:
    """Every name `field` holds, with its papers in the order of `ordered`: the spellings
    of one name (digest.names) are one listing."""
    by_spelling = _by_spelling(ordered, field)
    spellings_of: defaultdict[str, list[str]] = defaultdict(list)
    for spelling in by_spelling:
        spellings_of[name_key(spelling)].append(spelling)
    plain = {key: plain_slug(key) for key in spellings_of}
    slugs, displaced = assign_slugs(plain)
    position: dict[str, int] = {}  # made only for a name spelled more than one way
    listings = []
    for key, spellings in spellings_of.items():
        if len(spellings) == 1:
            papers = tuple(by_spelling[spellings[0]])
        else:
            position = position or {entry.id: n for n, entry in enumerate(ordered)}
            papers = _merged([by_spelling[s] for s in spellings], position)
        shown = _shown(spellings, by_spelling)
        # A to Z by the name's plain letters (case and accents aside), then as written;
        # names with no ASCII letter or digit last.
        listing = Listing(shown, slugs[key], papers, plain[key][:1])
        listings.append(((not plain[key], plain[key], shown), listing))
    listings.sort(key=itemgetter(0))
    slug_of = {s: slugs[key] for key, group in spellings_of.items() for s in group}
    moved = combine(field, *(f"{key}={slug}" for key, slug in sorted(displaced.items())))
    return NameIndex(tuple(listing for _, listing in listings), slug_of, moved if displaced else "")


def _merged(groups: list[list[PaperEntry]], position: dict[str, int]) -> tuple[PaperEntry, ...]:
    """The papers of several spellings of one name, each once, in the library's order."""
    found = {entry.id: entry for group in groups for entry in group}
    return tuple(sorted(found.values(), key=lambda entry: position[entry.id]))


def _shown(spellings: list[str], by_spelling: dict[str, list[PaperEntry]]) -> str:
    """The spelling most papers use, whitespace runs made one space; on a tie, the
    first in code-point order."""
    if len(spellings) == 1:
        return " ".join(spellings[0].split())
    counts: Counter[str] = Counter()
    for spelling in spellings:
        counts[" ".join(spelling.split())] += len(by_spelling[spelling])
    return min(counts, key=lambda shown: (-counts[shown], shown))


def organise(
    config: SiteConfig,
    issues: list[IssueEntry],
    papers: list[PaperEntry],
    include_drafts: bool = False,
) -> Library:
    """Group valid entries into issues and topics. Papers of a missing issue are left out."""
    published = {i.date: i for i in issues if include_drafts or not i.issue.draft}
    papers_by_issue: dict[date, list[PaperEntry]] = {d: [] for d in published}
    for entry in papers:
        if entry.issue_date in papers_by_issue:
            papers_by_issue[entry.issue_date].append(entry)
    views = tuple(
        _issue_view(published[d], papers_by_issue[d], config.themes)
        for d in sorted(published, reverse=True)
    )
    topics = tuple(_topic(theme, views) for theme in config.themes)
    issue_of = {p.id: view for view in views for p in view.papers}
    by_id = {p.id: p for view in views for p in view.papers}
    ordered = [paper for view in views for paper in view.papers]
    tags = _listings(ordered, "tags") if config.tag_pages else NO_NAMES
    authors = _listings(ordered, "authors") if config.author_pages else NO_NAMES
    overview = _overview_digest(views, topics)
    site_map = _site_map_digest(views, topics, (tags, authors))
    whole = combine(*(view.digest for view in views))
    return Library(config, views, topics, by_id, issue_of, overview, site_map, whole, tags, authors)
