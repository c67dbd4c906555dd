"""Validate: `RawEntry` values → `PaperEntry`/`IssueEntry` values plus diagnostics.

Per file, pydantic checks the shape and every error's `loc` is mapped back to the line
and column the loader recorded; unknown themes are reported with a "did you mean", and
each cross-reference (`[[id]]`) of a Markdown field is noted with the line and column
of its `[[` for the checks across files (digest.cross_checks).
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from digest.diagnostics import (
    Diagnostic,
    character_position,
    did_you_mean,
    error,
    warning,
)
from digest.load import ISSUE_FILE, EntryKind, RawEntry, complete, load_file
from digest.markdown import cross_references
from digest.models import (
    Issue,
    Links,
    PackedPaper,
    Paper,
    SiteConfig,
    tuple_reduce,
)
from digest.values import CHARACTER_HINT, MATH_HINT, SLUG_PATTERN
from digest.yaml_nodes import Location, Position

# Custom error types raised by values.py and models.py, and the codes they report under.
CODE_BY_ERROR_TYPE = {
    "missing": "E101",
    "extra_forbidden": "E102",
    "invalid_date": "E104",
    "invalid_url": "E106",
    "invalid_slug": "E107",
    "invalid_arxiv": "E108",
    "invalid_doi": "E109",
    "forbidden_character": "E110",
    "invalid_math": "E111",
}

PLACEHOLDER_URL = re.compile(
    r"^https?://(www\.)?("
    r"example\.(com|org|net)"
    r"|github\.com/(your-?(repo|name|user|org|username)|username|user|owner|anonymous)(/|$)"
    r"|localhost|127\.0\.0\.1"
    r")|your[-_]?(repo|project|paper|link|url)|/todo\b|xxx",
    re.IGNORECASE,
)

_BOOL = TypeAdapter(bool)

TYPE_WORDS = {
    "string_type": "text",
    "list_type": "a list",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "bool_parsing": "true or false",
    "bool_type": "true or false",
}


def dotted(location: Location) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _fields_at(model: type[BaseModel], location: Location) -> list[str]:
    """Field names of the (sub)model that holds `location`, for 'did you mean' hints."""
    if location[:1] == ("links",) and model is Paper:
        return list(Links.model_fields)
    return list(model.model_fields)


def pydantic_diagnostics(
    raw: RawEntry, model: type[BaseModel], exc: ValidationError, skip: set[Location]
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, at the position of the offending key or value."""
    found: list[Diagnostic] = []
    for details in exc.errors(include_url=False):
        location: Location = tuple(details["loc"])
        if location in skip:
            continue
        found.append(_diagnostic_for(raw, model, details, location))
    return found


def _diagnostic_for(
    raw: RawEntry, model: type[BaseModel], details: ErrorDetails, location: Location
) -> Diagnostic:
    kind = details["type"]
    name = dotted(location)
    code = CODE_BY_ERROR_TYPE.get(kind, "E103")
    hint = None
    if kind == "missing":
        position = raw.position_of(location[:-1])
        message = f"missing required field '{name}'"
    elif kind == "extra_forbidden":
        position = raw.position_of(location, key=True)
        message = f"unknown field '{name}'"
        hint = did_you_mean(str(location[-1]), _fields_at(model, location))
    else:
        position = raw.position_of(location)
        message = _value_message(kind, name, details)
        if kind == "forbidden_character":
            position = _character_position(raw, location, details) or position
            hint = CHARACTER_HINT
        if kind == "invalid_math":
            position = (
                _character_position(raw, location, details)
                or _formula_position(raw, location, details)
                or position
            )
            hint = MATH_HINT
        if kind == "literal_error" and isinstance(details["input"], str):
            expected = details.get("ctx", {}).get("expected", "")
            hint = did_you_mean(details["input"], re.findall(r"'([^']+)'", expected))
    return error(raw.display_path, position.line, position.col, code, message, hint)


def _character_position(
    raw: RawEntry, location: Location, details: ErrorDetails
) -> Position | None:
    """Where the character a "forbidden_character" error (or the formula an "invalid_math"
    error) is about is written: the value's position plus its offset, followed through
    the source (`raw.text`, when kept)."""
    if not raw.text or location not in raw.values or not isinstance(details["input"], str):
        return None
    start = raw.values[location]
    offset = details.get("ctx", {}).get("offset", 0)
    lines = raw.text.splitlines()
    found = character_position(lines, start.line, start.col, details["input"], offset)
    return None if found is None else Position(*found)


def _formula_position(raw: RawEntry, location: Location, details: ErrorDetails) -> Position | None:
    """Where the formula of an "invalid_math" error is written when its offset cannot be
    followed through the source (a folded block, a quoted value over several lines): the
    first place after the value's start that holds its first line as written."""
    written = details.get("ctx", {}).get("written", "")
    if not raw.text or location not in raw.values or not written:
        return None
    start = raw.values[location]
    lines = raw.text.splitlines()
    for number in range(start.line, len(lines) + 1):
        after = start.col - 1 if number == start.line else 0
        found = lines[number - 1].find(written, after)
        if found >= 0:
            return Position(number, found + 1)
    return None


def _value_message(kind: str, name: str, details: ErrorDetails) -> str:
    if kind in TYPE_WORDS:
        found = details["input"]
        shape = (
            "a list"
            if isinstance(found, list)
            else "a mapping"
            if isinstance(found, dict)
            else "text"
        )
        if found is None:
            shape = "empty"
        elif isinstance(found, str) and kind.startswith("bool"):
            shape = f"'{found}'"
        return f"'{name}' must be {TYPE_WORDS[kind]}, not {shape}"
    if kind == "string_too_short":
        return f"'{name}' is empty"
    if kind == "too_short":
        return f"'{name}' needs at least one item"
    if kind == "literal_error":
        expected = details.get("ctx", {}).get("expected", "")
        return f"'{name}' must be one of {expected}, not '{details['input']}'"
    message = details["msg"]
    if kind in CODE_BY_ERROR_TYPE or kind in ("one_line", "repeated"):
        return f"'{name}': {message}"
    return f"'{name}': {message[0].lower()}{message[1:]}"


def _check_themes(raw: RawEntry, config: SiteConfig) -> tuple[list[Diagnostic], set[Location]]:
    """Unknown theme slugs, with a 'did you mean'. Returns the locations it reported."""
    slugs = config.theme_slugs
    found: list[Diagnostic] = []
    reported: set[Location] = set()
    if raw.kind == "paper":
        themes = raw.data.get("themes")
        named = (
            [((("themes", i)), t, False) for i, t in enumerate(themes) if isinstance(t, str)]
            if isinstance(themes, list)
            else []
        )
    else:
        prose = raw.data.get("themes")
        named = [(("themes", t), t, True) for t in prose] if isinstance(prose, dict) else []
    for location, slug, is_key in named:
        if slug in slugs:
            continue
        position = raw.position_of(location, key=is_key)
        hint = did_you_mean(slug, slugs) or f"configured themes: {', '.join(slugs)}"
        found.append(
            error(
                raw.display_path,
                position.line,
                position.col,
                "E105",
                f"unknown theme '{slug}'",
                hint,
            )
        )
        reported.add(location)
    return found, reported


def _paper_warnings(raw: RawEntry, paper: Paper) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    if not paper.authors:
        position = raw.position_of(("authors",)) if "authors" in raw.data else raw.position_of(())
        found.append(
            warning(
                raw.display_path,
                position.line,
                position.col,
                "W101",
                "no authors listed",
                hint="add 'authors: [First Author]' and 'et_al: true' when the list is incomplete",
            )
        )
    for kind, url in paper.links.items():
        if PLACEHOLDER_URL.search(url):
            position = raw.position_of(("links", kind))
            found.append(
                warning(
                    raw.display_path,
                    position.line,
                    position.col,
                    "W102",
                    f"'links.{kind}' looks like a placeholder: {url}",
                    hint="replace it with the real address, or remove it",
                )
            )
    return found


def validate_entry(
    raw: RawEntry, config: SiteConfig
) -> tuple[Paper | Issue | None, list[Diagnostic]]:
    """Validate one file on its own (themes against the config included)."""
    found, reported = _check_themes(raw, config)
    model: type[Paper] | type[Issue] = Issue if raw.kind == "issue" else Paper
    if raw.kind == "paper" and not re.fullmatch(SLUG_PATTERN, raw.stem):
        suggestion = re.sub(r"[^a-z0-9]+", "-", raw.stem.lower()).strip("-") or "paper"
        found.append(
            error(
                raw.display_path,
                1,
                1,
                "E107",
                f"'{raw.stem}' is not a valid paper id: the file name must use lowercase "
                "letters, digits and single hyphens",
                hint=f"rename the file to {suggestion}.yaml",
            )
        )
    try:
        value = model.model_validate(raw.data)
    except ValidationError as exc:
        # An unknown theme is already reported with a better message than "invalid slug".
        found.extend(pydantic_diagnostics(raw, model, exc, reported))
        return None, found
    if isinstance(value, Paper):
        found.extend(_paper_warnings(raw, value))
    has_errors = any(d.severity == "error" for d in found)
    return (None if has_errors else value), found


class CrossReferenceAt(NamedTuple):
    """A cross-reference of an entry: the field that holds it, the id it names, and the
    line and column of its `[[`."""

    field: str  # "summary", "themes.safety"
    id: str
    line: int
    col: int


class FileResult(NamedTuple):
    """One entry file checked on its own: all that the cross-file checks and later stages need.

    It holds no raw data, so it is small and can be kept in the store (digest.entry_results) or sent
    back from a worker process. `loaded` is False when the file could not be read or
    parsed; `diagnostics` then holds the one load error. A named tuple, as the entry
    cache keeps 10,000 of them (see digest.models' `tuple_reduce`).
    """

    folder: str
    shown: str  # display path
    kind: EntryKind
    stem: str
    loaded: bool
    value: Paper | PackedPaper | Issue | None  # packed as the entry cache keeps it
    diagnostics: tuple[Diagnostic, ...]
    references: tuple[tuple[str, str, int, int], ...] = ()  # (arxiv|doi, value, line, col)
    draft: bool = False  # an _issue.yaml that says `draft: true`, valid or not
    digest: str = ""  # of the file's bytes and display path: names the entry (digest.organise)
    cross_references: tuple[CrossReferenceAt, ...] = ()  # of a valid entry's Markdown

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple_reduce(self)


def check_entry(raw: RawEntry, config: SiteConfig) -> FileResult:
    """`validate_entry` plus where the paper's arXiv id and DOI sit (for the W103 check)."""
    value, found = validate_entry(raw, config)
    references: list[tuple[str, str, int, int]] = []
    if isinstance(value, Paper):
        for key, reference in (("arxiv", value.arxiv), ("doi", value.doi)):
            if reference is not None:
                position = raw.position_of((key,))
                references.append((key, reference, position.line, position.col))
    draft = raw.kind == "issue" and _says_draft(raw.data.get("draft"))
    return FileResult(
        raw.folder,
        raw.display_path,
        raw.kind,
        raw.stem,
        True,
        value,
        tuple(found),
        tuple(references),
        draft,
        cross_references=_cross_references(raw, value) if value is not None else (),
    )


def _markdown_fields(value: Paper | Issue) -> list[tuple[Location, str]]:
    """Each Markdown field of a checked entry, where it is written and its text."""
    if isinstance(value, Paper):
        return [(("summary",), value.summary)]
    found: list[tuple[Location, str]] = [(("intro",), value.intro)]
    found += [(("themes", slug), text) for slug, text in value.themes.items()]
    optional: list[tuple[Location, str | None]] = [
        (("outlook",), value.outlook),
        (("under_the_hood",), value.under_the_hood),
    ]
    return found + [(location, text) for location, text in optional if text is not None]


def _cross_references(raw: RawEntry, value: Paper | Issue) -> tuple[CrossReferenceAt, ...]:
    """The cross-references of the entry's Markdown fields, each where its `[[` is
    written. The model's text is the value with the whitespace around it stripped."""
    found: list[CrossReferenceAt] = []
    for location, text in _markdown_fields(value):
        if "[[" not in text:
            continue
        written = _raw_text(raw, location)
        lead = len(written) - len(written.lstrip()) if written is not None else 0
        for reference in cross_references(text):
            position = _text_position(raw, location, lead + reference.offset, reference.written)
            found.append(
                CrossReferenceAt(dotted(location), reference.id, position.line, position.col)
            )
    return tuple(found)


def _raw_text(raw: RawEntry, location: Location) -> str | None:
    """The text at `location` as the file holds it (before any whitespace is stripped)."""
    found: Any = raw.data
    for part in location:
        found = found.get(part) if isinstance(found, dict) else None
    return found if isinstance(found, str) else None


def _text_position(raw: RawEntry, location: Location, offset: int, written: str) -> Position:
    """Where the character `offset` characters into the text at `location` is written,
    `written` being what the text holds from there: followed through the source, or
    else the first place after the value's start that holds `written`, or else the
    value's start (the source is not kept, or the text is not found in it as written:
    an escape in a quoted value)."""
    start = raw.position_of(location)
    value = raw.values.get(location)
    if not raw.text or value is None:
        return start
    lines = raw.text.splitlines()
    text = _raw_text(raw, location)
    if text is not None:
        found = character_position(lines, value.line, value.col, text, offset)
        if found is not None and lines[found[0] - 1].startswith(written, found[1] - 1):
            return Position(*found)
    for number in range(value.line, len(lines) + 1):
        after = value.col - 1 if number == value.line else 0
        column = lines[number - 1].find(written, after)
        if column >= 0:
            return Position(number, column + 1)
    return start


def _says_draft(value: object) -> bool:
    """Whether an issue's `draft` value reads as true (as the model reads it), so that an
    issue with other mistakes is still known to be a draft."""
    try:
        return _BOOL.validate_python(value) is True
    except ValidationError:
        return False


def check_file(
    file: str | Path, root: Path, folder: str, config: SiteConfig, data: bytes | None = None
) -> FileResult:
    """Load and validate one entry file (`data`: its bytes, when already read).

    The file is composed without the positions of its values first (digest.yaml_nodes'
    `parse_plain`): they are needed only when there is something to report, and then
    it is composed again with them."""
    path = Path(file)
    loaded = load_file(path, root, folder, data, quick=True)
    if isinstance(loaded, RawEntry):
        checked = check_entry(loaded, config)
        if (checked.diagnostics or checked.cross_references) and loaded.partial:
            # The text stays, for E110 (and a cross-reference) to point at the character
            # itself; the positions of nested values (an issue's theme prose) are found.
            checked = check_entry(replace(complete(loaded), text=loaded.text), config)
        return checked
    kind: EntryKind = "issue" if path.name == ISSUE_FILE else "paper"
    return FileResult(folder, loaded.path, kind, path.stem, False, None, (loaded,))
