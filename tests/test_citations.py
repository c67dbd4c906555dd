"""Citations: BibTeX records that parse and round-trip, stable keys, schema.org JSON-LD."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bibtexparser.entrypoint import parse_string
from bibtexparser.library import Library as Bibliography
from bibtexparser.middlewares import LatexDecodingMiddleware
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import citations
from digest.build import run
from digest.content import load_content
from digest.models import Paper, PaperEntry
from digest.organise import Library, organise
from digest.values import character_problem

from .conftest import MINIMAL_ISSUE, SiteFactory, examples, first_arguments, paper_yaml

AWKWARD_TITLE = "Schrödinger's {Bridge}: 100% of $x_1$ & ~50# of Ünïcode back\\slash — DPCache 3D"


def library_of(root: Path, *, reverse: bool = False) -> Library:
    content = load_content(root)
    assert content.config is not None
    assert not content.report.errors, content.report.errors
    papers = list(reversed(content.papers)) if reverse else content.papers
    return organise(content.config, content.issues, papers)


def parse(text: str) -> Bibliography:
    result = parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert result.failed_blocks == []
    return result


@pytest.fixture
def awkward(make_site: SiteFactory) -> Library:
    title = AWKWARD_TITLE.replace("\\", "\\\\").replace('"', '\\"')
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/awkward.yaml": paper_yaml(
            title=f'"{title}"',
            authors="[Zoë Ångström-Müller, Bob O'Brien]",
            et_al="true",
            arxiv='"2602.01234v2"',
            doi="10.1000/a_b%c",
        ),
        "entries/2026-02-28/old-style.yaml": paper_yaml(
            authors="[Ed Witten]", arxiv="hep-th/9802150", published="1998-03-01"
        ),
        "entries/2026-02-28/doi-only.yaml": paper_yaml(authors="[]", doi="10.1000/xyz123"),
    }
    return library_of(make_site(files))


def test_example_bibliography_parses_with_one_record_per_paper(example_root: Path) -> None:
    library = library_of(example_root)
    result = parse(citations.site_bibliography(library))
    keys = [entry.key for entry in result.entries]
    assert len(keys) == len(set(keys)) == len(library.papers) == 27
    assert keys == sorted(citations.bib_key(entry) for entry in library.papers.values())
    titles = {entry.fields_dict["title"].value for entry in result.entries}
    assert titles == {entry.paper.title for entry in library.papers.values()}


def test_titles_with_non_ascii_and_braces_round_trip(awkward: Library) -> None:
    text = citations.bibtex(awkward.papers["awkward"])
    assert "Schrödinger" in text and "Ünïcode" in text  # UTF-8 kept, not LaTeX-escaped
    assert r"\{Bridge\}" in text and "{DPCache}" in text and "{3D}" in text
    entry = parse(text).entries[0]
    assert entry.fields_dict["title"].value == AWKWARD_TITLE
    assert entry.fields_dict["author"].value == "Zoë Ångström-Müller and Bob O'Brien and others"
    assert entry.fields_dict["doi"].value == "10.1000/a_b%c"


def test_arxiv_and_doi_fields(awkward: Library) -> None:
    fields = {
        key: parse(citations.bibtex(entry)).entries[0].fields_dict
        for key, entry in awkward.papers.items()
    }
    assert fields["awkward"]["eprint"].value == "2602.01234v2"
    assert fields["awkward"]["archivePrefix"].value == "arXiv"
    assert fields["awkward"]["year"].value == "2026"
    assert fields["awkward"]["url"].value == "https://arxiv.org/abs/2602.01234v2"
    assert fields["old-style"]["eprint"].value == "hep-th/9802150"
    assert fields["old-style"]["year"].value == "1998"
    assert fields["old-style"]["month"].value == "3"
    assert "eprint" not in fields["doi-only"]
    assert fields["doi-only"]["url"].value == "https://doi.org/10.1000/xyz123"
    assert fields["doi-only"]["doi"].value == "10.1000/xyz123"


def test_keys_are_author_year_id_and_independent_of_order(
    awkward: Library, example_root: Path
) -> None:
    assert {key: citations.bib_key(e) for key, e in awkward.papers.items()} == {
        "awkward": "angstrommuller2026-awkward",
        "old-style": "witten1998-old-style",
        "doi-only": "anon-doi-only",  # no year known: the key goes without one
    }
    forwards = citations.site_bibliography(library_of(example_root))
    backwards = citations.site_bibliography(library_of(example_root, reverse=True))
    assert forwards == backwards
    assert "@misc{cui-dpcache,\n" in forwards


def test_issue_bibliography_holds_the_issue_papers(example_root: Path) -> None:
    library = library_of(example_root)
    issue = library.issues[0]
    keys = {entry.key for entry in parse(citations.issue_bibliography(issue)).entries}
    assert keys == {citations.bib_key(entry) for entry in issue.papers}


# Papers of an issue dated 2026-02-28, none of them from 2026.
DATED_PAPERS = {
    "published-wins": paper_yaml(arxiv='"2502.01234"', published="2021-06-01"),
    "new-style": paper_yaml(authors="[Kaiming He]", arxiv='"2103.00001v3"'),
    "first-new-style": paper_yaml(arxiv='"0704.0001"'),
    "old-style": paper_yaml(arxiv="hep-th/9802150"),
    "old-style-2002": paper_yaml(arxiv="math.GT/0211159"),
    "doi-only": paper_yaml(authors="[Ann Other]", doi="10.1000/xyz123"),
    "nothing": paper_yaml(),
}


@pytest.fixture
def dated(make_site: SiteFactory) -> Library:
    files = {f"entries/2026-02-28/{key}.yaml": text for key, text in DATED_PAPERS.items()}
    return library_of(make_site({"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, **files}))


def test_the_year_is_published_else_the_arxiv_ids_never_the_issues(dated: Library) -> None:
    years = {
        key: parse(citations.bibtex(entry)).entries[0].fields_dict.get("year")
        for key, entry in dated.papers.items()
    }
    assert {key: field.value if field else None for key, field in years.items()} == {
        "published-wins": "2021",
        "new-style": "2021",
        "first-new-style": "2007",
        "old-style": "1998",
        "old-style-2002": "2002",
        "doi-only": None,
        "nothing": None,
    }
    assert citations.bib_key(dated.papers["new-style"]) == "he2021-new-style"
    assert citations.bib_key(dated.papers["doi-only"]) == "other-doi-only"


def test_json_ld_dates_a_paper_by_the_same_rule(dated: Library) -> None:
    dates = {
        key: citations.scholarly_article(entry).get("datePublished")
        for key, entry in dated.papers.items()
    }
    assert dates == {
        "published-wins": "2021-06-01",
        "new-style": "2021",
        "first-new-style": "2007",
        "old-style": "1998",
        "old-style-2002": "2002",
        "doi-only": None,
        "nothing": None,
    }


def test_bibliographies_leave_out_papers_without_authors(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/cited.yaml": paper_yaml(),
            "entries/2026-02-28/nobody.yaml": paper_yaml(authors="[]", arxiv='"2502.01234"'),
            "entries/2026-03-07/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-03-07/nobody-either.yaml": paper_yaml(authors="[]"),
        }
    )
    result = run(root, root / "site")
    assert result.ok, result.report.diagnostics

    def keys(bib: str) -> list[str]:
        return [entry.key for entry in parse((root / "site" / bib).read_text()).entries]

    assert keys("bibliography.bib") == ["lovelace-cited"]
    assert keys("2026-02-28/digest-2026-02-28.bib") == ["lovelace-cited"]
    assert keys("2026-03-07/digest-2026-03-07.bib") == []


def test_the_citation_line_links_the_arxiv_id_and_the_address(dated: Library) -> None:
    assert citations.citation_html(dated.papers["new-style"]) == (
        "Kaiming He. A Paper About Things. "
        '<a href="https://arxiv.org/abs/2103.00001v3">arXiv:2103.00001v3</a>, 2021. '
        '<a href="https://arxiv.org/abs/2103.00001v3">https://arxiv.org/abs/2103.00001v3</a>'
    )
    # No year known: none is given, and the issue's is never borrowed.
    assert citations.citation_html(dated.papers["nothing"]) == "Ada Lovelace. A Paper About Things."


def test_the_citation_line_escapes_text_and_encodes_the_doi(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/odd.yaml": paper_yaml(
            title='"Is <b> & Co. bold?"',
            authors="[A. N. Other, Jr.]",
            et_al="true",
            doi='"10.1000/a#b?c%d"',
            links='{paper: "https://x.example/?a=1&b=2"}',
        ),
    }
    entry = library_of(make_site(files)).papers["odd"]
    assert citations.citation_html(entry) == (
        "A. N. Other, Jr. et al. Is &lt;b&gt; &amp; Co. bold? "
        '<a href="https://doi.org/10.1000/a%23b%3Fc%25d">doi:10.1000/a#b?c%d</a>. '
        '<a href="https://x.example/?a=1&amp;b=2">https://x.example/?a=1&amp;b=2</a>'
    )


def test_a_paper_without_authors_has_no_citation_line(dated: Library) -> None:
    # Every paper of `dated` has authors: this one, made on its own, has none.
    paper = Paper.model_validate(
        {"title": "Nobody's", "themes": ["acceleration"], "summary": "x", "arxiv": "2502.01234"}
    )
    entry = PaperEntry("nobody", date(2026, 2, 28), paper, "entries/2026-02-28/nobody.yaml")
    assert citations.citation_html(entry) is None
    assert citations.citation_html(dated.papers["nothing"]) is not None


def paper_page(root: Path, paper_id: str) -> str:
    return (root / "site" / "papers" / paper_id / "index.html").read_text(encoding="utf-8")


def test_a_paper_page_cites_only_a_paper_with_authors(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/cited.yaml": paper_yaml(arxiv='"2103.00001"'),
            "entries/2026-02-28/nobody.yaml": paper_yaml(authors="[]", arxiv='"2103.00002"'),
        }
    )
    result = run(root, root / "site")
    assert result.ok, result.report.diagnostics
    cited = paper_page(root, "cited")
    assert '<section class="cite"' in cited
    assert "@misc{lovelace2021-cited," in cited
    assert 'class="button copy-button"' in cited
    # The footer links the issue's BibTeX on every page of it; the page itself cites nothing.
    nobody = paper_page(root, "nobody").split("<footer", 1)[0]
    for absent in ('class="cite"', "@misc", "copy-button", "copy.js", ">BibTeX<"):
        assert absent not in nobody


def test_a_paper_page_links_its_arxiv_id_and_doi(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/both.yaml": paper_yaml(
                authors="[]", arxiv='"2103.00001"', doi='"10.1000/x#y"'
            ),
        }
    )
    result = run(root, root / "site")
    assert result.ok, result.report.diagnostics
    page = paper_page(root, "both")
    assert '<dd><a href="https://arxiv.org/abs/2103.00001">2103.00001</a></dd>' in page
    assert '<dd><a href="https://doi.org/10.1000/x%23y">10.1000/x#y</a></dd>' in page


def test_every_special_character_is_escaped() -> None:
    # pylatexenc decodes \textasciicircum{} to U+02C6, so the caret is checked here, by hand.
    assert citations.escape("\\{}#%&$_~^") == (
        r"\textbackslash{}\{\}\#\%\&\$\_\textasciitilde{}\textasciicircum{}"
    )
    assert citations.bib_title("a^b") == r"a\textasciicircum{}b"


def test_paper_json_ld_is_an_article_about_a_scholarly_article(awkward: Library) -> None:
    entry = awkward.papers["awkward"]
    data = json.loads(citations.paper_page_json_ld(awkward, entry, "What it does."))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "Article"
    about = data["about"]
    assert about["@type"] == "ScholarlyArticle"
    assert about["name"] == AWKWARD_TITLE
    assert [a["name"] for a in about["author"]] == ["Zoë Ångström-Müller", "Bob O'Brien"]
    assert {i["propertyID"]: i["value"] for i in about["identifier"]} == {
        "arXiv": "2602.01234v2",
        "DOI": "10.1000/a_b%c",
    }
    assert "url" not in data  # no base_url configured: no absolute address to claim


def test_issue_json_ld_is_about_every_paper(example_root: Path) -> None:
    library = library_of(example_root)
    issue = library.issues[0]
    data = json.loads(citations.issue_page_json_ld(library, issue, "An issue."))
    assert data["url"] == "https://digest-demo.github.io/diffusion/2026-02-28/"
    assert data["datePublished"] == "2026-02-28"
    assert [item["name"] for item in data["about"]] == [e.paper.title for e in issue.papers]


def test_a_papers_schema_org_data_is_encoded_once_for_its_page_and_its_issues(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded = first_arguments(monkeypatch, citations, "article_text")
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/fast.yaml": paper_yaml(),
            "entries/2026-02-28/safe.yaml": paper_yaml(title='"Safe and sound"'),
        }
    )
    result = run(root, root / "site")
    assert result.ok, result.report.diagnostics
    assert sorted(entry.id for entry in encoded) == ["fast", "safe"]

    def json_ld(page: str) -> Any:
        html = (root / "site" / page).read_text()
        script = html.split('<script type="application/ld+json">')[1]
        return json.loads(script.split("</script>")[0])

    library = library_of(root)
    for paper_id in ("fast", "safe"):
        assert json_ld(f"papers/{paper_id}/index.html")["about"] == citations.scholarly_article(
            library.papers[paper_id]
        )
    issue = json_ld("2026-02-28/index.html")
    assert issue["about"] == [citations.scholarly_article(e) for e in library.issues[0].papers]


def test_json_ld_text_cannot_close_its_script_element() -> None:
    text = citations.json_ld_text({"name": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><b>&"}


def reference_keeps_case(word: str) -> bool:
    """The original, general rule `citations._keeps_case` must agree with."""
    for part in re.split(r"[^\w]+", word):
        if any(c.isupper() for c in part[1:]) or (
            any(c.isdigit() for c in part) and any(c.isalpha() for c in part)
        ):
            return True
    return False


# ASCII letters, digits and punctuation, and the Unicode characters where `\w`, `isupper`,
# `isdigit` and `isalpha` disagree with ASCII intuition: accented and Greek capitals, a
# titlecase letter, a Roman numeral, superscript, Arabic-Indic and fullwidth digits, a
# combining accent, CJK, and dashes.
WORD_CHARACTERS = "aZbYq09_-.:'/+()" + "éÉßΣσǅⅫ²٣７\u0301中—\u2013"
WORD_TEXTS = st.one_of(
    st.text(alphabet=WORD_CHARACTERS, min_size=1, max_size=12),
    st.text(alphabet="aBz9_-", min_size=1, max_size=40),
    st.text(min_size=1, max_size=12),
)


@settings(max_examples=examples(500))
@given(WORD_TEXTS)
def test_keeps_case_matches_the_general_rule(word: str) -> None:
    assert citations._keeps_case(word) == reference_keeps_case(word)


@given(st.lists(WORD_TEXTS, max_size=12))
def test_bib_title_braces_exactly_the_words_that_keep_their_case(words: list[str]) -> None:
    # Without braces in the title: those pair up across words (test_braces_...).
    title = " ".join(words).replace("{", "").replace("}", "")
    expected = " ".join(
        f"{{{citations.escape(w)}}}" if reference_keeps_case(w) else citations.escape(w)
        for w in title.split()
    )
    assert citations.bib_title(title) == expected


def test_keeps_case_examples() -> None:
    kept = ["DPCache", "MRI", "3D", "DP-aware", "x_1B", "a_2", "GPT-4o", "ÜberNet", "bⅫ"]
    plain = ["Diffusion", "models", "A", "-", "3-D", "x-1", "Schrödinger's", "co-Design", "Ⅻb"]
    assert [w for w in kept + plain if citations._keeps_case(w)] == kept


def balanced(value: str) -> bool:
    """Whether BibTeX finds the braces of a value balanced: it counts every brace, a
    backslash before one or not (bibtexparser is more lenient, so this is checked here)."""
    depth = 0
    for character in value:
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def raw_fields(record: str) -> dict[str, str]:
    """The record's fields as written (no LaTeX decoding), after checking it parses."""
    result = parse_string(record)
    assert result.failed_blocks == []
    assert len(result.entries) == 1
    return {name: field.value for name, field in result.entries[0].fields_dict.items()}


def test_a_url_cannot_break_out_of_its_field(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/injected.yaml": paper_yaml(
            links='{paper: "https://x.example/a},title={Injected},note={x"}'
        ),
    }
    entry = library_of(make_site(files)).papers["injected"]
    fields = raw_fields(citations.bibtex(entry))
    assert fields == {
        "title": "A Paper About Things",
        "author": "Ada Lovelace",
        "url": "https://x.example/a%7D,title=%7BInjected%7D,note=%7Bx",
    }


def test_unbalanced_braces_in_a_title_keep_the_record_whole(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/braces.yaml": paper_yaml(
            title='"A} {paired 3D} and { alone"',
            authors='["Ann }Brace", Bo]',
            doi='"10.1000/a{b"',
        ),
    }
    entry = library_of(make_site(files)).papers["braces"]
    record = citations.bibtex(entry)
    fields = raw_fields(record)
    assert fields["title"] == r"A\textbraceright{} \{paired {3D\}} and \textbraceleft{} alone"
    assert fields["author"] == r"Ann \textbraceright{}Brace and Bo"
    assert fields["doi"] == r"10.1000/a\textbraceleft{}b"
    assert fields["url"] == "https://doi.org/10.1000/a%7Bb"
    assert all(balanced(value) for value in fields.values())
    decoded = parse(record).entries[0].fields_dict
    assert decoded["author"].value == "Ann Brace and Bo"  # pylatexenc drops \textbraceright


# Any text a paper may hold (`character_problem` allows it): every category of code point.
ALLOWED_TEXT = st.text(st.characters(exclude_categories=()), max_size=30).filter(
    lambda text: character_problem(text) is None
)


@settings(max_examples=examples(300), deadline=None)
@given(ALLOWED_TEXT, st.lists(ALLOWED_TEXT, max_size=3), ALLOWED_TEXT)
def test_any_allowed_text_makes_a_record_that_parses(
    title: str, authors: list[str], path: str
) -> None:
    title = " ".join(title.split()) or "x"
    authors = [" ".join(a.split()) for a in authors if a.strip()]
    paper = Paper.model_validate(
        {
            "title": title,
            "authors": authors,
            "themes": ["acceleration"],
            "summary": "x",
            "doi": "10.1000/" + ("".join(path.split()) or "x"),
        }
    )
    entry = PaperEntry("any", date(2026, 2, 28), paper, "entries/2026-02-28/any.yaml")
    fields = raw_fields(citations.bibtex(entry))
    assert set(fields) == {"title", "doi", "url"} | ({"author"} if authors else set())
    assert all(balanced(value) for value in fields.values())
