"""organise: each published paper lands once in each of its themes, in the documented order,
with one card on its issue's page, and once in the "Under the hood" group of each of its
contributions."""

from __future__ import annotations

from collections import Counter
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.models import Issue, IssueEntry, Paper, PaperEntry, SiteConfig
from digest.organise import hood_order, organise, paper_order
from digest.wording import HOOD_GROUPS

from .conftest import examples

CONFIG = SiteConfig()
SLUGS = CONFIG.theme_slugs
DATES = [date(2026, 1, 3), date(2026, 1, 10), date(2026, 2, 28)]


def issue(day: date, draft: bool = False) -> IssueEntry:
    return IssueEntry(
        day, Issue(title="I", subject="s", intro="i", draft=draft), f"entries/{day}/_issue.yaml"
    )


@st.composite
def libraries(draw: st.DrawFn) -> tuple[list[IssueEntry], list[PaperEntry]]:
    drafts = draw(st.lists(st.booleans(), min_size=len(DATES), max_size=len(DATES)))
    issues = [issue(day, draft) for day, draft in zip(DATES, drafts, strict=True)]
    papers = []
    for number in range(draw(st.integers(0, 25))):
        themes = draw(st.lists(st.sampled_from(SLUGS), min_size=1, max_size=3, unique=True))
        title = draw(st.text("abcXYZ ", min_size=1, max_size=8).filter(str.strip))
        kinds = st.sampled_from(["architecture", "technique", "dataset", "benchmark"])
        contribution = draw(
            st.one_of(st.none(), kinds, st.lists(kinds, min_size=1, max_size=3, unique=True))
        )
        label = draw(st.one_of(st.none(), st.text("abcXYZ", min_size=1, max_size=4)))
        paper = Paper(
            title=title, themes=themes, summary="s", contribution=contribution, label=label
        )
        day = draw(st.sampled_from([*DATES, date(2025, 12, 1)]))  # the last has no issue
        papers.append(PaperEntry(f"p{number}", day, paper, f"entries/{day}/p{number}.yaml"))
    return issues, papers


@settings(max_examples=examples(200), deadline=None)
@given(libraries(), st.booleans())
def test_every_paper_appears_once_per_theme(
    entries: tuple[list[IssueEntry], list[PaperEntry]], drafts: bool
) -> None:
    issues, papers = entries
    library = organise(CONFIG, issues, papers, include_drafts=drafts)
    published_days = {i.date for i in issues if drafts or not i.issue.draft}
    published = [p for p in papers if p.issue_date in published_days]

    assert sorted(library.papers) == sorted(p.id for p in published)
    for topic in library.topics:
        placed = Counter(p.id for group in topic.issues for p in group.papers)
        expected = {p.id for p in published if topic.theme.slug in p.paper.themes}
        assert set(placed) == expected
        assert all(count == 1 for count in placed.values())
        days = [group.issue.date for group in topic.issues]
        assert days == sorted(days, reverse=True)
    for view in library.issues:
        for section in view.sections:
            assert list(section.papers) == sorted(section.papers, key=paper_order)
            assert all(section.theme.slug in p.paper.themes for p in section.papers)
            # its cards are the papers that list its theme first; it names the others
            assert [p.id for p in section.cards] == [
                p.id for p in section.papers if p.paper.themes[0] == section.theme.slug
            ]
            assert [p.id for p in section.also] == [
                p.id for p in section.papers if p.paper.themes[0] != section.theme.slug
            ]
        # every paper has one card, and the cards are read section by section
        assert sorted(p.id for p in view.card_order) == sorted(p.id for p in view.papers)
        assert list(view.card_order) == [p for s in view.sections for p in s.cards]
        labels = [group.label for group in HOOD_GROUPS]
        assert [g.label for g in view.under_the_hood] == [
            label for label in labels if label in {g.label for g in view.under_the_hood}
        ]
        kinds = {group.label: group.kinds for group in HOOD_GROUPS}
        for group in view.under_the_hood:
            assert list(group.papers) == sorted(group.papers, key=hood_order)
            assert len({p.id for p in group.papers}) == len(group.papers)
            members = [
                p for p in view.papers if set(p.paper.contributions) & set(kinds[group.label])
            ]
            assert sorted(p.id for p in group.papers) == sorted(p.id for p in members)
        in_a_group = {p.id for group in view.under_the_hood for p in group.papers}
        assert in_a_group == {p.id for p in view.papers if p.paper.contributions}
    assert [v.date for v in library.issues] == sorted(published_days, reverse=True)


def test_sections_follow_the_configured_theme_order_and_skip_empty_themes() -> None:
    first = Paper(title="B", themes=["theory", "acceleration"], summary="s")
    second = Paper(title="a", themes=["theory"], summary="s")
    day = DATES[0]
    library = organise(
        CONFIG,
        [issue(day)],
        [PaperEntry("b", day, first, "b.yaml"), PaperEntry("a", day, second, "a.yaml")],
    )
    view = library.issues[0]
    assert [s.theme.slug for s in view.sections] == ["acceleration", "theory"]
    assert [p.id for p in view.sections[1].papers] == ["a", "b"]  # title order, case-insensitive
    assert library.latest is view
    assert [t.count for t in library.topics] == [1, 0, 0, 2]


def test_a_paper_has_its_card_under_the_first_theme_it_lists() -> None:
    """Its first theme, not the first in the site's order: the other section names it."""
    day = DATES[0]
    both = Paper(title="Both", themes=["theory", "acceleration"], summary="s")
    fast = Paper(title="Fast", themes=["acceleration"], summary="s")
    library = organise(
        CONFIG,
        [issue(day)],
        [PaperEntry("both", day, both, "both.yaml"), PaperEntry("fast", day, fast, "fast.yaml")],
    )
    acceleration, theory = library.issues[0].sections
    assert [p.id for p in acceleration.cards] == ["fast"]
    assert [p.id for p in acceleration.also] == ["both"]
    assert [p.id for p in theory.cards] == ["both"] and theory.also == ()
    assert [p.id for p in library.issues[0].card_order] == ["fast", "both"]
    # topics still list it under each of its themes
    assert [[p.id for g in t.issues for p in g.papers] for t in library.topics] == [
        ["both", "fast"],
        [],
        [],
        ["both"],
    ]


def test_under_the_hood_is_sorted_by_the_label_it_shows_and_lists_each_contribution() -> None:
    day = DATES[0]
    papers = [
        Paper(title="zeta: Z", themes=["theory"], summary="s", contribution="dataset"),
        Paper(title="Alpha", short="beta", themes=["theory"], summary="s", contribution="dataset"),
        Paper(
            title="Omega",
            label="Able",
            themes=["theory"],
            summary="s",
            contribution=["architecture", "benchmark"],
        ),
    ]
    entries = [PaperEntry(f"p{n}", day, p, f"p{n}.yaml") for n, p in enumerate(papers)]
    view = organise(CONFIG, [issue(day)], entries).issues[0]
    groups = {g.label: [p.paper.hood_label for p in g.papers] for g in view.under_the_hood}
    assert groups == {
        "Architectures": ["Able"],
        "Datasets & benchmarks": ["Able", "beta", "zeta"],  # case-insensitive, by label
    }
