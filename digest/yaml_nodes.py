"""YAML text → plain data plus the line:col of every key and value, within fixed limits.

digest.load reads the files; this composes them. We build documents ourselves from
PyYAML's event stream (C parser when present) instead of `yaml.safe_load`, because:

- scalars stay exactly as written (`arxiv: 2401.12340` is the string "2401.12340",
  `no` is "no"); the models decide types;
- every key and value keeps its line and column, so a pydantic error maps to `path:line:col`;
- duplicate keys are errors instead of silently keeping the last one;
- the work is bounded: a nesting limit (PyYAML's C composer recurses and can crash the
  interpreter on deep nesting) and an alias-expansion budget (a "billion laughs" file is
  rejected after a few thousand expansions, without building anything big).

Almost every entry is a plain mapping with no anchor, alias, tag or repeated key, and
checks clean, so its positions are never shown. `parse_plain` composes such a file
without them, in two thirds of the time (0.3 s of CPU at 10,000 papers), and declines
anything else; the checker composes a file again with `parse_yaml` as soon as there
is something to report (digest.validate's `check_file`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml
from yaml import SafeLoader

try:  # the C parser is several times faster; PyYAML without libyaml still works
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = SafeLoader  # type: ignore[assignment,misc]

MAX_DEPTH = 32
MAX_NODES = 20_000
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})
# Explicit tags are allowed only for YAML's plain data types; `!!python/...` and
# custom tags mean nothing to an entry.
ALLOWED_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)

Location = tuple[str | int, ...]


class Position(NamedTuple):
    line: int  # 1-based
    col: int  # 1-based


class LoadError(Exception):
    """A problem that stops one file from loading; becomes one diagnostic."""

    def __init__(
        self, code: str, message: str, line: int = 1, col: int = 1, hint: str | None = None
    ):
        super().__init__(message)
        self.code, self.message, self.line, self.col, self.hint = code, message, line, col, hint


@dataclass(slots=True)
class _Open:
    """A collection being composed: its value, where it sits, and the key awaiting a value."""

    value: dict[str, Any] | list[Any]
    location: Location
    anchor: str | None
    position: Position
    size: int = 1
    pending_key: str | None = None


class _Composer:
    """Builds plain data and position tables from parser events, within fixed limits.

    This runs once per event of every file, so it dispatches on the exact event type and
    keeps the common case (a plain scalar) short.
    """

    def __init__(self) -> None:
        self.values: dict[Location, Position] = {}
        self.keys: dict[Location, Position] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor → (value, node count)
        self.unfinished_anchors: set[str] = set()
        self.nodes = 0
        self.stack: list[_Open] = []
        self.root: Any = None
        self.documents = 0

    def _count(self, nodes: int, position: Position) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise LoadError(
                "E007",
                f"the file expands to more than {MAX_NODES:,} values "
                "(aliases repeating aliases, a 'billion laughs' file?)",
                *position,
                hint="entries need no YAML anchors or aliases; write the values out",
            )

    @staticmethod
    def _check_tag(event: Any, position: Position) -> None:
        tag = event.tag
        if tag is not None and tag not in ("!", "?") and tag not in ALLOWED_TAGS:
            shown = tag.replace("tag:yaml.org,2002:", "!!")
            raise LoadError("E009", f"unsupported YAML tag '{shown}'", *position)

    def _place(self, value: Any, size: int, position: Position, may_be_key: bool) -> None:
        """Attach a finished value (or a key) to the collection on top of the stack."""
        if not self.stack:
            self.root = value
            self.values[()] = position
            return
        parent = self.stack[-1]
        parent.size += size
        container = parent.value
        if type(container) is list:
            location = (*parent.location, len(container))
            container.append(value)
            self.values[location] = position
            return
        key = parent.pending_key
        if key is None:
            if not may_be_key or not (value is None or type(value) is str):
                raise LoadError("E009", "mapping keys must be plain text", *position)
            key = "null" if value is None else value
            key_location = (*parent.location, key)
            if key in container:
                first = self.keys[key_location]
                raise LoadError(
                    "E005",
                    f"duplicate key '{key}'",
                    *position,
                    hint=f"'{key}' is already set on line {first.line}; keep one of them",
                )
            self.keys[key_location] = position
            parent.pending_key = key
            return
        container[key] = value  # type: ignore[call-overload]
        self.values[(*parent.location, key)] = position
        parent.pending_key = None

    def feed(self, event: Any) -> None:
        kind = type(event)
        mark = event.start_mark
        position = Position(mark.line + 1, mark.column + 1)
        if kind is yaml.ScalarEvent:
            self._check_tag(event, position)
            self._count(1, position)
            # implicit[0] is true for a plain (unquoted, untagged) scalar: only those can be null.
            value = None if event.implicit[0] and event.value in NULL_WORDS else event.value
            if event.anchor:
                self.anchors[event.anchor] = (value, 1)
            self._place(value, 1, position, True)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self._start(event, position)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            finished = self.stack.pop()
            if finished.anchor:
                self.unfinished_anchors.discard(finished.anchor)
                self.anchors[finished.anchor] = (finished.value, finished.size)
            self._place(finished.value, finished.size, finished.position, False)
        elif kind is yaml.AliasEvent:
            self._alias(event, position)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise LoadError(
                    "E004",
                    "a file holds one YAML document; found a second one",
                    *position,
                    hint="remove the '---' line and everything after it, or split the file",
                )

    def _start(self, event: Any, position: Position) -> None:
        self._check_tag(event, position)
        self._count(1, position)
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError(
                "E008", f"values are nested more than {MAX_DEPTH} levels deep", *position
            )
        location: Location = ()
        if self.stack:
            parent = self.stack[-1]
            if type(parent.value) is list:
                location = (*parent.location, len(parent.value))
            elif parent.pending_key is None:
                raise LoadError("E009", "mapping keys must be plain text", *position)
            else:
                location = (*parent.location, parent.pending_key)
        container: dict[str, Any] | list[Any] = {} if type(event) is yaml.MappingStartEvent else []
        self.stack.append(_Open(container, location, event.anchor, position))
        self.values[location] = position
        if event.anchor:
            self.unfinished_anchors.add(event.anchor)

    def _alias(self, event: Any, position: Position) -> None:
        anchor = event.anchor
        if anchor in self.unfinished_anchors:
            raise LoadError(
                "E007", f"alias '*{anchor}' refers to the value that contains it", *position
            )
        if anchor not in self.anchors:
            raise LoadError("E004", f"unknown alias '*{anchor}'", *position)
        value, size = self.anchors[anchor]
        self._count(size, position)
        self._place(value, size, position, not isinstance(value, dict | list))


def decode(raw: bytes) -> str:
    """The text of a file's bytes: UTF-8, without a byte-order mark."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before) - (before.rfind(b"\n") + 1) + 1
        raise LoadError(
            "E001",
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            line,
            col,
            hint="save the file as UTF-8",
        ) from None


_CLOSERS = {"flow sequence": ("list", "]"), "flow mapping": ("mapping", "}")}


def _unclosed(exc: yaml.YAMLError) -> LoadError | None:
    """A quote, '[' or '{' that is never closed, reported where it opens: the parser only
    notices at the end of the file or some lines later, where nothing looks wrong."""
    context = getattr(exc, "context", None) or ""
    opened = getattr(exc, "context_mark", None)
    found = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or ""
    if opened is None or found is None:
        return None
    line, col = opened.line + 1, opened.column + 1
    if context == "while scanning a quoted scalar" and "end of stream" in problem:
        return LoadError(
            "E004",
            "YAML syntax error: this quoted value is never closed",
            line,
            col,
            hint="end it with the quote it starts with; for a quote inside the value, "
            "write \\\" between double quotes or '' between single quotes",
        )
    kind = _CLOSERS.get(context.removeprefix("while parsing a "))
    if kind and problem.startswith("did not find expected"):
        name, closer = kind
        return LoadError(
            "E004",
            f"YAML syntax error: this {name} is not closed (the parser expected ',' or "
            f"'{closer}' at {found.line + 1}:{found.column + 1})",
            line,
            col,
            hint=f"close it with '{closer}'",
        )
    return None


def _syntax_error(exc: yaml.YAMLError, text: str) -> LoadError:
    unclosed = _unclosed(exc)
    if unclosed is not None:
        return unclosed
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    line = col = 1
    if mark is not None:
        line, col = mark.line + 1, mark.column + 1
    elif isinstance(getattr(exc, "position", None), int):  # ReaderError: a bad character
        before = text[: exc.position]  # type: ignore[attr-defined]
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        character = exc.character  # type: ignore[attr-defined]
        codepoint = ord(character) if isinstance(character, str) else int(character)
        problem = f"the character U+{codepoint:04X} is not allowed in YAML"
    hint = None
    lines = text.splitlines()
    if 0 < line <= len(lines) and lines[line - 1][col - 1 : col] == "\t":
        hint = "indent with spaces, not tabs"
    elif "mapping values are not allowed" in problem:
        hint = "a value containing ': ' must be quoted"
    return LoadError("E004", f"YAML syntax error: {problem}", line, col, hint)


def parse_yaml(text: str) -> tuple[Any, dict[Location, Position], dict[Location, Position]]:
    """Compose one YAML document into plain data, value positions and key positions."""
    try:
        return _compose(text, _Loader)
    except _ParserDepthLimit:
        # Some libyaml releases refuse deep flow nesting while scanning ahead, before they
        # emit the events that reach our own, lower limit. The pure-Python parser emits
        # them one by one, so E008 points where MAX_DEPTH is crossed, whatever the release.
        return _compose(text, SafeLoader)


class _ParserDepthLimit(LoadError):
    """The YAML parser stopped at a nesting limit of its own, above MAX_DEPTH."""


def _compose(
    text: str, loader: type[Any]
) -> tuple[Any, dict[Location, Position], dict[Location, Position]]:
    composer = _Composer()
    parser = loader(text)
    try:
        while True:
            event = parser.get_event()
            if event is None or type(event) is yaml.StreamEndEvent:
                break
            composer.feed(event)
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in (getattr(exc, "problem", None) or ""):
            mark = exc.problem_mark  # type: ignore[attr-defined]
            raise _ParserDepthLimit(
                "E008",
                f"values are nested more than {MAX_DEPTH} levels deep",
                mark.line + 1,
                mark.column + 1,
            ) from None
        raise _syntax_error(exc, text) from None
    finally:
        parser.dispose()
    return composer.root, composer.values, composer.keys


def parse_plain(text: str) -> tuple[dict[str, Any], dict[Location, Position]] | None:
    """`parse_yaml`'s data and the positions of the top-level values, for a file that is
    one mapping of plain values within the limits; None for anything else: an anchor,
    alias or tag, a repeated, empty or non-text key, another document, a syntax error."""
    parser = _Loader(text)
    get = parser.get_event
    stack: list[tuple[Any, str | None]] = []
    container: Any = None  # the dict or list being filled
    key: str | None = None  # in a dict: the key awaiting its value
    values: dict[Location, Position] = {}
    nodes = 0
    try:
        get(), get()  # the stream's and the document's start
        event: Any = get()  # typed loosely, as in `_Composer.feed`
        kind: Any = type(event)
        if kind is not yaml.MappingStartEvent:
            return None
        values[()] = Position(event.start_mark.line + 1, event.start_mark.column + 1)
        while True:
            nodes += 1
            if kind is yaml.ScalarEvent:
                if event.anchor is not None or event.tag is not None:
                    return None
                value = None if event.implicit[0] and event.value in NULL_WORDS else event.value
                if type(container) is list:
                    container.append(value)
                elif key is None:
                    if value is None or value in container:
                        return None
                    key = value
                else:
                    if len(stack) == 1:  # a top-level value
                        mark = event.start_mark
                        values[(key,)] = Position(mark.line + 1, mark.column + 1)
                    container[key] = value
                    key = None
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                    return None
                opened: Any = {} if kind is yaml.MappingStartEvent else []
                if type(container) is list:
                    container.append(opened)
                elif container is not None:
                    if key is None:
                        return None
                    if len(stack) == 1:
                        mark = event.start_mark
                        values[(key,)] = Position(mark.line + 1, mark.column + 1)
                    container[key] = opened
                stack.append((container, key))
                container, key = opened, None
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                finished = container
                container, key = stack.pop()
                if container is None:
                    break
                key = None
            else:  # an alias
                return None
            if nodes > MAX_NODES:
                return None
            event = get()
            kind = type(event)
        if type(get()) is not yaml.DocumentEndEvent or type(get()) is not yaml.StreamEndEvent:
            return None
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return finished, values
