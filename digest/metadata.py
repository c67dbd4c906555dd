r"""Metadata: what the arXiv API (Atom XML) and Crossref (JSON) say about a paper, cleaned up.

Pure functions, no network: `importer.py` fetches the answers, this module reads them.
Every way an answer can be unusable (arXiv's `Error` entry, an empty feed, a record
for another paper, malformed XML or JSON) raises `ImportFailure` with a sentence an
editor can act on. Titles and abstracts lose their hard line breaks, LaTeX-ish breaks
(`\\`, `\newline`) and markup; arXiv's indented lines start new paragraphs.

An answer is not trusted: every value a `Metadata` holds is checked for its field when
it is made (a DOI is a DOI, a URL an http(s) URL, a text one line without control
characters), a document with a DTD is refused wherever the DTD sits, and dates are read
only within the calendar.
"""

from __future__ import annotations

import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, fields
from datetime import MAXYEAR, date
from typing import Any, Literal
from urllib.parse import urlsplit

from digest.values import DOI, FORBIDDEN_CHARACTER, arxiv_problem, doi_url, looks_like_arxiv

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"

Kind = Literal["arxiv", "doi"]


class ImportFailure(Exception):
    """One source could not be imported; the message is for the editor."""


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    kind: Kind
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_source(text: str) -> Source:
    """`arxiv:2401.12345`, `doi:10.1000/x`, or the bare id, DOI or their usual URLs.

    Raises ValueError with a usage message for anything else.
    """
    raw = text.strip()
    lowered = raw.lower()
    for prefix in ("arxiv:", "https://arxiv.org/abs/", "http://arxiv.org/abs/"):
        if lowered.startswith(prefix):
            raw, lowered = raw[len(prefix) :], "arxiv-id"
            break
    for prefix in ("doi:", "https://doi.org/", "http://doi.org/", "https://dx.doi.org/"):
        if lowered.startswith(prefix):
            raw, lowered = raw[len(prefix) :], "doi"
            break
    if lowered != "doi" and looks_like_arxiv(raw):
        problem = arxiv_problem(raw)
        if problem is not None:
            raise ValueError(problem)
        return Source("arxiv", raw)
    if lowered != "arxiv-id" and is_doi(raw):
        return Source("doi", raw)
    raise ValueError(
        f"'{text}' is neither an arXiv id nor a DOI "
        "(write arxiv:2401.12345, arxiv:hep-th/9901001 or doi:10.1000/xyz123)"
    )


# ---------------------------------------------------------------- what an import yields


@dataclass(frozen=True)
class Metadata:
    """What a service knows about one paper, cleaned up for an entry."""

    source: Source
    title: str
    authors: tuple[str, ...] = ()
    affiliations: tuple[str, ...] = ()
    published: date | None = None
    partial_date: str | None = None  # "2024-03" when the service gives no day
    arxiv: str | None = None
    doi: str | None = None
    paper_url: str | None = None
    abstract: str | None = None
    journal_ref: str | None = None

    def __post_init__(self) -> None:
        """Refuse a value that is not what its field holds: it came from a service."""
        for field in fields(self):
            value = getattr(self, field.name)
            values = value if isinstance(value, tuple) else (value,)
            for one in values:
                if isinstance(one, str) and not _fits(field.name, one):
                    service = "the arXiv API" if self.source.kind == "arxiv" else "Crossref"
                    name = {"doi": "DOI", "paper_url": "paper link"}.get(field.name, field.name)
                    what = _WHAT.get(field.name, "a line of text")
                    raise ImportFailure(
                        f"{service}'s record of {self.source} gives {one!r} as its {name}, "
                        f"which is not {what}"
                    )


_WHAT = {
    "doi": "a DOI",
    "arxiv": "an arXiv id",
    "paper_url": "an http(s) URL",
    "partial_date": "a year or a month (YYYY or YYYY-MM)",
    "abstract": "text",
}


def is_doi(value: str) -> bool:
    """A DOI as an entry holds it: the entries' pattern, in full, of visible characters."""
    return bool(DOI.fullmatch(value)) and value.isprintable()


def _fits(name: str, value: str) -> bool:
    if name == "doi":
        return is_doi(value)
    if name == "arxiv":
        return arxiv_problem(value) is None
    if name == "paper_url":
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and _visible(value)
    if name == "partial_date":
        return re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", value) is not None
    if name == "abstract":  # paragraphs, each one line of text
        return all(clean_text(p) == p for p in value.split("\n\n"))
    return clean_text(value) == value  # the source's value, a title, a name, a venue


def _visible(text: str) -> bool:
    return text.isprintable() and " " not in text


_LATEX_BREAK = re.compile(r"\\\\(\[[^\]]*\])?|\\newline\b|\\linebreak\b")
_TAG = re.compile(r"<[^>]+>")


def clean_text(text: str) -> str:
    """One line: LaTeX-ish line breaks, control characters (and the other characters no
    text may hold, digest.values' FORBIDDEN_CHARACTER) and runs of whitespace become single
    spaces."""
    text = FORBIDDEN_CHARACTER.sub(" ", _LATEX_BREAK.sub(" ", text))
    text = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Co", "Zl", "Zp") else c for c in text
    )
    return re.sub(r"\s+", " ", text).strip()


def clean_paragraphs(text: str) -> list[str]:
    """An abstract as paragraphs: arXiv starts a new paragraph on an indented line."""
    text = text.replace("\r\n", "\n").strip("\n")
    parts = re.split(r"\n\s*\n|\n(?=[ \t]+\S)", text)
    return [cleaned for part in parts if (cleaned := clean_text(part))]


# ---------------------------------------------------------------- arXiv


def _strip_version(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id)


def _parse_xml(body: str, what: str) -> ET.Element:
    # The API never sends a DTD; refusing one keeps entity expansion out of reach. A DTD
    # may follow comments of any length, so the whole document is searched.
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        raise ImportFailure(f"{what} sent a document with a DTD, which digest does not read")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise ImportFailure(f"{what} sent malformed XML ({exc})") from None


def _text(element: ET.Element | None) -> str:
    return clean_text("".join(element.itertext())) if element is not None else ""


def arxiv_feed(body: str, asked: str) -> ET.Element:
    """An arXiv API answer's Atom feed, or ImportFailure: malformed, not a feed, or
    arXiv's `Error` entry saying why it refused what was `asked` (for the message)."""
    root = _parse_xml(body, "the arXiv API")
    if root.tag != f"{ATOM}feed":
        raise ImportFailure("the arXiv API sent XML that is not an Atom feed")
    for entry in root.findall(f"{ATOM}entry"):
        if _text(entry.find(f"{ATOM}id")).startswith(
            ("http://arxiv.org/api/errors", "https://arxiv.org/api/errors")
        ):
            reason = _text(entry.find(f"{ATOM}summary")) or "no reason given"
            raise ImportFailure(f"the arXiv API refused {asked}: {reason}")
    return root


@dataclass(frozen=True)
class FeedEntry:
    """One paper of an arXiv search answer: its id as listed (with its version), its
    primary category, and a feed of that entry alone, as the API answers `id_list=ID`."""

    arxiv: str
    category: str | None
    feed: str


_CATEGORY = re.compile(r"[a-z-]+(\.[A-Za-z-]+)?")


def arxiv_entries(root: ET.Element) -> tuple[list[FeedEntry], int | None]:
    """The papers of an arXiv search feed (from `arxiv_feed`) and the number of results
    the whole search has (None when the feed does not say)."""
    found = []
    for entry in root.findall(f"{ATOM}entry"):
        arxiv = _arxiv_id(entry)
        if arxiv_problem(arxiv) is not None:
            raise ImportFailure(
                f"the arXiv API listed {arxiv!r} as a paper's id, which is not an arXiv id"
            )
        primary = entry.find(f"{ARXIV}primary_category")
        term = primary.get("term", "") if primary is not None else ""
        category = term if _CATEGORY.fullmatch(term) else None
        single = ET.Element(f"{ATOM}feed")
        ET.SubElement(single, f"{OPENSEARCH}totalResults").text = "1"
        single.append(entry)
        found.append(FeedEntry(arxiv, category, ET.tostring(single, encoding="unicode")))
    total = _text(root.find(f"{OPENSEARCH}totalResults"))
    return found, int(total) if total.isdigit() and len(total) < 10 else None


def parse_arxiv(body: str, source: Source) -> Metadata:
    """The one paper in an arXiv API feed, or the reason there is none."""
    root = arxiv_feed(body, str(source))
    entries = root.findall(f"{ATOM}entry")
    total = _text(root.find(f"{OPENSEARCH}totalResults"))
    wanted = _strip_version(source.value)
    found = [
        e
        for e in entries
        if _strip_version(_arxiv_id(e)) == wanted and _text(e.find(f"{ATOM}title"))
    ]
    if not found:
        if total == "0" or not entries:
            raise ImportFailure(f"arXiv has no paper {source.value}")
        raise ImportFailure(f"the arXiv API answered for {source} but not with that paper")
    entry = found[0]
    authors = tuple(_text(a.find(f"{ATOM}name")) for a in entry.findall(f"{ATOM}author"))
    affiliations: list[str] = []
    for author in entry.findall(f"{ATOM}author"):
        for affiliation in author.findall(f"{ARXIV}affiliation"):
            name = _text(affiliation)
            if name and name not in affiliations:
                affiliations.append(name)
    summary = entry.find(f"{ATOM}summary")
    abstract = (
        "\n\n".join(clean_paragraphs("".join(summary.itertext()))) if summary is not None else ""
    )
    published = _text(entry.find(f"{ATOM}published"))[:10]
    doi = _text(entry.find(f"{ARXIV}doi")) or None
    return Metadata(
        source=source,
        title=_text(entry.find(f"{ATOM}title")),
        authors=tuple(a for a in authors if a),
        affiliations=tuple(affiliations),
        published=_date(published),
        arxiv=source.value,
        doi=doi if doi and is_doi(doi) else None,  # authors sometimes write two, or prose
        paper_url=f"https://arxiv.org/abs/{source.value}",
        abstract=abstract or None,
        journal_ref=_text(entry.find(f"{ARXIV}journal_ref")) or None,
    )


def _arxiv_id(entry: ET.Element) -> str:
    return re.sub(r"^https?://arxiv\.org/abs/", "", _text(entry.find(f"{ATOM}id")))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# ---------------------------------------------------------------- Crossref


def parse_crossref(body: str, source: Source) -> Metadata:
    """A Crossref `/works/{doi}` answer → metadata; partial dates and missing fields allowed."""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ImportFailure(f"Crossref sent malformed JSON ({exc})") from None
    except RecursionError:
        raise ImportFailure("Crossref sent malformed JSON (nested too deeply)") from None
    if not isinstance(document, dict) or document.get("status") != "ok":
        raise ImportFailure(f"Crossref did not return a record for {source}")
    work = document.get("message")
    if not isinstance(work, dict):
        raise ImportFailure(f"Crossref's answer for {source} holds no 'message'")
    title = clean_text(_TAG.sub(" ", " ".join(_strings(work.get("title")))))
    if not title:
        raise ImportFailure(f"Crossref's record of {source} has no title")
    authors: list[str] = []
    affiliations: list[str] = []
    for person in _list(work.get("author")):
        if not isinstance(person, dict):
            continue
        given, family = (
            clean_text(_string(person.get("given"))),
            clean_text(_string(person.get("family"))),
        )
        name = clean_text(f"{given} {family}") or clean_text(_string(person.get("name")))
        if name:
            authors.append(name)
        for place in _list(person.get("affiliation")):
            place_name = clean_text(_string(place.get("name"))) if isinstance(place, dict) else ""
            if place_name and place_name not in affiliations:
                affiliations.append(place_name)
    published, partial = _crossref_date(work)
    abstract = work.get("abstract")
    paragraphs = (
        [clean_text(_TAG.sub(" ", p)) for p in re.split(r"</jats:p>|</p>", abstract)]
        if isinstance(abstract, str)
        else []
    )
    doi = str(work.get("DOI") or source.value)  # refused by Metadata if it is not a DOI
    container = clean_text(" ".join(_strings(work.get("container-title"))))
    return Metadata(
        source=source,
        title=title,
        authors=tuple(authors),
        affiliations=tuple(affiliations),
        published=published,
        partial_date=partial,
        doi=doi,
        paper_url=doi_url(doi) if is_doi(doi) else None,
        abstract="\n\n".join(p for p in paragraphs if p) or None,
        journal_ref=container or None,
    )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _string(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _crossref_date(work: dict[str, Any]) -> tuple[date | None, str | None]:
    """(full date, None), or (None, "2024-03") when every date stops at a month or a year.

    The first full date wins, in the order a reader means by "when it appeared".
    """
    partial: str | None = None
    for key in ("published-online", "published-print", "published", "issued"):
        value = work.get(key)
        parts = value.get("date-parts") if isinstance(value, dict) else None
        first = parts[0] if isinstance(parts, list) and parts and isinstance(parts[0], list) else []
        numbers = _date_parts(first)
        if len(numbers) >= 3:
            try:
                return date(numbers[0], numbers[1], numbers[2]), None
            except ValueError:
                continue
        if numbers and partial is None:
            partial = "-".join(f"{n:02d}" if i else f"{n:04d}" for i, n in enumerate(numbers[:2]))
    return None, partial


def _date_parts(parts: list[Any]) -> list[int]:
    """Year, month and day, or as many as are given; [] when one is not a number within
    the calendar (a record may say 99999999999)."""
    numbers = parts[:3]
    for number, limit in zip(numbers, (MAXYEAR, 12, 31), strict=False):
        if type(number) is not int or not 1 <= number <= limit:
            return []
    return numbers
