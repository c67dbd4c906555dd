"""Scaffold: the YAML text of a new paper entry (and of a new issue), and reading it back.

`digest new` writes files an editor then finishes by hand, so the text carries short
comments saying what each field is for and what is still to do. What a metadata service
cannot know is left so that `digest check` points at it: the title and summary of a blank
entry are empty, and `themes` holds the placeholder `choose-a-theme`, which check reports
as an unknown theme with the configured ones as the hint. An imported abstract is only a
starting point and is marked for rewriting; a `[[` in it is escaped (`[\\[`), so that it
is shown as written and not read as a cross-reference to another paper.

Every value is written as a YAML double-quoted scalar (JSON string syntax is valid there,
and what YAML would read as a line break or refuse is escaped), so any title, name or
link round-trips through the loader unchanged. Before anything is written, each file's
text is read back with digest's own loader and must hold exactly the values meant, and
those must pass the entry checks (the blanks left for the editor aside): a value from a
service can never add a key. `new_entries.py` writes the files.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from digest.load import ISSUE_FILE, RawEntry, load_file
from digest.markdown import math_problems
from digest.metadata import Metadata, Source, clean_text
from digest.models import SiteConfig
from digest.validate import validate_entry

THEME_PLACEHOLDER = "choose-a-theme"
WRAP = 88


# What a YAML reader refuses written as it is, or reads as a line break (NEL, LS, PS) or a
# byte order mark; JSON leaves these as they are, so they are escaped as \uXXXX.
_UNSAFE_IN_YAML = re.compile(
    "[^\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def quoted(text: str) -> str:
    """A YAML double-quoted scalar holding exactly `text`, whatever characters it has."""
    return _UNSAFE_IN_YAML.sub(
        lambda found: f"\\u{ord(found.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


def _block(text: str, indent: str = "  ") -> str:
    """Paragraphs as the body of a `|` block scalar, wrapped for reading (at spaces only,
    so joining each paragraph's lines with a space gives it back)."""
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n\n")):
        if number:
            lines.append("")
        wrapped = textwrap.wrap(
            paragraph, WRAP - len(indent), break_long_words=False, break_on_hyphens=False
        )
        lines.extend(indent + line for line in wrapped)
    return "\n".join(lines) + "\n"


def abstract_as_summary(abstract: str) -> str:
    """An abstract as a summary's Markdown: each `[` that follows a `[` escaped, so no
    `[[` starts a cross-reference (a backslash before the first would only escape it),
    and the dollars of each formula that cannot be made MathML escaped, so it shows as
    written instead of failing the entry (E111): the editor rewrites the summary anyway."""
    text = re.sub(r"(?<=\[)\[", r"\\[", abstract)
    for _ in range(MAX_MATH_PASSES):
        problems = math_problems(text)
        if not problems:
            break
        for problem in reversed(problems):
            at, source = problem.offset, problem.source
            if text.startswith(source, at):
                text = text[:at] + source.replace("$", "\\$") + text[at + len(source) :]
    return text


MAX_MATH_PASSES = 3  # escaping a formula can change how the next dollars pair up


def _unwrapped(text: str) -> str:
    """A block scalar's paragraphs as `_block` was given them."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip("\n").split("\n\n"))


def _string_list(key: str, values: Sequence[str]) -> str:
    return f"{key}:\n" + "".join(f"  - {quoted(value)}\n" for value in values)


@dataclass(frozen=True)
class Draft:
    """The text of one new entry, what the editor must still do in it, and the values its
    text is meant to hold (as the loader reads them: scalars as strings)."""

    text: str
    todo: tuple[str, ...]
    meant: dict[str, Any] = field(default_factory=dict)


def paper_text(metadata: Metadata | None, themes: Sequence[str], config: SiteConfig) -> Draft:
    """The commented YAML of a new paper entry, prefilled from `metadata` when given."""
    todo: list[str] = []
    meant: dict[str, Any] = {}
    configured = ", ".join(config.theme_slugs)
    out = []
    if metadata is None:
        out.append(
            "# A new paper entry. Fill in the fields marked TODO, then run `digest check`.\n"
        )
        out.append('title: ""  # TODO: the paper\'s title (required)\n')
        out.append("# short: Name  # optional short name for compact lists\n")
        out.append("authors: []  # TODO: in paper order, e.g. [Ada Lovelace, Alan Turing]\n")
        out.append("# et_al: true  # set when the author list is incomplete\n")
        out.append("# affiliations: [University of Somewhere]\n")
        meant.update(title="", authors=[])
        todo += ["title: the paper's title", "authors: the authors, in paper order"]
    else:
        out.append(
            f"# Imported from {_origin(metadata.source)} by `digest new`; check every field.\n"
        )
        out.append(f"title: {quoted(metadata.title)}\n")
        meant["title"] = metadata.title
        out.append("# short: Name  # optional short name for compact lists\n")
        meant["authors"] = list(metadata.authors)
        if metadata.authors:
            out.append(_string_list("authors", metadata.authors))
        else:
            out.append(
                "authors: []  # TODO: the service lists no authors; add them in paper order\n"
            )
            todo.append("authors: the service lists none")
        out.append("# et_al: true  # set when the author list is incomplete\n")
        if metadata.affiliations:
            out.append(_string_list("affiliations", metadata.affiliations))
            meant["affiliations"] = list(metadata.affiliations)
        else:
            out.append("# affiliations: [University of Somewhere]  # none given by the service\n")
    if themes:
        out.append(f"themes: [{', '.join(themes)}]  # configured: {configured}\n")
        meant["themes"] = list(themes)
    else:
        out.append(f"# TODO: pick one or more themes: {configured}\n")
        out.append(f"themes: [{THEME_PLACEHOLDER}]\n")
        meant["themes"] = [THEME_PLACEHOLDER]
        todo.append(f"themes: pick one or more of {configured}")
    out.append("# contribution: technique  # architecture | technique | dataset | benchmark\n")
    out.append('# tagline: "One line for the Under the hood list."\n')
    if metadata is not None:
        out.append(_reference_fields(metadata, meant))
    else:
        out.append(
            "# links:\n#   paper: https://arxiv.org/abs/2401.12345\n#   code: https://github.com/owner/repo\n"
        )
        out.append('# arxiv: "2401.12345"\n# doi: 10.1000/xyz123\n# published: 2026-01-31\n')
    out.append("# tags: [keyword, another-keyword]\n")
    if metadata is not None and metadata.abstract:
        out.append(
            "# TODO: REWRITE. Below is the authors' abstract, as a starting point only: a digest\n"
        )
        out.append("# summary says in our own words what the paper does and why it matters.\n")
        summary = abstract_as_summary(metadata.abstract)
        out.append("summary: |\n" + _block(summary))
        meant["summary"] = summary
        todo.append("summary: the authors' abstract; rewrite it in your own words")
    else:
        out.append(
            'summary: ""  # TODO: Markdown; what the paper does and why it matters (required)\n'
        )
        meant["summary"] = ""
        todo.append("summary: what the paper does and why it matters")
    return Draft("".join(out), tuple(todo), meant)


def _origin(source: Source) -> str:
    return f"arXiv {source.value}" if source.kind == "arxiv" else f"Crossref (DOI {source.value})"


def _reference_fields(metadata: Metadata, meant: dict[str, Any]) -> str:
    out = []
    if metadata.paper_url:
        out.append(f"links:\n  paper: {quoted(metadata.paper_url)}\n")
        out.append("  # code: https://github.com/owner/repo\n  # project: https://...\n")
        meant["links"] = {"paper": metadata.paper_url}
    else:
        out.append("# links:\n#   code: https://github.com/owner/repo\n")
    if metadata.arxiv:
        out.append(f"arxiv: {quoted(metadata.arxiv)}\n")
        meant["arxiv"] = metadata.arxiv
    if metadata.doi:
        out.append(f"doi: {quoted(metadata.doi)}\n")
        meant["doi"] = metadata.doi
    if metadata.published:
        out.append(f"published: {metadata.published.isoformat()}\n")
        meant["published"] = metadata.published.isoformat()
    elif metadata.partial_date:
        out.append(
            f"# published: {metadata.partial_date}  # the service gives no full date; "
            "write YYYY-MM-DD if you know it\n"
        )
    if metadata.journal_ref:
        out.append(f"# appeared in: {clean_text(metadata.journal_ref)}\n")
    return "".join(out)


def issue_text(day: date, subject: str | None) -> Draft:
    """The commented YAML of a new issue's `_issue.yaml`; a draft until the editor says so."""
    subject_line = (
        f'subject: {quoted(subject)}  # shown as "Latest N papers on <subject>"\n'
        if subject
        else 'subject: ""  # TODO: shown as "Latest N papers on <subject>"\n'
    )
    text = (
        f"# The issue of {day.isoformat()}: editorial text; Markdown in intro, themes, outlook.\n"
        'title: ""  # TODO: the issue\'s headline\n'
        + subject_line
        + 'intro: ""  # TODO: a few paragraphs introducing the issue (Markdown)\n'
        "# themes:  # optional: Markdown shown at the top of a theme's section\n"
        "#   acceleration: |\n"
        "#     ...\n"
        '# outlook: |  # optional: "Impact & the road ahead"\n'
        "#   ...\n"
        "draft: true  # drafts are built only with --drafts; set to false to publish\n"
    )
    todo = ("title, subject and intro; draft: false to publish",)
    return Draft(text, todo, {"title": "", "subject": subject or "", "intro": "", "draft": "true"})


# ---------------------------------------------------------------- reading a draft back


class DraftRefused(Exception):
    """The text made for an entry does not hold what was meant, or would not pass check."""


_LEFT_BLANK = ("title", "subject", "intro", "summary")  # for the editor; check reports them


def check_draft(draft: Draft, kind: str, config: SiteConfig, folder: str = "") -> None:
    """Read `draft.text` back as `digest check` will, or raise DraftRefused: it must hold
    exactly `draft.meant`, and pass the entry checks once the blanks left for the editor
    (an empty title or summary, the theme placeholder) are filled in."""
    name = ISSUE_FILE if kind == "issue" else "draft.yaml"
    try:
        data = draft.text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DraftRefused(f"the entry cannot be written as UTF-8 ({exc.reason})") from None
    loaded = load_file(Path(folder, name), Path("."), folder, data)
    if not isinstance(loaded, RawEntry):
        raise DraftRefused(f"the entry would not read back ({loaded.message})")
    difference = _first_difference(draft.meant, loaded.data)
    if difference is not None:
        raise DraftRefused(f"the entry would not read back as written ('{difference}' differs)")
    filled = dict(loaded.data)
    for key in _LEFT_BLANK:
        if filled.get(key) == "":
            filled[key] = "To do."
    if filled.get("themes") == [THEME_PLACEHOLDER]:
        filled["themes"] = config.theme_slugs[:1]
    _, found = validate_entry(dataclasses.replace(loaded, data=filled), config)
    problems = [d for d in found if d.severity == "error"]
    if problems:
        raise DraftRefused(f"the entry would not pass check ({problems[0].message})")


def _first_difference(meant: dict[str, Any], read: dict[str, Any]) -> str | None:
    """The first key whose value `read` does not hold as meant (the summary unwrapped)."""
    for key in sorted(meant.keys() | read.keys()):
        if key not in meant or key not in read:
            return key
        value = read[key]
        if key == "summary" and isinstance(value, str):
            value = _unwrapped(value)
        if value != meant[key]:
            if isinstance(value, dict) and isinstance(meant[key], dict):
                return f"{key}.{_first_difference(meant[key], value)}"
            return key
    return None
