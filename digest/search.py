"""Search: a compact prebuilt JSON index of every paper, read by templates/assets/search.js,
and the search page's context.

`search/index.json` is one document:

    {"version": 2,
     "topics": [["safety", "Safety", "Concept erasure, ..."], ...],  # configured order
     "contributions": [["architecture", "Architecture"], ...],
     "issues": [["2026-02-28", "Feb. 28, 2026"], ...],                # newest first
     "stop_words": ["a", "an", ...],                                  # left out of queries
     "papers": [[id, title, short name or "", authors, et_al (0/1), affiliations, tags,
                 topic numbers, (first) contribution number or -1, issue number,
                 code URL or "",
                 one-line description, summary words], ...]}

Papers come newest issue first, then in title order; numbers point into the lists
above, which keeps the file small: a topic's title and description, a contribution's
label and an issue's date are written once, not once per paper. Each row stands alone
(everything it needs is in it or in the head), so the papers can be cut into several
files by issue without changing a row.

Text is matched after `fold`: compatibility forms decomposed (NFKD), accents and other
marks removed, lower case, then `FOLDS` (ß → ss, the multiplication sign → x, every dash
and hyphen → "-"). A text's words are the runs of letters and digits of its folded form,
and each word joined by hyphens ("training-free") is also known as one word
("trainingfree"), so a query finds "training-free", "training free" and "trainingfree"
alike. "Summary words" are the summary's distinct words so folded, without stop words
and without those the title, short name, tags or one-line description already hold (the
script searches the one-liner together with them). search.js folds queries the same way
and matches each query word as a word prefix; tests/test_search.py runs both on the same
texts.

Links in the results are made by the page from patterns `search_page` gives it (the
`permalinks` paths, relative to the search page), so the search works from a sub-path.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from digest import permalinks
from digest.models import CONTRIBUTIONS, PaperEntry
from digest.organise import IssueView, Library
from digest.wording import CONTRIBUTION_LABELS, format_date, one_liner, papers_in_issues

INDEX_PATH = "search/index.json"
SCRIPT_PATH = "assets/search.js"
INDEX_VERSION = 2
STOP_WORDS = frozenset(
    """a an and are as at be by can for from has have in into is it its of on or our so such
    that the their them then these they this those to was we were which while with without
    more than not also both each how what when where who why will would""".split()  # noqa: SIM905
)
# What NFKD, removing marks and lower case leave apart but a reader takes as the same:
# letters spelled two ways, the multiplication sign (U+00D7, as a speed-up is written),
# final sigma, and the dashes and hyphens (non-breaking, en, em, minus, ...), all made
# the ASCII hyphen.
# search.js holds the same table.
FOLDS = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "\u0131": "i",  # dotless i
    "\u03c2": "\u03c3",  # final sigma, sigma
    "\u00d7": "x",  # the multiplication sign
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d", "-"),
}
_FOLD_TABLE = str.maketrans(FOLDS)
_WORD = re.compile(r"[^\W_]+")
_COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)+")
# Each byte but an ASCII letter or digit, as a space: an ASCII text's words (`_WORD`'s
# matches) are then its pieces between spaces, found twice as fast as by the regex.
_SPACE_BUT_ALNUM = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))
_SPACE_BUT_ALNUM_HYPHEN = bytes(c if c == 45 else _SPACE_BUT_ALNUM[c] for c in range(256))
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[a-z]+:[^>]*>")


def fold(text: str) -> str:
    """The text as search compares it: see the module docstring."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return bare.lower().translate(_FOLD_TABLE)


def words(text: str) -> list[str]:
    """The runs of letters and digits of the folded text, in order."""
    return _words_of(fold(text))


def _words_of(folded: str) -> list[str]:
    if folded.isascii():  # nearly every text: the search index reads all the summaries
        return folded.encode("ascii").translate(_SPACE_BUT_ALNUM).decode("ascii").split()
    return _WORD.findall(folded)


def compounds(folded: str) -> list[str]:
    """The words joined by single hyphens in a folded text, each as one word:
    "x-ray" → "xray" (what `_COMPOUND` finds, with its hyphens removed)."""
    if "-" not in folded:
        return []
    if not folded.isascii():
        return [compound.replace("-", "") for compound in _COMPOUND.findall(folded)]
    # ASCII, as nearly every text is: the regex, tried at every word, would take most of
    # the index's build time. Between spaces, a compound is a run of non-empty pieces
    # between hyphens; an empty piece ("a--b", "-a") breaks the run.
    found = []
    spaced = folded.encode("ascii").translate(_SPACE_BUT_ALNUM_HYPHEN).decode("ascii")
    for token in spaced.split():
        if "-" not in token:
            continue
        run: list[str] = []
        for piece in [*token.split("-"), ""]:
            if piece:
                run.append(piece)
                continue
            if len(run) > 1:
                found.append("".join(run))
            run = []
    return found


def search_words(text: str) -> list[str]:
    """The text's words, then each hyphenated compound as one word ("trainingfree")."""
    folded = fold(text)
    return _words_of(folded) + compounds(folded)


def summary_words(entry: PaperEntry, line: str) -> str:
    """The summary's words that the title, short name, tags and one-line description
    do not hold."""
    paper = entry.paper
    known = set(search_words(" ".join([paper.title, paper.short or "", line, *paper.tags])))
    seen: dict[str, None] = {}
    # Markup characters are not word characters, so only link targets need removing.
    for word in search_words(_LINK_TARGET.sub("", paper.summary)):
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
        paper.short or "",
        list(paper.authors),
        int(paper.et_al),
        list(paper.affiliations),
        list(paper.tags),
        [topics.index(slug) for slug in paper.themes if slug in topics],
        CONTRIBUTIONS.index(paper.contributions[0]) if paper.contributions else -1,
    ]
    after = [paper.links.code or "", line, summary]
    return _json(before)[:-1], _json(after)[1:]


def issue_rows(view: IssueView, number: int, topics: Sequence[str]) -> bytes:
    """The rows of one issue's papers, joined, in UTF-8; `number` is the issue's place in
    the index. (Bytes, so that a rebuild joins the kept rows of every issue without
    encoding the 8 MB index of 10,000 papers again: 10 ms when a name has an accent.)"""
    rows = (paper_row(entry, topics) for entry in view.papers)
    return ",".join(f"{before},{number},{after}" for before, after in rows).encode()


def index_head(library: Library) -> dict[str, Any]:
    """The index's lists that rows point into, and its stop words."""
    return {
        "version": INDEX_VERSION,
        "topics": [[t.slug, t.title, t.description] for t in library.config.themes],
        "contributions": [[kind, CONTRIBUTION_LABELS[kind]] for kind in CONTRIBUTIONS],
        "issues": [[view.slug, format_date(view.date)] for view in library.issues],
        "stop_words": sorted(STOP_WORDS),
    }


def index_json(
    library: Library,
    rows_of: Callable[[IssueView, int], bytes] | None = None,
) -> bytes:
    """The index document as JSON in UTF-8; `rows_of` gives an issue's `issue_rows` for
    this library's topics (a build passes its memo)."""
    if rows_of is None:
        rows_of = partial(issue_rows, topics=[theme.slug for theme in library.config.themes])
    chunks = [rows_of(view, number) for number, view in enumerate(library.issues) if view.papers]
    head = _json(index_head(library))[:-1]
    return f'{head},"papers":['.encode() + b",".join(chunks) + b"]}\n"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class SearchPage:
    """What templates/search.html needs beyond the base context."""

    topics: tuple[Option, ...]
    contributions: tuple[Option, ...]
    issues: tuple[Option, ...]  # newest first, labelled in the site's date format
    years: tuple[str, ...]  # the issues' years, newest first
    size: str  # "27 papers in 1 issue": what the page searches
    index_url: str  # relative to the search page
    script_url: str
    # Where results link to, relative to the search page; "{}" stands for the paper id,
    # the topic slug or the issue date.
    paper_url: str
    topic_url: str
    issue_url: str


def search_page(library: Library) -> SearchPage:
    """The search page's context. It shows only what the configuration and the list of
    issues and papers say (the page cache keys it so): tags and authors, whose filters
    list what the index holds, are filled in by search.js."""
    page = permalinks.SEARCH
    issues = library.issues
    return SearchPage(
        topics=tuple(Option(theme.slug, theme.title) for theme in library.config.themes),
        contributions=tuple(Option(kind, CONTRIBUTION_LABELS[kind]) for kind in CONTRIBUTIONS),
        issues=tuple(Option(view.slug, format_date(view.date)) for view in issues),
        years=tuple(dict.fromkeys(str(view.date.year) for view in issues)),
        size=papers_in_issues(len(library.papers), len(issues)),
        index_url=permalinks.relative(page, INDEX_PATH),
        script_url=permalinks.relative(page, SCRIPT_PATH),
        paper_url=_pattern(permalinks.paper_path("id"), "id"),
        topic_url=_pattern(permalinks.topic_path("slug"), "slug"),
        issue_url=_pattern(permalinks.issue_path(_SAMPLE_DAY), _SAMPLE_DAY.isoformat()),
    )


_SAMPLE_DAY = date(2000, 1, 2)


def _pattern(path: str, sample: str) -> str:
    """The link from the search page to `path`, with `sample` (an id, slug or date in
    it) as "{}"."""
    return permalinks.relative(permalinks.SEARCH, path).replace(sample, "{}")
