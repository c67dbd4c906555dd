"""Citations: BibTeX records, the paper page's citation line and schema.org JSON-LD.

BibTeX. One `@misc` record per paper, the form arXiv's own export uses:

    @misc{cui2026-dpcache,
      title = {Denoising as Path Planning: ... with {DPCache}},
      author = {Bowen Cui and others},
      year = {2026},
      eprint = {2602.00001},
      archivePrefix = {arXiv},
      doi = {10.1000/xyz123},
      url = {https://arxiv.org/abs/2602.00001},
    }

The key is the first author's family name (ASCII letters only), the year and the
paper's id; the id is unique across the site, so keys never collide and do not depend
on the order of the papers. The year is `published`'s, else the one an arXiv id is
numbered by (2502.01234 → 2025, hep-th/9802150 → 1998), else there is none: the key
goes without it and the record has no `year`. The issue's date is never a paper's year:
a digest often covers papers years after they came out. BibTeX's special characters
are escaped, words with inner capitals or digits are braced so styles keep their case,
and non-ASCII text stays UTF-8 (biber and modern BibTeX read it). A paper without
authors has nobody to cite: the .bib files leave it out, and its page shows no "Cite"
block (`citation_html` is None).

The citation line. "Authors. Title. arXiv:2602.00001, 2026. https://…" as HTML, whose
arXiv id or DOI and address are links (digest.values' `arxiv_url`, `doi_url`).

JSON-LD. Each digest page and each paper page is an `Article` (our summary) `about` one
or more `ScholarlyArticle`s (the papers, which are not ours), whose `datePublished` is
`published`, else the arXiv id's year, by the rule above. We deliberately emit no
Google Scholar `citation_*` meta tags: those would claim the paper is published here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from markupsafe import Markup
from markupsafe import escape as escape_html

from digest import permalinks, wording
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library
from digest.values import arxiv_url, doi_url

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "#": r"\#",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_SPECIAL_PATTERN = re.compile(r"[\\{}#%&$_~^]")
# The YY of an id's YYMM (digest.values checks the ids): new-style ids began in April
# 2007, old-style ones ran from August 1991 to March 2007.
_ARXIV_NEW_YEAR = re.compile(r"^(\d{2})\d{2}\.")
_ARXIV_OLD_YEAR = re.compile(r"/(\d{2})\d{5}")


_UNPAIRED_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def _escaped(text: str) -> list[str]:
    """Each character of `text` as BibTeX holds it (see `escape`)."""
    pieces = [_SPECIAL.get(c, c) for c in text]
    opened: list[int] = []
    for index, character in enumerate(text):
        if character == "{":
            opened.append(index)
        elif character == "}":
            if opened:
                opened.pop()
            else:
                pieces[index] = _UNPAIRED_BRACE["}"]
    for index in opened:
        pieces[index] = _UNPAIRED_BRACE["{"]
    return pieces


def escape(text: str) -> str:
    """Escape BibTeX/LaTeX special characters; everything else (UTF-8 included) stays.

    BibTeX counts every brace of a value, escaped or not, to find where the value ends,
    so a brace stays `\\{` or `\\}` only when the text closes what it opens; one without
    its partner is written as a command without braces (`\\textbraceright{}`), so that
    `}` in a title cannot end the field early."""
    if "{" in text or "}" in text:
        return "".join(_escaped(text))
    return _SPECIAL_PATTERN.sub(lambda match: _SPECIAL[match.group(0)], text)


def bib_url(url: str) -> str:
    """A URL as the `url` field holds it: as written (styles print it verbatim, so no
    LaTeX escapes), but with the braces and backslashes that would end or break the
    field percent-encoded, which means the same address."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


# The rule below for an ASCII word: a capital right after a word character, or a letter and
# a digit in one run of word characters, which then has the two next to each other, or apart
# by underscores only (the only word characters that are neither).
_KEEPS_CASE_ASCII = re.compile(r"\w[A-Z]|[A-Za-z]_*[0-9]|[0-9]_*[A-Za-z]", re.ASCII)


def _keeps_case(word: str) -> bool:
    """DPCache, MRI, 3D, DP-aware: capitals after the first letter, or letters with digits.

    Judged per run of word characters. ASCII words (nearly all) take one regex search; the
    rest keep the general rule, whose `\\w`, `isupper`, `isdigit` and `isalpha` know Unicode."""
    if word.isascii():
        return _KEEPS_CASE_ASCII.search(word) is not None
    for part in re.split(r"[^\w]+", word):
        if any(c.isupper() for c in part[1:]) or (
            any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
        ):
            return True
    return False


def bib_title(title: str) -> str:
    """Escaped, with case-sensitive words braced so bibliography styles keep their capitals.

    Braces pair up across the whole title (`escape`), not word by word."""
    if "{" in title or "}" in title:
        pieces = _escaped(title)
        words = []
        for match in re.finditer(r"\S+", title):
            word = "".join(pieces[match.start() : match.end()])
            words.append(f"{{{word}}}" if _keeps_case(match.group()) else word)
        return " ".join(words)
    return " ".join(f"{{{escape(w)}}}" if _keeps_case(w) else escape(w) for w in title.split())


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z]", "", folded.lower())


def arxiv_year(arxiv: str) -> int | None:
    """The year an arXiv id was given in, from its YYMM (None for an id without one)."""
    new_style = _ARXIV_NEW_YEAR.match(arxiv)
    if new_style:
        return 2000 + int(new_style.group(1))
    old_style = _ARXIV_OLD_YEAR.search(arxiv)
    if old_style:
        two = int(old_style.group(1))
        return 1900 + two if two >= 91 else 2000 + two
    return None


def year_of(entry: PaperEntry) -> int | None:
    """The paper's year: `published`'s, else its arXiv id's, else unknown (None).

    Never the issue's: a 2021 paper in a 2026 issue is still from 2021."""
    paper = entry.paper
    if paper.published:
        return paper.published.year
    return arxiv_year(paper.arxiv) if paper.arxiv else None


def citable(entry: PaperEntry) -> bool:
    """Whether the paper can be cited: a citation without authors names nobody."""
    return bool(entry.paper.authors)


def bib_key(entry: PaperEntry) -> str:
    """`<family><year>-<id>` (`<family>-<id>` without a year): stable, unique because ids
    are, independent of order."""
    family = ""
    if entry.paper.authors:
        family = _ascii_letters(entry.paper.authors[0].split()[-1])
    year = year_of(entry)
    return f"{family or 'anon'}{year if year is not None else ''}-{entry.id}"


def bibtex(entry: PaperEntry) -> str:
    """One BibTeX record, ending in a newline."""
    paper = entry.paper
    authors = [escape(name) for name in paper.authors]
    if paper.et_al and authors:
        authors.append("others")
    fields: list[tuple[str, str]] = [("title", bib_title(paper.title))]
    if authors:
        fields.append(("author", " and ".join(authors)))
    year = year_of(entry)
    if year is not None:
        fields.append(("year", str(year)))
    if paper.published:
        fields.append(("month", str(paper.published.month)))
    if paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
    if paper.doi:
        fields.append(("doi", escape(paper.doi)))
    if paper.paper_url:
        fields.append(("url", bib_url(paper.paper_url)))
    body = "".join(f"  {name} = {{{value}}},\n" for name, value in fields)
    return f"@misc{{{bib_key(entry)},\n{body}}}\n"


def citable_bibtex(entry: PaperEntry) -> str:
    """The paper's BibTeX record, or "" when it cannot be cited (`citable`)."""
    return bibtex(entry) if citable(entry) else ""


Records = Callable[[Iterable[PaperEntry]], Iterable[str]]
"""Some papers → their records ("" for a paper that cannot be cited)."""


def each_record(entries: Iterable[PaperEntry]) -> Iterable[str]:
    return map(citable_bibtex, entries)


def bibliography(records: Iterable[str]) -> str:
    """The records of the papers that can be cited, separated by blank lines, sorted by
    the key each starts with, so the file is deterministic. (A build passes the records
    it keeps in its store: working the keys out again for every paper of a big site
    took longer than the rest.)"""
    return "\n".join(sorted((text for text in records if text), key=_record_key))


def _record_key(record: str) -> str:
    """The key of a record that `bibtex` made: "@misc{<key>,\n..."."""
    return record[record.index("{") + 1 : record.index(",")]


def site_bibliography(library: Library, records: Records = each_record) -> str:
    return bibliography(records(library.papers.values()))


def issue_bibliography(issue: IssueView, records: Records = each_record) -> str:
    return bibliography(records(issue.papers))


# ---------------------------------------------------------------- the citation line


def _link(url: str, text: str) -> Markup:
    return Markup(f'<a href="{escape_html(url)}">{escape_html(text)}</a>')


def _sentence(text: str) -> str:
    """`text` ending in a full stop, unless it ends in one already (or in ? or !)."""
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _source_and_year(entry: PaperEntry) -> Markup | None:
    """Where and when, as far as known: `arXiv:2602.00001, 2026.`, `doi:10.1000/x.` or
    `2026.` (None when neither is known)."""
    paper = entry.paper
    source = None
    if paper.arxiv:
        source = _link(arxiv_url(paper.arxiv), f"arXiv:{paper.arxiv}")
    elif paper.doi:
        source = _link(doi_url(paper.doi), f"doi:{paper.doi}")
    year = year_of(entry)
    parts = [part for part in (source, None if year is None else str(year)) if part]
    return Markup("{}.").format(Markup(", ").join(parts)) if parts else None


def citation_html(entry: PaperEntry) -> Markup | None:
    """The paper's citation line, "Authors. Title. arXiv:ID, YEAR. URL", with the arXiv id
    or DOI and the address as links; None for a paper that cannot be cited (`citable`)."""
    if not citable(entry):
        return None
    paper = entry.paper
    authors = wording.authors_full(paper.authors, paper.et_al)
    parts: list[Markup | str] = [_sentence(authors), _sentence(paper.title)]
    when = _source_and_year(entry)
    if when:
        parts.append(when)
    if paper.paper_url:
        parts.append(_link(paper.paper_url, paper.paper_url))
    return Markup(" ").join(parts)


# ---------------------------------------------------------------- schema.org JSON-LD


def scholarly_article(entry: PaperEntry) -> dict[str, Any]:
    paper = entry.paper
    data: dict[str, Any] = {"@type": "ScholarlyArticle", "name": paper.title}
    if paper.authors:
        data["author"] = [{"@type": "Person", "name": name} for name in paper.authors]
    if paper.affiliations:
        data["sourceOrganization"] = [
            {"@type": "Organization", "name": name} for name in paper.affiliations
        ]
    if paper.published:
        data["datePublished"] = paper.published.isoformat()
    elif (year := year_of(entry)) is not None:
        data["datePublished"] = str(year)  # ISO 8601 allows the year alone
    if paper.paper_url:
        data["url"] = paper.paper_url
    identifiers = []
    if paper.arxiv:
        identifiers.append({"@type": "PropertyValue", "propertyID": "arXiv", "value": paper.arxiv})
    if paper.doi:
        identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": paper.doi})
    if identifiers:
        data["identifier"] = identifiers
    same_as = [url for kind, url in paper.links.items() if kind in ("code", "project")]
    if same_as:
        data["sameAs"] = same_as
    if paper.tags:
        data["keywords"] = list(paper.tags)
    return data


def article_text(entry: PaperEntry) -> str:
    """The paper's `scholarly_article` as JSON-LD text (`json_ld_text`)."""
    return json_ld_text(scholarly_article(entry))


def _article(
    config: SiteConfig,
    headline: str,
    description: str,
    day: date,
    path: str,
    about: list[str],
) -> str:
    """Our page as an Article about the papers, whose `article_text`s are spliced in as
    they are: a build encodes each paper once (digest.views) for its page and its
    issue's. The JSON is the same as encoding the whole at once, since "about" is the
    last key and the escapes of `json_ld_text` are made character by character."""
    publisher = {"@type": "Organization", "name": config.title}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": headline,
        "description": description,
        "datePublished": day.isoformat(),
        "author": publisher,
        "publisher": publisher,
        "inLanguage": "en",
    }
    if config.base_url:
        data["url"] = permalinks.absolute(config, path)
        data["mainEntityOfPage"] = data["url"]
    subjects = about[0] if len(about) == 1 else f"[{','.join(about)}]"
    return f'{json_ld_text(data)[:-1]},"about":{subjects}}}'


def paper_page_json_ld(
    library: Library,
    entry: PaperEntry,
    description: str,
    article: Callable[[PaperEntry], str] = article_text,
) -> str:
    """A paper page: our summary (Article) about the paper (ScholarlyArticle)."""
    issue = library.issue_of[entry.id]
    return _article(
        library.config,
        entry.paper.title,
        description,
        issue.date,
        permalinks.paper_path(entry.id),
        [article(entry)],
    )


def issue_page_json_ld(
    library: Library,
    issue: IssueView,
    description: str,
    article: Callable[[PaperEntry], str] = article_text,
) -> str:
    """A digest page: one Article about every paper of the issue."""
    return _article(
        library.config,
        issue.issue.title,
        description,
        issue.date,
        permalinks.issue_path(issue.date),
        [article(entry) for entry in issue.papers],
    )


def json_ld_text(data: dict[str, Any]) -> str:
    """JSON safe to place inside <script type="application/ld+json">: no `<`, `>` or `&`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
