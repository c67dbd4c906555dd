"""Pages: the context each page kind's template gets, built from a build's `Views`,
and the job (digest.render) that renders each page.

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
from digest.models import PaperEntry
from digest.organise import IssueView, Topic, entry_digest
from digest.render import Job
from digest.views import (
    BaseContext,
    ContentsItem,
    GroupView,
    IssueSummary,
    PaperView,
    SectionView,
    TopicIssueView,
    TopicSummary,
    Views,
)


class HomeContext(BaseContext):
    latest: IssueSummary | None
    latest_contents: tuple[ContentsItem, ...]
    archive: tuple[IssueSummary, ...]
    topics: tuple[TopicSummary, ...]


class IssueContext(BaseContext):
    issue: IssueSummary
    contents: tuple[ContentsItem, ...]
    sections: tuple[SectionView, ...]
    under_the_hood: tuple[GroupView, ...]
    outlook: Markup | None


class TopicsContext(BaseContext):
    topics: tuple[TopicSummary, ...]


class TopicContext(BaseContext):
    topic: TopicSummary
    issues: tuple[TopicIssueView, ...]


class PaperContext(BaseContext):
    paper: PaperView
    issue: IssueSummary
    bibtex: str  # the paper's BibTeX record (digest.citations)


class NotFoundContext(BaseContext):
    pass


def _contents(view: IssueView) -> tuple[ContentsItem, ...]:
    items = [
        ContentsItem(f"theme-{s.theme.slug}", s.theme.title, len(s.papers)) for s in view.sections
    ]
    if view.under_the_hood:
        items.append(ContentsItem("under-the-hood", wording.UNDER_THE_HOOD, None))
    if view.issue.outlook:
        items.append(ContentsItem("outlook", wording.OUTLOOK, None))
    return tuple(items)


def _topic_summary(topic: Topic, root: str) -> TopicSummary:
    return TopicSummary(
        slug=topic.theme.slug,
        title=topic.theme.title,
        description=topic.theme.description,
        count=topic.count,
        count_text=wording.papers_in_issues(topic.count, len(topic.issues)),
        latest=wording.format_date(topic.issues[0].issue.date) if topic.issues else None,
        url=root + permalinks.topic_path(topic.theme.slug),
    )


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
        "archive": tuple(views.issue_summary(v, root, 3) for v in library.issues),
        "topics": tuple(_topic_summary(t, root) for t in library.topics),
    }


def issue_context(view: IssueView, views: Views) -> IssueContext:
    url = permalinks.page_file(permalinks.issue_path(view.date))
    title = wording.page_title(view.issue.title, wording.format_date(view.date))
    base = views.base(url, title, "issue")
    root = base["root"]
    dek = wording.issue_dek(len(view.papers), view.issue.subject, view.date)
    # <, > and & are escaped in the JSON, so it cannot end its <script> element.
    json_ld = Markup(citations.issue_page_json_ld(views.library, view, dek, views.article))
    base["page"] = replace(base["page"], description=dek, og_type="article", json_ld=json_ld)
    sections = tuple(
        SectionView(
            id=f"theme-{s.theme.slug}",
            title=s.theme.title,
            description=s.theme.description,
            prose=views.markdown(s.prose, 3) if s.prose else None,
            papers=tuple(views.paper(p, root, 4) for p in s.papers),
        )
        for s in view.sections
    )
    ids = {group.label: group.id for group in wording.HOOD_GROUPS}
    hood = tuple(
        GroupView(
            f"hood-{ids[g.label]}",
            g.label,
            tuple(views.paper(p, root, 4) for p in g.papers),
        )
        for g in view.under_the_hood
    )
    return {
        **base,
        "issue": views.issue_summary(view, root, 2),
        "contents": _contents(view),
        "sections": sections,
        "under_the_hood": hood,
        "outlook": views.markdown(view.issue.outlook, 3) if view.issue.outlook else None,
    }


def topics_context(views: Views) -> TopicsContext:
    library = views.library
    url = permalinks.page_file(permalinks.TOPICS)
    base = views.base(url, wording.page_title("Topics", library.config.title), "topics")
    return {**base, "topics": tuple(_topic_summary(t, base["root"]) for t in library.topics)}


def topic_context(topic: Topic, views: Views) -> TopicContext:
    url = permalinks.page_file(permalinks.topic_path(topic.theme.slug))
    title = wording.page_title(topic.theme.title, views.library.config.title)
    base = views.base(url, title, "topics", topic.theme.description)
    root = base["root"]
    issues = tuple(
        TopicIssueView(
            views.issue_summary(group.issue, root, 3),
            tuple(views.card(p, root, 4, url) for p in group.papers),
        )
        for group in topic.issues
    )
    return {**base, "topic": _topic_summary(topic, root), "issues": issues}


def paper_context(entry: PaperEntry, views: Views) -> PaperContext:
    url = permalinks.page_file(permalinks.paper_path(entry.id))
    paper = entry.paper
    base = views.base(url, paper.title, "paper", wording.one_liner(paper))
    root = base["root"]
    description = base["page"].description
    json_ld = Markup(citations.paper_page_json_ld(views.library, entry, description, views.article))
    base["page"] = replace(base["page"], og_type="article", json_ld=json_ld)
    view = views.library.issue_of[entry.id]
    return {
        **base,
        "paper": views.paper(entry, root, 3),
        "issue": views.issue_summary(view, root, 3),
        "bibtex": views.bibtex(entry),
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
    for view in views.library.issues:
        url = permalinks.page_file(permalinks.issue_path(view.date))
        yield Job(url, "issue.html", view.digest, partial(issue_context, view, views))


def topic_jobs(views: Views) -> Iterator[Job]:
    library = views.library
    url = permalinks.page_file(permalinks.TOPICS)
    yield Job(url, "topics.html", library.overview_digest, lambda: topics_context(views))
    for topic in library.topics:
        url = permalinks.page_file(permalinks.topic_path(topic.theme.slug))
        yield Job(url, "topic.html", topic.digest, partial(topic_context, topic, views))


def paper_jobs(views: Views) -> Iterator[Job]:
    library = views.library
    for paper_id in sorted(library.papers):
        entry = library.papers[paper_id]
        url = permalinks.page_file(permalinks.paper_path(paper_id))
        key = entry_digest(entry) + library.issue_of[paper_id].own_digest
        yield Job(url, "paper.html", key, partial(paper_context, entry, views))


def not_found_jobs(views: Views) -> Iterator[Job]:
    """Made from the settings and templates alone: no key of its own."""
    yield Job(permalinks.NOT_FOUND, "404.html", "", lambda: not_found_context(views))


PageBuilder = Callable[[Views], Iterable[Job]]

PAGE_BUILDERS: list[PageBuilder] = [home_jobs, issue_jobs, topic_jobs, paper_jobs, not_found_jobs]
"""The site's own pages; digest.reader_outputs adds feeds, search, citations, e-mail."""
