"""Load: YAML files → `RawEntry` values (plain data plus the source position of every value).

digest.yaml_nodes composes the YAML; this module reads the entry files, within a size
limit, and finds them under entries/. With `quick`, `load_file` composes a plain file
without the positions of its values (`parse_plain`); `complete` adds them when there is
something to report.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from digest.diagnostics import Diagnostic, error
from digest.files import (
    NESTED,
    OUTSIDE,
    UNDECODABLE,
    Listed,
    Refused,
    entry_paths,
    first_bad_byte,
    printable,
    read_regular,
)
from digest.yaml_nodes import LoadError, Location, Position, decode, parse_plain, parse_yaml

MAX_FILE_BYTES = 1_000_000
ISSUE_FILE = "_issue.yaml"
EntryKind = Literal["paper", "issue"]


@dataclass
class RawEntry:
    """One parsed YAML file: its data and where each key and value was written."""

    path: Path
    display_path: str  # as shown in diagnostics: relative to the content root, with "/"
    kind: EntryKind
    folder: str  # the issue folder's name, e.g. "2026-02-28"
    data: dict[str, Any]
    values: dict[Location, Position] = field(default_factory=dict)
    keys: dict[Location, Position] = field(default_factory=dict)
    # From `parse_plain`: `values` has the top-level values only, `keys` nothing; `text`
    # is what was parsed, for `complete`.
    partial: bool = False
    text: str = ""

    @property
    def stem(self) -> str:
        return self.path.stem

    def position_of(self, location: Location, *, key: bool = False) -> Position:
        """The position of a value (or its key), falling back to the nearest enclosing one."""
        table = self.keys if key else self.values
        while location:
            if location in table:
                return table[location]
            if location in self.values:
                return self.values[location]
            location = location[:-1]
        return self.values.get((), Position(1, 1))


def display_path(path: str | Path, root: Path) -> str:
    """The path as diagnostics show it: relative to the content root, with "/"."""
    text, prefix = str(path), str(root).rstrip(os.sep) + os.sep
    shown = text[len(prefix) :] if text.startswith(prefix) else text
    return shown.replace(os.sep, "/")


def load_file(
    path: Path, root: Path, folder: str, data: bytes | None = None, *, quick: bool = False
) -> RawEntry | Diagnostic:
    """Read and compose one entry file, or say why it cannot be read.

    `data` is the file's bytes when the caller has read them already (the entry cache
    hashes them first); the size limit applies to them the same way. With `quick`, a
    plain file comes back `partial` (`parse_plain`): `complete` it before reporting.
    """
    shown = printable(display_path(path, root))
    kind: EntryKind = "issue" if path.name == ISSUE_FILE else "paper"
    try:
        if data is None:  # a regular file only: a pipe or a device is refused, unread
            stats, data = read_regular(path, MAX_FILE_BYTES)
            size = stats.st_size
        else:
            size = len(data)
        if size > MAX_FILE_BYTES:
            raise LoadError(
                "E002",
                f"the file is {size:,} bytes; entries are limited to {MAX_FILE_BYTES:,}",
                hint="a paper entry is a few kilobytes; is this the right file?",
            )
        text = decode(data)
        plain = parse_plain(text) if quick else None
        if plain is not None:
            return RawEntry(path, shown, kind, folder, plain[0], plain[1], partial=True, text=text)
        data, values, keys = parse_yaml(text)
        if data is None:
            raise LoadError("E003", "the file is empty", hint=_empty_hint(kind))
        if not isinstance(data, dict):
            found = "a list" if isinstance(data, list) else "a single value"
            raise LoadError(
                "E006",
                f"the file must be a mapping of keys to values, not {found}",
                hint="start with 'title: ...' on the first line",
            )
    except LoadError as problem:
        return error(shown, problem.line, problem.col, problem.code, problem.message, problem.hint)
    except OSError as exc:
        return error(shown, 1, 1, "E001", f"cannot read the file: {exc.strerror or exc}")
    return RawEntry(path, shown, kind, folder, data, values, keys)


def complete(raw: RawEntry) -> RawEntry:
    """A `partial` entry with the position of every key and value."""
    if not raw.partial:
        return raw
    data, values, keys = parse_yaml(raw.text)
    return RawEntry(raw.path, raw.display_path, raw.kind, raw.folder, data, values, keys)


def _empty_hint(kind: EntryKind) -> str:
    if kind == "issue":
        return "an issue needs at least 'title', 'subject' and 'intro'"
    return "a paper needs at least 'title', 'themes' and 'summary'"


@dataclass
class Scanned:
    """The files under entries/: those to load, and those refused by their place or name."""

    items: list[tuple[str, str, str] | Diagnostic]  # (folder, path, display path) or E204
    files: list[tuple[str, str]]  # (issue folder, display path) of every file in a folder


def scan_entries(
    entries_dir: Path, root: Path, listed: list[tuple[str, str]] | None = None
) -> Scanned:
    """Every YAML file under entries/, in order; an E204 for each one in the wrong place,
    and an error for each one the listing refused (digest.files' `Refused`).

    `listed` is `entry_paths(entries_dir, root)` when the caller has it already."""
    items: list[tuple[str, str, str] | Diagnostic] = []
    files: list[tuple[str, str]] = []
    if listed is None:
        listed = entry_paths(entries_dir, root)
    if isinstance(listed, Listed):
        items += [_refused(item, entries_dir, root) for item in listed.refused]
    for folder, path in listed:
        shown = display_path(path, root)
        name = os.path.basename(path)
        if not folder:
            items.append(
                error(
                    shown,
                    1,
                    1,
                    "E204",
                    "entries live in an issue folder, not directly in the entries folder",
                    hint=f"move it to {display_path(entries_dir, root)}/<YYYY-MM-DD>/{name}",
                )
            )
            continue
        files.append((folder, shown))
        if name.endswith(".yml"):
            items.append(
                error(
                    shown,
                    1,
                    1,
                    "E204",
                    "entry files end in '.yaml'",
                    hint=f"rename it to {name[: -len('.yml')]}.yaml",
                )
            )
            continue
        items.append((folder, path, shown))
    return Scanned(items, files)


def _refused(item: Refused, entries_dir: Path, root: Path) -> Diagnostic:
    """The error for a file or folder under entries/ that is not read."""
    shown = printable(display_path(item.path, root))
    name = os.path.basename(item.path)
    if item.reason == UNDECODABLE:
        what = "folder" if os.path.isdir(item.path) else "file"
        good = "the issue's date, YYYY-MM-DD" if what == "folder" else "the paper's id"
        return error(
            shown,
            1,
            1,
            "E011",
            f"the {what} name is not valid UTF-8 (byte 0x{first_bad_byte(name):02x})",
            hint=f"rename it to {good}",
        )
    if item.reason == OUTSIDE:
        return error(
            shown,
            1,
            1,
            "E010",
            f"it is a link to {printable(item.target)}, outside the content root: not read",
            hint="copy what it points to into the content root instead of linking to it",
        )
    assert item.reason == NESTED, item.reason
    entries = display_path(entries_dir, root)
    return error(
        shown,
        1,
        1,
        "E204",
        "entries live directly in an issue folder, not in a folder inside it",
        hint=f"move it to {entries}/{item.folder}/{printable(name)}",
    )
