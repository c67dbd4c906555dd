"""Search: the text rules, the index's files, and the script's core run by Node on them.

The index's format and how it is built from stored pieces are tested in
tests/test_search_index.py; the page itself, in Chromium, in tests/test_search_browser.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import search, search_index, search_postings, wording
from digest.folding import fold
from digest.models import CONTRIBUTIONS
from digest.organise import Library

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml
from .search_support import (
    NO_FILTERS,
    ReadIndex,
    ids_of,
    library_of,
    read_index,
    run_node,
    run_searches,
    write_index,
)

FACETS = ("topic", "contribution", "issue", "year")
# Texts whose folding needs more than lower case: accents, compatibility forms (here a
# ligature and full-width letters), ß, the multiplication sign, dashes of every kind,
# final sigma, dotted capital I.
TRICKY_TEXTS = [
    "Schrödinger Bridges",
    "up to 6.25\u00d7 faster",
    "Straße and STRASSE",
    "training\u2011free, training\u2013free, training\u2014free, training\u2212free",
    "ΣΟΦΟΣ σοφος",
    "İstanbul Łódź Ærø Œuvre þorn",
    "\ufb01ne-grained \uff26\uff35\uff2c\uff2c width x\u00b2",
    "naïve café résumé",
]


@pytest.fixture(scope="module")
def example_library(example_root: Path) -> Library:
    return library_of(example_root)


@pytest.fixture(scope="module")
def example_site(example_library: Library, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_index(example_library, tmp_path_factory.mktemp("example-index"))


@pytest.fixture(scope="module")
def example_index(example_site: Path) -> ReadIndex:
    return read_index(example_site)


def site_of(root: Path, tmp_path: Path) -> Path:
    return write_index(library_of(root), tmp_path / "site")


# ------------------------------------------------------------------ text rules


@given(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60)
    | st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=60)
)
def test_words_are_the_runs_of_letters_and_digits_of_the_folded_text(text: str) -> None:
    # ASCII texts take a faster path than the regex; any text gives what the regex gives.
    assert search.words(text) == re.findall(r"[^\W_]+", fold(text))


@given(st.text(alphabet="ab1- _.\u2013", max_size=40))
def test_compounds_are_words_joined_by_single_hyphens(text: str) -> None:
    # ASCII texts are split by hand rather than by the regex; both give the same.
    folded = fold(text)
    expected = [c.replace("-", "") for c in re.findall(r"[^\W_]+(?:-[^\W_]+)+", folded)]
    assert search.compounds(folded) == expected


def test_script_folds_and_splits_text_as_the_index_does() -> None:
    """The index's words are made in Python and the queries read in JavaScript: both
    must make the same words of the same text."""
    from_script = run_node(
        "output = input.map(t => [core.fold(t), core.searchWords(t), core.valueKey(t)]);",
        TRICKY_TEXTS,
    )
    from_python = [
        [fold(text), search.search_words(text), search.value_key(text)] for text in TRICKY_TEXTS
    ]
    assert from_script == from_python
    assert search.words("6.25\u00d7 Straße") == ["6", "25x", "strasse"]
    assert search.search_words("training\u2013free") == ["training", "free", "trainingfree"]


def test_search_page_context_uses_relative_urls(example_library: Library) -> None:
    page = search.search_page(example_library, search_index.HEAD_PATH)
    assert (page.index_url, page.core_url, page.script_url) == (
        "../search/index.bin",
        "../assets/search-core.js",
        "../assets/search.js",
    )
    assert (page.paper_url, page.topic_url, page.issue_url) == (
        "../papers/{}/",
        "../topics/{}/",
        "../{}/",
    )
    assert page.years == ("2026",)
    assert page.size == "27 papers in 1 issue"


# ------------------------------------------------------------------ what the index holds


def test_the_index_holds_every_paper_with_its_facets_and_display_row(
    example_index: ReadIndex, example_library: Library
) -> None:
    head = example_index.head
    assert head["version"] == 3
    assert head["papers"] == len(example_library.papers) == len(example_index.rows)
    assert head["issues"] == [["2026-02-28", 27]]
    assert head["topics"] == [
        [theme.slug, theme.title, theme.description] for theme in example_library.config.themes
    ]
    assert head["months"] == list(wording.AP_MONTHS)
    numbers = {row[0]: number for number, row in enumerate(example_index.rows)}
    assert set(numbers) == set(example_library.papers)
    dpcache = numbers["dpcache"]
    assert example_index.rows[dpcache] == [
        "dpcache",
        example_library.papers["dpcache"].paper.title,
        "DPCache",
        ["Bowen Cui"],
        1,
        "https://github.com/argsss/DPCache",
        wording.one_liner(example_library.papers["dpcache"].paper),
    ]
    topics = [theme.slug for theme in example_library.config.themes]
    assert example_index.facets[dpcache] == ([topics.index("acceleration")], 1 << 0 | 1 << 4)
    for number, row in enumerate(example_index.rows):
        paper = example_library.papers[row[0]].paper
        topic_numbers, flags = example_index.facets[number]
        assert topic_numbers == sorted(topics.index(slug) for slug in set(paper.themes))
        assert bool(flags & 1 << 4) == bool(paper.links.code)
        assert [kind for n, kind in enumerate(CONTRIBUTIONS) if flags & 1 << n] == [
            kind for kind in CONTRIBUTIONS if kind in paper.contributions
        ]


def test_words_are_indexed_under_the_best_field_they_are_in(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(
                title='"Bridges"',
                short="Brücke",
                tags="[Bridges, kestrel]",
                authors="[Ann Kestrel, Bo Wren]",
                tagline='"A short line"',
                summary="|\n  A Schrödinger bridge (Brücke), see [the code](https://x.org/ÉCOLE). "
                "Bridges! Training\u2011free Straße, x y.",
            ),
        }
    )
    index = read_index(site_of(root, tmp_path))
    classes = {
        term: found.postings[0][1] for term, found in index.terms.items() if term[0].isalnum()
    }
    assert classes["bridges"] == search.NAMES  # title, tag and summary: the title wins
    assert classes["brucke"] == search.NAMES  # the short name, folded
    assert classes["kestrel"] == search.CATEGORIES  # a tag and an author
    assert classes["wren"] == search.PEOPLE
    assert classes["short"] == classes["line"] == search.TEXT  # the one-liner
    for word in ("schrodinger", "bridge", "code", "strasse", "training", "trainingfree"):
        assert classes[word] == search.TEXT, word
    assert "ecole" not in classes and "x" not in classes  # a link target, a one-letter word
    assert not set(classes) & search.STOP_WORDS  # "a", "see"'s neighbours "the"
    # The tags and authors, as values a filter can choose, under each rotation too.
    assert index.terms["@ann kestrel"].name == "Ann Kestrel"
    assert index.terms["@kestrel ann|ann kestrel"].name == "Ann Kestrel"
    assert index.terms["#kestrel"].postings == [(0, search.NAMES)]


def test_terms_are_sorted_as_javascript_compares_strings() -> None:
    # U+FF21 (full-width A) is after any surrogate in UTF-16, before U+1D400 in code points.
    terms = ["b", "\U0001d400", "\uff21", "a"]
    assert search_postings.term_order(terms) == ["a", "b", "\U0001d400", "\uff21"]
    assert run_node("output = input.slice().sort();", terms) == ["a", "b", "\U0001d400", "\uff21"]


# ------------------------------------------------------------------ matching


def test_script_matches_word_prefixes_in_every_field(example_site: Path) -> None:
    results = run_searches(
        example_site,
        [
            (query, {})
            for query in (
                "dpcache",  # short name
                "Bowen",  # author
                "alibaba",  # affiliation
                "caching",  # tag
                "plug-in",  # summary words
                "denois path",  # prefixes, every word must match
                "zzzzunknown",
            )
        ],
    )
    assert results[0]["ids"][0] == "dpcache"
    for found in results[1:5]:
        assert "dpcache" in found["ids"]
    assert results[5]["ids"][0] == "dpcache"
    assert results[6]["ids"] == []


def test_a_word_shorter_than_the_minimum_prefix_matches_whole_words_only(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/long.yaml": paper_yaml(title='"Diffusion Gets Faster"'),
            "entries/2026-01-05/short.yaml": paper_yaml(title='"Di and Dif in 3D"'),
        }
    )
    site = site_of(root, tmp_path)
    assert search.MIN_PREFIX == 3
    assert ids_of(site, "di") == ["short"]  # a whole word; not the start of "diffusion"
    assert ids_of(site, "dif") == ["short", "long"]  # whole, then the start of a word
    assert ids_of(site, "diff") == ["long"]
    assert ids_of(site, "3d") == ["short"]


def test_topic_titles_descriptions_and_contribution_labels_are_searchable(
    example_site: Path, example_library: Library
) -> None:
    papers = example_library.papers.values()
    safety = {p.id for p in papers if "safety" in p.paper.themes}
    benchmarks = {p.id for p in papers if "benchmark" in p.paper.contributions}
    assert safety and benchmarks
    # "Safety" is the topic's title, "erasure" a word of its description only.
    assert safety <= set(ids_of(example_site, "safety"))
    assert safety <= set(ids_of(example_site, "erasure"))
    assert benchmarks <= set(ids_of(example_site, "benchmark"))


def test_folding_forgives_accents_signs_dashes_and_spelling(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/times.yaml": paper_yaml(
                title='"Stage-Aware Experts"', tagline='"Up to 6.25\u00d7 faster sampling."'
            ),
            "entries/2026-01-05/ascii.yaml": paper_yaml(
                title='"Plain Speed"', tagline='"Up to 3.5x faster on CPUs."'
            ),
            "entries/2026-01-05/strasse.yaml": paper_yaml(
                title='"Schrödinger Bridges on the Straße"'
            ),
            "entries/2026-01-05/dash.yaml": paper_yaml(
                title='"Training\u2011Free Guidance"', summary='"A training free method."'
            ),
            "entries/2026-01-05/spaced.yaml": paper_yaml(title='"Guidance Without Training"'),
        }
    )
    site = site_of(root, tmp_path)
    assert ids_of(site, "6.25x") == ["times"]
    assert ids_of(site, "3.5\u00d7") == ["ascii"]
    assert ids_of(site, "schrodinger strasse") == ["strasse"]
    assert ids_of(site, "SCHRÖDINGER STRASSE") == ["strasse"]
    assert ids_of(site, "training-free") == ["dash"]
    assert ids_of(site, "training free") == ["dash"]
    assert ids_of(site, "trainingfree") == ["dash"]
    assert ids_of(site, "training\u2014free") == ["dash"]


def test_results_rank_names_above_tags_above_people_above_summary(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            # Ids in reverse of the expected ranking, so index order cannot explain it.
            "entries/2026-01-05/a-summary.yaml": paper_yaml(
                title='"One"', summary='"About a kestrel."'
            ),
            "entries/2026-01-05/b-author.yaml": paper_yaml(title='"Two"', authors="[Ann Kestrel]"),
            "entries/2026-01-05/c-affiliation.yaml": paper_yaml(
                title='"Three"', affiliations="[Kestrel Institute]"
            ),
            "entries/2026-01-05/d-tag.yaml": paper_yaml(title='"Four"', tags="[kestrels]"),
            "entries/2026-01-05/e-short.yaml": paper_yaml(title='"Five"', short="KestrelNet"),
            "entries/2026-01-05/f-title.yaml": paper_yaml(title='"The Kestrel Sampler"'),
        }
    )
    found = ids_of(site_of(root, tmp_path), "kestrel")
    assert found[:2] == ["f-title", "e-short"]  # a whole word, then a prefix
    assert found[2] == "d-tag"
    assert set(found[3:5]) == {"b-author", "c-affiliation"}
    assert found[5] == "a-summary"


def test_papers_that_rank_alike_are_listed_newest_issue_first(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/old-b.yaml": paper_yaml(title='"Beta Kestrel"'),
            "entries/2026-01-05/old-a.yaml": paper_yaml(title='"Alpha Kestrel"'),
            "entries/2026-01-12/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-12/new.yaml": paper_yaml(title='"Gamma Kestrel"'),
            "entries/2026-01-12/other.yaml": paper_yaml(title='"Delta"'),
        }
    )
    site = site_of(root, tmp_path)
    assert ids_of(site, "kestrel") == ["new", "old-a", "old-b"]
    assert ids_of(site, "") == ["other", "new", "old-a", "old-b"]  # title order in an issue


def test_a_query_of_stop_words_only_finds_nothing_and_says_which(example_site: Path) -> None:
    result, other = run_searches(example_site, [("The of THE", {}), ("the diffusion", {})])
    assert result["ids"] == []
    assert result["terms"] == []
    assert result["common"] == ["the", "of"]
    assert other["terms"] == ["diffusion"]


def test_an_empty_query_lists_every_paper_newest_first(
    example_site: Path, example_library: Library
) -> None:
    expected = [entry.id for view in example_library.issues for entry in view.papers]
    assert ids_of(example_site, "") == expected


# ------------------------------------------------------------------ filters and counts


def test_script_filters_narrow_to_the_right_ids(
    example_site: Path, example_library: Library
) -> None:
    papers = {p.id: p.paper for p in example_library.papers.values()}
    medical = {i for i, p in papers.items() if "medical" in p.themes}
    with_code = {i for i, p in papers.items() if p.links.code}
    datasets = {i for i, p in papers.items() if "dataset" in p.contributions}
    training_free = {i for i, p in papers.items() if "training-free" in p.tags}
    author = papers["dpcache"].authors[0]
    by_author = {i for i, p in papers.items() if author in p.authors}
    assert medical and with_code and datasets and training_free and by_author
    queries: list[tuple[str, dict[str, Any]]] = [
        ("", {"topic": "medical"}),
        ("", {"code": True}),
        ("", {"contribution": "dataset"}),
        ("", {"topic": "medical", "code": True}),
        ("", {"issue": "2026-02-28"}),
        ("", {"issue": "2020-01-01"}),
        ("", {"year": "2026"}),
        ("", {"year": "2020"}),
        ("", {"tag": "training-free"}),
        ("", {"tag": "Training Free"}),  # the same tag, spelled otherwise
        ("", {"author": author}),
        ("", {"author": author.upper()}),
        ("", {"tag": "no such tag"}),
    ]
    found = run_searches(example_site, queries)
    ids = [set(result["ids"]) for result in found]
    assert ids[0] == medical
    assert ids[1] == with_code
    assert ids[2] == datasets
    assert ids[3] == medical & with_code
    assert ids[4] == ids[6] == set(papers)
    assert ids[5] == ids[7] == set()
    assert ids[8] == ids[9] == training_free
    assert ids[10] == ids[11] == by_author
    # A tag the index does not know is left out, and the result says so.
    assert ids[12] == set(papers) and found[12]["unknown"] == ["tag"]


@pytest.mark.parametrize(
    ("query", "filters"),
    [
        ("", {}),
        ("diffusion", {}),
        ("diffusion", {"topic": "medical"}),
        ("sampling", {"code": True}),
        ("model", {"contribution": "technique", "tag": "training-free"}),
    ],
)
def test_facet_counts_are_what_choosing_each_value_would_list(
    example_site: Path, example_library: Library, query: str, filters: dict[str, Any]
) -> None:
    """A facet's count for a value is how many papers the search lists once that value is
    chosen (the other filters kept); "any" is how many it lists with the facet unset. A
    tag's or an author's suggestion counts the same way."""
    current = {**NO_FILTERS, **filters}
    # Suggestions for the first letter of the first listed paper's first tag and author.
    first = example_library.papers[run_searches(example_site, [(query, current)])[0]["ids"][0]]
    letters = {"tag": first.paper.tags[0][0], "author": first.paper.authors[0][0]}
    result = run_searches(example_site, [(query, current, letters)])[0]
    assert result["ids"]
    asked: list[tuple[str, dict[str, Any]]] = []
    expected: list[int] = []
    for facet in FACETS:
        for value, count in result[facet].items():
            asked.append((query, {**current, facet: value}))
            expected.append(count)
        asked.append((query, {**current, facet: ""}))
        expected.append(result["any"][facet])
    asked.append((query, {**current, "code": True}))
    expected.append(result["code"])
    for facet, values in result["suggested"].items():
        assert values, facet
        for value in values:
            asked.append((query, {**current, facet: value["name"]}))
            expected.append(value["count"])
    listed = [len(found["ids"]) for found in run_searches(example_site, asked)]
    assert listed == expected
    # The suggestions are the values with a word starting with the typed letters, of
    # the papers every other filter lists: each of them.
    others = run_searches(example_site, [(query, {**current, "tag": ""})])[0]["ids"]
    papers = example_library.papers
    tags = {
        tag
        for paper_id in others
        for tag in papers[paper_id].paper.tags
        if any(word.startswith(fold(letters["tag"])) for word in search.words(tag))
    }
    assert {value["name"] for value in result["suggested"]["tag"]} == tags


def test_suggestions_find_a_name_by_any_of_its_words(example_site: Path) -> None:
    [result] = run_searches(example_site, [("", {}, {"author": "cui", "tag": "free"})])
    assert [value["name"] for value in result["suggested"]["author"]] == ["Bowen Cui"]
    assert "training-free" in [value["name"] for value in result["suggested"]["tag"]]


def test_authors_line_is_the_one_the_pages_show(example_index: ReadIndex) -> None:
    lists = [(row[3], row[4] == 1) for row in example_index.rows]
    lists += [([], False), (["A"], False), (["A", "B"], False), (["A", "B", "C"], False)]
    lists += [(["A", "B", "C", "D"], False), (["A", "B"], True)]
    lines = run_node("output = input.map(([a, e]) => core.authorsShort(a, e));", lists)
    assert lines == [wording.authors_short(authors, et_al) for authors, et_al in lists]


def test_issue_dates_are_written_as_the_pages_write_them(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    days = ["2025-01-04", "2025-05-10", "2025-09-06", "2025-12-27"]
    files = {f"entries/{day}/_issue.yaml": MINIMAL_ISSUE for day in days}
    files.update({f"entries/{day}/p{n}.yaml": paper_yaml() for n, day in enumerate(days)})
    library = library_of(make_site(files))
    site = write_index(library, tmp_path / "site")
    labels = run_node("output = index.issues.map(issue => [issue.date, issue.label]);", site=site)
    assert labels == [[view.slug, wording.format_date(view.date)] for view in library.issues[::-1]]


def test_an_index_of_another_version_is_refused_with_a_message(example_site: Path) -> None:
    program = """
const bytes = await load("index.bin");
const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
head.version = 2;
const text = new TextEncoder().encode(JSON.stringify(head));
const changed = new Uint8Array(4 + text.length);
new DataView(changed.buffer).setUint32(0, text.length, true);
changed.set(text, 4);
try { new core.SearchIndex(changed, load); output = "read"; }
catch (problem) { output = problem.message; }
"""
    message = run_node(program, site=example_site)
    assert message == "the search index is of version 2, this page reads version 3"
