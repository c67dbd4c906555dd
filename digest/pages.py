"""Pages: the context each page kind's template gets, built from a build's `Views`,
and the job (digest.render) that renders each page: the home page, the issues, the
papers and 404.html here; the topics, tags, authors and the issue archive in
digest.listing_pages.

Each page kind has one context builder returning a declared `TypedDict` of view objects
(digest.views). Every context also carries `site`, `root` (the relative prefix from the
page back to the site root, e.g. "../../") and `page` (the page's own url and <title>).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from urllib.parse import urlsplit

from markupsafe import Markup

from digest import citations, permalinks, wording
from digest.hashing import combine
from digest.listing_pages import (
    author_jobs,
    issue_archive_jobs,
    tag_jobs,
    topic_jobs,
    topic_summary,
)
from digest.models import PaperEntry
from digest.organise import IssueView, Library, ThemeSection, entry_digest
from digest.permalinks import card_anchor
from digest.render import Job
from digest.views import (
    AlsoView,
    BaseContext,
    ContentsItem,
    GroupView,
    IssueSummary,
    Link,
    PaperView,
    SectionView,
    TopicSummary,
    Views,
    hood_line,
)

HOME_ARCHIVE = 10  # issues the home page lists; issues/ lists them all


class HomeContext(BaseContext):
    latest: IssueSummary | None
    latest_contents: tuple[ContentsItem, ...]
    archive: tuple[IssueSummary, ...]  # the newest issues, HOME_ARCHIVE at most
    issue_count: int  # every issue of the site
    issues_url: str | None  # the archive of every issue, when `archive` holds fewer
    topics: tuple[TopicSummary, ...]


class IssueContext(BaseContext):
    issue: IssueSummary
    contents: tuple[ContentsItem, ...]
    sections: tuple[SectionView, ...]
    under_the_hood: tuple[GroupView, ...]
    hood_intro: Markup  # the issue's `under_the_hood` text, else the fixed one
    outlook: Markup | None
    older: IssueSummary | None  # the issue before this one
    newer: IssueSummary | None  # the issue after it
    email_url: str | None  # its e-mail edition, built only with base_url
    bib_url: str | None  # its BibTeX file, when it has a paper to cite


class PaperContext(BaseContext):
    paper: PaperView
    issue: IssueSummary
    bibtex: str  # the paper's BibTeX record (digest.citations)
    previous: Link | None  # the paper before it on its issue's page
    next: Link | None  # the paper after it


# A paper's neighbours on its issue's page: the papers whose cards come before and after.
Neighbours = tuple[PaperEntry | None, PaperEntry | None]


class NotFoundContext(BaseContext):
    pass


def _contents(view: IssueView) -> tuple[ContentsItem, ...]:
    """The issue's parts. A theme's count is of the papers shown in full in its section
    (none when it only names papers shown elsewhere), so the counts add up to the
    issue's papers."""
    items = [
        ContentsItem(f"theme-{s.theme.slug}", s.theme.title, len(s.cards) or None)
        for s in view.sections
    ]
    if view.under_the_hood:
        items.append(ContentsItem("under-the-hood", wording.UNDER_THE_HOOD, None, theme=False))
    if view.issue.outlook:
        items.append(ContentsItem("outlook", wording.OUTLOOK, None, theme=False))
    return tuple(items)


def home_context(views: Views) -> HomeContext:
    url = permalinks.page_file(permalinks.HOME)
    library = views.library
    base = views.base(url, library.config.title, "home")
    root = base["root"]
    latest = library.latest
    return {
        **base,
        "latest": views.issue_summary(latest, root, 3) if latest else None,
        "latest_contents": _contents(latest) if latest else (),
        "archive": tuple(views.issue_summary(v, root, 3) for v in library.issues[:HOME_ARCHIVE]),
        "issue_count": len(library.issues),
        "issues_url": root + permalinks.ISSUES if len(library.issues) > HOME_ARCHIVE else None,
        "topics": tuple(topic_summary(t, root) for t in library.topics),
    }


def _section_view(
    section: ThemeSection, views: Views, root: str, homes: dict[str, str]
) -> SectionView:
    """`homes`: the title of the section that holds each paper's card, by paper id."""
    also = tuple(
        AlsoView(p.outline.title, "#" + card_anchor(p.id), homes[p.id]) for p in section.also
    )
    return SectionView(
        id=f"theme-{section.theme.slug}",
        title=section.theme.title,
        description=section.theme.description,
        prose=views.markdown(section.prose, 3) if section.prose else None,
        papers=tuple(views.paper(p, root, 4) for p in section.cards),
        also=also,
    )


def _hood_groups(view: IssueView) -> tuple[GroupView, ...]:
    groups = {group.label: group for group in wording.HOOD_GROUPS}
    return tuple(
        GroupView(
            f"hood-{groups[g.label].id}",
            g.label,
            tuple(
                hood_line(p, "#" + card_anchor(p.id), groups[g.label].attributed) for p in g.papers
            ),
        )
        for g in view.under_the_hood
    )


def issue_context(
    view: IssueView, views: Views, older: IssueView | None, newer: IssueView | None
) -> IssueContext:
    library = views.library
    url = permalinks.page_file(permalinks.issue_path(view.date))
    title = wording.issue_page_title(view.issue.title, view.date, library.config.title)
    base = views.base(url, title, "issue")
    root = base["root"]
    dek = wording.issue_dek(len(view.papers), view.issue.subject, view.date)
    # <, > and & are escaped in the JSON, so it cannot end its <script> element.
    json_ld = Markup(citations.issue_page_json_ld(library, view, dek, views.article))
    base["page"] = replace(base["page"], description=dek, og_type="article", json_ld=json_ld)
    has_citable = any(citations.citable(p) for p in view.papers)
    homes = {p.id: s.theme.title for s in view.sections for p in s.cards}
    return {
        **base,
        "issue": views.issue_summary(view, root, 2),
        "contents": _contents(view),
        "sections": tuple(_section_view(s, views, root, homes) for s in view.sections),
        "under_the_hood": _hood_groups(view),
        "hood_intro": views.markdown(view.issue.under_the_hood or wording.HOOD_INTRO, 3),
        "outlook": views.markdown(view.issue.outlook, 3) if view.issue.outlook else None,
        "older": views.issue_summary(older, root, 3) if older else None,
        "newer": views.issue_summary(newer, root, 3) if newer else None,
        "email_url": root + permalinks.email_html_path(view.date)
        if library.config.base_url
        else None,
        "bib_url": root + permalinks.issue_bib_path(view.date) if has_citable else None,
    }


def _neighbour(entry: PaperEntry | None, root: str) -> Link | None:
    if entry is None:
        return None
    paper = entry.paper
    return Link(paper.short or paper.title, root + permalinks.paper_path(entry.id))


def paper_context(entry: PaperEntry, views: Views, neighbours: Neighbours) -> PaperContext:
    url = permalinks.page_file(permalinks.paper_path(entry.id))
    paper = entry.paper
    title = wording.page_title(paper.title, views.library.config.title)
    base = views.base(url, title, "paper", wording.one_liner(paper))
    root = base["root"]
    description = base["page"].description
    json_ld = Markup(citations.paper_page_json_ld(views.library, entry, description, views.article))
    base["page"] = replace(base["page"], og_type="article", json_ld=json_ld)
    view = views.library.issue_of[entry.id]
    before, after = neighbours
    return {
        **base,
        "paper": views.paper(entry, root, 3),
        "issue": views.issue_summary(view, root, 3),
        "bibtex": views.bibtex(entry),
        "previous": _neighbour(before, root),
        "next": _neighbour(after, root),
    }


def not_found_context(views: Views) -> NotFoundContext:
    """404.html is served at any depth, so its links are root-relative: "/" plus the path of
    `base_url` ("/diffusion/" for https://x.github.io/diffusion), or "/" without one."""
    library = views.library
    title = wording.page_title("Page not found", library.config.title)
    base = views.base(permalinks.NOT_FOUND, title, "404")
    prefix = urlsplit(library.config.base_url).path.strip("/") if library.config.base_url else ""
    base["root"] = f"/{prefix}/" if prefix else "/"
    return {**base}


# ------------------------------------------------------------------ jobs
# Each page's key, made beside its context: the digests (digest.organise) of exactly
# what the context above shows, beyond the site's settings and templates.


def home_jobs(views: Views) -> Iterator[Job]:
    library = views.library
    url = permalinks.page_file(permalinks.HOME)
    yield Job(url, "home.html", library.overview_digest, lambda: home_context(views))


def issue_jobs(views: Views) -> Iterator[Job]:
    """An issue's page shows its papers (their tags and authors linked), and links the
    issues before and after it (their date and title: what their own digests cover)."""
    library = views.library
    issues = library.issues  # newest first
    for number, view in enumerate(issues):
        newer = issues[number - 1] if number > 0 else None
        older = issues[number + 1] if number + 1 < len(issues) else None
        around = (v.own_digest if v else "" for v in (older, newer))
        key = combine(view.digest, *around, library.names_digest)
        url = permalinks.page_file(permalinks.issue_path(view.date))
        make = partial(issue_context, view, views, older, newer)
        yield Job(url, "issue.html", key, make)


def paper_neighbours(library: Library) -> dict[str, Neighbours]:
    """Each paper's neighbours on its issue's page, by paper id."""
    found: dict[str, Neighbours] = {}
    for view in library.issues:
        cards = (None, *view.card_order, None)
        for number, entry in enumerate(view.card_order, start=1):
            found[entry.id] = (cards[number - 1], cards[number + 1])
    return found


def paper_jobs(views: Views) -> Iterator[Job]:
    """A paper's page shows the paper (its tags and authors linked), its issue's summary
    and its neighbours' names."""
    library = views.library
    neighbours = paper_neighbours(library)
    for paper_id in sorted(library.papers):
        entry = library.papers[paper_id]
        url = permalinks.page_file(permalinks.paper_path(paper_id))
        around = neighbours[paper_id]
        key = combine(
            entry_digest(entry),
            library.issue_of[paper_id].own_digest,
            *(entry_digest(p) if p else "" for p in around),
            library.names_digest,
        )
        yield Job(url, "paper.html", key, partial(paper_context, entry, views, around))


def not_found_jobs(views: Views) -> Iterator[Job]:
    """Made from the settings and templates alone: no key of its own."""
    yield Job(permalinks.NOT_FOUND, "404.html", "", lambda: not_found_context(views))


PageBuilder = Callable[[Views], Iterable[Job]]

PAGE_BUILDERS: list[PageBuilder] = [
    home_jobs,
    issue_jobs,
    issue_archive_jobs,
    topic_jobs,
    tag_jobs,
    author_jobs,
    paper_jobs,
    not_found_jobs,
]
"""The site's own pages; digest.reader_outputs adds feeds, search, citations, e-mail."""
