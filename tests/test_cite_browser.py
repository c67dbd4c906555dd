"""The paper page's "Cite" block in real headless Chromium: shown only for a paper with
authors, its "Copy BibTeX" button styled like the site's other buttons and working, its
arXiv id and DOI links."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

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
from .conftest import MINIMAL_ISSUE, paper_yaml

pytestmark = pytest.mark.browser

CITED = "papers/cited/"
NOBODY = "papers/nobody/"
# What makes a button look like one: a <button> that kept the browser's own border, font
# or padding would differ from the home page's "Read the issue" link in one of these.
# (Not `display`: the copy button sits in a flex row, which makes any item "block".)
LOOKS = (
    "background-color",
    "color",
    "font-family",
    "font-size",
    "font-weight",
    "line-height",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border-top-width",
    "border-top-style",
    "border-top-left-radius",
    "border-bottom-right-radius",
    "text-decoration-line",
    "cursor",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("cite-content")
    (root / "pyproject.toml").write_text('[tool.digest]\ntitle = "Cite test"\n')
    papers = {
        "_issue": MINIMAL_ISSUE,
        "cited": paper_yaml(
            authors="[Jonathan Ho, Ajay Jain, Pieter Abbeel]",
            arxiv='"2006.11239"',
            doi='"10.5555/3495724.3496298"',
        ),
        "nobody": paper_yaml(authors="[]", arxiv='"2103.00002"', doi='"10.1000/x#y"'),
    }
    issue = root / "entries" / "2026-02-28"
    issue.mkdir(parents=True)
    for name, text in papers.items():
        (issue / f"{name}.yaml").write_text(text, encoding="utf-8")
    with serve_built_site(root, tmp_path_factory.mktemp("cite-browser")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def computed(page: Page, selector: str, names: tuple[str, ...] = LOOKS) -> dict[str, str]:
    """The computed values of the CSS properties `names` of the element at `selector`."""
    values: list[str] = page.locator(selector).evaluate(
        "(element, names) => names.map(name => getComputedStyle(element).getPropertyValue(name))",
        list(names),
    )
    return dict(zip(names, values, strict=True))


def test_the_copy_button_shows_only_for_a_paper_with_authors(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, site.url_for(CITED))
    assert page.get_by_role("button", name="Copy BibTeX").is_visible()
    assert page.get_by_role("heading", name="Cite").is_visible()
    page, log_nobody = open_page(browser, site.url_for(NOBODY))
    assert page.get_by_role("button").count() == 0
    assert page.get_by_role("heading", name="Cite").count() == 0
    assert page.locator("pre").count() == 0
    assert log.problems(site.origin) == log_nobody.problems(site.origin) == []


def test_without_javascript_the_record_shows_and_the_button_does_not(
    site: StaticServer, browser: Browser
) -> None:
    page, _ = open_page(browser, site.url_for(CITED), javascript=False)
    assert page.locator("pre.bibtex").is_visible()
    assert page.locator(".copy-button").count() == 1
    assert not page.locator(".copy-button").is_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_copy_button_looks_like_the_sites_other_buttons(
    site: StaticServer, browser: Browser, scheme: ColorScheme
) -> None:
    home, _ = open_page(browser, site.url, color_scheme=scheme)
    paper, _ = open_page(browser, site.url_for(CITED), color_scheme=scheme)
    assert home.locator("a.button").count() == 1  # the home page's "Read the issue"
    resting = computed(paper, ".copy-button")
    assert resting == computed(home, "a.button")
    button_box = paper.locator(".copy-button").bounding_box()
    link_box = home.locator("a.button").bounding_box()
    assert button_box and link_box
    assert button_box["height"] == pytest.approx(link_box["height"], abs=0.5)
    home.hover("a.button")
    paper.hover(".copy-button")
    colours = ("background-color", "color")
    hovered = computed(paper, ".copy-button", colours)
    assert hovered == computed(home, "a.button", colours)
    assert hovered["background-color"] != resting["background-color"]


def test_copy_bibtex_puts_the_record_on_the_clipboard(site: StaticServer, browser: Browser) -> None:
    page, log = open_page(browser, site.url_for(CITED))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.origin)
    page.get_by_role("button", name="Copy BibTeX").click()
    status = page.get_by_role("status")
    status.filter(has_text="Copied.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("pre.bibtex").inner_text()
    assert copied.startswith("@misc{ho2020-cited,")  # not a year taken from the 2026 issue
    assert log.problems(site.origin) == []


def links_in(page: Page, selector: str) -> dict[str, str]:
    """The text and target of every <a> in the element at `selector`."""
    return dict(
        page.locator(selector).evaluate(
            "element => [...element.querySelectorAll('a')]"
            ".map(a => [a.textContent, a.getAttribute('href')])"
        )
    )


def test_the_arxiv_id_and_doi_are_links(site: StaticServer, browser: Browser) -> None:
    page, _ = open_page(browser, site.url_for(CITED))
    assert links_in(page, ".facts") == {
        "Feb. 28, 2026": "../../2026-02-28/",
        "2006.11239": "https://arxiv.org/abs/2006.11239",
        "10.5555/3495724.3496298": "https://doi.org/10.5555/3495724.3496298",
    }
    assert links_in(page, ".citation") == {
        "arXiv:2006.11239": "https://arxiv.org/abs/2006.11239",
        "https://arxiv.org/abs/2006.11239": "https://arxiv.org/abs/2006.11239",
    }
    assert (
        page.locator(".citation")
        .inner_text()
        .endswith("arXiv:2006.11239, 2020. https://arxiv.org/abs/2006.11239")
    )
    nobody, _ = open_page(browser, site.url_for(NOBODY))
    assert links_in(nobody, ".facts") == {
        "Feb. 28, 2026": "../../2026-02-28/",
        "2103.00002": "https://arxiv.org/abs/2103.00002",
        "10.1000/x#y": "https://doi.org/10.1000/x%23y",
    }


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_cite_block_passes_axe_and_fits_the_screen(
    site: StaticServer, browser: Browser, width: int, scheme: ColorScheme
) -> None:
    page, log = open_page(browser, site.url_for(CITED), width=width, color_scheme=scheme)
    assert run_axe(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    path = save_screenshot(page, f"cite-{width}-{scheme}.png")
    assert path.stat().st_size > 10_000
    assert log.problems(site.origin) == []


def test_both_paper_pages_are_valid_html(site: StaticServer) -> None:
    pages = [site.folder / paper / "index.html" for paper in (CITED, NOBODY)]
    assert [str(message) for message in run_vnu(pages)] == []
