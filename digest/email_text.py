"""Email text: the plain-text edition of an issue (`<YYYY-MM-DD>/email.txt`).

The same issue as digest.email's context, as plain text wrapped at 72 columns, for the
text part of the message: a list item or a paper's title that takes more than a line
hangs under its own text. Links keep their targets as numbered references, counted
through the whole message: "the project page [1]" in the text, and "[1] https://…" in a
list after the text (a summary, the intro) that holds it.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from urllib.parse import urljoin

from digest import wording
from digest.email import (
    CONTENTS_TITLE,
    EmailAlso,
    EmailContentsItem,
    EmailContext,
    EmailGroup,
    EmailPaper,
)
from digest.markdown import analyse, linked_text
from digest.plain_prose import Linked
from digest.views import HoodLine

WIDTH = 72
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|(\d+)([.)]))\s+")  # groups: an ordered item's number

# textwrap's own split of a word into the pieces it may break between ("state-", "of-", ...).
# Split alone, a word gives the pieces it gives inside the text: the regex's lookarounds
# only test for letters, punctuation or hyphens, which the spaces around a word are not.
_HYPHEN_PIECES = textwrap.TextWrapper.wordsep_re


def _wrap(text: str, indent: str = "", hang: str | None = None) -> str:
    """`textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=hang)`, cheaply.

    `hang` (`indent` when None) starts every line after the first: a list item's bullet
    ends `indent` and `hang` is as wide, so the item's text hangs under its first word.

    textwrap splits the whole text into chunks with a regex and fills them one by one, which
    dominates the plain-text editions of a large build. For text made of words separated by
    single spaces (nearly every paragraph) its greedy fill is the same as ending each line at
    the last space that fits, or inside the word that does not fit, after one of the hyphens
    textwrap breaks at. Anything else (tabs, newlines, other spaces, a word too long for a
    line) goes to textwrap itself.
    """
    later = indent if hang is None else hang
    plain = text.isprintable() and "  " not in text  # no whitespace but single ASCII spaces
    narrowest = WIDTH - max(len(indent), len(later))
    if not plain or narrowest < 1 or text[:1] in ("", " ") or text[-1] == " ":
        return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=later)
    lines = []
    start = 0
    prefix = indent
    while len(text) - start > (room := WIDTH - len(prefix)):
        space = text.rfind(" ", start, start + room + 1)
        if space < 0:  # the line starts with a word longer than it: textwrap splits that
            return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=later)
        end, after = space, space + 1
        word_end = text.find(" ", after)
        word = text[after:] if word_end < 0 else text[after:word_end]
        if "-" in word:  # textwrap fills the hyphenated pieces of the next word that fit
            used = after
            for piece in _HYPHEN_PIECES.split(word):
                if used + len(piece) - start > room:
                    break
                used += len(piece)
            if used > after:
                end = after = used
        lines.append(prefix + text[start:end])
        start = after
        prefix = later
    lines.append(prefix + text[start:])
    return "\n".join(lines)


# Between a link's text and its number, so that no line starts with "[2]" (which would
# read as a reference of the list): a printable character the text does not hold, which
# neither textwrap nor the quick filler breaks at, made a space once the text is wrapped.
# A no-break space would do the same, but sends the text to textwrap's slower fill.
_GLUES = "\u00a4\u00a6\u00a7\u00b6"  # ¤ ¦ § ¶


@dataclass
class References:
    """The link targets of one plain-text e-mail, numbered in the order the text shows
    them; relative targets are made absolute against `base` (the issue's page)."""

    base: str = ""
    count: int = 0
    listed: list[tuple[int, str]] = field(default_factory=list)  # not yet written out

    def number(self, text: str, target: str) -> int | None:
        """The number of the link from `text` to `target`; None when the text is the
        address itself (an autolink), which needs no reference."""
        url = urljoin(self.base, target) if self.base else target
        if text in (url, target, url.removeprefix("mailto:")):
            return None
        for number, listed in self.listed:  # the same target twice in one text
            if listed == url:
                return number
        self.count += 1
        self.listed.append((self.count, url))
        return self.count

    def listing(self, indent: str = "") -> str:
        """The references numbered since the last listing, one a line ("" when none)."""
        lines = [f"{indent}[{number}] {url}" for number, url in self.listed]
        self.listed.clear()
        return "\n".join(lines)


def _wrap_linked(text: Linked, references: References, indent: str, marker: str = "") -> str:
    """`text` wrapped after `indent` and `marker` (a list item's "- "), each link's text
    followed by its reference's number; the lines after the first hang under the text."""
    words = text.words
    hang = indent + " " * len(marker)
    if not text.links:
        return _wrap(words, indent + marker, hang)
    glue = next((mark for mark in _GLUES if mark not in words), "\u00a0")
    numbered = [
        (end, references.number(words[start:end], target)) for start, end, target in text.links
    ]
    for end, number in reversed(numbered):
        if number is None:
            continue
        mark = f"[{number}]"
        if end > 0 and words[end - 1] != " ":
            mark = glue + mark
        elif end < len(words) and words[end] != " ":
            mark += glue
        words = words[:end] + mark + words[end:]
    return _wrap(words, indent + marker, hang).replace(glue, " ")


def _list_items(lines: list[str]) -> list[tuple[str, str]]:
    """A list's lines as (marker, text) per item: "- " for a bullet, "3. " for an ordered
    item, numbered on from the list's first number as Markdown numbers them."""
    items: list[tuple[str, str]] = []
    number: int | None = None
    for line in lines:
        found = _LIST_ITEM.match(line)
        if found is None:
            if items:  # a continuation line of the item above
                marker, text = items[-1]
                items[-1] = (marker, f"{text} {line.strip()}")
            continue
        written, delimiter = found.groups()
        if written is None:
            number = None
            marker = "- "
        else:
            number = int(written) if number is None else number + 1
            marker = f"{number}{delimiter} "
        items.append((marker, line[found.end() :]))
    return items


def _blocks(markdown: str) -> list[list[tuple[str, str]]]:
    """The blocks of `markdown`, each as (marker, text) pairs: a list's items, or a
    paragraph as one text with no marker."""
    found: list[list[tuple[str, str]]] = []
    for chunk in re.split(r"\n\s*\n", markdown.strip()):
        lines = chunk.splitlines()
        if lines and all(_LIST_ITEM.match(line) or line.startswith(" ") for line in lines):
            found.append(_list_items(lines))
        else:
            found.append([("", chunk)])
    return found


def text_blocks(markdown: str, indent: str = "", references: References | None = None) -> str:
    """Markdown as wrapped plain text: paragraphs kept apart, list items on their own lines,
    then the list of the references its links got (numbered by `references`, which an
    e-mail shares between its texts; from 1 without it)."""
    paragraphs = analyse(markdown).paragraphs
    if paragraphs is None:
        return blocks_as_text(markdown, indent, references)
    # Plain prose: no lists, and its paragraphs' words are known.
    numbers = References() if references is None else references
    text = "\n\n".join(_wrap_linked(words, numbers, indent) for words in paragraphs if words.words)
    return _with_listing(text, numbers, indent)


def blocks_as_text(markdown: str, indent: str = "", references: References | None = None) -> str:
    """`text_blocks` for any Markdown: each paragraph and list item made plain on its own."""
    numbers = References() if references is None else references
    blocks = []
    for items in _blocks(markdown):
        lines = (_wrap_linked(linked_text(text), numbers, indent, mark) for mark, text in items)
        blocks.append("\n".join(lines))
    text = "\n\n".join(block for block in blocks if block.strip())
    return _with_listing(text, numbers, indent)


def _with_listing(text: str, references: References, indent: str) -> str:
    listing = references.listing(indent)
    return f"{text}\n\n{listing}" if listing and text else text or listing


def _heading(text: str, underline: str) -> str:
    lines = textwrap.wrap(text, WIDTH)
    return "\n".join(lines) + "\n" + underline * max(len(line) for line in lines)


def _contents_text(contents: tuple[EmailContentsItem, ...]) -> str:
    rows = [CONTENTS_TITLE]
    for item in contents:
        label = f"{item.label} ({item.count})" if item.count else item.label
        rows.append(_wrap(label, "  - ", "    "))
    return "\n".join(rows)


def _paper_text(paper: EmailPaper, references: References) -> str:
    lines = [_wrap(paper.title, "* ", "  ")]
    byline = " — ".join(part for part in (paper.authors, paper.affiliations) if part)
    if byline:
        lines.append(_wrap(byline, "  "))
    lines.append("")
    lines.append(text_blocks(paper.summary_text, "  ", references))
    lines.append("")
    lines += [f"  {link.label}: {link.url}" for link in paper.links]
    lines.append(f"  On the site: {paper.url}")
    return "\n".join(lines)


def _also_text(also: EmailAlso) -> str:
    return _wrap(f"Also in this issue: {also.title}, under {also.section}", "* ", "  ")


def _hood_line_text(line: HoodLine) -> str:
    """ "- DPCache (https://github.com/…): One line." and the attribution under it."""
    links = f" ({', '.join(link.url for link in line.links)})" if line.links else ""
    text = _wrap(f"{line.label}{links}: {line.one_liner}", "  - ", "    ")
    source = " — ".join(part for part in (line.title, line.attribution) if part)
    return f"{text}\n{_wrap(source, '    ')}" if source else text


def _group_text(group: EmailGroup) -> str:
    return "\n".join([group.label, *map(_hood_line_text, group.lines)])


def email_text(context: EmailContext) -> str:
    """The plain-text edition, from the same context as the HTML one."""
    references = References(context["web_url"])  # relative links are the issue page's
    parts = [
        _heading(context["title"], "="),
        context["dek"],
        f"Read it on the web: {context['web_url']}",
    ]
    if context["contents"]:
        parts.append(_contents_text(context["contents"]))
    parts.append(text_blocks(context["intro_text"], "", references))
    for section in context["sections"]:
        parts.append(_heading(section.title, "-"))
        if section.prose_text:
            parts.append(text_blocks(section.prose_text, "", references))
        parts += [_paper_text(paper, references) for paper in section.papers]
        if section.also:
            parts.append("\n".join(map(_also_text, section.also)))
    if context["under_the_hood"]:
        parts.append(_heading(wording.UNDER_THE_HOOD, "-"))
        parts.append(text_blocks(context["hood_intro_text"], "", references))
        parts += [_group_text(group) for group in context["under_the_hood"]]
    if context["outlook_text"]:
        parts.append(_heading(wording.OUTLOOK, "-"))
        parts.append(text_blocks(context["outlook_text"], "", references))
    parts.append(
        f"-- \n{context['site_title']}: {context['site_url']}\n"
        f"Feed: {context['feed_url']}\nBibTeX for this issue: {context['bib_url']}"
    )
    return "\n\n".join(parts) + "\n"
