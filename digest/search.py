"""Search: a compact prebuilt JSON index of every paper, read by templates/assets/search.js.

`search/index.json` is one document:

    {"version": 1,
     "topics": [["acceleration", "Acceleration"], ...],      # configured order
     "contributions": [["architecture", "Architecture"], ...],
     "issues": ["2026-02-28", ...],                           # newest first
     "stop_words": ["a", "an", ...],                          # left out of queries too
     "papers": [[id, title, authors, et_al, affiliations, tags, topic numbers,
                 contribution number or -1, issue number, has code (0/1),
                 one-line description, summary words], ...]}

Papers come newest issue first, then in title order; numbers point into the lists
above, which keeps the file small. "Summary words" are the summary's distinct words,
folded the way the script folds a query (lower case, accents removed), without
stop words and without words the title, tags or one-line description already hold
(the script searches the one-liner together with them). The script matches every
query word as a word prefix in title, authors, affiliations, tags and summary, ranks
title hits first and filters by topic, contribution, issue and "has code". Paper links
in the results are site-root paths that the page resolves relative to itself, so the
search works from a sub-path.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from digest import permalinks
from digest.models import CONTRIBUTIONS, PaperEntry
from digest.organise import IssueView, Library
from digest.wording import CONTRIBUTION_LABELS, long_date, one_liner

INDEX_PATH = "search/index.json"
SCRIPT_PATH = "assets/search.js"
STOP_WORDS = frozenset(
    """a an and are as at be by can for from has have in into is it its of on or our so such
    that the their them then these they this those to was we were which while with without
    more than not also both each how what when where who why will would""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")
# Each byte but an ASCII letter or digit, as a space: an ASCII text's words (`_WORD`'s
# matches) are then its pieces between spaces, found twice as fast as by the regex.
_SPACE_BUT_ALNUM = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[a-z]+:[^>]*>")


def fold(text: str) -> str:
    """Lower case without accents; search.js folds queries the same way."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.category(c).startswith("M")).lower()


def words(text: str) -> list[str]:
    folded = fold(text)
    if folded.isascii():  # nearly every text: the search index reads all the summaries
        return folded.encode("ascii").translate(_SPACE_BUT_ALNUM).decode("ascii").split()
    return _WORD.findall(folded)


def summary_words(entry: PaperEntry, line: str) -> str:
    """The summary's words that the title, tags and one-line description do not hold."""
    paper = entry.paper
    known = set(words(" ".join([paper.title, line, *paper.tags])))
    seen: dict[str, None] = {}
    # Markup characters are not word characters, so only link targets need removing.
    for word in words(_LINK_TARGET.sub("", paper.summary)):
        if len(word) > 1 and word not in STOP_WORDS and word not in known:
            seen.setdefault(word, None)
    return " ".join(seen)


def paper_words(entry: PaperEntry) -> tuple[str, str]:
    """(one-line description, summary words): the costly part of a paper's index row."""
    line = one_liner(entry.paper)
    return line, summary_words(entry, line)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def paper_row(entry: PaperEntry, topics: Sequence[str]) -> tuple[str, str]:
    """The paper's row of the index as JSON text, in two parts around its issue number
    (`issue_rows` puts the number between them)."""
    paper = entry.paper
    line, summary = paper_words(entry)
    before = [
        entry.id,
        paper.title,
        list(paper.authors),
        int(paper.et_al),
        list(paper.affiliations),
        list(paper.tags),
        [topics.index(slug) for slug in paper.themes if slug in topics],
        CONTRIBUTIONS.index(paper.contribution) if paper.contribution else -1,
    ]
    after = [int(paper.links.code is not None), line, summary]
    return _json(before)[:-1], _json(after)[1:]


def issue_rows(view: IssueView, number: int, topics: Sequence[str]) -> bytes:
    """The rows of one issue's papers, joined, in UTF-8; `number` is the issue's place in
    the index. (Bytes, so that a rebuild joins the kept rows of every issue without
    encoding the 8 MB index of 10,000 papers again: 10 ms when a name has an accent.)"""
    rows = (paper_row(entry, topics) for entry in view.papers)
    return ",".join(f"{before},{number},{after}" for before, after in rows).encode()


def index_json(
    library: Library,
    rows_of: Callable[[IssueView, int], bytes] | None = None,
) -> bytes:
    """The index document as JSON in UTF-8; `rows_of` gives an issue's `issue_rows` for
    this library's topics (a build passes its memo)."""
    if rows_of is None:
        rows_of = partial(issue_rows, topics=[theme.slug for theme in library.config.themes])
    chunks = [rows_of(view, number) for number, view in enumerate(library.issues) if view.papers]
    head = {
        "version": 1,
        "topics": [[theme.slug, theme.title] for theme in library.config.themes],
        "contributions": [[kind, CONTRIBUTION_LABELS[kind]] for kind in CONTRIBUTIONS],
        "issues": [view.slug for view in library.issues],
        "stop_words": sorted(STOP_WORDS),
    }
    return f'{_json(head)[:-1]},"papers":['.encode() + b",".join(chunks) + b"]}\n"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class SearchPage:
    """What templates/search.html needs beyond the base context."""

    topics: tuple[Option, ...]
    contributions: tuple[Option, ...]
    issues: tuple[Option, ...]
    index_url: str  # relative to the search page
    script_url: str
    root_url: str  # the site root, relative to the search page


def search_page(library: Library) -> SearchPage:
    page = permalinks.SEARCH
    return SearchPage(
        topics=tuple(Option(theme.slug, theme.title) for theme in library.config.themes),
        contributions=tuple(Option(kind, CONTRIBUTION_LABELS[kind]) for kind in CONTRIBUTIONS),
        issues=tuple(Option(view.slug, long_date(view.date)) for view in library.issues),
        index_url=permalinks.relative(page, INDEX_PATH),
        script_url=permalinks.relative(page, SCRIPT_PATH),
        root_url=permalinks.relative(page, ""),
    )
