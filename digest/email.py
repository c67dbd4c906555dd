"""Email edition: each issue as email-safe HTML and as plain text, beside its page.

`<YYYY-MM-DD>/email.html` is self-contained and made for mail clients: every style is
inline (no <style>, no <script>, no external stylesheet or image), the layout is one
column of plain blocks (no tables) that long addresses and words wrap inside, and every
link is absolute but the contents', which lead to the sections' headings in the message
itself; so it can be pasted into a newsletter service as it is. `<YYYY-MM-DD>/email.txt`
is the same issue as plain text (digest.email_text), for the text part of the message.

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
from dataclasses import dataclass
from functools import partial
from typing import TypedDict

from markupsafe import Markup

from digest import permalinks, wording, xrefs
from digest.markdown import render_markdown
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library
from digest.views import HoodLine, Link, hood_line, paper_links

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
        anchor=permalinks.card_anchor(entry.id),
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
                EmailAlso(entry.paper.title, permalinks.card_anchor(entry.id), homes[entry.id])
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
