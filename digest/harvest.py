"""Harvest: an arXiv search → a triage list of new candidates, ranked by the site's themes.

`digest harvest --query Q` asks the arXiv API for the papers submitted in a date window
(by default since the newest issue), newest first, page by page through the importer
(so its User-Agent, rate limiter, deadline and cache apply). Papers the digest already
has (the same arXiv id, any version, in any issue) are left out and counted; each other
one gets an id made from its title, as `digest new --from` makes it, and a suggested
theme from `ranking.py`. The list is a file `digest new --from-file` reads: one
`ID arxiv:ID theme=SLUG` line per candidate, after `#` comment lines that say what the
paper is. Each listed paper's answer is stored in the importer's cache under the key
`digest new --from arxiv:ID` looks up, so importing it asks arXiv nothing.

Any failure (no network, arXiv's `Error` entry, malformed XML, a 429 or 503) raises
ImportFailure before anything is written; the list is written whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digest.files import entry_files
from digest.importer import Importer
from digest.load import ISSUE_FILE, RawEntry, load_file
from digest.markdown import plain_first_sentence
from digest.metadata import FeedEntry, Metadata, Source, arxiv_entries, arxiv_feed, parse_arxiv
from digest.models import SiteConfig
from digest.new_entries import derive_id
from digest.ranking import THRESHOLD, Suggestion, ThemeModel, theme_texts
from digest.values import read_date
from digest.wording import plural

MAX_CANDIDATES = 100  # the default of --max
PAGE_SIZE = 100  # results asked for at once (arXiv allows up to 2,000)
SEARCH_TTL = 3600.0  # seconds a search answer is reused, so a rerun after a failure is cheap
FIRST_AUTHORS = 3
_ABSTRACT_LINK = re.compile(r"^https?://arxiv\.org/(?:abs|pdf)/(.+?)(?:\.pdf)?$")


def bare_arxiv(arxiv_id: str) -> str:
    """The id without its version: `2006.11239v2` → `2006.11239`."""
    return re.sub(r"v\d+$", "", arxiv_id.strip())


# ---------------------------------------------------------------- what the digest has


@dataclass(frozen=True)
class Filed:
    """What the digest already holds, as harvesting needs it."""

    arxiv: frozenset[str]  # arXiv ids without version
    ids: frozenset[str]  # paper ids
    papers: tuple[tuple[str, tuple[str, ...], str], ...]  # (title, themes, tags)
    newest_issue: date | None


def filed_papers(root: Path, config: SiteConfig) -> Filed:
    """Every paper file under the entries folder, read as written (a paper that does not
    pass check yet, such as one imported last week and not finished, counts too)."""
    entries_dir = root / config.entries
    arxiv: set[str] = set()
    ids: set[str] = set()
    papers = []
    for folder, path in entry_files(entries_dir):
        if path.name == ISSUE_FILE or path.suffix != ".yaml":
            continue
        ids.add(path.stem)
        loaded = load_file(path, root, folder, quick=True)
        if not isinstance(loaded, RawEntry):
            continue
        data = loaded.data
        links = data.get("links")
        paper_link = links.get("paper") if isinstance(links, dict) else None
        if isinstance(data.get("arxiv"), str):
            arxiv.add(bare_arxiv(data["arxiv"]))
        linked = _ABSTRACT_LINK.match(paper_link.strip()) if isinstance(paper_link, str) else None
        if linked:
            arxiv.add(bare_arxiv(linked.group(1)))
        themes = data.get("themes")
        tags = data.get("tags")
        title = data.get("title")
        papers.append(
            (
                title if isinstance(title, str) else "",
                tuple(t for t in themes if isinstance(t, str)) if isinstance(themes, list) else (),
                " ".join(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else "",
            )
        )
    return Filed(frozenset(arxiv), frozenset(ids), tuple(papers), newest_issue(entries_dir))


def newest_issue(entries_dir: Path) -> date | None:
    """The date of the newest `entries/<YYYY-MM-DD>/` folder."""
    days = []
    try:
        folders = list(entries_dir.iterdir())
    except OSError:
        return None
    for folder in folders:
        try:
            day = read_date(folder.name)
        except ValueError:
            continue
        if folder.is_dir():
            days.append(day)
    return max(days, default=None)


def theme_model(config: SiteConfig, filed: Filed) -> ThemeModel:
    themes = [(t.slug, t.title, t.description) for t in config.themes]
    return ThemeModel(theme_texts(themes, filed.papers))


# ---------------------------------------------------------------- asking arXiv


def search_query(query: str, since: date, until: date) -> str:
    """The query within the submission window, in arXiv's `search_query` syntax."""
    return f"({query}) AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"


@dataclass(frozen=True)
class Candidate:
    id: str
    metadata: Metadata
    category: str | None
    suggestion: Suggestion


@dataclass(frozen=True)
class Harvest:
    query: str
    since: date
    until: date
    candidates: tuple[Candidate, ...]  # ranked: best fit first, those without a theme last
    already: int  # results left out because the digest has them


def _read_page(body: str, asked: str) -> tuple[list[tuple[FeedEntry, Metadata]], int | None]:
    """A search answer's papers, each read as `digest new` reads it, or ImportFailure."""
    entries, total = arxiv_entries(arxiv_feed(body, asked))
    read = [(e, parse_arxiv(e.feed, Source("arxiv", bare_arxiv(e.arxiv)))) for e in entries]
    return read, total


def harvest(
    importer: Importer,
    query: str,
    since: date,
    until: date,
    limit: int,
    filed: Filed,
    model: ThemeModel,
    page_size: int = PAGE_SIZE,
) -> Harvest:
    """Ask arXiv page by page until `limit` new papers are found or the results end;
    rank them. Raises ImportFailure (nothing is cached for a page that failed)."""
    asked = f"the search {query!r}"
    size = min(limit, page_size)
    found: list[tuple[FeedEntry, Metadata]] = []
    seen: set[str] = set()
    already = start = 0
    while len(found) < limit:
        params = {
            "search_query": search_query(query, since, until),
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": str(start),
            "max_results": str(size),
        }
        page, total = importer.search_arxiv(
            params, asked, lambda body: _read_page(body, asked), SEARCH_TTL
        )
        for entry, metadata in page:
            bare = bare_arxiv(entry.arxiv)
            if bare in seen:  # a paper may move to the next page while paging
                continue
            seen.add(bare)
            if bare in filed.arxiv:
                already += 1
            elif len(found) < limit:
                found.append((entry, metadata))
        start += len(page)
        if not page or (start >= total if total is not None else len(page) < size):
            break
    taken = set(filed.ids)
    candidates = []
    for entry, metadata in found:
        paper_id = derive_id(metadata.title, taken)
        taken.add(paper_id)
        importer.remember(metadata.source, entry.feed)
        suggestion = model.suggest(metadata.title, metadata.abstract or "")
        candidates.append(Candidate(paper_id, metadata, entry.category, suggestion))
    candidates.sort(key=lambda c: (c.suggestion.theme is None, -c.suggestion.score, c.id))
    return Harvest(query, since, until, tuple(candidates), already)


# ---------------------------------------------------------------- the list


def first_sentence(text: str, limit: int = 240) -> str:
    """An abstract's first sentence, by the rule one-line listings use, at most `limit`
    characters."""
    text = plain_first_sentence(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _authors(authors: Sequence[str]) -> str:
    if not authors:
        return "no authors listed"
    shown = ", ".join(authors[:FIRST_AUTHORS])
    return f"{shown} et al." if len(authors) > FIRST_AUTHORS else shown


def _comment(text: str) -> str:
    """A comment line; text from a service is one line already, this keeps it so."""
    return "# " + " ".join(text.split()) + "\n"


def already_line(count: int) -> str:
    """ "3 already in the digest": the papers the search found that the digest has."""
    return f"{count} already in the digest"


def triage_text(result: Harvest) -> str:
    """The list: a header, then each candidate's comments and its line."""
    out = [
        _comment(
            f"arXiv papers for {result.query!r} submitted {result.since.isoformat()} to "
            f"{result.until.isoformat()}, best fit to the site's themes first"
        ),
        _comment(
            f"{plural(len(result.candidates), 'candidate')}; "
            f"{already_line(result.already)} (left out)"
        ),
        "# Delete the lines you do not want, then run:\n",
        "#     digest new --issue YYYY-MM-DD --from-file THIS-FILE\n",
    ]
    for candidate in result.candidates:
        metadata, suggestion = candidate.metadata, candidate.suggestion
        submitted = metadata.published.isoformat() if metadata.published else "date unknown"
        out.append("\n")
        out.append(_comment(metadata.title))
        about = [_authors(metadata.authors), candidate.category, f"submitted {submitted}"]
        out.append(_comment(" · ".join(part for part in about if part)))
        if metadata.abstract:
            out.append(_comment(first_sentence(metadata.abstract.split("\n\n")[0])))
        others = [f"{slug} {score:.2f}" for slug, score in suggestion.scores[:3]]
        if suggestion.theme is not None:
            why = f" ({', '.join(suggestion.terms)})" if suggestion.terms else ""
            rest = f"; next: {', '.join(others[1:])}" if others[1:] else ""
            out.append(_comment(f"score {suggestion.score:.2f} for {suggestion.theme}{why}{rest}"))
            theme = f" theme={suggestion.theme}"
        else:
            best = f" (best: {others[0]})" if others else ""
            out.append(
                _comment(
                    f"no theme: none scores {THRESHOLD:.2f} or more{best}; add theme=SLUG "
                    "or choose one in the entry"
                )
            )
            theme = ""
        out.append(f"{candidate.id} arxiv:{metadata.source.value}{theme}\n")
    return "".join(out)
