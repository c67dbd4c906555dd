"""Values: the rules a single value must keep, shared by entries, settings and imports.

The characters no text may hold, absolute http(s) URLs, slugs, dates written YYYY-MM-DD,
arXiv ids and DOIs (and their addresses), Markdown whose math converts to MathML, and
the annotated string types built from them that the models in `models.py` declare their
fields with. A check raises `PydanticCustomError` with a stable type, which `validate.py`
maps to a diagnostic code; the plain functions (`character_problem`, `read_date`,
`arxiv_problem`) serve the readers of settings, folder names and imports.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

from digest.markdown import math_problems
from digest.wording import plural

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


MATH_HINT = "fix the TeX, or write \\$ for a dollar sign that is not math"
_SHOWN_MATH = 60  # characters of a formula a message quotes


def _check_math(value: Any) -> Any:
    """Each formula of a Markdown text must convert to MathML (digest.markdown parses the
    text, as the pages will). One error per text, at its first bad formula, counting the
    others; the offset is in the text as written, before whitespace is stripped, for the
    diagnostic to point at the formula's first dollar."""
    if not isinstance(value, str) or "$" not in value:
        return value
    problems = math_problems(value.strip())
    if not problems:
        return value
    first = problems[0]
    shown = first.source
    if len(shown) > _SHOWN_MATH:
        shown = shown[: _SHOWN_MATH - 1] + "…"
    text = value.strip()
    others = len(problems) - 1
    more = f" ({plural(others, 'other formula')} in this text cannot either)" if others else ""
    raise PydanticCustomError(
        "invalid_math",
        "the formula {math} cannot be converted to MathML: {problem}{more}",
        {
            "math": shown,
            "problem": first.problem,
            "more": more,
            "offset": len(value) - len(value.lstrip()) + first.offset,
            # Its first line as written, to find it where the offset cannot be followed.
            "written": text[first.offset :].split("\n", 1)[0][: len(first.source)],
        },
    )


SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
ARXIV_NEW = re.compile(r"^\d{2}(0[1-9]|1[0-2])\.\d{4,5}(v[1-9]\d*)?$")
ARXIV_OLD = re.compile(r"^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}(v[1-9]\d*)?$")
DOI = re.compile(r"^10\.\d{4,9}/\S+$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def arxiv_url(arxiv: str) -> str:
    """The arXiv id's abstract page."""
    return f"https://arxiv.org/abs/{arxiv}"


def doi_url(doi: str) -> str:
    """The DOI's address at the resolver: a DOI may hold `#`, `?`, `%` or `<`, which an
    address must percent-encode (the resolver decodes them)."""
    return f"https://doi.org/{quote(doi, safe='/:;()')}"


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


# Every text of an entry or a setting is one of these types, so every one is checked by
# `character_problem` (a NUL in a folder name, which os functions refuse, included).
Plain = Annotated[str, BeforeValidator(_check_characters)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), BeforeValidator(_check_characters)
]
OneLine = Annotated[Text, AfterValidator(_check_one_line)]
# Markdown fields: text whose math is checked (after its characters: the last runs first).
Markdown = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1),
    BeforeValidator(_check_math),
    BeforeValidator(_check_characters),
]
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
