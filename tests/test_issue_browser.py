"""The issue page as an article, in real headless Chromium: its in-page links land on
their targets, a section's "Contents" link brings the reader back to the contents, and
the page, its papers' pages and its e-mail edition pass axe-core (light and dark) and
the Nu HTML Checker. Served from a sub-path, as a project's GitHub Pages.

Two sites: the example (`entries/`), and tests/fixtures/sites/article, whose newest issue
uses every part of the page (a paper under two themes, one with two contributions, a
`label`, math, its own "Under the hood" intro). Screenshots land in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .browser_support import (
    AxeViolation,
    ColorScheme,
    StaticServer,
    html_files,
    launch_chromium,
    open_page,
    run_axe,
    run_vnu,
    save_screenshot,
    serve_built_site,
    serve_folder,
)
from .conftest import REPO

pytestmark = pytest.mark.browser

ARTICLE = REPO / "tests" / "fixtures" / "sites" / "article"
ISSUE = "2026-02-28/"  # the newest issue of both sites


@pytest.fixture(scope="module", params=["example", "article"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StaticServer]:
    root = REPO if request.param == "example" else ARTICLE
    with serve_built_site(root, tmp_path_factory.mktemp(request.param)) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def fragment_links(page: Page) -> list[tuple[str, bool]]:
    """Every link of the page to a place in the page itself, and whether that place is there."""
    found: list[tuple[str, bool]] = page.locator("a[href^='#']").evaluate_all(
        "links => links.map(a => [a.getAttribute('href'),"
        " document.getElementById(decodeURIComponent(a.hash.slice(1))) !== null])"
    )
    return [(href, bool(exists)) for href, exists in found]


def test_every_link_within_the_issue_page_lands_on_its_target(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, site.url_for(ISSUE))
    links = fragment_links(page)
    assert [href for href, exists in links if not exists] == []
    targets = {href for href, _ in links}
    assert "#contents" in targets
    assert any(href.startswith("#paper-") for href in targets)  # "Under the hood" → cards
    assert log.problems(site.origin) == []
    page.context.close()


def test_the_contents_link_of_a_section_returns_to_the_contents(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, site.url_for(ISSUE), height=800)
    page.locator("#contents a[href='#under-the-hood']").click()
    page.wait_for_function("location.hash === '#under-the-hood'")
    assert _in_view(page, "#under-the-hood") and not _in_view(page, "#contents")
    page.locator("#under-the-hood a.to-contents").click()
    page.wait_for_function("location.hash === '#contents'")
    assert _in_view(page, "#contents")
    assert log.problems(site.origin) == []
    page.context.close()


def _in_view(page: Page, selector: str) -> bool:
    """Whether the top of the element is inside the viewport (a pixel's rounding aside)."""
    return bool(
        page.evaluate(
            "selector => { const top = document.querySelector(selector)"
            ".getBoundingClientRect().top; return top > -1 && top < innerHeight; }",
            selector,
        )
    )


def test_a_card_of_under_the_hood_is_reached_from_its_label(
    site: StaticServer, browser: Browser
) -> None:
    page, _ = open_page(browser, site.url_for(ISSUE), height=800)
    label = page.locator("#under-the-hood a.hood-label").first
    target = str(label.get_attribute("href"))
    label.click()
    page.wait_for_function("hash => location.hash === hash", arg=target)
    assert _in_view(page, target)
    assert page.locator(f"{target} h3.paper-title a").count() == 1
    page.context.close()


def readable(violations: list[AxeViolation]) -> str:
    return f"{len(violations)} axe violations:\n" + "\n".join(map(str, violations))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_issue_and_its_papers_pass_axe(
    site: StaticServer, browser: Browser, scheme: ColorScheme
) -> None:
    first_paper = "papers/dpcache/"  # on both sites, with a neighbour on its issue page
    violations: list[AxeViolation] = []
    for url in (ISSUE, first_paper, f"{ISSUE}email.html"):
        page, log = open_page(browser, site.url_for(url), color_scheme=scheme)
        violations += run_axe(page)
        # the e-mail edition links no icon (a mail client shows none): the browser's guess
        assert log.problems(site.origin, allow=[f"{site.origin}/favicon.ico"]) == [], url
        if url == ISSUE:
            name = site.folder.parent.name.rstrip("0123456789")  # the site's fixture
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                save_screenshot(page, f"issue-{name}-{width}-{scheme}.png")
        page.context.close()
    assert violations == [], readable(violations)


def test_the_issue_and_its_papers_are_valid_html(site: StaticServer) -> None:
    folder = site.folder
    files = [folder / ISSUE / "index.html", folder / ISSUE / "email.html"]
    files += html_files(folder / "papers")
    assert run_vnu(files) == []


def test_a_link_to_a_place_the_page_lacks_is_caught(tmp_path: Path, browser: Browser) -> None:
    """The negative control of the first test: a link to an id no element has."""
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "index.html").write_text(
        '<!DOCTYPE html><html lang="en"><title>t</title>'
        '<a href="#contents">Contents</a><h2 id="content">x</h2></html>',
        encoding="utf-8",
    )
    with serve_folder(broken) as server:
        page, _ = open_page(browser, server.url)
        assert fragment_links(page) == [("#contents", False)]
        page.context.close()
