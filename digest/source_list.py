"""Source list: what `digest new` is asked to create, from its arguments and `--from-file`.

A `--from-file` list holds one `SOURCE` or `ID SOURCE` per line (an arXiv id or a DOI, as
`--from` takes it), each optionally followed by `theme=SLUG` words; `#` starts a comment.
`digest harvest` writes such lists. Every problem of a file is reported at once, one
`file:line:col: ...` line each, before anything is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from digest.diagnostics import did_you_mean
from digest.metadata import Source, parse_source


@dataclass(frozen=True)
class Request:
    """One entry to create: an id (None: derive it from the title), an optional source,
    and the themes its line in a --from-file list gives it."""

    id: str | None
    source: Source | None
    themes: tuple[str, ...] = ()


def requests_from(
    paper_id: str | None,
    sources: Sequence[str],
    source_file: Path | None,
    theme_slugs: Sequence[str] | None = None,
) -> list[Request]:
    """What `digest new` was asked for; ValueError with a usage message when it cannot be done.

    A file of sources holds one `SOURCE` or `ID SOURCE` per line, each optionally with
    `theme=SLUG` words (checked against `theme_slugs` when given); `#` starts a comment.
    Every problem of the file is in the message, one `file:line:col: ...` line each.
    """
    wanted = [Request(None, parse_source(text)) for text in sources]
    if source_file is not None:
        try:
            lines = source_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"cannot read {source_file}: {exc}") from None
        problems: list[str] = []
        for number, line in enumerate(lines, start=1):
            try:
                request = _request_line(line, theme_slugs)
            except _LineProblem as problem:
                problems.append(f"{source_file}:{number}:{problem.col}: {problem}")
                continue
            if request is not None:
                wanted.append(request)
        if problems:
            raise ValueError("\n".join(problems))
    if not wanted:
        if paper_id is None:
            raise ValueError("give the new paper's ID, or --from/--from-file to import one")
        return [Request(paper_id, None)]
    if paper_id is not None:
        if len(wanted) > 1:
            raise ValueError(
                "an ID names one entry: leave it out to import several (ids come from the "
                "titles), or write 'ID SOURCE' lines in --from-file"
            )
        return [Request(paper_id, wanted[0].source)]
    return wanted


class _LineProblem(ValueError):
    def __init__(self, message: str, col: int) -> None:
        super().__init__(message)
        self.col = col


def _request_line(line: str, theme_slugs: Sequence[str] | None) -> Request | None:
    """One line of a --from-file list (None for a blank or comment line)."""
    words: list[re.Match[str]] = []
    themes: list[str] = []
    for word in re.finditer(r"[^\s#]+", line.split("#", 1)[0]):
        if not word.group().startswith("theme="):
            words.append(word)
            continue
        slug, col = word.group()[len("theme=") :], word.start() + len("theme=") + 1
        if not slug:
            raise _LineProblem("'theme=' names no theme: write theme=SLUG", col)
        if theme_slugs is not None and slug not in theme_slugs:
            hint = did_you_mean(slug, theme_slugs) or f"configured: {', '.join(theme_slugs)}"
            raise _LineProblem(f"unknown theme '{slug}'; {hint}", col)
        if slug not in themes:
            themes.append(slug)
    if not words:
        if themes:
            raise _LineProblem("a theme without a source: write 'ID SOURCE theme=SLUG'", 1)
        return None
    if len(words) > 2:
        raise _LineProblem(
            "write one 'SOURCE' or 'ID SOURCE' per line, then any 'theme=SLUG'",
            words[2].start() + 1,
        )
    try:
        source = parse_source(words[-1].group())
    except ValueError as exc:
        raise _LineProblem(str(exc), words[-1].start() + 1) from None
    paper_id = words[0].group() if len(words) == 2 else None
    return Request(paper_id, source, tuple(themes))
