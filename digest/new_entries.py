"""New entries: the files `digest new` writes, all of them or none.

Each new paper gets an id (given, or made from its title) that no other issue uses.
Every source is fetched, and the text of every file (made by `scaffold.py`) is read back
and checked, before anything is written. Files are staged beside their place and moved
in only when all of them could be; an existing entry is replaced only with `force`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest.files import entry_files, stage, write_atomically
from digest.importer import Importer
from digest.load import ISSUE_FILE, RawEntry, display_path, load_file
from digest.metadata import ImportFailure, Metadata
from digest.models import SiteConfig
from digest.scaffold import Draft, DraftRefused, check_draft, issue_text, paper_text
from digest.source_list import Request
from digest.values import SLUG_PATTERN

STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "for", "and", "in", "to", "with", "via"})


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
