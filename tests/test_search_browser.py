"""The search page in real headless Chromium, served from a sub-path over 127.0.0.1.

The site is the example one, with one change: the LESA paper says "6.25" and the
multiplication sign where the example says "6.25x", so that a typed "x" must find the
sign. What the page lists is
checked against the library itself (which papers have a topic, a tag, an author, a
word), never against a copy of the script's rules. Every test also fails on a console
error, a failed request or a request to another host.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from benchmarks.generate import make_corpus, write_digest
from digest import search
from digest.organise import Library
from digest.wording import CONTRIBUTION_LABELS, one_liner

from .browser_support import (
    ColorScheme,
    StaticServer,
    launch_chromium,
    open_page,
    run_axe,
    run_vnu,
    save_screenshot,
    serve_built_site,
)
from .search_support import library_of

pytestmark = pytest.mark.browser

COUNT = re.compile(r"^(.*) \((\d+)\)$")
TIMES = "\u00d7"  # the multiplication sign


@pytest.fixture(scope="module")
def content(tmp_path_factory: pytest.TempPathFactory, example_root: Path) -> Path:
    """The example content, with LESA's speed-up written with the multiplication sign."""
    root = tmp_path_factory.mktemp("search-content")
    shutil.copy(example_root / "pyproject.toml", root)
    shutil.copytree(example_root / "entries", root / "entries")
    lesa = root / "entries" / "2026-02-28" / "lesa.yaml"
    text = lesa.read_text(encoding="utf-8")
    assert "6.25x" in text, "the example's LESA paper no longer says 6.25x"
    lesa.write_text(text.replace("6.25x", f"6.25{TIMES}"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def library(content: Path) -> Library:
    return library_of(content)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, content: Path) -> Iterator[StaticServer]:
    with serve_built_site(content, tmp_path_factory.mktemp("search-site")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


# ------------------------------------------------------------------ reading the page


def open_search(
    browser: Browser,
    site: StaticServer,
    query: str = "",
    *,
    width: int = 1280,
    color_scheme: ColorScheme = "light",
) -> tuple[Page, list[str]]:
    """The search page at `query` (a URL query string), once the index is read; and the
    list its problems go into, checked by `no_problems`."""
    page, log = open_page(
        browser, site.url_for("search/" + query), width=width, color_scheme=color_scheme
    )
    page.wait_for_selector("#search-form:not([aria-busy])")
    settle(page)
    return page, log.problems(site.origin)


def settle(page: Page) -> None:
    """Wait for the search the last input started to show its results: the list is
    busy from the input until then."""
    page.wait_for_selector("#search-results:not([aria-busy])", state="attached")


def shown(page: Page) -> list[str]:
    ids: list[str] = page.locator("#search-results > li").evaluate_all(
        "items => items.map(item => item.dataset.paper)"
    )
    return ids


def options(page: Page, name: str) -> dict[str, tuple[str, int]]:
    """A filter's options: value → (label without its count, count)."""
    found: list[list[str]] = page.locator(f"#search-{name} option").evaluate_all(
        "nodes => nodes.map(node => [node.value, node.textContent])"
    )
    result = {}
    for value, text in found:
        match = COUNT.match(text)
        assert match, f"{name}: option {text!r} has no count"
        result[value] = (match.group(1), int(match.group(2)))
    return result


def code_count(page: Page) -> int:
    return int(page.locator("#search-code-count").inner_text().strip("()"))


def chosen_count(page: Page, name: str) -> int:
    """The count a chosen tag or author shows beside its label."""
    return int(page.locator(f"#search-{name}-count").inner_text().strip("()"))


def suggestions(page: Page, name: str, typed: str) -> dict[str, int]:
    """What the tag or author field suggests once `typed` is typed: value → count."""
    field = page.locator(f"#search-{name}")
    field.fill(typed)
    listed = page.locator(f"#search-{name}-list")
    page.wait_for_function(
        f"document.getElementById('search-{name}').getAttribute('aria-expanded') === 'true'"
    )
    found = {}
    for text in listed.locator("[role=option]").all_inner_texts():
        match = COUNT.match(text)
        assert match, f"{name}: suggestion {text!r} has no count"
        found[match.group(1)] = int(match.group(2))
    return found


def query_string(page: Page) -> str:
    return str(page.evaluate("location.search"))


def text_matches(library: Library, word: str) -> set[str]:
    """The papers that have a word starting with `word` anywhere search looks: their own
    text, and their topics' titles and descriptions and their contribution's label."""
    themes = {theme.slug: theme for theme in library.config.themes}
    found = set()
    for paper_id, entry in library.papers.items():
        paper = entry.paper
        texts = [paper.title, paper.short or "", one_liner(paper), paper.summary]
        texts += [*paper.authors, *paper.affiliations, *paper.tags]
        texts += [themes[s].title + " " + themes[s].description for s in paper.themes]
        texts += [CONTRIBUTION_LABELS[kind] for kind in paper.contributions]
        if any(w.startswith(word) for w in search.search_words(" ".join(texts))):
            found.add(paper_id)
    return found


def check_counts(page: Page, library: Library) -> None:
    """Every facet's counts say what choosing it would list: for an unset facet, how many
    listed papers have each value; for a chosen one, its count is the number listed."""
    listed = [library.papers[paper_id].paper for paper_id in shown_all(page)]
    issue = {p: library.issue_of[p].slug for p in library.papers}
    ids = shown_all(page)
    values: dict[str, list[set[str]]] = {
        "topic": [set(paper.themes) for paper in listed],
        "contribution": [set(paper.contributions) for paper in listed],
        "issue": [{issue[paper_id]} for paper_id in ids],
        "year": [{issue[paper_id][:4]} for paper_id in ids],
    }
    for name, per_paper in values.items():
        counted = options(page, name)
        chosen = page.locator(f"#search-{name}").input_value()
        if chosen:
            assert counted[chosen][1] == len(listed), name
            continue
        assert counted[""][1] == len(listed), name
        for value, (_, count) in counted.items():
            if value:
                assert count == sum(value in have for have in per_paper), (name, value)
    for name in ("tag", "author"):
        if page.locator(f"#search-{name}").input_value():
            assert chosen_count(page, name) == len(listed), name
    if not page.locator("#search-code").is_checked():
        assert code_count(page) == sum(paper.links.code is not None for paper in listed)


def shown_all(page: Page) -> list[str]:
    """Every result, once "Show more" has listed them all."""
    more = page.locator("#search-more")
    while more.is_visible():
        more.click()
        settle(page)
    return shown(page)


# ------------------------------------------------------------------ matching


def test_safety_lists_the_papers_of_the_safety_topic(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site)
    page.get_by_label("Search for").fill("safety")
    settle(page)
    safety = {p for p, entry in library.papers.items() if "safety" in entry.paper.themes}
    assert safety
    assert set(shown(page)) == text_matches(library, "safety") >= safety
    assert page.locator("#search-status").inner_text() == f"{len(shown(page))} papers match."
    assert query_string(page) == "?q=safety"
    # Why a paper is listed shows: the topic chip's word is marked.
    chip = page.locator(f"#search-results > li[data-paper='{sorted(safety)[0]}'] .search-chip")
    assert chip.locator("mark").first.inner_text() == "Safety"
    check_counts(page, library)
    assert problems == []


@pytest.mark.parametrize("typed", ["6.25x", f"6.25{TIMES}", "6.25X"])
def test_a_typed_x_finds_the_paper_that_says_times(
    site: StaticServer, browser: Browser, typed: str
) -> None:
    page, problems = open_search(browser, site)
    page.get_by_label("Search for").fill(typed)
    settle(page)
    assert shown(page) == ["lesa"]
    marked = page.locator("#search-results .search-result-line mark").all_inner_texts()
    assert marked == ["6", f"25{TIMES}"]
    assert problems == []


def test_prefixes_match_while_typing_and_titles_rank_first(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site)
    box = page.get_by_label("Search for")
    box.press_sequentially("denoi", delay=20)
    settle(page)
    found = shown(page)
    assert set(found) == text_matches(library, "denoi")
    in_title = {p for p in found if "denoi" in library.papers[p].paper.title.lower()}
    assert in_title and set(found[: len(in_title)]) == in_title
    assert page.locator("#search-results .search-result-title mark").first.inner_text() in {
        "Denoising",
        "Denoiser",
    }
    assert problems == []


def test_a_query_of_only_common_words_says_so(site: StaticServer, browser: Browser) -> None:
    page, problems = open_search(browser, site, "?q=the+of")
    assert shown(page) == []
    assert page.locator("#search-status").inner_text() == (
        "“the of” has only words too common to search for (the, of); try a more specific word."
    )
    assert problems == []


# ------------------------------------------------------------------ filters, counts, the URL


def test_tag_and_author_filters_narrow_to_the_right_papers_and_survive_a_reload(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site)
    everything = shown_all(page)
    assert sorted(everything) == sorted(library.papers)
    check_counts(page, library)

    # A tag, found by the start of its second word and chosen with a click.
    tag = "training-free"
    tagged = {p for p, entry in library.papers.items() if tag in entry.paper.tags}
    assert len(tagged) >= 2
    suggested = suggestions(page, "tag", "fre")
    assert suggested[tag] == len(tagged)
    page.locator("#search-tag-list [role=option]", has_text=tag).click()
    settle(page)
    assert page.locator("#search-tag").input_value() == tag
    assert set(shown(page)) == tagged
    check_counts(page, library)

    # An author of a tagged paper, by the start of the last name, chosen from the
    # keyboard: the two filters together list their papers only.
    author = library.papers[sorted(tagged)[0]].paper.authors[0]
    expected = {p for p in tagged if author in library.papers[p].paper.authors}
    offered = suggestions(page, "author", author.split()[-1][:4])
    assert offered[author] == len(expected)
    for _ in range(list(offered).index(author) + 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    settle(page)
    assert set(shown(page)) == expected
    check_counts(page, library)
    address = query_string(page)
    assert "tag=training-free" in address and "author=" in address

    page.reload(wait_until="load")
    page.wait_for_selector("#search-form:not([aria-busy])")
    settle(page)
    assert set(shown(page)) == expected
    assert page.locator("#search-tag").input_value() == tag
    assert page.locator("#search-author").input_value() == author
    assert query_string(page) == address

    page.get_by_role("button", name="Clear all").click()
    settle(page)
    assert sorted(shown_all(page)) == sorted(everything)
    assert query_string(page) == ""
    assert problems == []


def test_a_tag_or_issue_the_index_does_not_know_is_left_out(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site, "?q=diffusion&tag=no-such-tag&issue=2020-01-01")
    assert page.locator("#search-issue").input_value() == ""
    assert set(shown_all(page)) == text_matches(library, "diffusion")
    status = page.locator("#search-status").inner_text()
    assert "No tag is called “no-such-tag”: that filter is left out." in status
    assert query_string(page) == "?q=diffusion"
    assert problems == []


def test_facet_counts_follow_the_query_and_every_filter_narrows(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site)
    page.get_by_label("Search for").fill("diffusion")
    settle(page)
    matching = set(shown_all(page))
    assert matching == text_matches(library, "diffusion")
    check_counts(page, library)
    before = options(page, "topic")

    page.get_by_label("Topic").select_option("medical")
    page.get_by_label("Contribution").select_option("benchmark")
    page.get_by_label("Year").select_option("2026")
    page.get_by_label("Issue").select_option("2026-02-28")
    settle(page)
    expected = {
        p
        for p in matching
        if "medical" in library.papers[p].paper.themes
        and "benchmark" in library.papers[p].paper.contributions
    }
    assert expected and set(shown(page)) == expected
    check_counts(page, library)
    assert before["medical"][1] > len(expected)  # the contribution narrowed it further
    assert page.locator("#search-chosen").inner_text() == "(4 chosen)"

    page.get_by_label("Contribution").select_option("")
    page.get_by_label("Has code").check()
    settle(page)
    with_code = {
        p
        for p in matching
        if "medical" in library.papers[p].paper.themes and library.papers[p].paper.links.code
    }
    assert set(shown(page)) == with_code
    assert code_count(page) == len(with_code)
    assert query_string(page) == "?q=diffusion&topic=medical&issue=2026-02-28&year=2026&code=1"
    assert problems == []


def test_results_link_to_the_paper_its_issue_its_topics_and_its_code(
    site: StaticServer, browser: Browser, library: Library
) -> None:
    page, problems = open_search(browser, site, "?q=dpcache")
    assert shown(page) == ["dpcache"]
    paper = library.papers["dpcache"].paper
    row = page.locator("#search-results > li").first
    hrefs = row.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == [
        "../papers/dpcache/",
        "../2026-02-28/",
        *(f"../topics/{slug}/" for slug in paper.themes),
        paper.links.code,
    ]
    assert row.locator(".search-result-date").inner_text() == "Feb. 28, 2026"
    assert row.locator(".search-result-authors").inner_text() == "Bowen Cui et al."
    with page.expect_navigation(wait_until="load"):
        row.locator(".search-result-title a").click()
    assert page.url == site.url_for("papers/dpcache/")
    assert problems == []


# ------------------------------------------------------------------ keyboard


def test_the_page_works_from_the_keyboard(site: StaticServer, browser: Browser) -> None:
    page, problems = open_search(browser, site)
    page.locator("h1").click()
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search-q"
    page.keyboard.type("diffusion")
    settle(page)
    titles = page.locator("#search-results .search-result-title a")
    assert titles.count() >= 3
    focused_href = "document.activeElement.getAttribute('href')"

    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused_href) == titles.nth(0).get_attribute("href")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused_href) == titles.nth(1).get_attribute("href")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "search-q"

    page.keyboard.press("Escape")
    settle(page)
    assert page.get_by_label("Search for").input_value() == ""
    assert query_string(page) == ""

    page.keyboard.type("dpcache")
    page.keyboard.press("Enter")  # searches, does not reload the page
    settle(page)
    assert shown(page) == ["dpcache"]
    page.keyboard.press("ArrowDown")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    assert page.url == site.url_for("papers/dpcache/")
    assert problems == []


# ------------------------------------------------------------------ checkers, screens, disk


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_page_passes_axe_with_results_and_marks(
    site: StaticServer, browser: Browser, library: Library, color_scheme: ColorScheme
) -> None:
    for width in (1280, 390):
        page, problems = open_search(
            browser, site, "?q=diffusion+safety", width=width, color_scheme=color_scheme
        )
        assert page.locator("#search-results mark").count() > 0
        if width == 390:  # the filters are folded away on a phone: check them open
            page.locator("#search-filters-box summary").click()
        assert run_axe(page) == []
        save_screenshot(page, f"search-{width}-{color_scheme}.png")
        # A tag's suggestions open, one of them chosen with the arrow keys.
        tag = library.papers[shown(page)[0]].paper.tags[0]
        assert suggestions(page, "tag", tag[:2])
        page.keyboard.press("ArrowDown")
        assert run_axe(page) == []
        save_screenshot(page, f"search-suggestions-{width}-{color_scheme}.png")
        assert problems == []


def test_the_page_is_valid_html_as_built_and_as_the_script_leaves_it(
    site: StaticServer, browser: Browser, tmp_path: Path
) -> None:
    page, problems = open_search(browser, site, "?q=diffusion&tag=sampling")
    assert shown(page)
    rendered = tmp_path / "rendered.html"
    rendered.write_text("<!DOCTYPE html>\n" + page.content().split(">", 1)[1], encoding="utf-8")
    assert run_vnu([site.folder / "search" / "index.html", rendered]) == []
    assert problems == []


def test_a_phone_gets_16px_controls_and_no_sideways_scrolling(
    site: StaticServer, browser: Browser
) -> None:
    page, problems = open_search(browser, site, "?q=diffusion", width=390)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sizes = page.locator("#search-form :is(input, select, button)").evaluate_all(
        "nodes => nodes.map(node => parseFloat(getComputedStyle(node).fontSize))"
    )
    assert sizes and min(sizes) >= 16
    # The filters fold away on a phone, and open with their summary.
    topic = page.get_by_label("Topic")
    assert not topic.is_visible()
    page.locator("#search-filters-box summary").click()
    topic.select_option("medical")
    settle(page)
    assert "topic=medical" in query_string(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert problems == []


def test_opened_from_disk_the_page_says_why_search_cannot_run_and_what_to_do(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, (site.folder / "search" / "index.html").as_uri())
    status = page.locator("#search-status")
    page.wait_for_function(
        "!document.getElementById('search-status').textContent.startsWith('Loading')"
    )
    assert status.inner_text().startswith("Search cannot run on a page opened straight from")
    assert "digest serve" in status.inner_text()
    assert "python3 -m http.server" in status.inner_text()
    # Chromium refuses the file: fetch and says so; the page itself raises nothing.
    assert [e for e in log.console_errors if e.startswith("uncaught")] == []


def test_long_lists_show_more_on_request(tmp_path: Path, browser: Browser) -> None:
    """50 papers: the first 20 are listed, then 20 more at a time on request; a filter
    suggests the 10 values with the most papers among the matches."""
    root = tmp_path / "content"
    issues, papers = make_corpus(50)
    write_digest(root, issues, papers)
    work = tmp_path / "work"
    work.mkdir()
    with serve_built_site(root, work) as server:
        page, problems = open_search(browser, server)
        assert len(shown(page)) == 20
        assert page.locator("#search-status").inner_text() == (
            "50 papers, newest first. Type words or choose filters to narrow them. "
            "The first 20 are shown."
        )
        newest = [paper.id for paper in sorted(papers, key=lambda p: p.issue, reverse=True)]
        page.get_by_role("button", name="Show 20 more").click()
        settle(page)
        assert len(shown(page)) == 40
        focused = page.evaluate("document.activeElement.closest('li').dataset.paper")
        assert focused == shown(page)[20]
        more = page.get_by_role("button", name="Show 10 more")
        more.click()
        settle(page)
        assert set(shown(page)) == set(newest) and not more.is_visible()
        offered = suggestions(page, "author", "a")
        assert len(offered) == 10
        assert list(offered.values()) == sorted(offered.values(), reverse=True)
        assert problems == []
