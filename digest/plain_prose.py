"""Plain prose: the Markdown most fields are written in, rendered without markdown-it-py.

Summaries, intros and section prose are mostly paragraphs of words with the odd
`*emphasis*`, `**strong**` text and `[link](https://…)`. Parsing those with
markdown-it-py is most of a cold build's Markdown time (its block and inline rules are
Python code run for every line and character), yet their HTML is simple to write down.
`render_prose` does that for texts made only of that subset and returns None for
anything else, which markdown-it-py then parses as before.

The subset is drawn tightly so the result is exactly markdown-it-py's (a property test
compares the two on generated texts): lines that start no block (no indent, list
marker, heading, quote, fence or table), no trailing spaces (hard breaks), no character
that starts other inline syntax (backslash, backtick, underscore, brackets outside a
link, angle brackets, ampersand, tilde, pipe, and the dollar that opens math, even
where it turns out to be a price), no `[[` (a cross-reference, which digest.markdown
renders as a placeholder for digest.xrefs), emphasis only around words with a space, start, or
bracket before and a space, end or sentence mark after (so each delimiter can only open
or only close), and links only as `[words](http(s)://host/path)`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import NamedTuple


def escape_html(raw: str) -> str:
    """markdown-it-py's escaping (`&`, `<`, `>` and `"`; not `'`), without importing it:
    a build whose prose is all plain never loads the parser."""
    return (
        raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


# Whitespace other than the space and the newline (tabs, non-breaking and other Unicode
# spaces) is treated differently by Markdown's block and inline rules: not handled here.
_ODD_SPACE = re.compile(r"[^\S \n]|\x00")
# A line that could start (or underline) a block other than a paragraph.
# (Any number of digits, not just a list marker's nine: the email edition's plain text
# takes such a line for a list item, and digest.email relies on prose having none.)
_BLOCK_START = re.compile(r"[ #>=+\-<|~`_]|\*(?: |$)|[* ]+$|\d+[.)](?: |$)")
# Characters that begin inline syntax this module does not handle, anywhere in a text.
_OTHER_CHARACTERS = "\\`_<>&~|$"
_OTHER_SYNTAX = re.compile(f"[{re.escape(_OTHER_CHARACTERS)}]")
_WORDS = r"[A-Za-z0-9](?:[^*\[\]]*[A-Za-z0-9])?"
# Emphasis and links. The pattern starts with its first character so the regex engine
# skips ahead to candidates; what must come before one is checked by `_paragraph`.
_INLINE = re.compile(
    rf"(?:\*\*(?P<strong>{_WORDS})\*\*|\*(?P<em>{_WORDS})\*)(?![^ \n.,;:!?)])"
    r"|\[(?P<text>[^*\[\]]+)\]"
    r"\((?P<url>https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?:/[A-Za-z0-9./?#=+~-]*)?)\)"
)
_EMPHASIS_AFTER = " \n("  # an opening `*` after these cannot also close


class Linked(NamedTuple):
    """Words on one line, and where links sit among them: the start and end offsets in
    `words` of each link's (or image's) text, with its target, in order. The plain-text
    e-mail edition numbers the targets after the texts."""

    words: str
    links: tuple[tuple[int, int, str], ...] = ()


_WORD = re.compile(r"\S+")


def linked(raw: str, spans: Sequence[tuple[int, int, str]] = ()) -> Linked:
    """`raw` with each run of whitespace made one space and none at either end (as
    `" ".join(raw.split())` makes it), and `spans` (start, end, target) of `raw` moved
    along: a span's ends move to the nearest word inside it."""
    if not spans:
        return Linked(" ".join(raw.split()))
    found = [(m.start(), m.end()) for m in _WORD.finditer(raw)]
    words = " ".join(raw[start:end] for start, end in found)
    starts = [start for start, _ in found]
    ends = [end for _, end in found]
    at: list[int] = []  # where each word starts in `words`
    position = 0
    for start, end in found:
        at.append(position)
        position += end - start + 1
    moved: list[tuple[int, int, str]] = []
    for start, end, target in spans:
        last = bisect_left(starts, end) - 1  # the last word that starts before the end
        new_end = 0 if last < 0 else at[last] + min(end, ends[last]) - starts[last]
        first = bisect_right(ends, start)  # the first word that ends after the start
        new_start = len(words) if first == len(found) else at[first] + max(0, start - starts[first])
        moved.append((min(new_start, new_end), new_end, target))
    return Linked(words, tuple(moved))


def _paragraph(
    text: str,
    html: list[str],
    plain: list[str],
    links: list[str],
    spans: list[tuple[int, int, str]],
) -> bool:
    """Append one paragraph's HTML, words and links; False when it holds syntax outside
    the subset. `spans` gets where each link's text sits in the paragraph's words.

    Its lines are joined by newlines, which is how markdown-it-py renders a soft break
    (no line starts or ends with a space, so there is none to trim)."""
    html.append("<p>")
    end = 0
    length = 0  # of the paragraph's words so far
    for match in _INLINE.finditer(text):
        start = match.start()
        between = text[end:start]
        if "*" in between or "[" in between or "]" in between:
            return False
        before = text[start - 1] if start else " "
        url = match.group("url")
        if before == "!" if url is not None else before not in _EMPHASIS_AFTER:
            return False  # an image, or emphasis that might not open
        html.append(escape_html(between))
        plain.append(between)
        length += len(between)
        strong, em = match.group("strong"), match.group("em")
        if strong is not None:
            html.append(f"<strong>{escape_html(strong)}</strong>")
            plain.append(strong)
            length += len(strong)
        elif em is not None:
            html.append(f"<em>{escape_html(em)}</em>")
            plain.append(em)
            length += len(em)
        else:
            label = match.group("text")
            html.append(f'<a href="{escape_html(url)}">{escape_html(label)}</a>')
            plain.append(label)
            links.append(url)
            spans.append((length, length + len(label), url))
            length += len(label)
        end = match.end()
    rest = text[end:]
    if "*" in rest or "[" in rest or "]" in rest:
        return False
    html.append(escape_html(rest))
    html.append("</p>\n")
    plain.append(rest + " ")
    return True


class Prose(NamedTuple):
    html: str
    links: list[str]  # link targets, in order
    plain: str  # the words on one line
    paragraphs: list[Linked]  # the words of each paragraph on one line, and its links


def render_prose(text: str) -> Prose | None:
    """`text` rendered, or None when it is not plain prose."""
    if "[[" in text:  # a cross-reference: markdown-it-py makes its placeholder
        return None
    if text.isascii():
        # The common case, checked in a third of the time the two scans below take: one
        # pass in C finds any control character (tabs, carriage returns and NUL among
        # them; the others go to markdown-it-py too, which is never wrong), and
        # substring searches find the other syntax.
        if not text.replace("\n", " ").isprintable():
            return None
        if any(character in text for character in _OTHER_CHARACTERS):
            return None
    elif _ODD_SPACE.search(text) or _OTHER_SYNTAX.search(text) or "\r" in text:
        return None
    html: list[str] = []
    plain: list[str] = []
    links: list[str] = []
    paragraphs: list[Linked] = []
    lines: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line:
            if line.endswith(" ") or _BLOCK_START.match(line):
                return None
            lines.append(line)
        elif lines:
            start = len(plain)
            spans: list[tuple[int, int, str]] = []
            if not _paragraph("\n".join(lines), html, plain, links, spans):
                return None
            paragraphs.append(linked("".join(plain[start:]), spans))
            lines = []
    words = " ".join(paragraph.words for paragraph in paragraphs if paragraph.words)
    return Prose("".join(html), links, words, paragraphs)
