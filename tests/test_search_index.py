"""The search index's files (digest.search_index): postings that read back as written,
shards that split the terms without changing a result, unions that stand for their
words, and pieces kept in the store so that a rebuild indexes only what changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.generate import make_corpus, write_digest
from digest import build, search, search_index, search_postings
from digest.organise import Library

from .conftest import MINIMAL_ISSUE, SiteFactory, first_arguments, paper_yaml
from .search_support import (
    library_of,
    read_index,
    run_node,
    run_searches,
    write_index,
)

QUERIES = ["diffusion", "dif", "sam", "samp", "con", "latent diffusion", "kowalski", "3d", "x"]


def corpus(tmp_path: Path, papers: int, per_issue: int) -> Library:
    root = tmp_path / "content"
    issues, made = make_corpus(papers, per_issue=per_issue)
    write_digest(root, issues, made)
    return library_of(root)


def searched(site: Path, queries: list[str]) -> list[list[str]]:
    found = run_searches(site, [(query, {}) for query in queries])
    return [result["ids"] for result in found]


def expected_postings(library: Library, term: str) -> list[tuple[int, int]]:
    """The papers that have `term` (a word), by number, with its best class: from
    digest.search's rules, paper by paper."""
    papers = [entry for view in library.issues[::-1] for entry in view.papers]
    found = []
    for number, entry in enumerate(papers):
        terms, _ = search.paper_part(entry)
        if term in terms:
            found.append((number, terms[term]))
    return found


# ------------------------------------------------------------------ postings


def test_postings_read_back_as_written_past_one_byte_numbers(tmp_path: Path) -> None:
    """130 issues (issue numbers past 127) of 2 papers and an issue of 150 papers (gaps
    and counts past what one byte holds): every word's postings are the papers that
    have it, in Python and in the script."""
    library = corpus(tmp_path / "many", 260, per_issue=2)
    site = write_index(library, tmp_path / "many-site")
    index = read_index(site)
    assert len(index.head["issues"]) == 130
    for term in ("diffusion", "kowalski", "speedup"):
        assert index.terms[term].postings == expected_postings(library, term), term
    big = corpus(tmp_path / "big", 150, per_issue=150)
    big_site = write_index(big, tmp_path / "big-site")
    big_index = read_index(big_site)
    rare = min(
        (t for t in big_index.terms if t.isalnum() and len(big_index.terms[t].postings) > 1),
        key=lambda t: len(big_index.terms[t].postings),
    )
    assert big_index.terms[rare].postings == expected_postings(big, rare)
    program = """
output = {};
for (const term of input) {
  const found = await index.wordPostings(term);
  output[term] = Array.from(found.whole.papers, (p, i) => [p, found.whole.classes[i]]);
}
"""
    in_script = run_node(program, [rare, "diffusion"], big_site)
    assert in_script[rare] == [list(pair) for pair in expected_postings(big, rare)]
    assert in_script["diffusion"] == [list(p) for p in expected_postings(big, "diffusion")]


def test_a_paper_in_a_ninth_topic_is_found_by_its_filter(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    themes = ", ".join(f'{{slug = "t{n}", title = "Topic {n}"}}' for n in range(10))
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/late.yaml": paper_yaml(themes="[t9, t1]"),
            "entries/2026-01-05/early.yaml": paper_yaml(themes="[t0]"),
        },
        f"themes = [{themes}]\n",
    )
    site = write_index(library_of(root), tmp_path / "site")
    assert read_index(site).facets == [([0], 0), ([1, 9], 0)]  # early, late
    found = run_searches(site, [("", {"topic": "t9"}), ("", {"topic": "t0"}), ("topic", {})])
    assert found[0]["ids"] == ["late"]
    assert found[1]["ids"] == ["early"]
    assert found[2]["topic"] == {"t0": 1, "t1": 1, "t9": 1}


def test_an_issue_without_papers_takes_no_numbers(make_site: SiteFactory, tmp_path: Path) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/old.yaml": paper_yaml(title='"Old Kestrel"'),
            "entries/2026-01-12/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-19/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-19/new.yaml": paper_yaml(title='"New Kestrel"'),
        }
    )
    site = write_index(library_of(root), tmp_path / "site")
    index = read_index(site)
    assert index.head["issues"] == [["2026-01-05", 1], ["2026-01-12", 0], ["2026-01-19", 1]]
    assert [row[0] for row in index.rows] == ["old", "new"]
    assert run_searches(site, [("kestrel", {})])[0]["issue"] == {
        "2026-01-05": 1,
        "2026-01-19": 1,
    }


# ------------------------------------------------------------------ shards and unions


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return corpus(tmp_path_factory.mktemp("corpus"), 600, per_issue=40)


def test_small_shards_split_the_terms_in_order_and_change_no_result(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = write_index(library, tmp_path / "whole")
    monkeypatch.setattr(search_index, "SHARD_BYTES", 4000)
    monkeypatch.setattr(search_index, "PAPER_SHARD_SIZE", 7)
    split = write_index(library, tmp_path / "split")
    one, many = read_index(whole), read_index(split)
    firsts = many.head["term_shards"]
    assert len(firsts) > 20 and len(one.head["term_shards"]) < len(firsts)
    assert firsts == search_postings.term_order(firsts)
    for term, number in many.shard_of.items():
        assert firsts[number] <= term, term
        assert number + 1 == len(firsts) or term < firsts[number + 1], term
    assert many.terms == one.terms
    assert many.rows == one.rows
    # Every term is found where the script looks for it, and results do not change.
    assert searched(split, QUERIES) == searched(whole, QUERIES)


def test_a_query_reads_the_head_its_words_shards_and_the_rows_it_shows(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "SHARD_BYTES", 4000)
    site = write_index(library, tmp_path / "site")
    index = read_index(site)
    program = """
const found = await index.search(input, {topic: "", contribution: "", issue: "",
  year: "", tag: "", author: "", code: false});
await index.rows(Array.from(found.papers.slice(0, 20)));
output = loaded.map(path => path.split("?")[0]);
"""
    loaded = run_node(program, "kowalski", site)
    assert loaded[0] == "index.bin"
    term_files = [path for path in loaded if path.startswith("terms/")]
    assert term_files == [f"terms/{index.shard_of['kowalski']}.bin"]
    # The rows of the first 20 results: the papers of that author, newest first.
    papers = [number for number, _ in index.terms["kowalski"].postings]
    newest = sorted(papers, key=lambda number: -number)[:20]
    size = index.head["paper_shard_size"]
    assert sorted(p for p in loaded if p.startswith("papers/")) == sorted(
        {f"papers/{number // size}.bin" for number in newest}
    )


def test_a_union_is_its_words_best_classes_and_changes_no_result(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_postings, "UNION_MIN_BYTES", 0)
    monkeypatch.setattr(search_postings, "UNION_SAVING", 1.0)
    every = read_index(with_unions := write_index(library, tmp_path / "every"))
    monkeypatch.setattr(search_postings, "UNION_MIN_BYTES", 10**9)
    without = write_index(library, tmp_path / "none")
    assert not [term for term in read_index(without).terms if term.endswith("*")]
    unions = [term for term in every.terms if term.endswith("*")]
    assert unions
    for union in unions:
        prefix = union[:-1]
        best: dict[int, int] = {}
        for term, found in every.terms.items():
            if term.startswith(prefix) and search_postings.is_word(term):
                for number, kind in found.postings:
                    best[number] = min(kind, best.get(number, kind))
        assert every.terms[union].postings == sorted(best.items()), union
    assert searched(with_unions, QUERIES) == searched(without, QUERIES)


def test_unions_are_kept_only_where_they_save_much(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_postings, "UNION_MIN_BYTES", 500)
    builder = search_index.IndexBuilder(library, None, "")
    postings = search_index.merge_pieces(builder.pieces(range(len(library.issues)))).postings
    terms = postings.terms
    sizes = dict(zip(terms, postings.lengths, strict=True))
    kept = {terms[at] for at in search_postings.kept_terms(terms, postings.lengths)}
    unions = [term for term in terms if term.endswith("*")]
    assert kept & set(unions) and set(unions) - kept
    for union in unions:
        words = [t for t in terms if t.startswith(union[:-1]) and search_postings.is_word(t)]
        words_size = sum(sizes[word] for word in words)
        pays = len(words) >= 2 and words_size >= 500 and sizes[union] <= 0.75 * words_size
        assert (union in kept) == pays, union
    assert set(terms) - set(unions) <= kept  # every word and value is kept


# ------------------------------------------------------------------ building


def test_a_rebuild_indexes_only_the_edited_issue(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {}
    for week in range(1, 4):
        day = f"2026-01-{7 * week:02d}"
        files[f"entries/{day}/_issue.yaml"] = MINIMAL_ISSUE
        files[f"entries/{day}/p{week}.yaml"] = paper_yaml(title=f'"Paper {week}"')
    root = make_site(files)
    made = first_arguments(monkeypatch, search_index, "issue_piece")
    assert build.run(root, cache=True).ok
    assert sorted(view.slug for view in made) == ["2026-01-07", "2026-01-14", "2026-01-21"]
    before = {p.relative_to(root / "site"): p.stat().st_mtime_ns for p in site_files(root)}
    made.clear()
    edited = root / "entries/2026-01-14/p2.yaml"
    edited.write_text(paper_yaml(title='"Paper two, edited"'))
    assert build.run(root, cache=True).ok
    assert [view.slug for view in made] == ["2026-01-14"]
    after = {p.relative_to(root / "site"): p.stat().st_mtime_ns for p in site_files(root)}
    rewritten = {str(path) for path in after if before.get(path) != after[path]}
    assert "search/index.bin" in rewritten  # the token changed
    assert "search/papers/0.bin" in rewritten  # the edited paper's row
    assert searched(root / "site", ["edited"]) == [["p2"]]
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".digest-cache", "site"))
    assert build.run(clean).ok
    assert tree(clean / "site" / "search") == tree(root / "site" / "search")


def site_files(root: Path) -> list[Path]:
    return [path for path in (root / "site").rglob("*") if path.is_file()]


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_head_names_a_new_token_when_any_file_changes(
    library: Library, tmp_path: Path, make_site: SiteFactory
) -> None:
    first = read_index(write_index(library, tmp_path / "a"))
    again = read_index(write_index(library, tmp_path / "b"))
    assert first.head["token"] == again.head["token"]
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(),
        }
    )
    one = read_index(write_index(library_of(root), tmp_path / "one"))
    (root / "entries/2026-01-05/a.yaml").write_text(paper_yaml(tagline='"New words."'))
    two = read_index(write_index(library_of(root), tmp_path / "two"))
    assert one.head["token"] != two.head["token"]
