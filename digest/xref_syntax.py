"""Cross-reference syntax: `[[id]]` and `[[id|text]]` in Markdown, read by markdown-it-py.

The inline rule turns each into an "xref" token, rendered as a placeholder that
digest.xrefs resolves for the page showing it (the same HTML serves every page), and
`references` finds where each is written in its text, for errors at its line:col.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from digest.plain_prose import escape_html

# `[[id]]` or `[[id|text]]`, on one line, with no bracket inside: the id is whatever is
# written (an id that no paper has is reported, not shown as text), the text is optional.
_CROSS_REFERENCE = re.compile(r"\[\[([^\[\]|\n]+)(?:\|([^\[\]\n]*))?\]\]")


@dataclass(frozen=True)
class CrossReference:
    """One `[[id]]` or `[[id|text]]` of a text, and where it is written there."""

    id: str
    text: str  # "" for `[[id]]`
    offset: int  # of its `[[` in the text
    written: str  # as written, brackets included


def cross_reference_rule(state: StateInline, silent: bool) -> bool:
    """The inline rule: `[[…]]` becomes an "xref" token."""
    if not state.src.startswith("[[", state.pos):
        return False
    found = _CROSS_REFERENCE.match(state.src, state.pos)
    if found is None or not found.group(1).strip():
        return False
    if not silent:
        token = state.push("xref", "a", 0)
        token.markup = found.group(0)
        token.content = (found.group(2) or "").strip()
        token.meta = {"id": found.group(1).strip(), "pos": state.pos}
    state.pos = found.end()
    return True


def render_cross_reference(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """The placeholder digest.xrefs resolves for the page that shows it."""
    token = tokens[idx]
    return f'<a data-xref="{escape_html(token.meta["id"])}">{escape_html(token.content)}</a>'


def cross_reference_words(token: Token) -> str:
    """What the plain text holds for a cross-reference: its text, or else its id."""
    return token.content or str(token.meta["id"])


def _column(line: str, inline: str, at: int, written: str, after: int) -> int | None:
    """Where in the source `line` the text `written` starts, given that it starts `at`
    characters into `inline`, the same line as markdown-it-py parsed it (a list's or a
    quote's marker and indentation gone, a table cell on its own, a heading's marks
    gone), and not before the column `after`; None when it cannot be told."""
    rest = inline[at:].rstrip()
    kept = line.rstrip()
    if kept.endswith(rest):  # the line's end is as written: a paragraph's, an item's
        column = len(kept) - len(rest)
        if column >= after and line.startswith(written, column):
            return column
    found = line.find(inline, max(0, after - at))  # a table cell, a heading between marks
    if found >= 0 and line.startswith(written, found + at):
        return found + at
    return None


def references(text: str, tokens: Sequence[Token]) -> tuple[CrossReference, ...]:
    """Each cross-reference of `text` (parsed into `tokens`), at the offset of its `[[`.

    Tokens know their block's lines, and a cross-reference its offset in its block's
    inline text, whose lines are the block's lines with their block markup taken off
    the front: so each is found on its line, counting back from the line's end."""
    found: list[CrossReference] = []
    starts: list[int] = []  # where each line of `text` starts, once one is needed
    after = 0  # the offset the next one is written after (two cells may be the same)
    for token in tokens:
        if token.type != "inline" or not token.children or token.map is None:
            continue
        for child in token.children:
            if child.type != "xref":
                continue
            if not starts:
                starts = [0, *(at + 1 for at, c in enumerate(text) if c == "\n")]
            at = int(child.meta["pos"])
            source = token.content
            number = token.map[0] + source.count("\n", 0, at)
            begins = source.rfind("\n", 0, at) + 1
            ends = source.find("\n", at)
            inline = source[begins : len(source) if ends < 0 else ends]
            offset = starts[min(token.map[0], len(starts) - 1)]  # the block, failing better
            if number < len(starts):
                line_end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
                line = text[starts[number] : line_end]
                earliest = max(0, after - starts[number])
                column = _column(line, inline, at - begins, child.markup, earliest)
                if column is not None:
                    offset = starts[number] + column
                    after = offset + 1
            found.append(CrossReference(str(child.meta["id"]), child.content, offset, child.markup))
    return tuple(found)
