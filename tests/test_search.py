"""Search: the prebuilt index, and the script's matching core run by Node on it.

The page itself, in Chromium, is tested in tests/test_search_browser.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest import search, wording
from digest.content import load_content
from digest.organise import Library, organise

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "assets" / "search.js"
NO_FILTERS: dict[str, Any] = {
    "topic": "",
    "contribution": "",
    "issue": "",
    "year": "",
    "tag": "",
    "author": "",
    "code": False,
}
FACETS = ("topic", "contribution", "issue", "year", "tag", "author")
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


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None
    return organise(content.config, content.issues, content.papers)


def index_of(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(search.index_json(library_of(root)))
    return document


@pytest.fixture(scope="module")
def example_index(example_root: Path) -> dict[str, Any]:
    return index_of(example_root)


def run_node(program: str, data: Any) -> Any:
    """Run `program` in Node with `core` (search.js's matching core) and `input` (`data`)
    defined; it sets `output`, which comes back as JSON."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run templates/assets/search.js outside a browser")
    script = f"""
const core = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
let output = null;
{program}
process.stdout.write(JSON.stringify(output));
"""
    done = subprocess.run(
        [node, "-e", script, str(SCRIPT)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def run_searches(
    index: dict[str, Any], queries: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Each query's result: the ids found in order, the words searched and left out, and
    the facet counts by value (topics by slug, issues by date, tags and authors by name)."""
    program = """
const prepared = core.prepare(input.index);
output = input.queries.map(([query, filters]) => {
  const found = core.search(prepared, query, filters);
  const byName = (names, counts) => Object.fromEntries(
    names.map((name, i) => [name, counts[i]]).filter(([, n]) => n > 0));
  const c = found.counts;
  return {
    ids: found.papers.map(p => p.id), terms: found.terms, common: found.common,
    any: c.any, code: c.code[0],
    topic: byName(prepared.topics.map(t => t.slug), c.topic),
    contribution: byName(prepared.contributions.map(k => k.value), c.contribution),
    issue: byName(prepared.issues.map(i => i.date), c.issue),
    year: byName(prepared.years, c.year),
    tag: byName(prepared.tags.names, c.tag),
    author: byName(prepared.authors.names, c.author),
  };
});
"""
    result: list[dict[str, Any]] = run_node(program, {"index": index, "queries": queries})
    return result


def ids_of(index: dict[str, Any], query: str, **filters: Any) -> list[str]:
    found: list[str] = run_searches(index, [(query, {**NO_FILTERS, **filters})])[0]["ids"]
    return found


# ------------------------------------------------------------------ the index


def test_index_holds_every_paper_with_its_facets(
    example_index: dict[str, Any], example_root: Path
) -> None:
    library = library_of(example_root)
    rows = {row[0]: row for row in example_index["papers"]}
    assert set(rows) == set(library.papers)
    assert example_index["version"] == 2
    assert example_index["issues"] == [["2026-02-28", "Feb. 28, 2026"]]
    assert example_index["topics"] == [
        [theme.slug, theme.title, theme.description] for theme in library.config.themes
    ]
    dpcache = rows["dpcache"]
    assert dpcache[1].startswith("Denoising as Path Planning")
    assert dpcache[2] == "DPCache"
    assert dpcache[3] == ["Bowen Cui"] and dpcache[4] == 1
    assert dpcache[5] == ["Alibaba Group"]
    assert dpcache[6] == ["caching", "training-free", "sampling"]
    assert [example_index["topics"][n][0] for n in dpcache[7]] == ["acceleration"]
    assert example_index["contributions"][dpcache[8]][0] == "architecture"
    assert dpcache[9] == 0
    assert dpcache[10] == "https://github.com/argsss/DPCache"
    assert dpcache[11].startswith("Speeds up diffusion sampling")
    assert "casts" in dpcache[12].split()  # a summary word
    assert "planning" not in dpcache[12].split()  # already in the title
    assert "the" not in dpcache[12].split()  # a stop word
    without_code = next(
        row for row in example_index["papers"] if not library.papers[row[0]].paper.links.code
    )
    assert without_code[10] == ""


def test_summary_words_are_folded_and_skip_what_is_searched_elsewhere(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(
                title='"Bridges"',
                short="Brücke",
                tagline='"A short line"',
                summary="|\n  A Schrödinger bridge (Brücke), see [the code](https://x.org/ÉCOLE). "
                "Bridges! Training\u2011free Straße.",
            ),
        }
    )
    row = index_of(root)["papers"][0]
    # "A" is a stop word, "short"/"line" are in the tagline, "bridges" in the title,
    # "brucke" in the short name, and the link target is not text. A hyphenated
    # compound is also one word.
    assert row[12] == "schrodinger bridge see code training free strasse trainingfree"


@given(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60)
    | st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=60)
)
def test_words_are_the_runs_of_letters_and_digits_of_the_folded_text(text: str) -> None:
    # ASCII texts take a faster path than the regex; any text gives what the regex gives.
    assert search.words(text) == re.findall(r"[^\W_]+", search.fold(text))


@given(st.text(alphabet="ab1- _.\u2013", max_size=40))
def test_compounds_are_words_joined_by_single_hyphens(text: str) -> None:
    # ASCII texts are split by hand rather than by the regex; both give the same.
    folded = search.fold(text)
    expected = [c.replace("-", "") for c in re.findall(r"[^\W_]+(?:-[^\W_]+)+", folded)]
    assert search.compounds(folded) == expected


def test_script_folds_and_splits_text_as_the_index_does() -> None:
    """The summary words are made in Python and the queries read in JavaScript: both
    must make the same words of the same text."""
    from_script = run_node(
        "output = input.map(t => [core.fold(t), core.searchWords(t)]);", TRICKY_TEXTS
    )
    from_python = [[search.fold(text), search.search_words(text)] for text in TRICKY_TEXTS]
    assert from_script == from_python
    assert search.words("6.25\u00d7 Straße") == ["6", "25x", "strasse"]
    assert search.search_words("training\u2013free") == ["training", "free", "trainingfree"]


def test_search_page_context_uses_relative_urls_and_the_site_date(example_root: Path) -> None:
    page = search.search_page(library_of(example_root))
    assert (page.index_url, page.script_url) == ("../search/index.json", "../assets/search.js")
    assert (page.paper_url, page.topic_url, page.issue_url) == (
        "../papers/{}/",
        "../topics/{}/",
        "../{}/",
    )
    assert [(o.value, o.label) for o in page.issues] == [("2026-02-28", "Feb. 28, 2026")]
    assert page.years == ("2026",)
    assert page.size == "27 papers in 1 issue"


# ------------------------------------------------------------------ matching


def test_script_matches_word_prefixes_in_every_field(example_index: dict[str, Any]) -> None:
    results = run_searches(
        example_index,
        [
            (query, NO_FILTERS)
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


def test_topic_titles_descriptions_and_contribution_labels_are_searchable(
    example_index: dict[str, Any],
) -> None:
    topics = [topic[0] for topic in example_index["topics"]]
    kinds = [kind[0] for kind in example_index["contributions"]]

    def ids_where(test: Any) -> set[str]:
        return {row[0] for row in example_index["papers"] if test(row)}

    safety = ids_where(lambda row: topics.index("safety") in row[7])
    benchmarks = ids_where(lambda row: row[8] == kinds.index("benchmark"))
    assert safety and benchmarks
    # "Safety" is the topic's title, "erasure" a word of its description only.
    assert safety <= set(ids_of(example_index, "safety"))
    assert safety <= set(ids_of(example_index, "erasure"))
    assert benchmarks <= set(ids_of(example_index, "benchmark"))


def test_folding_forgives_accents_signs_dashes_and_spelling(make_site: SiteFactory) -> None:
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
    index = index_of(root)
    assert ids_of(index, "6.25x") == ["times"]
    assert ids_of(index, "3.5\u00d7") == ["ascii"]
    assert ids_of(index, "schrodinger strasse") == ["strasse"]
    assert ids_of(index, "SCHRÖDINGER STRASSE") == ["strasse"]
    assert ids_of(index, "training-free") == ["dash"]
    assert ids_of(index, "training free") == ["dash"]
    assert ids_of(index, "trainingfree") == ["dash"]
    assert ids_of(index, "training\u2014free") == ["dash"]


def test_results_rank_names_above_tags_above_people_above_summary(
    make_site: SiteFactory,
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
    found = ids_of(index_of(root), "kestrel")
    assert found[:2] == ["f-title", "e-short"]  # a whole word, then a prefix
    assert found[2] == "d-tag"
    assert set(found[3:5]) == {"b-author", "c-affiliation"}
    assert found[5] == "a-summary"


def test_a_query_of_stop_words_only_finds_nothing_and_says_which(
    example_index: dict[str, Any],
) -> None:
    result = run_searches(example_index, [("The of THE", NO_FILTERS)])[0]
    assert result["ids"] == []
    assert result["terms"] == []
    assert result["common"] == ["the", "of"]
    assert run_searches(example_index, [("the diffusion", NO_FILTERS)])[0]["terms"] == ["diffusion"]


def test_an_empty_query_lists_every_paper_in_index_order(example_index: dict[str, Any]) -> None:
    assert ids_of(example_index, "") == [row[0] for row in example_index["papers"]]


# ------------------------------------------------------------------ filters and counts


def test_script_filters_narrow_to_the_right_ids(example_index: dict[str, Any]) -> None:
    papers = example_index["papers"]
    topics = [topic[0] for topic in example_index["topics"]]
    medical = {row[0] for row in papers if topics.index("medical") in row[7]}
    with_code = {row[0] for row in papers if row[10]}
    datasets = {row[0] for row in papers if row[8] == 2}
    training_free = {row[0] for row in papers if "training-free" in row[6]}
    author = papers[0][3][0]
    by_author = {row[0] for row in papers if author in row[3]}
    assert medical and with_code and datasets and training_free and by_author
    queries = [
        ("", {**NO_FILTERS, "topic": "medical"}),
        ("", {**NO_FILTERS, "code": True}),
        ("", {**NO_FILTERS, "contribution": "dataset"}),
        ("", {**NO_FILTERS, "topic": "medical", "code": True}),
        ("", {**NO_FILTERS, "issue": "2026-02-28"}),
        ("", {**NO_FILTERS, "issue": "2020-01-01"}),
        ("", {**NO_FILTERS, "year": "2026"}),
        ("", {**NO_FILTERS, "year": "2020"}),
        ("", {**NO_FILTERS, "tag": "training-free"}),
        ("", {**NO_FILTERS, "tag": "Training Free"}),  # the same tag, spelled otherwise
        ("", {**NO_FILTERS, "author": author}),
        ("", {**NO_FILTERS, "author": author.upper()}),
    ]
    found = [set(result["ids"]) for result in run_searches(example_index, queries)]
    assert found[0] == medical
    assert found[1] == with_code
    assert found[2] == datasets
    assert found[3] == medical & with_code
    assert found[4] == found[6] == {row[0] for row in papers}
    assert found[5] == found[7] == set()
    assert found[8] == found[9] == training_free
    assert found[10] == found[11] == by_author


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
    example_index: dict[str, Any], query: str, filters: dict[str, Any]
) -> None:
    """A facet's count for a value is how many papers the search lists once that value is
    chosen (the other filters kept); "any" is how many it lists with the facet unset."""
    current = {**NO_FILTERS, **filters}
    result = run_searches(example_index, [(query, current)])[0]
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
    listed = [len(found["ids"]) for found in run_searches(example_index, asked)]
    assert listed == expected
    # And the values with a count are exactly those some listed paper has.
    rows = {row[0]: row for row in example_index["papers"]}
    tags = {tag for paper_id in result["ids"] for tag in rows[paper_id][6]}
    if not filters.get("tag"):
        assert set(result["tag"]) == tags


def test_authors_line_is_the_one_the_pages_show(example_index: dict[str, Any]) -> None:
    lists = [(row[3], row[4] == 1) for row in example_index["papers"]]
    lists += [([], False), (["A"], False), (["A", "B"], False), (["A", "B", "C"], False)]
    lists += [(["A", "B", "C", "D"], False), (["A", "B"], True)]
    lines = run_node("output = input.map(([a, e]) => core.authorsShort(a, e));", lists)
    assert lines == [wording.authors_short(authors, et_al) for authors, et_al in lists]


def test_an_index_of_another_version_is_refused_with_a_message(
    example_index: dict[str, Any],
) -> None:
    program = """
try { core.prepare(input); output = "read"; } catch (problem) { output = problem.message; }
"""
    message = run_node(program, {**example_index, "version": 1})
    assert message == "the search index is of version 1, this page reads version 2"
