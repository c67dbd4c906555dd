"""The example site in real headless Chromium, served from a sub-path as a project's GitHub Pages.

A reader opens the home page and clicks through to a digest page, a paper and a topic. Nothing
may fail on the way: no console error, no failed request, no request to any other host. The
pages fit narrow screens, read without JavaScript, and screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from .browser_support import (
    StaticServer,
    launch_chromium,
    open_page,
    save_screenshot,
    serve_built_site,
    serve_folder,
)

pytestmark = pytest.mark.browser

ISSUE = re.compile(r"\d{4}-\d{2}-\d{2}/")
PAPER = re.compile(r"papers/[a-z0-9-]+/")
TOPIC = re.compile(r"topics/[a-z0-9-]+/")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, example_root: Path) -> Iterator[StaticServer]:
    with serve_built_site(example_root, tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def click_link_to(page: Page, site: StaticServer, pattern: re.Pattern[str]) -> str:
    """Click the first visible <a> whose target (below the site's root) matches `pattern`.

    Returns the new page's path below the site's root. The link is clicked like a reader
    would, so a wrong relative href leads somewhere wrong and the test sees it.
    """
    links = page.locator("a[href]")
    targets: list[str] = links.evaluate_all(
        "links => links.map(a => a.checkVisibility() ? a.href.split('#')[0] : '')"
    )
    for index, target in enumerate(targets):
        if target.startswith(site.url) and pattern.fullmatch(target[len(site.url) :]):
            with page.expect_navigation(wait_until="load"):
                links.nth(index).click()
            assert page.url == target
            return page.url[len(site.url) :]
    raise AssertionError(f"{page.url}: no visible link matching {pattern.pattern!r}")


def server_problems(site: StaticServer) -> list[str]:
    return [
        f"{request.method} {request.path} -> {request.status}"
        for request in site.requests
        if request.status >= 400 or not request.path.startswith(site.prefix)
    ]


def test_a_reader_clicks_from_home_to_a_digest_a_paper_and_a_topic(
    site: StaticServer, browser: Browser
) -> None:
    site.requests.clear()
    page, log = open_page(browser, site.url)
    visited = [page.url]
    assert page.locator("h1").first.inner_text().strip()

    issue = click_link_to(page, site, ISSUE)
    visited.append(page.url)
    assert page.locator("main h1").inner_text().strip()
    assert page.locator("main a[href*='papers/']").count() >= 10

    paper = click_link_to(page, site, PAPER)
    visited.append(page.url)
    assert page.locator("main h1").inner_text().strip()

    topic = click_link_to(page, site, TOPIC)
    visited.append(page.url)
    assert page.locator("main a[href*='papers/']").count() >= 1
    assert page.locator(f"main a[href$='{paper}']").count() >= 1, "the paper is on its topic"

    assert ISSUE.fullmatch(issue) and PAPER.fullmatch(paper) and TOPIC.fullmatch(topic)
    assert log.problems(site.origin) == [], visited
    assert log.hosts == {site.origin}
    # The server saw the same: every request under the sub-path, none failed (favicon too).
    assert server_problems(site) == []
    # The stylesheet loaded and has rules (a relative href that missed would have failed).
    assert page.evaluate("[...document.styleSheets].filter(s => s.cssRules.length).length") >= 1


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize(("name", "pattern"), [("home", None), ("issue", ISSUE)])
def test_screenshots_at_desktop_and_phone_widths(
    site: StaticServer, browser: Browser, width: int, name: str, pattern: re.Pattern[str] | None
) -> None:
    page, log = open_page(browser, site.url, width=width)
    if pattern is not None:
        click_link_to(page, site, pattern)
    path = save_screenshot(page, f"{name}-{width}.png")
    shot_width, shot_height = png_size(path)
    assert shot_width == width
    assert shot_height >= 600
    assert path.stat().st_size > 20_000, "a screenshot of a real page, not a blank one"
    assert log.problems(site.origin) == []


@pytest.mark.parametrize("width", [390, 360])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(
    site: StaticServer, browser: Browser, width: int
) -> None:
    page, _ = open_page(browser, site.url, width=width)
    overflowing = {}
    for pattern in (ISSUE, PAPER, TOPIC):
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            overflowing[page.url] = scroll_width
        click_link_to(page, site, pattern)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        overflowing[page.url] = scroll_width
    assert overflowing == {}, f"wider than the {width}px screen"


def test_a_digest_page_reads_without_javascript(site: StaticServer, browser: Browser) -> None:
    page, _ = open_page(browser, site.url, javascript=False)
    click_link_to(page, site, ISSUE)
    assert page.locator("main h1").is_visible()
    papers = page.locator("main a[href*='papers/']")
    assert papers.count() >= 10
    assert papers.first.is_visible()


def test_the_404_page_works_at_any_depth(site: StaticServer, browser: Browser) -> None:
    missing = site.url_for("papers/no-such-paper/")
    page, log = open_page(browser, missing)
    assert page.url == missing
    assert page.locator("main h1").inner_text().strip()
    # Only the missing page itself failed; its stylesheet and icon loaded.
    assert log.problems(site.origin, allow=[missing]) == []
    home = page.locator("main a[href], header a[href]").first
    with page.expect_navigation(wait_until="load"):
        home.click()
    assert page.url.startswith(site.url)


def test_the_checks_catch_a_broken_page(tmp_path: Path, browser: Browser) -> None:
    """A negative control: the same checks fail on a page with the faults they look for."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
        '<link rel="stylesheet" href="/style.css"></head><body><main><h1>t</h1>'
        '<img alt="" src="http://unreachable.invalid/x.png"><script>undefinedName()</script>'
        "</main></body></html>",
        encoding="utf-8",
    )
    with serve_folder(tmp_path, "/sub/") as server:
        _, log = open_page(browser, server.url)
        problems = "\n".join(log.problems(server.origin))
    assert "uncaught: " in problems and "undefinedName" in problems
    assert f"failed request: {server.origin}/style.css (HTTP 404)" in problems
    assert "request to another host: http://unreachable.invalid/x.png" in problems
    assert "http://unreachable.invalid" in log.hosts
    assert "GET /style.css -> 404" in server_problems(server)
