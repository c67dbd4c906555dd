"""Search: what a paper gives the search index, the text rules both sides share, and the
search page's context. The index's files are written by digest.search_index.

Text is matched after `fold` (digest.folding): compatibility forms decomposed (NFKD),
accents and other marks removed, lower case, then its table (ß → ss, the multiplication
sign → x, every dash and hyphen → "-"). A text's words are the runs of letters and
digits of its folded form, and each word joined by hyphens ("training-free") is also
known as one word ("trainingfree"), so a query finds "training-free", "training free"
and "trainingfree" alike. templates/assets/search-core.js folds queries the same way;
tests/test_search.py runs both on the same texts.

A paper's words are indexed under the best of four field classes, which rank a match:
`NAMES` (title, short name), `CATEGORIES` (tags), `PEOPLE` (authors, affiliations) and
`TEXT` (the one-line description and the summary; the summary's one-letter words are
left out). Stop words are never indexed, since no query looks them up. A paper's topics
and contributions are facets, matched by their titles, descriptions and labels in the
page itself. Besides words, the index holds:

- each prefix of `UNION_LENGTHS` characters of a word, as `prefix*`: the papers that
  have a word starting with it, so a short prefix ("con") reads one list instead of
  those of every word it starts;
- each tag and author as a facet value, `#key` and `@key` (the key: its folded words,
  spaced), and once more under each rotation of its words (`@cui bowen|bowen cui` for
  "Bowen Cui"), so that a filter's suggestions find a name by any of its words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from digest import permalinks
from digest.folding import fold
from digest.models import CONTRIBUTIONS, PaperEntry
from digest.organise import Library
from digest.wording import CONTRIBUTION_LABELS, one_liner, papers_in_issues

SCRIPT_PATH = "assets/search.js"  # the page
CORE_PATH = "assets/search-core.js"  # the index and matching, which the page uses
STOP_WORDS = frozenset(
    """a an and are as at be by can for from has have in into is it its of on or our so such
    that the their them then these they this those to was we were which while with without
    more than not also both each how what when where who why will would""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+")
_COMPOUND = re.compile(r"[^\W_]+(?:-[^\W_]+)+")
# Each byte but an ASCII letter or digit, as a space: an ASCII text's words (`_WORD`'s
# matches) are then its pieces between spaces, found twice as fast as by the regex.
_SPACE_BUT_ALNUM = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))
_SPACE_BUT_ALNUM_HYPHEN = bytes(c if c == 45 else _SPACE_BUT_ALNUM[c] for c in range(256))
_LINK_TARGET = re.compile(r"\]\([^)]*\)|<[a-z]+:[^>]*>")

# The field classes, best first; search-core.js weighs them 8, 4, 2 and 1.
NAMES, CATEGORIES, PEOPLE, TEXT = range(4)
# A query word shorter than this matches whole words only: a one- or two-letter prefix
# would read a large part of the index.
MIN_PREFIX = 3
UNION_LENGTHS = (3, 4)  # the prefixes indexed as `prefix*`
UNION = "*"  # ends a prefix's term
TAG, AUTHOR = "#", "@"  # start a facet value's term
ROTATION = "|"  # in a rotated facet value's term, before the value's own key


def words(text: str) -> list[str]:
    """The runs of letters and digits of the folded text, in order."""
    return _words_of(fold(text))


def _words_of(folded: str) -> list[str]:
    if folded.isascii():  # nearly every text: the index reads all the summaries
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


def value_key(value: str) -> str:
    """A tag's or an author's key: spellings that differ only in case, accents or
    punctuation ("Caching", "caching") are one value."""
    return " ".join(words(value))


# ------------------------------------------------------------------ a paper's part


def paper_terms(entry: PaperEntry, line: str) -> dict[str, int]:
    """The paper's words, each with the best class it is found in; `line` is its
    one-line description."""
    paper = entry.paper
    # Markup characters are not word characters, so only link targets need removing.
    summary = search_words(_LINK_TARGET.sub("", paper.summary))
    best = dict.fromkeys((word for word in summary if len(word) > 1), TEXT)
    best.update(dict.fromkeys(search_words(line), TEXT))
    best.update(
        dict.fromkeys(search_words(" ".join([*paper.authors, *paper.affiliations])), PEOPLE)
    )
    best.update(dict.fromkeys(search_words(" ".join(paper.tags)), CATEGORIES))
    best.update(dict.fromkeys(search_words(f"{paper.title} {paper.short or ''}"), NAMES))
    for word in STOP_WORDS.intersection(best):
        del best[word]
    return best


def facet_terms(mark: str, values: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Each value's term and its rotations (see the module docstring), with the value
    as written."""
    for value in values:
        parts = words(value)
        if not parts:
            continue
        key = " ".join(parts)
        yield mark + key, value
        for start in range(1, len(parts)):
            rotated = " ".join(parts[start:] + parts[:start])
            yield f"{mark}{rotated}{ROTATION}{key}", value


def display_row(entry: PaperEntry, line: str) -> str:
    """What a result shows of the paper, as a JSON array: id, title, short name or "",
    authors, et al. (0 or 1), code URL or "", one-line description."""
    paper = entry.paper
    row = [
        entry.id,
        paper.title,
        paper.short or "",
        list(paper.authors),
        int(paper.et_al),
        paper.links.code or "",
        line,
    ]
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def facet_bits(entry: PaperEntry, topics: Sequence[str]) -> tuple[int, int]:
    """The paper's topics as bits in the configured order, and its contributions (bits
    0-3, `CONTRIBUTIONS` order) with bit 4 set when it links to code."""
    paper = entry.paper
    topic_bits = sum(1 << topics.index(slug) for slug in set(paper.themes) if slug in topics)
    flags = sum(1 << CONTRIBUTIONS.index(kind) for kind in set(paper.contributions))
    return topic_bits, flags | (CODE_FLAG if paper.links.code else 0)


CODE_FLAG = 1 << 4


# ------------------------------------------------------------------ the page


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class SearchPage:
    """What templates/search.html needs beyond the base context."""

    topics: tuple[Option, ...]
    contributions: tuple[Option, ...]
    years: tuple[str, ...]  # the issues' years, newest first
    size: str  # "27 papers in 1 issue": what the page searches
    index_url: str  # relative to the search page
    core_url: str
    script_url: str
    # Where results link to, relative to the search page; "{}" stands for the paper id,
    # the topic slug or the issue date.
    paper_url: str
    topic_url: str
    issue_url: str


def search_page(library: Library, index_path: str) -> SearchPage:
    """The search page's context. It shows only what the configuration and the list of
    issues and papers say (the page cache keys it so): the issues, tags and authors
    come with the index."""
    page = permalinks.SEARCH
    issues = library.issues
    return SearchPage(
        topics=tuple(Option(theme.slug, theme.title) for theme in library.config.themes),
        contributions=tuple(Option(kind, CONTRIBUTION_LABELS[kind]) for kind in CONTRIBUTIONS),
        years=tuple(dict.fromkeys(str(view.date.year) for view in issues)),
        size=papers_in_issues(len(library.papers), len(issues)),
        index_url=permalinks.relative(page, index_path),
        core_url=permalinks.relative(page, CORE_PATH),
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


def paper_part(entry: PaperEntry) -> tuple[dict[str, int], str]:
    """The paper's words with their classes, and its display row."""
    line = one_liner(entry.paper)
    return paper_terms(entry, line), display_row(entry, line)
