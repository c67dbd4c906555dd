"""Scaffold: the YAML text of a new paper entry (and of a new issue), and writing it safely.

`digest new` writes files an editor then finishes by hand, so the text carries short
comments saying what each field is for and what is still to do. What a metadata service
cannot know is left so that `digest check` points at it: the title and summary of a blank
entry are empty, and `themes` holds the placeholder `choose-a-theme`, which check reports
as an unknown theme with the configured ones as the hint. An imported abstract is only a
starting point and is marked for rewriting.

Every value is written as a YAML double-quoted scalar (JSON string syntax is valid there,
and what YAML would read as a line break or refuse is escaped), so any title, name or
link round-trips through the loader unchanged. Before anything is written, each file's
text is read back with digest's own loader and must hold exactly the values meant, and
those must pass the entry checks (the blanks left for the editor aside): a value from a
service can never add a key. Files are staged beside their place and moved in only when
all of them could be; an existing entry is replaced only with `force`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from digest.diagnostics import did_you_mean
from digest.files import entry_files, stage, write_atomically
from digest.importer import Importer
from digest.load import ISSUE_FILE, RawEntry, display_path, load_file
from digest.metadata import ImportFailure, Metadata, Source, clean_text, parse_source
from digest.models import SLUG_PATTERN, SiteConfig
from digest.validate import validate_entry

THEME_PLACEHOLDER = "choose-a-theme"
STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "for", "and", "in", "to", "with", "via"})
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
        out.append("summary: |\n" + _block(metadata.abstract))
        meant["summary"] = metadata.abstract
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


def derive_id(title: str, taken: set[str]) -> str:
    """A paper id from a title: the system's name before a colon, else its first words."""
    head, colon, _ = title.partition(":")
    words = re.findall(r"[a-z0-9]+", head.lower()) if colon and len(head.split()) <= 3 else []
    if not words:
        words = [w for w in re.findall(r"[a-z0-9]+", title.lower()) if w not in STOP_WORDS][:4]
    while len(words) > 1 and len("-".join(words)) > 40:
        words.pop()
    base = "-".join(words)[:40].strip("-") or "paper"
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


# ---------------------------------------------------------------- creating the files


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


@dataclass
class Outcome:
    written: list[tuple[str, Draft | None]] = field(default_factory=list)  # (path, draft)
    errors: list[str] = field(default_factory=list)


def known_ids(entries_dir: Path) -> dict[str, tuple[str, Path]]:
    """Every paper id already used: id → (issue folder, file)."""
    return {
        path.stem: (folder, path)
        for folder, path in entry_files(entries_dir)
        if path.name != ISSUE_FILE and path.suffix == ".yaml"
    }


def latest_subject(entries_dir: Path, root: Path) -> str | None:
    """The subject of the newest issue, so a new issue starts with the same one."""
    issues = sorted((p for f, p in entry_files(entries_dir) if p.name == ISSUE_FILE), reverse=True)
    for path in issues:
        loaded = load_file(path, root, path.parent.name)
        if isinstance(loaded, RawEntry) and isinstance(loaded.data.get("subject"), str):
            return str(loaded.data["subject"])
    return None


def create_entries(
    root: Path,
    config: SiteConfig,
    day: date,
    requests: Sequence[Request],
    themes: Sequence[str],
    force: bool,
    importer: Importer | None,
) -> Outcome:
    """Fetch every source, read every file back, then write them all; on any failure,
    write nothing."""
    outcome = Outcome()
    entries_dir = root / config.entries
    issue_dir = entries_dir / day.isoformat()
    used = known_ids(entries_dir)
    folder = day.isoformat()
    for request in requests:
        if request.id is not None:
            outcome.errors.extend(_conflicts(request.id, folder, used, force, root))
    named = [r.id for r in requests if r.id is not None]
    for repeated in sorted({i for i in named if named.count(i) > 1}):
        outcome.errors.append(f"paper id '{repeated}' is given twice")
    if outcome.errors:
        return outcome
    fetched: list[Metadata | None] = []
    for request in requests:
        if request.source is None:
            fetched.append(None)
            continue
        assert importer is not None, "an importer is needed for --from"
        try:
            fetched.append(importer.fetch(request.source))
        except ImportFailure as failure:
            outcome.errors.append(f"{request.source}: {failure}")
    if outcome.errors:
        return outcome
    taken = {i for i, (f, _) in used.items() if not (force and f == folder)} | set(named)
    plan: list[tuple[Path, Draft]] = []
    issue_file = issue_dir / ISSUE_FILE
    if not issue_file.exists():
        try:
            subject = latest_subject(entries_dir, root)
            plan.append((issue_file, _issue_draft(day, subject, config)))
        except DraftRefused as refused:
            outcome.errors.append(f"{display_path(issue_file, root)}: {refused}")
    for request, metadata in zip(requests, fetched, strict=True):
        paper_id = request.id
        if paper_id is None:
            paper_id = derive_id(metadata.title if metadata else "paper", taken)
            taken.add(paper_id)
        path = issue_dir / f"{paper_id}.yaml"
        own = [*request.themes, *(t for t in themes if t not in request.themes)]
        draft = paper_text(metadata, own, config)
        try:
            check_draft(draft, "paper", config, folder)
        except DraftRefused as refused:
            origin = request.source or display_path(path, root)
            outcome.errors.append(f"{origin}: {refused}")
        plan.append((path, draft))
    if outcome.errors:
        return outcome
    try:
        write_all(issue_dir, [(path, draft.text) for path, draft in plan])
    except OSError as exc:
        where = display_path(exc.filename, root) if exc.filename else display_path(issue_dir, root)
        outcome.errors.append(f"cannot write {where}: {exc.strerror or exc}")
        return outcome
    for path, draft in plan:
        shown = display_path(path, root)
        outcome.written.append((shown, None if path == issue_file else draft))
    return outcome


def _issue_draft(day: date, subject: str | None, config: SiteConfig) -> Draft:
    """A new issue's draft; a subject (from the newest issue) that would not pass check is
    left for the editor to write."""
    folder = day.isoformat()
    draft = issue_text(day, subject)
    try:
        check_draft(draft, "issue", config, folder)
    except DraftRefused:
        draft = issue_text(day, None)
        check_draft(draft, "issue", config, folder)
    return draft


def write_all(folder: Path, files: Sequence[tuple[Path, str]]) -> None:
    """Write every file (all in `folder`, made if missing) or none of them.

    Each is staged beside its place first, then all are moved into place; if one cannot
    be, the ones already moved are put back as they were, and folders this call made are
    removed. An OSError names the file that could not be written in `filename`."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    staged: list[tuple[Path, Path]] = []
    moved: list[tuple[Path, bytes | None]] = []
    current = folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for current, text in files:
            staged.append((stage(current, text), current))
        for temporary, current in staged:
            previous = current.read_bytes() if current.is_file() else None
            os.replace(temporary, current)
            moved.append((current, previous))
    except OSError as exc:
        for path, previous in reversed(moved):
            with contextlib.suppress(OSError):
                if previous is None:
                    path.unlink()
                else:
                    write_atomically(path, previous)
        for temporary, _ in staged:
            with contextlib.suppress(OSError):
                temporary.unlink()
        for path in made:
            with contextlib.suppress(OSError):
                path.rmdir()
        exc.filename = str(current)
        raise


def _conflicts(
    paper_id: str, folder: str, used: dict[str, tuple[str, Path]], force: bool, root: Path
) -> list[str]:
    if not re.fullmatch(SLUG_PATTERN, paper_id):
        return [
            f"'{paper_id}' is not a valid paper id: use lowercase letters, digits, single hyphens"
        ]
    if paper_id not in used:
        return []
    where, path = used[paper_id]
    shown = display_path(path, root)
    if where != folder:
        return [
            f"paper id '{paper_id}' is already used by {shown}; ids are unique across all issues"
        ]
    if not force:
        return [f"{shown} already exists; use --force to replace it"]
    return []
