"""Models: what a valid paper, issue and site configuration are (pydantic v2).

Every model is frozen and forbids unknown keys, so a misspelt key is an error rather
than a silently dropped value. The loader hands over scalars as the strings the editor
wrote; these models turn them into types (booleans, dates) and reject what does not fit.
Custom checks raise `PydanticCustomError` with a stable type, which `validate.py` maps
to a diagnostic code.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal, NamedTuple
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from digest.diagnostics import WARNING_CODES

# Characters no text may hold: the C0 controls but tab, newline and carriage return, DEL
# and the C1 controls, lone surrogates and the Unicode noncharacters (U+FDD0 to U+FDEF and
# the last two code points of every plane). XML 1.0 cannot carry most of them at all, so
# one in a title would make every feed invalid, and none of them means anything in text.
# YAML and TOML refuse most of them written as they are, but make them from escapes in
# double quotes ("\x01", "\uFFFE").
_NONCHARACTERS = "".join(
    f"{chr(plane | 0xFFFE)}{chr(plane | 0xFFFF)}" for plane in range(0, 0x110000, 0x10000)
)
FORBIDDEN_CHARACTER = re.compile(
    rf"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]"
)
# The same rule for ASCII text, which nearly every value is: searching for its few
# controls is far faster than searching for the whole class above.
_FORBIDDEN_ASCII = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def character_problem(text: str) -> tuple[int, str] | None:
    """Where `text` holds a character no text may hold, and which one ("the control
    character U+0001"), or None: the one rule for entries and the site's settings."""
    found = (_FORBIDDEN_ASCII if text.isascii() else FORBIDDEN_CHARACTER).search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = (
        "lone surrogate"
        if 0xD800 <= code <= 0xDFFF
        else "noncharacter"
        if code >= 0xFDD0
        else "control character"
    )
    return found.start(), f"the {kind} U+{code:04X}"


CHARACTER_HINT = "remove it; in double quotes, an escape such as \\x1b or \\uFFFE makes one"


def _check_characters(value: Any) -> Any:
    """Before any other check of a text (so before whitespace is stripped): the offset
    goes with the error, for the diagnostic to point at the character itself."""
    if isinstance(value, str):
        problem = character_problem(value)
        if problem is not None:
            offset, character = problem
            raise PydanticCustomError(
                "forbidden_character",
                "{character} is not allowed",
                {"character": character, "offset": offset},
            )
    return value


SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ARXIV_NEW = re.compile(r"^\d{2}(0[1-9]|1[0-2])\.\d{4,5}(v[1-9]\d*)?$")
ARXIV_OLD = re.compile(r"^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}(v[1-9]\d*)?$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONTRIBUTIONS = ("architecture", "technique", "dataset", "benchmark")


def _strict(title: str) -> ConfigDict:
    return ConfigDict(frozen=True, extra="forbid", title=title, str_strip_whitespace=True)


def _none_is_empty(value: Any) -> Any:
    """`authors:` with nothing after it means an empty list, not a type error."""
    return [] if value is None else value


def _check_slug(value: str) -> str:
    if not re.match(SLUG_PATTERN, value):
        raise PydanticCustomError(
            "invalid_slug",
            "'{value}' is not a valid slug: use lowercase letters, digits and single hyphens",
            {"value": value},
        )
    return value


def _check_one_line(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise PydanticCustomError("one_line", "must be a single line")
    return value


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise PydanticCustomError(
            "invalid_url",
            "'{value}' is not an absolute http(s) URL",
            {"value": value},
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError:
        raise PydanticCustomError(
            "invalid_url",
            "'{value}' has a port outside 0-65535",
            {"value": value},
        ) from None
    return value


def arxiv_problem(value: str) -> str | None:
    """Why `value` is not an arXiv id (None when it is one): the one rule for entries and
    imports alike. New-style ids are YYMM.NNNN from 0704 (April 2007) to 1412 and
    YYMM.NNNNN from 1501 on; old-style ids, archive/YYMMNNN, ran from 9108 to 0703."""
    new_style = ARXIV_NEW.match(value)
    if new_style is not None:
        month, number = value[:4], value[5:].partition("v")[0]
        if month < "0704":
            return (
                f"'{value}' is not an arXiv id: new-style ids start at 0704 (April 2007); "
                "older ones look like hep-th/0601001"
            )
        if month <= "1412" and len(number) != 4:
            return (
                f"'{value}' is not an arXiv id: ids from 0704 to 1412 have 4 digits after the dot"
            )
        if month >= "1501" and len(number) != 5:
            return (
                f"'{value}' is not an arXiv id: ids from 1501 (January 2015) on have 5 digits "
                "after the dot"
            )
        return None
    old_style = ARXIV_OLD.match(value)
    if old_style is not None:
        month = value.partition("/")[2][:4]
        if "0703" < month < "9108":
            return (
                f"'{value}' is not an arXiv id: old-style ids ran from 9108 to 0703; "
                "newer ones look like 2401.12345"
            )
        return None
    return (
        f"'{value}' is not an arXiv id "
        "(new style 2401.12345 or 2401.12345v2, old style hep-th/9901001)"
    )


def looks_like_arxiv(value: str) -> bool:
    """Written the way arXiv ids are (YYMM.NNNNN, archive/YYMMNNN), valid or not."""
    return bool(ARXIV_NEW.match(value) or ARXIV_OLD.match(value))


def _check_arxiv(value: str) -> str:
    problem = arxiv_problem(value)
    if problem is None:
        return value
    bare = re.sub(r"^(arxiv:|https?://arxiv\.org/(abs|pdf)/)", "", value, flags=re.IGNORECASE)
    if bare != value and arxiv_problem(bare) is None:
        raise PydanticCustomError(
            "invalid_arxiv", "write the bare arXiv id: '{bare}'", {"bare": bare}
        )
    raise PydanticCustomError("invalid_arxiv", "{problem}", {"problem": problem})


def _check_doi(value: str) -> str:
    bare = re.sub(r"^(doi:|https?://(dx\.)?doi\.org/)", "", value, flags=re.IGNORECASE)
    if bare != value and DOI.match(bare):
        raise PydanticCustomError("invalid_doi", "write the bare DOI: '{bare}'", {"bare": bare})
    if not DOI.match(value):
        raise PydanticCustomError(
            "invalid_doi",
            "'{value}' is not a DOI (they look like 10.1000/xyz123)",
            {"value": value},
        )
    return value


def read_date(text: str) -> date:
    """A date written YYYY-MM-DD that exists (2026-02-30 does not): the one rule for dates
    in entries, issue folder names and `digest new --issue`. ValueError says why not,
    as the end of a sentence that starts with the text: "is not a real date (...)"."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError("is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"is not a real date ({exc})") from None


def _parse_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_date", "'{value}' is not a date written YYYY-MM-DD", {"value": value}
        )
    try:
        return read_date(value)
    except ValueError as exc:
        raise PydanticCustomError(
            "invalid_date", "'{value}' {reason}", {"value": value, "reason": str(exc)}
        ) from None


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
# Every text of an entry or a setting is one of these types, so every one is checked by
# `character_problem` (a NUL in a folder name, which os functions refuse, included).
Plain = Annotated[str, BeforeValidator(_check_characters)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), BeforeValidator(_check_characters)
]
OneLine = Annotated[Text, AfterValidator(_check_one_line)]
Folder = Text  # a path from the content root
Slug = Annotated[
    str, AfterValidator(_check_slug), WithJsonSchema({"type": "string", "pattern": SLUG_PATTERN})
]
Url = Annotated[
    str,
    AfterValidator(_check_url),
    BeforeValidator(_check_characters),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]
ArxivId = Annotated[
    str,
    AfterValidator(_check_arxiv),
    # YAML tooling reads an unquoted 2401.12340 as a number; digest reads it as written.
    WithJsonSchema({"type": ["string", "number"], "description": "arXiv id, e.g. 2401.12345"}),
]
Doi = Annotated[
    str,
    AfterValidator(_check_doi),
    BeforeValidator(_check_characters),
    WithJsonSchema({"type": "string", "pattern": r"^10\."}),
]
IsoDate = Annotated[
    date, BeforeValidator(_parse_date), WithJsonSchema({"type": "string", "format": "date"})
]
TextList = Annotated[list[Text], BeforeValidator(_none_is_empty)]


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
    authors: TextList = Field(default_factory=list, description="In paper order.")
    et_al: bool = Field(False, description="True when the author list is incomplete.")
    affiliations: TextList = Field(default_factory=list)
    themes: list[Slug] = Field(min_length=1, description="Configured theme slugs.")
    contribution: Literal["architecture", "technique", "dataset", "benchmark"] | None = None
    tagline: OneLine | None = None
    links: Links = Field(default_factory=Links)
    arxiv: ArxivId | None = None
    doi: Doi | None = None
    published: IsoDate | None = None
    tags: TextList = Field(default_factory=list)
    summary: Text = Field(description="Markdown: what it does and why it matters.")

    @field_validator("themes", "tags")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        seen: set[str] = set()
        for value in values:
            if value in seen:
                raise PydanticCustomError("repeated", "'{value}' is listed twice", {"value": value})
            seen.add(value)
        return values

    @property
    def paper_url(self) -> str | None:
        if self.links.paper:
            return self.links.paper
        if self.arxiv:
            return f"https://arxiv.org/abs/{self.arxiv}"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return None


class Issue(BaseModel):
    """An issue's editorial text: `entries/<YYYY-MM-DD>/_issue.yaml`."""

    model_config = _strict("Issue")

    title: OneLine
    subject: OneLine = Field(description='Shown as "Latest N papers on <subject>".')
    intro: Text = Field(description="Markdown.")
    themes: dict[Slug, Text] = Field(
        default_factory=dict, description="Markdown shown at the top of each theme's section."
    )
    outlook: Text | None = Field(None, description='Markdown: "Impact & the road ahead".')
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
        return [value.intro, *value.themes.values(), *filter(None, [value.outlook])]
    return []


class PackedPaper(NamedTuple):
    """A `Paper` as the entry cache keeps it: the model pickled, beside the three fields
    every build sorts and groups papers by. A rebuild after an edit reads 10,000 entries
    from the cache and shows few of them in full: unpickling every model was most of
    its loading time, so a model is unpacked when it is first read (`PaperEntry.paper`).
    """

    data: bytes
    title: str
    themes: tuple[str, ...]
    contribution: str | None

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple_reduce(self)

    @classmethod
    def of(cls, paper: Paper) -> PackedPaper:
        data = pickle.dumps(paper, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(data, paper.title, tuple(paper.themes), paper.contribution)

    def unpack(self) -> Paper:
        paper = pickle.loads(self.data)
        if not isinstance(paper, Paper):
            raise TypeError(f"a packed paper holds a {type(paper).__name__}")
        return paper


@dataclass(frozen=True, eq=False)
class PaperEntry:
    """A valid paper and where it came from: its id is the file name, its issue the folder.

    `stored` is the paper, or the entry cache's `PackedPaper` of it; `paper` is the
    model either way, and `outline` gives its title, themes and contribution without
    unpacking it. Two entries are equal when they hold the same paper, packed or not.
    """

    id: str
    issue_date: date
    stored: Paper | PackedPaper
    source: str

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
