"""Wording: the site's fixed English, said once for every page, reader file and message.

Pages, the search page, the e-mail edition, the feeds and the command line take their
dates, counts, author lines, link labels, group names, the parts of an "Under the hood"
line and set phrases from here, so they read the same everywhere. Formatting never
asks the machine's locale (output must be the same on every machine), and this module
imports nothing heavy: the command line imports it on every run. Templates keep their
own headings, the theme's to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from digest.models import Paper

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# AP style: before a day, the long names are shortened; March to July never are.
_AP_SHORT = {
    "January": "Jan.",
    "February": "Feb.",
    "August": "Aug.",
    "September": "Sept.",
    "October": "Oct.",
    "November": "Nov.",
    "December": "Dec.",
}
AP_MONTHS = tuple(_AP_SHORT.get(name, name) for name in MONTHS)

MAX_LISTED_AUTHORS = 3  # longer author lists are shown as "First Author et al."

# A paper's links, by kind (`Links`' fields); every output shows them in this order.
LINK_LABELS = {"paper": "Paper", "code": "Code", "project": "Project page", "data": "Data"}

# A paper's contribution (`CONTRIBUTIONS` in digest.models), as the search filter shows it.
CONTRIBUTION_LABELS = {
    "architecture": "Architecture",
    "technique": "Technique",
    "dataset": "Dataset",
    "benchmark": "Benchmark",
}

UNDER_THE_HOOD = "Under the hood"  # the heading of an issue's contribution groups
OUTLOOK = "Impact & the road ahead"  # the heading of an issue's outlook


class HoodGroup(NamedTuple):
    """One group of an issue's "Under the hood" part."""

    id: str  # the end of its HTML id, "hood-<id>"
    label: str
    kinds: tuple[str, ...]  # the contributions it gathers
    attributed: bool  # its lines name the paper they come from: "Title — Authors, Place"


HOOD_GROUPS = (
    HoodGroup("architectures", "Architectures", ("architecture",), False),
    HoodGroup("techniques", "Techniques & training strategies", ("technique",), True),
    HoodGroup("datasets", "Datasets & benchmarks", ("dataset", "benchmark"), True),
)
HOOD_INTRO = "The architectures, techniques and benchmarks of this issue, one line each."


def format_date(day: date) -> str:
    """ "Feb. 28, 2026": the date on every page, e-mail and listing (AP-style months)."""
    return f"{AP_MONTHS[day.month - 1]} {day.day}, {day.year}"


def plural(count: int, noun: str) -> str:
    """ "1 paper", "2 papers", "10,000 papers": the count (thousands marked with a comma)
    and the noun, with an "s" unless the count is 1."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def papers_in_issues(papers: int, issues: int) -> str:
    """ "12 papers in 3 issues": a topic's size, and what `digest check` read."""
    return f"{plural(papers, 'paper')} in {plural(issues, 'issue')}"


def issue_dek(papers: int, subject: str, day: date) -> str:
    """ "Latest 44 papers on diffusion models: Feb. 28, 2026": the line under an issue's
    title, on its page, in listings, in its e-mail and as its page description."""
    return f"Latest {plural(papers, 'paper')} on {subject}: {format_date(day)}"


def page_title(name: str, site: str) -> str:
    """ "Topics — Diffusion Digest": a page's <title>, its own name before the site's."""
    return f"{name} — {site}"


def issue_page_title(title: str, day: date, site: str) -> str:
    """ "Diffusion Models: … (Feb. 28, 2026) — Diffusion Digest": an issue's <title>."""
    return page_title(f"{title} ({format_date(day)})", site)


def join_names(names: Iterable[str]) -> str:
    """ "A", "A and B", "A, B and C": authors and affiliations as a line of prose."""
    items = list(names)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def authors_short(authors: list[str], et_al: bool) -> str:
    """ "Bowen Cui et al." when the list is incomplete or long, else "A, B and C"."""
    if not authors:
        return ""
    if et_al or len(authors) > MAX_LISTED_AUTHORS:
        return f"{authors[0]} et al."
    return join_names(authors)


def authors_full(authors: list[str], et_al: bool) -> str:
    """ "A, B, C, D et al.": every author, as a citation lists them."""
    if not authors:
        return ""
    return ", ".join(authors) + (" et al." if et_al else "")


def one_liner(paper: Paper) -> str:
    """The paper in one line: its tagline, else its summary's first sentence. Listings
    ("Under the hood", the e-mail), the paper page's description and the search index
    show it."""
    # digest.markdown is imported here, not above, to keep this module light to import.
    from digest.markdown import first_sentence

    return paper.tagline or first_sentence(paper.summary)


# After a label the one-liner repeats: a colon, comma or semicolon, or a spaced hyphen,
# en or em dash, then the rest of the line.
_AFTER_LABEL = re.compile(r"\s*(?:[:,;]|\s[-\u2013\u2014])\s*(?=\S)")


def hood_one_liner(paper: Paper) -> str:
    """The one-liner as an "Under the hood" line shows it after the paper's label: without
    the label when it starts with it ("ColoredImageNet: a dataset …" → "A dataset …"), so
    the line never reads "ColoredImageNet: ColoredImageNet: …"."""
    line = one_liner(paper)
    label = paper.hood_label
    if line[: len(label)].lower() != label.lower():
        return line
    repeated = _AFTER_LABEL.match(line, len(label))
    if repeated is None:
        return line
    rest = line[repeated.end() :]
    return rest[0].upper() + rest[1:]


def short_link(url: str) -> str:
    """ "github.com/argsss/DPCache": an address as a line of prose shows it, without its
    scheme, "www." or a trailing slash."""
    bare = re.sub(r"^[a-z][a-z0-9+.-]*://(www\.)?", "", url, flags=re.IGNORECASE)
    return bare.rstrip("/") or url


def hood_links(paper: Paper) -> tuple[tuple[str, str], ...]:
    """(text, url) of the links an "Under the hood" line shows: the code first, as its
    short address, then the paper."""
    links = [(short_link(paper.links.code), paper.links.code)] if paper.links.code else []
    if paper.paper_url:
        links.append(("paper", paper.paper_url))
    return tuple(links)


def attribution(paper: Paper) -> str:
    """ "Bowen Cui et al., Alibaba Group": who made the paper and where, as an "Under the
    hood" line names them after its title ("" when the entry names neither)."""
    names = authors_short(paper.authors, paper.et_al)
    return ", ".join(part for part in (names, join_names(paper.affiliations)) if part)


def labelled_links(paper: Paper) -> tuple[tuple[str, str], ...]:
    """(label, url) of the paper's links: the paper itself (arXiv, DOI or its own
    address) first, then code, project page and data."""
    links = [(LINK_LABELS["paper"], paper.paper_url)] if paper.paper_url else []
    links += [(LINK_LABELS[kind], url) for kind, url in paper.links.items() if kind != "paper"]
    return tuple(links)
