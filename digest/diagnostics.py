"""Diagnostics: the one shape every problem takes, and the three ways to print them.

Stages return `Diagnostic` values instead of logging, so a run can gather every
problem of every file and report them together, sorted, in a form editors and CI
parse (`path:line:col: severity[code]: message`).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Literal

from digest.wording import plural

OutputFormat = Literal["text", "json", "github"]

# Every warning digest reports, by code: the checks `[tool.digest.checks]` can set to
# "error", "warning" or "ignore". (Errors cannot be lowered, so they have no level.)
WARNING_CODES: Mapping[str, str] = {
    "W101": "paper without authors",
    "W102": "placeholder link",
    "W103": "the same arXiv id or DOI in two entries",
    "W120": "base_url is not set",
    "W501": "a link permanently redirects",
    "W502": "a link could not be checked (the host limits requests)",
}


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One problem at one place. `line` and `col` are 1-based."""

    path: str
    line: int
    col: int
    severity: Severity
    code: str
    message: str
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.col, self.code, self.message)


def error(
    path: str, line: int, col: int, code: str, message: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(path, line, col, Severity.ERROR, code, message, hint)


def warning(
    path: str, line: int, col: int, code: str, message: str, hint: str | None = None
) -> Diagnostic:
    return Diagnostic(path, line, col, Severity.WARNING, code, message, hint)


@dataclass
class Report:
    """Everything one command found, in any order; printed sorted.

    `levels` comes from `[tool.digest.checks]`: a warning's code mapped to "error"
    (fail the build), "warning" or "ignore". Errors cannot be lowered: invalid content
    never reaches the site.
    """

    diagnostics: list[Diagnostic] = field(default_factory=list)
    levels: Mapping[str, str] = field(default_factory=dict)

    def extend(self, found: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(found)

    def effective(self) -> list[Diagnostic]:
        """The diagnostics with the configured levels applied."""
        if not self.levels:
            return self.diagnostics
        kept = []
        for d in self.diagnostics:
            level = self.levels.get(d.code)
            if level is None or d.severity is Severity.ERROR:
                kept.append(d)
            elif level != "ignore":
                kept.append(replace(d, severity=Severity(level)))
        return kept

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.effective() if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.effective() if d.severity is Severity.WARNING]

    def failed(self, strict: bool = False) -> bool:
        """True when the command must exit 1: any error, or any warning under --strict."""
        return bool(self.errors) or (strict and bool(self.warnings))

    def sorted(self, strict: bool = False) -> list[Diagnostic]:
        """Diagnostics in path/line/col order; under --strict warnings become errors."""
        ordered = sorted(set(self.effective()), key=Diagnostic.sort_key)
        if not strict:
            return ordered
        return [
            Diagnostic(d.path, d.line, d.col, Severity.ERROR, d.code, d.message, d.hint)
            for d in ordered
        ]


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest of `choices`, or None when nothing is close."""
    options = list(choices)
    lowered = {choice.lower(): choice for choice in options}
    if word.lower() in lowered:
        return f"did you mean '{lowered[word.lower()]}'?"
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


# Escapes in double-quoted YAML and TOML strings that are longer than a backslash and
# one letter: \x41, \u0041, \U00000041. Every escape makes one character.
_ESCAPE_LENGTHS = {"x": 4, "u": 6, "U": 10}


def character_position(
    lines: list[str], line: int, col: int, value: str, offset: int
) -> tuple[int, int] | None:
    """Where the character `offset` characters into `value` is written, when `value` was
    written at `line`:`col` (1-based) of a YAML or TOML source (`lines`); None when that
    cannot be told, e.g. for a folded block or beyond the first line of a quoted value.

    A plain value and one in quotes are followed along their first line (an escape such
    as \x01 is one character of the value); a literal block (`|`) line by line."""
    if not 0 < line <= len(lines):
        return None
    text, i = lines[line - 1], col - 1
    if text[i : i + 1] == "|":
        if not re.fullmatch(r"\|[+-]?\s*(#.*)?", text[i:].rstrip()):
            return None  # an explicit indentation indicator, or not a block at all
        before = value[:offset]
        row = line + before.count("\n")
        if row >= len(lines):
            return None
        indent = next((len(s) - len(s.lstrip(" ")) for s in lines[line:] if s.strip()), 0)
        return row + 1, indent + offset - (before.rfind("\n") + 1) + 1
    quote = text[i : i + 1] if text[i : i + 1] in ("'", '"') else ""
    if quote:
        if text[i + 1 : i + 3] == quote * 2:
            return None  # a TOML multi-line string
        i += 1
    seen = 0
    while i < len(text):
        step = 1
        if quote and text[i] == quote:
            if quote == '"' or text[i + 1 : i + 2] != "'":
                return None  # the value ends (or its line does) before the character
            step = 2  # '' is one ' in single quotes
        elif quote == '"' and text[i] == "\\":
            step = _ESCAPE_LENGTHS.get(text[i + 1 : i + 2], 2)
        if seen == offset:
            return line, i + 1
        seen += 1
        i += step
    return None


def summary_line(diagnostics: list[Diagnostic]) -> str:
    """`2 errors, 1 warning in 2 files`, or `no problems found`."""
    if not diagnostics:
        return "no problems found"
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    warnings = len(diagnostics) - errors
    files = len({d.path for d in diagnostics})
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')} in {plural(files, 'file')}"


def format_text(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{d.path}:{d.line}:{d.col}: {d.severity}[{d.code}]: {d.message}")
        if d.hint:
            lines.append(f"    hint: {d.hint}")
    return "\n".join(lines)


def format_json(diagnostics: list[Diagnostic]) -> str:
    errors = sum(d.severity is Severity.ERROR for d in diagnostics)
    document = {
        "diagnostics": [asdict(d) for d in diagnostics],
        "errors": errors,
        "warnings": len(diagnostics) - errors,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    # GitHub's workflow-command escaping: the message may not contain raw newlines.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions annotations: `::error file=…,line=…,col=…,title=…::message`."""
    lines = []
    for d in diagnostics:
        message = d.message if not d.hint else f"{d.message}\nhint: {d.hint}"
        properties = ",".join(
            [
                f"file={_escape_property(d.path)}",
                f"line={d.line}",
                f"col={d.col}",
                f"title={_escape_property(d.code)}",
            ]
        )
        lines.append(f"::{d.severity} {properties}::{_escape_data(message)}")
    return "\n".join(lines)


def render(diagnostics: list[Diagnostic], output_format: OutputFormat) -> str:
    """The whole printout of one command: diagnostics, then the summary line.

    JSON output is one document and carries its own counts, so no summary follows it.
    """
    if output_format == "json":
        return format_json(diagnostics)
    body = format_github(diagnostics) if output_format == "github" else format_text(diagnostics)
    return f"{body}\n{summary_line(diagnostics)}" if body else summary_line(diagnostics)
