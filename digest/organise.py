"""Organise: valid entries → a `Library` (issues, themes, contributions), sorted for reading.

Ordering, documented in docs/site.md and relied on by every page:
- issues newest first;
- inside an issue's theme section, and inside an "Under the hood" group, papers by
  title (case-insensitive), then id;
- on a topic page, newest issue first, then the same title order inside each issue.
Drafts are left out unless `include_drafts` is set; their papers with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from digest.models import Issue, IssueEntry, PaperEntry, SiteConfig, Theme
from digest.wording import HOOD_GROUPS

# Each contribution's place in HOOD_GROUPS, the "Under the hood" groups in their order.
_GROUP_OF: dict[str | None, int] = {
    kind: number for number, group in enumerate(HOOD_GROUPS) for kind in group.kinds
}


@dataclass(frozen=True)
class ThemeSection:
    """One theme's part of an issue: the editor's prose, then the papers."""

    theme: Theme
    prose: str | None
    papers: tuple[PaperEntry, ...]


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
    under_the_hood: tuple[ContributionGroup, ...]  # groups without papers left out

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


@dataclass(frozen=True)
class Library:
    config: SiteConfig
    issues: tuple[IssueView, ...]  # newest first
    topics: tuple[Topic, ...]  # configured theme order, all themes (a topic may be empty)
    papers: dict[str, PaperEntry]  # by id, every published paper
    issue_of: dict[str, IssueView]  # paper id → its issue

    @property
    def latest(self) -> IssueView | None:
        return self.issues[0] if self.issues else None


def paper_order(entry: PaperEntry) -> tuple[str, str]:
    return (entry.outline.title.casefold(), entry.id)


def _issue_view(
    issue: IssueEntry, papers: list[PaperEntry], themes: tuple[Theme, ...]
) -> IssueView:
    ordered = tuple(sorted(papers, key=paper_order))
    # One pass over the papers, each put in its themes' and its contribution's lists.
    by_theme: dict[str, list[PaperEntry]] = {theme.slug: [] for theme in themes}
    in_group: list[list[PaperEntry]] = [[] for _ in HOOD_GROUPS]
    for paper in ordered:
        outline = paper.outline
        for slug in outline.themes:
            if slug in by_theme:
                by_theme[slug].append(paper)
        group = _GROUP_OF.get(outline.contribution)
        if group is not None:
            in_group[group].append(paper)
    sections = tuple(
        ThemeSection(theme, issue.issue.themes.get(theme.slug), tuple(by_theme[theme.slug]))
        for theme in themes
        if by_theme[theme.slug]
    )
    groups = tuple(
        ContributionGroup(group.label, tuple(members))
        for group, members in zip(HOOD_GROUPS, in_group, strict=True)
        if members
    )
    return IssueView(issue.date, issue.issue, issue.source, ordered, sections, groups)


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
    topics = tuple(
        Topic(
            theme,
            tuple(
                TopicIssue(view, section.papers)
                for view in views
                for section in view.sections
                if section.theme.slug == theme.slug
            ),
        )
        for theme in config.themes
    )
    issue_of = {p.id: view for view in views for p in view.papers}
    by_id = {p.id: p for view in views for p in view.papers}
    return Library(config, views, topics, by_id, issue_of)
