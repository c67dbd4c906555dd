"""Render: `Library` + Jinja templates → `RenderedPage` values (nothing is written here).

Templates are looked up by name in the content root's own templates/ folder first, then
in the default theme that ships inside the package (the repository's templates/). Every
template is parsed before anything renders, and Jinja syntax or runtime errors become
diagnostics at the template's path and line.

Each page kind has one context builder returning a declared `TypedDict`; the values in
it are view objects already shaped for reading (author lines, relative URLs, HTML of the
Markdown fields), so templates only loop and branch. Every context also carries `site`,
`root` (the relative prefix from the page back to the site root, e.g. "../../") and
`page` (the page's own url and <title>).

More pages are added by appending a `PageBuilder` to `PAGE_BUILDERS` (or passing a list
to `render_site`): a function `(library, renderer) -> Iterable[RenderedPage]`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, TypedDict
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from digest import citations
from digest.cache import MarkdownStore
from digest.diagnostics import Diagnostic, error
from digest.markdown import first_sentence, render_markdown
from digest.models import PaperEntry, SiteConfig
from digest.organise import CONTRIBUTION_GROUPS as _HOOD_LABELS
from digest.organise import IssueView, Library, Topic

TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")
ASSETS = "assets"
MONTHS = (
    "Jan.",
    "Feb.",
    "March",
    "April",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)
LINK_LABELS = {"paper": "Paper", "code": "Code", "project": "Project page", "data": "Data"}
CONTRIBUTION_LABELS = {
    "architecture": "Architecture",
    "technique": "Technique",
    "dataset": "Dataset",
    "benchmark": "Benchmark",
}
MAX_LISTED_AUTHORS = 3


@dataclass(frozen=True)
class RenderedPage:
    """One output file: `url` is its path under the site root, e.g. "papers/dpcache/index.html"."""

    url: str
    content: str | bytes


# ------------------------------------------------------------------ formatting


def format_date(value: date) -> str:
    """ "Feb. 28, 2026": AP-style months, independent of the machine's locale."""
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


def _join(names: Iterable[str]) -> str:
    items = list(names)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def authors_short(authors: list[str], et_al: bool) -> str:
    """ "Bowen Cui et al." when the list is incomplete or long, else "A, B and C"."""
    if not authors:
        return ""
    if et_al or len(authors) > MAX_LISTED_AUTHORS:
        return f"{authors[0]} et al."
    return _join(authors)


def authors_full(authors: list[str], et_al: bool) -> str:
    if not authors:
        return ""
    return ", ".join(authors) + (" et al." if et_al else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def page_root(url: str) -> str:
    """The relative way back to the site root from the page at `url` ("./" at the top)."""
    depth = url.count("/")
    return "../" * depth if depth else "./"


# ------------------------------------------------------------------ views


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class SiteView:
    title: str
    description: str
    base_url: str | None


@dataclass(frozen=True)
class PageInfo:
    url: str  # the output path, e.g. "topics/index.html"
    title: str  # the document <title>
    description: str
    canonical: str | None  # absolute, only when base_url is configured
    section: str  # "home", "issue", "topics", "paper" or "404": marks the current nav item
    og_type: str = "website"  # OpenGraph type: "article" on digest and paper pages
    json_ld: Markup | None = None  # schema.org JSON-LD (digest.citations), digest and paper pages


@dataclass(frozen=True)
class PaperView:
    id: str
    title: str
    name: str  # the short name where there is one, else the title
    url: str
    authors: str  # "Bowen Cui et al."
    authors_full: str
    affiliations: str
    tagline: str | None
    one_liner: str  # the tagline, else the summary's first sentence
    summary: Markup
    links: tuple[Link, ...]
    themes: tuple[Link, ...]
    contribution: str | None
    arxiv: str | None
    doi: str | None
    published: str | None
    published_iso: str | None
    keywords: str  # the tags, comma-separated
    citation: str
    issue_date: str
    issue_date_iso: str
    issue_url: str


@dataclass(frozen=True)
class IssueSummary:
    slug: str
    date: str
    date_iso: str
    title: str
    subject: str
    count: int
    dek: str  # "Latest 44 papers on diffusion models: Feb. 28, 2026"
    url: str
    intro: Markup
    draft: bool


@dataclass(frozen=True)
class SectionView:
    id: str
    title: str
    description: str
    prose: Markup | None
    papers: tuple[PaperView, ...]


@dataclass(frozen=True)
class GroupView:
    id: str
    label: str
    papers: tuple[PaperView, ...]


@dataclass(frozen=True)
class ContentsItem:
    id: str
    label: str
    count: int | None


@dataclass(frozen=True)
class TopicSummary:
    slug: str
    title: str
    description: str
    count: int
    count_text: str  # "12 papers in 3 issues"
    latest: str | None  # the date of the newest issue with papers on this topic
    url: str


@dataclass(frozen=True)
class TopicIssueView:
    issue: IssueSummary
    papers: tuple[PaperView, ...]


class BaseContext(TypedDict):
    site: SiteView
    root: str
    page: PageInfo


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


# ------------------------------------------------------------------ templates


def theme_dir() -> Path:
    """The default theme: the repository's templates/, installed as `digest.templates`."""
    spec = importlib.util.find_spec("digest.templates")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError("digest's default theme (digest.templates) is not installed")
    return Path(locations[0])


def _date_filter(value: date) -> str:
    return format_date(value)


def _markdown_filter(value: str, top_heading: int = 1) -> Markup:
    return Markup(render_markdown(value, top_heading).html)


@dataclass
class Templates:
    """A Jinja environment over the override folder and the default theme, all parsed."""

    env: jinja2.Environment
    folders: tuple[Path, ...]  # looked up in this order
    root: Path

    def display(self, filename: str | None, name: str) -> str:
        if not filename:
            return name
        path = Path(filename)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def source_of(self, name: str) -> str:
        for folder in self.folders:
            if (folder / name).is_file():
                return self.display(str(folder / name), name)
        return name

    def asset_files(self) -> dict[str, Path]:
        """Static files under assets/, by output url; an override replaces a file by name."""
        found: dict[str, Path] = {}
        for folder in reversed(self.folders):
            assets = folder / ASSETS
            if assets.is_dir():
                for path in sorted(assets.rglob("*")):
                    if path.is_file():
                        found[path.relative_to(folder).as_posix()] = path
        return dict(sorted(found.items()))


def load_templates(config: SiteConfig, root: Path) -> tuple[Templates | None, list[Diagnostic]]:
    """Build the environment and parse every template; None when any fails to parse."""
    folders = tuple(
        dict.fromkeys(p.resolve() for p in (root / config.templates, theme_dir()) if p.is_dir())
    )
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(f)) for f in folders]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters = {"date": _date_filter, "markdown": _markdown_filter}
    env.globals = {}
    templates = Templates(env, folders, root)
    problems: list[Diagnostic] = []
    names = [
        n
        for n in env.list_templates()
        if n.endswith(TEMPLATE_SUFFIXES) and not n.startswith(f"{ASSETS}/")
    ]
    for name in names:
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            path = templates.display(exc.filename, name)
            problems.append(
                error(path, exc.lineno or 1, 1, "E401", f"template syntax error: {exc.message}")
            )
        except UnicodeDecodeError:
            problems.append(
                error(templates.source_of(name), 1, 1, "E401", "template is not valid UTF-8")
            )
    return (None if problems else templates), problems


RENDER_ERRORS = (
    jinja2.TemplateError,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def _template_line(templates: Templates, tb: TracebackType | None, name: str) -> tuple[str, int]:
    """The innermost template frame of a runtime error: (path, line)."""
    where = (templates.source_of(name), 1)
    folders = [str(f) for f in templates.folders]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(tuple(folders)):
            where = (templates.display(filename, name), tb.tb_lineno)
        tb = tb.tb_next
    return where


@dataclass
class Renderer:
    """Renders templates into pages, gathering errors instead of raising them."""

    templates: Templates
    library: Library
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _failures: dict[tuple[str, int, str], list[str]] = field(default_factory=dict)
    _markdown: dict[tuple[str, int], Markup] = field(default_factory=dict)
    markdown_store: MarkdownStore | None = None  # HTML kept from the last build (digest.cache)

    def markdown(self, text: str, top_heading: int = 1) -> Markup:
        key = (text, top_heading)
        if key not in self._markdown:
            store = self.markdown_store
            kept = store.get(key) if store is not None else None
            html = Markup(kept) if kept is not None else _markdown_filter(text, top_heading)
            if store is not None:
                store.put(key, str(html))
            self._markdown[key] = html
        return self._markdown[key]

    def page(self, url: str, template: str, context: Mapping[str, Any]) -> RenderedPage | None:
        """Render one page; on failure note the error (reported once per template line)."""
        try:
            return RenderedPage(url, self.templates.env.get_template(template).render(context))
        except jinja2.TemplateSyntaxError as exc:
            where = (self.templates.display(exc.filename, template), exc.lineno or 1)
            message = f"template syntax error: {exc.message}"
        except RENDER_ERRORS as exc:
            where = _template_line(self.templates, exc.__traceback__, template)
            text = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
            message = f"template error: {text or type(exc).__name__}"
        self._failures.setdefault((*where, message), []).append(url)
        return None

    def failures(self) -> list[Diagnostic]:
        """One diagnostic per failing template line, naming the first page it broke."""
        found = []
        for (path, line, message), urls in self._failures.items():
            more = f" and {_plural(len(urls) - 1, 'other page')}" if len(urls) > 1 else ""
            code = "E401" if message.startswith("template syntax") else "E402"
            found.append(error(path, line, 1, code, f"{message} (rendering {urls[0]}{more})"))
        return found

    def base(self, url: str, title: str, section: str, description: str = "") -> BaseContext:
        config = self.library.config
        canonical_path = url.removesuffix("index.html")
        canonical = f"{config.base_url}/{canonical_path}" if config.base_url else None
        return {
            "site": SiteView(config.title, config.description, config.base_url),
            "root": page_root(url),
            "page": PageInfo(url, title, description or config.description, canonical, section),
        }


# ------------------------------------------------------------------ context builders

HOOD_IDS = ("architectures", "techniques", "datasets")


def _paper_view(entry: PaperEntry, renderer: Renderer, root: str, top_heading: int) -> PaperView:
    paper = entry.paper
    library = renderer.library
    titles = {theme.slug: theme.title for theme in library.config.themes}
    links = [Link(LINK_LABELS["paper"], paper.paper_url)] if paper.paper_url else []
    links += [Link(LINK_LABELS[kind], url) for kind, url in paper.links.items() if kind != "paper"]
    full = authors_full(paper.authors, paper.et_al)
    source = f"arXiv:{paper.arxiv}" if paper.arxiv else (f"doi:{paper.doi}" if paper.doi else "")
    year = (paper.published or entry.issue_date).year
    citation = " ".join(
        part
        for part in (
            f"{full}." if full and not full.endswith(".") else full,
            f"{paper.title}.",
            f"{source}," if source else "",
            f"{year}.",
            paper.paper_url or "",
        )
        if part
    )
    return PaperView(
        id=entry.id,
        title=paper.title,
        name=paper.short or paper.title,
        url=f"{root}papers/{entry.id}/",
        authors=authors_short(paper.authors, paper.et_al),
        authors_full=full,
        affiliations=_join(paper.affiliations),
        tagline=paper.tagline,
        one_liner=paper.tagline or first_sentence(paper.summary),
        summary=renderer.markdown(paper.summary, top_heading),
        links=tuple(links),
        themes=tuple(Link(titles[s], f"{root}topics/{s}/") for s in paper.themes if s in titles),
        contribution=CONTRIBUTION_LABELS[paper.contribution] if paper.contribution else None,
        arxiv=paper.arxiv,
        doi=paper.doi,
        published=format_date(paper.published) if paper.published else None,
        published_iso=paper.published.isoformat() if paper.published else None,
        keywords=", ".join(paper.tags),
        citation=citation,
        issue_date=format_date(entry.issue_date),
        issue_date_iso=entry.issue_date.isoformat(),
        issue_url=f"{root}{entry.issue_date.isoformat()}/",
    )


def _issue_summary(
    view: IssueView, renderer: Renderer, root: str, top_heading: int
) -> IssueSummary:
    count = len(view.papers)
    when = format_date(view.date)
    return IssueSummary(
        slug=view.slug,
        date=when,
        date_iso=view.slug,
        title=view.issue.title,
        subject=view.issue.subject,
        count=count,
        dek=f"Latest {_plural(count, 'paper')} on {view.issue.subject}: {when}",
        url=f"{root}{view.slug}/",
        intro=renderer.markdown(view.issue.intro, top_heading),
        draft=view.issue.draft,
    )


def _contents(view: IssueView) -> tuple[ContentsItem, ...]:
    items = [
        ContentsItem(f"theme-{s.theme.slug}", s.theme.title, len(s.papers)) for s in view.sections
    ]
    if view.under_the_hood:
        items.append(ContentsItem("under-the-hood", "Under the hood", None))
    if view.issue.outlook:
        items.append(ContentsItem("outlook", "Impact & the road ahead", None))
    return tuple(items)


def _topic_summary(topic: Topic, root: str) -> TopicSummary:
    issues = len(topic.issues)
    return TopicSummary(
        slug=topic.theme.slug,
        title=topic.theme.title,
        description=topic.theme.description,
        count=topic.count,
        count_text=f"{_plural(topic.count, 'paper')} in {_plural(issues, 'issue')}",
        latest=format_date(topic.issues[0].issue.date) if topic.issues else None,
        url=f"{root}topics/{topic.theme.slug}/",
    )


def home_context(library: Library, renderer: Renderer) -> HomeContext:
    url = "index.html"
    base = renderer.base(url, library.config.title, "home")
    root = base["root"]
    latest = library.latest
    return {
        **base,
        "latest": _issue_summary(latest, renderer, root, 3) if latest else None,
        "latest_contents": _contents(latest) if latest else (),
        "archive": tuple(_issue_summary(v, renderer, root, 3) for v in library.issues),
        "topics": tuple(_topic_summary(t, root) for t in library.topics),
    }


def issue_context(view: IssueView, renderer: Renderer) -> IssueContext:
    url = f"{view.slug}/index.html"
    base = renderer.base(url, f"{view.issue.title} — {format_date(view.date)}", "issue")
    root = base["root"]
    when = format_date(view.date)
    dek = f"Latest {_plural(len(view.papers), 'paper')} on {view.issue.subject}: {when}"
    # <, > and & are escaped in the JSON, so it cannot end its <script> element.
    data = citations.issue_page_json_ld(renderer.library, view, dek)
    json_ld = Markup(citations.json_ld_text(data))
    base["page"] = replace(base["page"], description=dek, og_type="article", json_ld=json_ld)
    sections = tuple(
        SectionView(
            id=f"theme-{s.theme.slug}",
            title=s.theme.title,
            description=s.theme.description,
            prose=renderer.markdown(s.prose, 3) if s.prose else None,
            papers=tuple(_paper_view(p, renderer, root, 4) for p in s.papers),
        )
        for s in view.sections
    )
    ids = dict(zip((label for label, _ in _HOOD_LABELS), HOOD_IDS, strict=True))
    hood = tuple(
        GroupView(
            f"hood-{ids.get(g.label, 'other')}",
            g.label,
            tuple(_paper_view(p, renderer, root, 4) for p in g.papers),
        )
        for g in view.under_the_hood
    )
    return {
        **base,
        "issue": _issue_summary(view, renderer, root, 2),
        "contents": _contents(view),
        "sections": sections,
        "under_the_hood": hood,
        "outlook": renderer.markdown(view.issue.outlook, 3) if view.issue.outlook else None,
    }


def topics_context(library: Library, renderer: Renderer) -> TopicsContext:
    base = renderer.base("topics/index.html", f"Topics — {library.config.title}", "topics")
    return {**base, "topics": tuple(_topic_summary(t, base["root"]) for t in library.topics)}


def topic_context(topic: Topic, renderer: Renderer) -> TopicContext:
    url = f"topics/{topic.theme.slug}/index.html"
    title = f"{topic.theme.title} — {renderer.library.config.title}"
    base = renderer.base(url, title, "topics", topic.theme.description)
    root = base["root"]
    issues = tuple(
        TopicIssueView(
            _issue_summary(group.issue, renderer, root, 3),
            tuple(_paper_view(p, renderer, root, 4) for p in group.papers),
        )
        for group in topic.issues
    )
    return {**base, "topic": _topic_summary(topic, root), "issues": issues}


def paper_context(entry: PaperEntry, renderer: Renderer) -> PaperContext:
    url = f"papers/{entry.id}/index.html"
    paper = entry.paper
    base = renderer.base(url, paper.title, "paper", paper.tagline or first_sentence(paper.summary))
    root = base["root"]
    data = citations.paper_page_json_ld(renderer.library, entry, base["page"].description)
    json_ld = Markup(citations.json_ld_text(data))  # <, > and & are escaped in the JSON
    base["page"] = replace(base["page"], og_type="article", json_ld=json_ld)
    view = renderer.library.issue_of[entry.id]
    return {
        **base,
        "paper": _paper_view(entry, renderer, root, 3),
        "issue": _issue_summary(view, renderer, root, 3),
        "bibtex": citations.bibtex(entry),
    }


def not_found_context(library: Library, renderer: Renderer) -> NotFoundContext:
    """404.html is served at any depth, so its links are root-relative: "/" plus the path of
    `base_url` ("/diffusion/" for https://x.github.io/diffusion), or "/" without one."""
    base = renderer.base("404.html", f"Page not found — {library.config.title}", "404")
    prefix = urlsplit(library.config.base_url).path.strip("/") if library.config.base_url else ""
    base["root"] = f"/{prefix}/" if prefix else "/"
    return {**base}


# ------------------------------------------------------------------ page builders


def home_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    yield renderer.page("index.html", "home.html", home_context(library, renderer))


def issue_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for view in library.issues:
        yield renderer.page(f"{view.slug}/index.html", "issue.html", issue_context(view, renderer))


def topic_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    yield renderer.page("topics/index.html", "topics.html", topics_context(library, renderer))
    for topic in library.topics:
        url = f"topics/{topic.theme.slug}/index.html"
        yield renderer.page(url, "topic.html", topic_context(topic, renderer))


def paper_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for paper_id in sorted(library.papers):
        entry = library.papers[paper_id]
        yield renderer.page(
            f"papers/{paper_id}/index.html", "paper.html", paper_context(entry, renderer)
        )


def not_found_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    yield renderer.page("404.html", "404.html", not_found_context(library, renderer))


PageBuilder = Callable[[Library, Renderer], Iterable[RenderedPage | None]]

PAGE_BUILDERS: list[PageBuilder] = [
    home_pages,
    issue_pages,
    topic_pages,
    paper_pages,
    not_found_pages,
]
"""The default site map. Later stages append builders here (feeds, search, sitemap)."""


def render_site(
    library: Library,
    templates: Templates,
    builders: Iterable[PageBuilder] | None = None,
    *,
    markdown: MarkdownStore | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic]]:
    """Every page of the site, sorted by url, and every problem met while rendering them.

    A page whose template fails is left out and reported; the others still render, so
    one run shows every broken template.
    """
    renderer = Renderer(templates, library, markdown_store=markdown)
    pages: dict[str, RenderedPage] = {}
    for builder in PAGE_BUILDERS if builders is None else builders:
        for page in builder(library, renderer):
            if page is None:
                continue
            if page.url in pages:
                renderer.diagnostics.append(
                    error(page.url, 1, 1, "E403", f"two pages would be written to {page.url}")
                )
            pages[page.url] = page
    return [pages[url] for url in sorted(pages)], renderer.diagnostics + renderer.failures()
