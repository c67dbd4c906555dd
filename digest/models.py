"""Models: what a valid paper, issue and site configuration are (pydantic v2).

Every model is frozen and forbids unknown keys, so a misspelt key is an error rather
than a silently dropped value. The loader hands over scalars as the strings the editor
wrote; these models turn them into types (booleans, dates) and reject what does not fit.
The rules a single value keeps, and the annotated types that carry them, are in
`values.py`. Custom checks raise `PydanticCustomError` with a stable type, which
`validate.py` maps to a diagnostic code.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from digest.diagnostics import WARNING_CODES
from digest.values import (
    ArxivId,
    Doi,
    Folder,
    IsoDate,
    Markdown,
    OneLine,
    Plain,
    Slug,
    TextList,
    Url,
    arxiv_url,
    doi_url,
)

CONTRIBUTIONS = ("architecture", "technique", "dataset", "benchmark")
Kind = Literal["architecture", "technique", "dataset", "benchmark"]
_KINDS_EXPECTED = "'architecture', 'technique', 'dataset' or 'benchmark'"  # as pydantic says it


def _strict(title: str) -> ConfigDict:
    return ConfigDict(frozen=True, extra="forbid", title=title, str_strip_whitespace=True)


def _check_code(code: str) -> str:
    """A key of `[tool.digest.checks]`: the code of a warning digest reports."""
    if code in WARNING_CODES:
        return code
    if not code.upper().startswith("W"):
        raise PydanticCustomError(
            "invalid_check",
            "'{code}' cannot be configured: only warnings (W...) have a level; errors always fail",
            {"code": code},
        )
    raise PydanticCustomError("unknown_check", "unknown check '{code}'", {"code": code})


CheckCode = Annotated[str, AfterValidator(_check_code)]


def _no_repeats(values: list[Listed]) -> list[Listed]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PydanticCustomError("repeated", "'{value}' is listed twice", {"value": value})
        seen.add(value)
    return values


Listed = TypeVar("Listed", bound=str)

# A list of contributions: each item checked where it is written (`contribution[1]`).
_KIND_LIST: TypeAdapter[list[Kind]] = TypeAdapter(
    Annotated[list[Kind], Field(min_length=1), AfterValidator(_no_repeats)]
)


def _check_contribution(value: Any) -> str | tuple[str, ...]:
    """One contribution, kept as written, or a list of them, as a tuple."""
    if isinstance(value, list):
        return tuple(_KIND_LIST.validate_python(value))
    if isinstance(value, str) and value in CONTRIBUTIONS:
        return value
    # The error pydantic gives a single `Literal` value, at the field itself.
    raise PydanticCustomError(
        "literal_error", "Input should be {expected}", {"expected": _KINDS_EXPECTED}
    )


def _contribution_data(value: str | tuple[str, ...]) -> str | list[str]:
    """The contribution as the entry writes it: one kind, or a list."""
    return value if isinstance(value, str) else list(value)


_KIND_SCHEMA = {"enum": list(CONTRIBUTIONS)}
Contribution = Annotated[
    str | tuple[str, ...],
    PlainValidator(_check_contribution),
    PlainSerializer(_contribution_data),
    WithJsonSchema(
        {
            "anyOf": [
                _KIND_SCHEMA,
                {"type": "array", "items": _KIND_SCHEMA, "minItems": 1, "uniqueItems": True},
            ]
        }
    ),
]


class Links(BaseModel):
    """Where to read more. `paper` defaults to arXiv or the DOI resolver (see `Paper.paper_url`)."""

    model_config = _strict("Links")

    paper: Url | None = None
    code: Url | None = None
    project: Url | None = None
    data: Url | None = None

    def items(self) -> list[tuple[str, str]]:
        """(kind, url) pairs in a fixed order, for templates and the link checker."""
        return [
            (kind, url)
            for kind in ("paper", "code", "project", "data")
            if (url := getattr(self, kind))
        ]


class Paper(BaseModel):
    """One paper: `entries/<YYYY-MM-DD>/<id>.yaml`."""

    model_config = _strict("Paper")

    title: OneLine
    short: OneLine | None = None
    label: OneLine | None = Field(
        None, description='The name "Under the hood" shows, when it is not `short`.'
    )
    authors: TextList = Field(default_factory=list, description="In paper order.")
    et_al: bool = Field(False, description="True when the author list is incomplete.")
    affiliations: TextList = Field(default_factory=list)
    themes: list[Slug] = Field(min_length=1, description="Configured theme slugs.")
    contribution: Contribution | None = Field(
        None, description='Its group under "Under the hood": one kind, or a list of them.'
    )
    tagline: OneLine | None = None
    links: Links = Field(default_factory=Links)
    arxiv: ArxivId | None = None
    doi: Doi | None = None
    published: IsoDate | None = None
    tags: TextList = Field(default_factory=list)
    summary: Markdown = Field(description="Markdown: what it does and why it matters.")

    @field_validator("themes", "tags")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        return _no_repeats(values)

    @property
    def contributions(self) -> tuple[str, ...]:
        """Its contributions in the order written: none, one, or the list."""
        found = self.contribution
        if found is None:
            return ()
        return (found,) if isinstance(found, str) else found

    @property
    def hood_label(self) -> str:
        """The name "Under the hood" shows: `label`, else `short`, else the title's part
        before a colon ("DM4CT" of "DM4CT: Benchmarking ..."), else the title."""
        before_colon = self.title.partition(":")[0].strip()
        return self.label or self.short or before_colon or self.title

    @property
    def paper_url(self) -> str | None:
        if self.links.paper:
            return self.links.paper
        if self.arxiv:
            return arxiv_url(self.arxiv)
        if self.doi:
            return doi_url(self.doi)
        return None


class Issue(BaseModel):
    """An issue's editorial text: `entries/<YYYY-MM-DD>/_issue.yaml`."""

    model_config = _strict("Issue")

    title: OneLine
    subject: OneLine = Field(description='Shown as "Latest N papers on <subject>".')
    intro: Markdown = Field(description="Markdown.")
    themes: dict[Slug, Markdown] = Field(
        default_factory=dict, description="Markdown shown at the top of each theme's section."
    )
    outlook: Markdown | None = Field(None, description='Markdown: "Impact & the road ahead".')
    under_the_hood: Markdown | None = Field(
        None, description='Markdown shown in place of the fixed intro of "Under the hood".'
    )
    draft: bool = Field(False, description="Drafts are built only with --drafts.")


class Theme(BaseModel):
    model_config = _strict("Theme")

    slug: Slug
    title: OneLine
    description: Plain = ""


DEFAULT_THEMES = (
    Theme(
        slug="acceleration",
        title="Acceleration",
        description="Faster sampling, training and inference.",
    ),
    Theme(slug="safety", title="Safety", description="Misuse, privacy, robustness and evaluation."),
    Theme(slug="medical", title="Medical", description="Medicine and health."),
    Theme(slug="theory", title="Theory", description="Why and when the methods work."),
)

ARXIV_API = "https://export.arxiv.org/api/query"
CROSSREF_API = "https://api.crossref.org/works"


class SiteConfig(BaseModel):
    """`[tool.digest]` in the content root's pyproject.toml; every key has a default."""

    model_config = _strict("SiteConfig")

    title: OneLine = "Research digest"
    description: Plain = ""
    base_url: Url | None = Field(None, description="Absolute URL the site is served from.")
    entries: Folder = "entries"
    templates: Folder = "templates"
    out: Folder = "site"
    themes: tuple[Theme, ...] = Field(DEFAULT_THEMES, min_length=1)
    contact: Plain | None = Field(
        None, description="E-mail named in the User-Agent of network requests."
    )
    arxiv_api: Url = ARXIV_API
    crossref_api: Url = CROSSREF_API
    # `digest check --links`: seconds to wait for a host, requests in flight overall and per
    # host, retries after 429/503 or a network error, seconds a result is reused (0: never).
    link_timeout: float = Field(10.0, gt=0)
    link_concurrency: int = Field(8, ge=1)
    link_per_host: int = Field(2, ge=1)
    link_retries: int = Field(2, ge=0)
    link_cache_ttl: float = Field(86400.0, ge=0)
    checks: dict[CheckCode, Literal["error", "warning", "ignore"]] = Field(
        default_factory=dict,
        description="Per-check levels: a warning code (e.g. W101) → error, warning or ignore.",
    )
    # The listings beyond the topics (docs/site.md): a page per tag and per author, each
    # linked from the cards and paper pages that name it, and how many papers a page of
    # a topic, tag or author listing shows.
    tag_pages: bool = Field(True, description="A page per tag, and tags linked to them.")
    author_pages: bool = Field(True, description="A page per author, and names linked to them.")
    page_size: int = Field(50, ge=1, description="Papers per page of a topic, tag or author.")

    @field_validator("themes")
    @classmethod
    def _unique_slugs(cls, themes: tuple[Theme, ...]) -> tuple[Theme, ...]:
        seen: set[str] = set()
        for theme in themes:
            if theme.slug in seen:
                raise PydanticCustomError(
                    "repeated", "theme '{slug}' is listed twice", {"slug": theme.slug}
                )
            seen.add(theme.slug)
        return themes

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @property
    def theme_slugs(self) -> list[str]:
        return [theme.slug for theme in self.themes]


def tuple_reduce(self: tuple[Any, ...]) -> tuple[Any, ...]:
    """`__reduce__` of the named tuples the entry cache keeps by the ten thousand: each is
    unpickled by `tuple.__new__`, in C, where a dataclass gets a dict of its own and a
    named tuple's own `__new__` is Python (loading 10,000 entries: 0.054 to 0.038 s)."""
    return (tuple.__new__, (type(self), tuple(self)))


def markdown_texts(value: object) -> list[str]:
    """The Markdown fields of a checked entry (a `Paper` or an `Issue`), as pages show them."""
    if isinstance(value, Paper):
        return [value.summary]
    if isinstance(value, Issue):
        optional = [value.outlook, value.under_the_hood]
        return [value.intro, *value.themes.values(), *filter(None, optional)]
    return []


class PackedPaper(NamedTuple):
    """A `Paper` as the entry cache keeps it: the model pickled, beside the fields every
    build sorts and groups papers by. A rebuild after an edit reads 10,000 entries
    from the cache and shows few of them in full: unpickling every model was most of
    its loading time, so a model is unpacked when it is first read (`PaperEntry.paper`).
    """

    data: bytes
    title: str
    themes: tuple[str, ...]
    contributions: tuple[str, ...]
    hood_label: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple_reduce(self)

    @classmethod
    def of(cls, paper: Paper) -> PackedPaper:
        data = pickle.dumps(paper, protocol=pickle.HIGHEST_PROTOCOL)
        outline = (paper.title, tuple(paper.themes), paper.contributions, paper.hood_label)
        return cls(data, *outline, tuple(paper.authors), tuple(paper.tags))

    def unpack(self) -> Paper:
        paper = pickle.loads(self.data)
        if not isinstance(paper, Paper):
            raise TypeError(f"a packed paper holds a {type(paper).__name__}")
        return paper


@dataclass(frozen=True, eq=False)
class PaperEntry:
    """A valid paper and where it came from: its id is the file name, its issue the folder.

    `stored` is the paper, or the entry cache's `PackedPaper` of it; `paper` is the
    model either way, and `outline` gives its title, themes, contributions, "Under the
    hood" label, authors and tags without unpacking it. Two entries are equal when they
    hold the same paper, packed or not.
    """

    id: str
    issue_date: date
    stored: Paper | PackedPaper
    source: str
    digest: str = ""  # its file's content and path (digest.entry_results), "" when unknown

    @cached_property
    def paper(self) -> Paper:
        stored = self.stored
        return stored if isinstance(stored, Paper) else stored.unpack()

    @property
    def outline(self) -> Paper | PackedPaper:
        return self.stored

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PaperEntry):
            return NotImplemented
        mine = (self.id, self.issue_date, self.source, self.paper)
        return mine == (other.id, other.issue_date, other.source, other.paper)

    __hash__ = None  # type: ignore[assignment]  # equal by content, like the model


@dataclass(frozen=True)
class IssueEntry:
    date: date
    issue: Issue
    source: str
    digest: str = ""  # its file's content and path (digest.entry_results), "" when unknown
