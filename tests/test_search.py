"""Search: the prebuilt index, the script's matching core (Node) and the page in Chromium."""

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

from digest import search
from digest.content import load_content
from digest.organise import Library, organise

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "assets" / "search.js"


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None
    return organise(content.config, content.issues, content.papers)


@pytest.fixture(scope="module")
def example_index(example_root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(search.index_json(library_of(example_root)))
    return document


def test_index_holds_every_paper_with_its_facets(
    example_index: dict[str, Any], example_root: Path
) -> None:
    library = library_of(example_root)
    rows = {row[0]: row for row in example_index["papers"]}
    assert set(rows) == set(library.papers)
    assert example_index["issues"] == ["2026-02-28"]
    assert [t[0] for t in example_index["topics"]] == library.config.theme_slugs
    dpcache = rows["dpcache"]
    assert dpcache[1].startswith("Denoising as Path Planning")
    assert dpcache[2] == ["Bowen Cui"] and dpcache[3] == 1
    assert dpcache[4] == ["Alibaba Group"]
    assert dpcache[5] == ["caching", "training-free", "sampling"]
    assert [example_index["topics"][n][0] for n in dpcache[6]] == ["acceleration"]
    assert example_index["contributions"][dpcache[7]][0] == "architecture"
    assert dpcache[8] == 0 and dpcache[9] == 1
    assert dpcache[10].startswith("Speeds up diffusion sampling")
    assert "casts" in dpcache[11].split()  # a summary word
    assert "planning" not in dpcache[11].split()  # already in the title
    assert "the" not in dpcache[11].split()  # a stop word


def test_summary_words_are_folded_and_skip_what_is_searched_elsewhere(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(
                title='"Bridges"',
                tagline='"A short line"',
                summary="|\n  A Schrödinger bridge, see [the code](https://x.org/ÉCOLE). Bridges!",
            ),
        }
    )
    row = json.loads(search.index_json(library_of(root)))["papers"][0]
    # "A" is a stop word, "short"/"line" are in the tagline, "bridges" in the title,
    # and the link target is not text.
    assert row[11] == "schrodinger bridge see code"


@given(
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=60)
    | st.text(alphabet=st.characters(max_codepoint=0x17F), max_size=60)
)
def test_words_are_the_runs_of_letters_and_digits_of_the_folded_text(text: str) -> None:
    # ASCII texts take a faster path than the regex; any text gives what the regex gives.
    assert search.words(text) == re.findall(r"[^\W_]+", search.fold(text))


def run_core(index: dict[str, Any], queries: list[tuple[str, dict[str, Any]]]) -> list[list[str]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run templates/assets/search.js outside a browser")
    program = """
const core = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const prepared = core.prepare(input.index);
const out = input.queries.map(([q, f]) => core.search(prepared, q, f).map(p => p.id));
process.stdout.write(JSON.stringify(out));
"""
    done = subprocess.run(
        [node, "-e", program, str(SCRIPT)],
        input=json.dumps({"index": index, "queries": queries}),
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[list[str]] = json.loads(done.stdout)
    return result


def test_script_matches_word_prefixes_in_every_field(example_index: dict[str, Any]) -> None:
    none: dict[str, Any] = {"topic": "", "contribution": "", "issue": "", "code": False}
    results = run_core(
        example_index,
        [
            ("dpcache", none),  # title
            ("Bowen", none),  # author
            ("alibaba", none),  # affiliation
            ("caching", none),  # tag
            ("plug-in", none),  # summary words
            ("denois path", none),  # prefixes, every word must match
            ("zzzzunknown", none),
        ],
    )
    assert results[0] == ["dpcache"]
    assert "dpcache" in results[1]
    assert "dpcache" in results[2]
    assert "dpcache" in results[3]
    assert "dpcache" in results[4]
    assert results[5][0] == "dpcache"
    assert results[6] == []


def test_script_filters_narrow_to_the_right_ids(example_index: dict[str, Any]) -> None:
    papers = example_index["papers"]
    topic = [t[0] for t in example_index["topics"]].index("medical")
    medical = {row[0] for row in papers if topic in row[6]}
    with_code = {row[0] for row in papers if row[9] == 1}
    datasets = {row[0] for row in papers if row[7] == 2}
    base: dict[str, Any] = {"topic": "", "contribution": "", "issue": "", "code": False}
    results = run_core(
        example_index,
        [
            ("", {**base, "topic": "medical"}),
            ("", {**base, "code": True}),
            ("", {**base, "contribution": "dataset"}),
            ("", {**base, "topic": "medical", "code": True}),
            ("", {**base, "issue": "2026-02-28"}),
            ("", {**base, "issue": "2020-01-01"}),
        ],
    )
    assert set(results[0]) == medical and medical
    assert set(results[1]) == with_code and with_code
    assert set(results[2]) == datasets and datasets
    assert set(results[3]) == medical & with_code
    assert len(results[4]) == 27
    assert results[5] == []


def test_search_page_context_uses_relative_urls(example_root: Path) -> None:
    page = search.search_page(library_of(example_root))
    assert (page.index_url, page.script_url, page.root_url) == (
        "../search/index.json",
        "../assets/search.js",
        "../",
    )
    assert [o.value for o in page.issues] == ["2026-02-28"]
    assert [o.label for o in page.issues] == ["28 February 2026"]


@pytest.mark.browser
def test_search_page_in_chromium(example_root: Path, tmp_path: Path) -> None:
    from .browser_support import launch_chromium, open_page, run_axe, serve_built_site

    library = library_of(example_root)
    medical = {p.id for p in library.papers.values() if "medical" in p.paper.themes}
    diffusion = {p.id for p in library.papers.values() if "diffusion" in p.paper.title.lower()}
    with serve_built_site(example_root, tmp_path) as server, launch_chromium() as browser:
        page, log = open_page(browser, server.url_for("search/"))
        status = page.locator("#search-status")
        results = page.locator("#search-results li")

        def shown() -> set[str]:
            return {str(item.get_attribute("data-paper")) for item in results.all()}

        page.get_by_label("Words in the title").fill("diffusion")
        page.wait_for_function("document.querySelectorAll('#search-results li').length > 0")
        found = shown()
        assert diffusion <= found  # every title hit; summary hits may add more
        assert status.inner_text() == f"{len(found)} papers match."
        assert page.url.endswith("/digest/search/?q=diffusion")

        page.get_by_label("Topic").select_option("medical")
        page.wait_for_function("location.search.includes('topic=medical')")
        narrowed = shown()
        assert narrowed and narrowed < found
        assert narrowed == {paper_id for paper_id in found if paper_id in medical}
        assert page.url.endswith("/digest/search/?q=diffusion&topic=medical")

        href = page.locator("#search-results a").first.get_attribute("href")
        assert href is not None and href.startswith("../papers/")  # relative: works on a sub-path

        page.reload(wait_until="load")
        page.wait_for_function("document.querySelectorAll('#search-results li').length > 0")
        assert shown() == narrowed
        assert page.get_by_label("Words in the title").input_value() == "diffusion"
        assert page.get_by_label("Topic").input_value() == "medical"

        page.get_by_label("Has code").check()
        page.wait_for_function("location.search.includes('code=1')")
        with_code = {p.id for p in library.papers.values() if p.paper.links.code}
        assert shown() == narrowed & with_code

        # Only stop words: nothing listed, and the status says why.
        page.goto(server.url_for("search/?q=the+of"))
        page.wait_for_function(
            "document.getElementById('search-status').textContent.includes('too common')"
        )
        assert results.count() == 0

        assert run_axe(page) == []
        assert log.problems(server.origin) == []
