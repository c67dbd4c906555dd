"""Email edition: each issue as email-safe HTML and as plain text, beside its page.

`<YYYY-MM-DD>/email.html` is self-contained and made for mail clients: every style is
inline (no <style>, no <script>, no external stylesheet or image), the layout is one
column of plain blocks (no tables) that long addresses and words wrap inside, and every
link is absolute but the contents', which lead to the sections' headings in the message
itself; so it can be pasted into a newsletter service as it is. `<YYYY-MM-DD>/email.txt`
is the same issue as plain text wrapped at 72 columns, for the text part of the message,
where a list item or a paper's title that takes more than a line hangs under its own
text. Its links keep their targets as numbered references, counted through the whole
message: "the project page [1]" in the text, and "[1] https://…" in a list after the
text (a summary, the intro) that holds it.

Both open with the issue's contents: each theme's section with its count of papers, then
"Under the hood" and the outlook when the issue has them. Like the issue's page, each
paper is shown in full once, in the section of the first theme its entry lists; the
sections of its other themes name it as "also in this issue" (and count it there no
more, so the counts add up to the issue's papers). "Under the hood" has the page's
lines: label, links, one-liner and, for techniques and datasets, where the paper is from.

Both need absolute links, so both need `base_url`; without it the build skips them. A
cross-reference (`[[id]]`) is written as a link to the paper's page (digest.xrefs), so
the plain text shows the paper's name and lists its address like any link's.
The HTML comes from the template `email.html` with the context built here.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from functools import partial
from typing import TypedDict
from urllib.parse import urljoin

from markupsafe import Markup

from digest import permalinks, wording, xrefs
from digest.markdown import analyse, linked_text, render_markdown
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library
from digest.plain_prose import Linked
from digest.views import HoodLine, Link, card_anchor, hood_line, paper_links

WIDTH = 72
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|(\d+)([.)]))\s+")  # groups: an ordered item's number
CONTENTS_TITLE = "In this issue"

# The ids of the sections' headings in email.html, the same as on the issue's page, so a
# fragment means the same place in both.
HOOD_ID = "under-the-hood"
OUTLOOK_ID = "outlook"

# What the site's stylesheet does for Markdown's elements, said inline, so that none is
# wider than a phone's screen: an image shrinks to the column, a code line wraps, and a
# display formula sits in a box that scrolls sideways. Other classes (a code block's
# language) mean nothing without a stylesheet and are dropped. Text never holds `<img`,
# `<pre` or `class="`: Markdown escapes its `<` and `"`.
_STYLED = re.compile(r'<(img|pre)\b|\sclass="([^"]*)"')
_INLINE_STYLES = {
    "img": "max-width:100%; height:auto;",
    "pre": "white-space:pre-wrap;",
    "math-display": (
        "display:block; max-width:100%; overflow-x:auto; overflow-y:hidden; margin:8px 0;"
    ),
}


@dataclass(frozen=True)
class EmailPaper:
    anchor: str  # the id of its card in the message, "paper-<id>" as on the site
    title: str
    url: str  # the paper's page on the site
    authors: str
    affiliations: str
    summary: Markup
    summary_text: str
    links: tuple[Link, ...]
    one_liner: str


@dataclass(frozen=True)
class EmailAlso:
    """A paper shown in full in another section: "Also in this issue: <title>"."""

    title: str
    anchor: str  # its card's id in the message
    section: str  # the title of the section that shows it


@dataclass(frozen=True)
class EmailSection:
    id: str  # its heading's id, "theme-<slug>"
    title: str
    prose: Markup | None
    prose_text: str | None
    papers: tuple[EmailPaper, ...]  # the papers shown in full here
    also: tuple[EmailAlso, ...]


@dataclass(frozen=True)
class EmailGroup:
    label: str
    lines: tuple[HoodLine, ...]  # each label links to the paper's page on the site


@dataclass(frozen=True)
class EmailContentsItem:
    """One line of the contents: a part of the issue and the id of its heading."""

    id: str
    label: str
    count: str | None  # "5 papers" for a theme's section with cards; None otherwise


class EmailContext(TypedDict):
    site_title: str
    site_url: str
    title: str
    page_title: str  # its <title>: the issue's, then the site's
    dek: str  # "Latest 44 papers on diffusion models: Feb. 28, 2026"
    web_url: str  # the issue's page
    feed_url: str
    bib_url: str
    intro: Markup
    intro_text: str
    contents: tuple[EmailContentsItem, ...]
    sections: tuple[EmailSection, ...]
    under_the_hood: tuple[EmailGroup, ...]
    hood_intro: Markup  # the issue's `under_the_hood` text, else the page's fixed one
    hood_intro_text: str  # the same, as Markdown
    outlook: Markup | None
    outlook_text: str | None


def _styled(found: re.Match[str]) -> str:
    tag, name = found.groups()
    if tag:
        return f'<{tag} style="{_INLINE_STYLES[tag]}"'
    return f' style="{_INLINE_STYLES[name]}"' if name in _INLINE_STYLES else ""


def _html(config: SiteConfig, markdown: str, page_path: str, top_heading: int) -> Markup:
    html = _STYLED.sub(_styled, render_markdown(markdown, top_heading).html)
    return Markup(permalinks.absolutize(html, permalinks.absolute(config, page_path)))


def _paper(library: Library, entry: PaperEntry, issue_path: str) -> EmailPaper:
    config = library.config
    paper = entry.paper
    summary = xrefs.absolute_markdown(paper.summary, library)
    return EmailPaper(
        anchor=card_anchor(entry.id),
        title=paper.title,
        url=permalinks.absolute(config, permalinks.paper_path(entry.id)),
        authors=wording.authors_short(paper.authors, paper.et_al),
        affiliations=wording.join_names(paper.affiliations),
        summary=_html(config, summary, issue_path, 4),
        summary_text=summary,
        links=paper_links(paper),
        one_liner=wording.one_liner(paper),
    )


def _count(papers: int) -> str | None:
    """A section's count: of its papers shown in full (none when it only names others)."""
    return wording.plural(papers, "paper") if papers else None


def _contents(
    sections: tuple[EmailSection, ...], hood: bool, outlook: bool
) -> tuple[EmailContentsItem, ...]:
    items = [EmailContentsItem(s.id, s.title, _count(len(s.papers))) for s in sections]
    if hood:
        items.append(EmailContentsItem(HOOD_ID, wording.UNDER_THE_HOOD, None))
    if outlook:
        items.append(EmailContentsItem(OUTLOOK_ID, wording.OUTLOOK, None))
    return tuple(items)


def email_context(library: Library, issue: IssueView) -> EmailContext:
    """Everything templates/email.html shows; needs `base_url`."""
    config = library.config
    path = permalinks.issue_path(issue.date)
    homes = {entry.id: s.theme.title for s in issue.sections for entry in s.cards}
    linked = partial(xrefs.absolute_markdown, library=library)  # cross-references as links
    sections = tuple(
        EmailSection(
            id=f"theme-{section.theme.slug}",
            title=section.theme.title,
            prose=_html(config, linked(section.prose), path, 3) if section.prose else None,
            prose_text=linked(section.prose) if section.prose else None,
            papers=tuple(_paper(library, entry, path) for entry in section.cards),
            also=tuple(
                EmailAlso(entry.paper.title, card_anchor(entry.id), homes[entry.id])
                for entry in section.also
            ),
        )
        for section in issue.sections
    )
    outlook = linked(issue.issue.outlook) if issue.issue.outlook else None
    hood_intro = linked(issue.issue.under_the_hood or wording.HOOD_INTRO)
    intro = linked(issue.issue.intro)
    return {
        "site_title": config.title,
        "site_url": permalinks.absolute(config, permalinks.HOME),
        "title": issue.issue.title,
        "page_title": wording.issue_page_title(issue.issue.title, issue.date, config.title),
        "dek": wording.issue_dek(len(issue.papers), issue.issue.subject, issue.date),
        "web_url": permalinks.absolute(config, path),
        "feed_url": permalinks.absolute(config, permalinks.SITE_FEED),
        "bib_url": permalinks.absolute(config, permalinks.issue_bib_path(issue.date)),
        "intro": _html(config, intro, path, 2),
        "intro_text": intro,
        "contents": _contents(sections, bool(issue.under_the_hood), bool(outlook)),
        "sections": sections,
        "under_the_hood": _hood(config, issue),
        "hood_intro": _html(config, hood_intro, path, 3),
        "hood_intro_text": hood_intro,
        "outlook": _html(config, outlook, path, 3) if outlook else None,
        "outlook_text": outlook,
    }


def _hood(config: SiteConfig, issue: IssueView) -> tuple[EmailGroup, ...]:
    attributed = {group.label: group.attributed for group in wording.HOOD_GROUPS}
    return tuple(
        EmailGroup(
            group.label,
            tuple(
                hood_line(
                    entry,
                    permalinks.absolute(config, permalinks.paper_path(entry.id)),
                    attributed[group.label],
                )
                for entry in group.papers
            ),
        )
        for group in issue.under_the_hood
    )


# ---------------------------------------------------------------- plain text


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
