"""Cross-references: `[[id]]` and `[[id|text]]` made links for the place that shows them.

A Markdown field's HTML is made once for every page that shows it (digest.markdown), so a
cross-reference is rendered there as a placeholder, `<a data-xref="ID">TEXT</a>`, with
TEXT empty for `[[id]]`. `resolve` makes the placeholders of some HTML links for one
`Place`: on an issue's page, a paper of that issue is linked to its card there
(`#paper-<id>`); anywhere else, and for a paper of another issue, to the paper's page,
by the relative way from that page (or by its absolute address, for the feeds). A link
keeps its `data-xref`, so HTML resolved for one place can be resolved again for another.
`[[id]]` shows the paper's name (`shown_name`), `[[id|text]]` the text.

The e-mail edition, whose plain text is made from the Markdown, gets the Markdown with
each cross-reference written as an ordinary link to the paper's absolute address,
showing the same words (`absolute_markdown`).

The entry checks refuse an id that names no published paper (digest.validate, E205), so
every placeholder of a built page has its paper. What a cross-reference shows comes from
another entry than the one that holds it, so `reference_digest`, the name and issue of
every paper named by one, is part of every page's key (digest.build): renaming such a
paper renders every page again, which is rare and always right.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date
from html import unescape

from digest import permalinks
from digest.hashing import combine
from digest.markdown import cross_references
from digest.models import PackedPaper, Paper, PaperEntry, markdown_texts
from digest.organise import IssueView, Library
from digest.plain_prose import escape_html

# A placeholder as digest.markdown renders it, or a link `resolve` made of one. Its text
# is escaped HTML, so it holds no "<".
_CROSS_REFERENCE = re.compile(r'<a (?:href="[^"]*" )?data-xref="([^"]*)">([^<]*)</a>')
# Markdown's backslash escapes: every ASCII punctuation character.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


@dataclass(frozen=True)
class Place:
    """Where some HTML is shown: `root` leads from there to the site's root (relative,
    "../", or the site's absolute address ending in "/"), and `cards` are the ids of the
    papers whose cards are there."""

    root: str
    cards: frozenset[str] = frozenset()


def page_place(library: Library, url: str, root: str) -> Place:
    """The place of the site's page written to `url`, `root` the way back from it to
    the site's root: an issue's page holds the cards of every paper of the issue."""
    view = _issue_at(library, url)
    return Place(root, frozenset(p.id for p in view.papers) if view else frozenset())


def absolute_place(library: Library) -> Place:
    """Somewhere off the site, a feed reader or a mail client: absolute links. Needs
    `base_url`."""
    return Place(permalinks.absolute(library.config, ""))


def _issue_at(library: Library, url: str) -> IssueView | None:
    """The issue whose page is written to `url`, if any (found by date: the library
    lists issues newest first)."""
    try:
        day = date.fromisoformat(url.partition("/")[0])
    except ValueError:
        return None
    if url != permalinks.page_file(permalinks.issue_path(day)):
        return None
    issues = library.issues
    at = bisect_left(issues, -day.toordinal(), key=lambda view: -view.date.toordinal())
    return issues[at] if at < len(issues) and issues[at].date == day else None


def shown_name(paper: Paper) -> str:
    """The name `[[id]]` shows: the paper's `label`, else its `short` name, else its title."""
    return paper.label or paper.short or paper.title


def _target(paper_id: str, place: Place) -> str:
    if paper_id in place.cards:
        return f"#{permalinks.card_anchor(paper_id)}"
    return place.root + permalinks.paper_path(paper_id)


def resolve(html: str, library: Library, place: Place) -> str:
    """`html` with each cross-reference a link for `place` (see the module docstring).

    An id that names no paper of the library (the checks let none reach a page) is left
    as its text, or else the id, without a link."""
    if "data-xref" not in html:
        return html

    def link(found: re.Match[str]) -> str:
        paper_id = unescape(found.group(1))
        entry = library.papers.get(paper_id)
        text = found.group(2)
        if not text:
            text = escape_html(shown_name(entry.paper) if entry else paper_id)
        if entry is None:
            return text
        href = escape_html(_target(paper_id, place))
        return f'<a href="{href}" data-xref="{found.group(1)}">{text}</a>'

    return _CROSS_REFERENCE.sub(link, html)


def absolute_markdown(text: str, library: Library) -> str:
    """`text` with each cross-reference written as a Markdown link to the paper's page at
    its absolute address, showing what `resolve` shows: for the e-mail edition, whose
    plain text lists each link's address. Needs `base_url`."""
    found = cross_references(text)
    if not found:
        return text
    root = absolute_place(library).root
    pieces: list[str] = []
    end = 0
    for reference in found:
        entry = library.papers.get(reference.id)
        if entry is None or not text.startswith(reference.written, reference.offset):
            continue  # no paper to link to, or not found where written: left as it is
        shown = reference.text or shown_name(entry.paper)
        url = _in_markdown(root + permalinks.paper_path(reference.id))
        pieces += [text[end : reference.offset], f"[{_escaped(shown)}]({url})"]
        end = reference.offset + len(reference.written)
    return "".join(pieces) + text[end:]


def _in_markdown(url: str) -> str:
    """`url` as a Markdown link's target: a space or a parenthesis would end it."""
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _escaped(words: str) -> str:
    """`words` as Markdown text: each ASCII punctuation character escaped."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", words)


def _may_refer(entry: PaperEntry) -> bool:
    """Whether the paper's summary may hold a cross-reference, told without unpacking a
    packed paper: pickle writes each text as its UTF-8 bytes, so a summary holding "[["
    leaves those bytes in the packed model (another field holding them is a false alarm,
    and costs only a parse)."""
    stored = entry.outline
    if isinstance(stored, PackedPaper):
        return b"[[" in stored.data
    return "[[" in stored.summary


def referenced_ids(library: Library) -> set[str]:
    """The id of every paper a cross-reference of the library names."""
    texts = [text for view in library.issues for text in markdown_texts(view.issue)]
    texts += [entry.paper.summary for entry in library.papers.values() if _may_refer(entry)]
    return {reference.id for text in texts if "[[" in text for reference in cross_references(text)}


def reference_digest(library: Library) -> str:
    """The digest of what cross-references show beyond their own text: the name and
    issue of every paper they name."""
    parts: list[str] = []
    for paper_id in sorted(referenced_ids(library)):
        entry = library.papers.get(paper_id)
        if entry is None:
            parts += [paper_id, "", ""]
        else:
            parts += [paper_id, shown_name(entry.paper), library.issue_of[paper_id].slug]
    return combine("cross-references", *parts)
