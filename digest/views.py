"""Views: the values templates show, shaped for reading (digest.pages and
digest.listing_pages build contexts).

View objects are already shaped for reading (author lines with each name linked to its
page, relative URLs, HTML of the Markdown fields), so templates only loop and branch. A
`Views` object belongs to one build and memoises what several pages share: a paper's
view per (paper, root, heading level) (a paper shows on its issue page, its topic pages
and its own page), an issue's summary and a paper's BibTeX record. The values of the
tag and author listings are digest.listing_views'. Markdown goes through
digest.markdown, which parses each distinct text once; its cross-references are made
links for the page being made (`Views.place`, digest.xrefs).
Nothing here knows about Jinja.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypedDict

from markupsafe import Markup

from digest import citations, permalinks, wording, xrefs
from digest.hashing import combine
from digest.listing_views import NameLink, author_line, name_links
from digest.markdown import html_at
from digest.models import Paper, PaperEntry
from digest.organise import IssueView, Library, entry_digest
from digest.store import Store
from digest.values import arxiv_url, doi_url


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
    tag_pages: bool = True  # whether tags have pages: the navigation links their index
    author_pages: bool = True


@dataclass(frozen=True)
class PageInfo:
    url: str  # the output path, e.g. "topics/index.html"
    title: str  # the document <title>
    description: str
    canonical: str | None  # absolute, only when base_url is configured
    # "home", "issue", "topics", "tags", "authors", "paper" or "404": the current nav item
    section: str
    og_type: str = "website"  # OpenGraph type: "article" on digest and paper pages
    json_ld: Markup | None = None  # schema.org JSON-LD (digest.citations), digest and paper pages


@dataclass(frozen=True)
class PaperView:
    id: str
    anchor: str  # the id of its card, "paper-<id>", on any page that shows one
    title: str
    name: str  # the short name where there is one, else the title
    url: str
    authors: str  # "Bowen Cui et al."
    authors_full: str
    author_links: tuple[NameLink, ...]  # `authors`, each name linked to its page
    author_links_full: tuple[NameLink, ...]  # `authors_full`, the same way
    tag_links: tuple[NameLink, ...]  # its tags, each linked to its page; () without tag pages
    affiliations: str
    tagline: str | None
    one_liner: str  # the tagline, else the summary's first sentence
    summary_markdown: str
    summary_heading: int  # the level the summary's shallowest heading is shown at
    links: tuple[Link, ...]
    themes: tuple[Link, ...]
    contribution: str | None
    arxiv: str | None
    arxiv_url: str | None
    doi: str | None
    doi_url: str | None
    published: str | None
    published_iso: str | None
    keywords: str  # the tags, comma-separated
    issue_date: str
    issue_date_iso: str
    issue_url: str
    # Makes cross-references links for the page being rendered (`Views.resolve`).
    resolve: Callable[[str], str] = field(compare=False, repr=False)
    entry: PaperEntry | None = field(default=None, compare=False, repr=False)

    @cached_property
    def citation(self) -> Markup | None:
        """The citation line (digest.citations), made only where a page shows it (the
        paper's own page); None without authors."""
        return citations.citation_html(self.entry) if self.entry is not None else None

    @property
    def summary(self) -> Markup:
        """The summary as HTML, made only when a page shows it (listings show one line)."""
        return Markup(self.resolve(html_at(self.summary_markdown, self.summary_heading)))


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
    intro_markdown: str
    intro_heading: int  # the level the intro's shallowest heading is shown at
    draft: bool
    # Makes cross-references links for the page being rendered (`Views.resolve`).
    resolve: Callable[[str], str] = field(compare=False, repr=False)

    @property
    def intro(self) -> Markup:
        """The intro as HTML, made only when a page shows it (topic pages do not)."""
        return Markup(self.resolve(html_at(self.intro_markdown, self.intro_heading)))


@dataclass(frozen=True)
class AlsoView:
    """A paper whose card is in another section of the page: "also in this issue"."""

    title: str
    url: str  # its card, "#paper-<id>"
    section: str  # the title of the section that holds its card


@dataclass(frozen=True)
class SectionView:
    id: str
    title: str
    description: str
    prose: Markup | None
    papers: tuple[PaperView, ...]  # the papers whose card is in this section
    also: tuple[AlsoView, ...]


@dataclass(frozen=True)
class HoodLine:
    """One line of "Under the hood": "DPCache (github.com/argsss/DPCache, paper): …"."""

    label: str
    url: str  # the paper's card on the issue page
    links: tuple[Link, ...]  # the code, as its short address, then the paper
    name: str  # the paper's name, for its links' accessible names
    one_liner: str  # without a leading repetition of the label
    # In the groups that name where a line comes from: the paper's title (None when it is
    # the label itself) and "Bowen Cui et al., Alibaba Group" ("" when neither is known).
    title: str | None
    attribution: str


@dataclass(frozen=True)
class GroupView:
    id: str
    label: str
    lines: tuple[HoodLine, ...]


@dataclass(frozen=True)
class ContentsItem:
    id: str
    label: str
    count: int | None  # a theme's papers shown in full in its section; None for none
    theme: bool = True  # a theme's section, not "Under the hood" or the outlook


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
class Card:
    """One paper of a long listing (a topic page). `{{ card }}` is its HTML, as the listing
    macro renders its view (digest.render) or as the store kept it (a topic page lists
    thousands of papers, and an edit changes one or two); `card.paper` is the view, for
    a template that lays the paper out itself."""

    entry: PaperEntry
    root: str
    top_heading: int
    views: Views

    @property
    def paper(self) -> PaperView:
        return self.views.paper(self.entry, self.root, self.top_heading)

    def __html__(self) -> str:
        return self.views.card_html(self)


@dataclass(frozen=True)
class TopicIssueView:
    issue: IssueSummary
    cards: tuple[Card, ...]


class BaseContext(TypedDict):
    site: SiteView
    root: str
    page: PageInfo


# ------------------------------------------------------------------ the build's memo


@dataclass
class Views:
    """The views of one build's library, each made once and shared by every page.

    With a `store`, the pieces that are costly to make and shown on many pages (a
    paper's BibTeX record, its card in a listing) are kept there between builds, each
    under the digests of what it shows."""

    library: Library
    store: Store | None = None
    site_key: str = ""  # the tool, settings and templates (digest.build)
    render_card: Callable[[PaperView], str] | None = None  # set by digest.render
    _papers: dict[tuple[str, str, int], PaperView] = field(default_factory=dict)
    _issues: dict[tuple[str, str, int], IssueSummary] = field(default_factory=dict)
    _articles: dict[str, str] = field(default_factory=dict)  # schema.org JSON, by paper id
    _card_places: dict[str, str] = field(default_factory=dict)  # the start of `card_keys`
    theme_titles: dict[str, str] = field(init=False)  # slug → title, of the configured themes
    # The page being made (set by `base`, which every page's context starts with): where
    # its Markdown's cross-references lead.
    place: xrefs.Place = field(default=xrefs.Place("./"), init=False)

    def __post_init__(self) -> None:
        self.theme_titles = {theme.slug: theme.title for theme in self.library.config.themes}

    def _piece(self, key: str, make: Callable[[], str]) -> str:
        """The text `make()` returns, kept in the store under `key`."""
        if self.store is None:
            return make()
        found = self.store.get(key)
        if found is not None:
            return found.decode("utf-8")
        text = make()
        self.store.put(key, text.encode("utf-8"))
        return text

    def markdown(self, text: str, top_heading: int = 1) -> Markup:
        return Markup(self.resolve(html_at(text, top_heading)))

    def resolve(self, html: str) -> str:
        """`html` with its cross-references made links for the page being made."""
        return xrefs.resolve(html, self.library, self.place)

    def paper(self, entry: PaperEntry, root: str, top_heading: int) -> PaperView:
        key = (entry.id, root, top_heading)
        found = self._papers.get(key)
        if found is None:
            found = self._papers[key] = _paper_view(entry, self, root, top_heading)
        return found

    def card(self, entry: PaperEntry, root: str, top_heading: int) -> Card:
        return Card(entry, root, top_heading, self)

    def card_html(self, card: Card) -> str:
        """The card's HTML, drawn once for each place a paper is shown at."""
        render = self.render_card
        if render is None:
            raise RuntimeError("cards are rendered by digest.render's Renderer")
        [key] = self.card_keys([card.entry], card.root, card.top_heading)
        return self._piece(key, lambda: render(card.paper))

    def card_keys(self, entries: Iterable[PaperEntry], root: str, top_heading: int) -> list[str]:
        """Where the store keeps each paper's card as drawn at this depth and heading
        level. A topic page kept as it is names its cards (digest.render's `keeps`), tens
        of thousands in a build, so a key is a digest of the place and the entry's."""
        place = f"{root}:{top_heading}"
        prefix = self._card_places.get(place)
        if prefix is None:
            names = self.library.names_digest  # the slugs its tag and author links lead to
            prefix = self._card_places[place] = f"card:{combine(self.site_key, place, names)}:"
        return [prefix + entry_digest(entry) for entry in entries]

    def page_done(self) -> None:
        """Forget the paper views: a page's root and heading level are its own, so a
        paper's view is shared within a page (an issue's sections and "Under the hood")
        and never across pages; keeping them would only hold memory."""
        self._papers.clear()

    def issue_summary(self, view: IssueView, root: str, top_heading: int) -> IssueSummary:
        key = (view.slug, root, top_heading)
        found = self._issues.get(key)
        if found is None:
            found = self._issues[key] = _issue_summary(view, self, root, top_heading)
        return found

    def bibtex(self, entry: PaperEntry) -> str:
        return self.bibtex_records([entry])[0]

    def bibtex_records(self, entries: Iterable[PaperEntry]) -> list[str]:
        """Each paper's BibTeX record ("" when it cannot be cited), read from the store
        in one go: a bibliography of 10,000 papers asks for them all."""
        papers = list(entries)
        keys = self.bibtex_keys(papers)
        stored = self.store.get_many(keys) if self.store is not None else {}
        records = []
        for key, entry in zip(keys, papers, strict=True):
            if key in stored:
                records.append(stored[key].decode("utf-8"))
                continue
            text = citations.citable_bibtex(entry)
            if self.store is not None:
                self.store.put(key, text.encode("utf-8"))
            records.append(text)
        return records

    @staticmethod
    def bibtex_keys(entries: Iterable[PaperEntry]) -> list[str]:
        """Where the store keeps each paper's BibTeX record (it depends on the entry only)."""
        return [f"bibtex:{entry_digest(entry)}" for entry in entries]

    def article(self, entry: PaperEntry) -> str:
        """The paper's schema.org data (citations.article_text), on its page and its issue's."""
        found = self._articles.get(entry.id)
        if found is None:
            found = self._articles[entry.id] = citations.article_text(entry)
        return found

    def base(self, url: str, title: str, section: str, description: str = "") -> BaseContext:
        config = self.library.config
        canonical_path = url.removesuffix("index.html")
        canonical = f"{config.base_url}/{canonical_path}" if config.base_url else None
        self.place = xrefs.page_place(self.library, url, page_root(url))
        site = SiteView(
            config.title, config.description, config.base_url, config.tag_pages, config.author_pages
        )
        return {
            "site": site,
            "root": page_root(url),
            "page": PageInfo(url, title, description or config.description, canonical, section),
        }


# ------------------------------------------------------------------ shared views


def hood_line(entry: PaperEntry, url: str, attributed: bool) -> HoodLine:
    """The paper's line in an "Under the hood" group; `url` leads to its card."""
    paper = entry.paper
    return HoodLine(
        label=paper.hood_label,
        url=url,
        links=tuple(Link(text, target) for text, target in wording.hood_links(paper)),
        name=paper.short or paper.title,
        one_liner=wording.hood_one_liner(paper),
        title=paper.title if attributed and paper.title != paper.hood_label else None,
        attribution=wording.attribution(paper) if attributed else "",
    )


def paper_links(paper: Paper) -> tuple[Link, ...]:
    """The paper itself (arXiv, DOI or its own address) first, then code, project, data."""
    return tuple(Link(label, url) for label, url in wording.labelled_links(paper))


def _paper_view(entry: PaperEntry, views: Views, root: str, top_heading: int) -> PaperView:
    paper = entry.paper
    contributions = paper.contributions
    titles = views.theme_titles
    full = wording.authors_full(paper.authors, paper.et_al)
    library = views.library
    authors = name_links(paper.authors, library.authors, root, permalinks.author_path)
    return PaperView(
        id=entry.id,
        anchor=permalinks.card_anchor(entry.id),
        title=paper.title,
        name=paper.short or paper.title,
        url=root + permalinks.paper_path(entry.id),
        authors=wording.authors_short(paper.authors, paper.et_al),
        authors_full=full,
        author_links=author_line(authors, paper.et_al, short=True),
        author_links_full=author_line(authors, paper.et_al, short=False),
        # Without tag pages a card shows no tags (the paper's page lists them as text).
        tag_links=name_links(paper.tags, library.tags, root, permalinks.tag_path)
        if library.config.tag_pages
        else (),
        affiliations=wording.join_names(paper.affiliations),
        tagline=paper.tagline,
        one_liner=wording.one_liner(paper),
        summary_markdown=paper.summary,
        summary_heading=top_heading,
        links=paper_links(paper),
        themes=tuple(
            Link(titles[s], root + permalinks.topic_path(s)) for s in paper.themes if s in titles
        ),
        contribution=", ".join(wording.CONTRIBUTION_LABELS[kind] for kind in contributions) or None,
        arxiv=paper.arxiv,
        arxiv_url=arxiv_url(paper.arxiv) if paper.arxiv else None,
        doi=paper.doi,
        doi_url=doi_url(paper.doi) if paper.doi else None,
        published=wording.format_date(paper.published) if paper.published else None,
        published_iso=paper.published.isoformat() if paper.published else None,
        keywords=", ".join(paper.tags),
        issue_date=wording.format_date(entry.issue_date),
        issue_date_iso=entry.issue_date.isoformat(),
        issue_url=root + permalinks.issue_path(entry.issue_date),
        resolve=views.resolve,
        entry=entry,
    )


def _issue_summary(view: IssueView, views: Views, root: str, top_heading: int) -> IssueSummary:
    count = len(view.papers)
    when = wording.format_date(view.date)
    return IssueSummary(
        slug=view.slug,
        date=when,
        date_iso=view.slug,
        title=view.issue.title,
        subject=view.issue.subject,
        count=count,
        dek=wording.issue_dek(count, view.issue.subject, view.date),
        url=root + permalinks.issue_path(view.date),
        intro_markdown=view.issue.intro,
        intro_heading=top_heading,
        draft=view.issue.draft,
        resolve=views.resolve,
    )
