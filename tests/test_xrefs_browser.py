"""Cross-references in real headless Chromium: on the example's issue page every one
leads to an element of the page, and clicking one brings that paper's card into view;
on a site served from a sub-path, a cross-reference to another issue's paper opens
that paper's page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from .browser_support import (
    StaticServer,
    launch_chromium,
    open_page,
    save_screenshot,
    serve_built_site,
)
from .conftest import REPO
from .test_xrefs import FILES

pytestmark = pytest.mark.browser

ISSUE_PAGE = "2026-02-28/"


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    with serve_built_site(REPO, tmp_path_factory.mktemp("xrefs-example")) as server:
        yield server


@pytest.fixture(scope="module")
def two_issues(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("xrefs-root")
    (root / "pyproject.toml").write_text("[tool.digest]\n", encoding="utf-8")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with serve_built_site(root, tmp_path_factory.mktemp("xrefs-site")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def test_every_cross_reference_on_the_issue_page_leads_to_an_element(
    example: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, example.url_for(ISSUE_PAGE))
    targets: list[dict[str, str | None]] = page.locator("main a[data-xref]").evaluate_all(
        "links => links.map(a => ({id: a.dataset.xref, text: a.textContent,"
        " hash: new URL(a.href).hash, page: a.href.split('#')[0],"
        " found: document.getElementById(new URL(a.href).hash.slice(1))?.tagName ?? null}))"
    )
    assert len(targets) >= 3, "the example's issue page has cross-references"
    for target in targets:
        assert target["page"] == page.url, target  # all in this issue: its cards are here
        assert target["hash"] == f"#paper-{target['id']}", target
        assert target["found"] == "ARTICLE", target
        assert target["text"], target
    assert log.problems(example.origin) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_clicking_a_cross_reference_shows_the_card(
    example: StaticServer, browser: Browser, width: int
) -> None:
    page, log = open_page(browser, example.url_for(ISSUE_PAGE), width=width)
    link = page.locator("main a[data-xref='chai']").first
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function("() => location.hash === '#paper-chai'", timeout=5000)
    top = page.locator("#paper-chai").evaluate("e => e.getBoundingClientRect().top")
    assert 0 <= top < 200, "the card is scrolled to the top of the window"
    save_screenshot(page, f"xrefs-card-{width}.png", full_page=False)
    assert log.problems(example.origin) == []


def test_a_cross_reference_to_another_issue_opens_the_papers_page(
    two_issues: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, two_issues.url_for("2026-01-03/"))
    with page.expect_navigation(wait_until="load"):
        page.locator("main a[data-xref='gamma']").first.click()
    assert page.url == two_issues.url_for("papers/gamma/")
    assert page.locator("h1").first.inner_text() == "Gamma paper"
    # Back on the home page, the latest intro's cross-references lead to papers' pages.
    page.goto(two_issues.url_for(""), wait_until="load")
    with page.expect_navigation(wait_until="load"):
        page.locator("main a[data-xref='alpha']").first.click()
    assert page.url == two_issues.url_for("papers/alpha/")
    assert log.problems(two_issues.origin) == []


def test_the_email_edition_links_cross_references_to_the_site(
    two_issues: StaticServer, browser: Browser
) -> None:
    page, _ = open_page(browser, two_issues.url_for("2026-01-10/email.html"))
    link = page.locator("a", has_text="GammaSet").first
    assert link.get_attribute("href") == two_issues.url_for("papers/gamma/")
    with page.expect_navigation(wait_until="load"):
        link.click()
    assert page.locator("h1").first.inner_text() == "Gamma paper"
