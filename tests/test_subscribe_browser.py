"""The footer's "Subscribe" block in real headless Chromium, on the example site served
from a sub-path that is its `base_url`.

Every kind of page (home, issue, paper, topics, topic, search, and the 404 page at
depth) has the block, and every link in it leads to a file the server has: the issue's
e-mail edition is clicked like a reader would, the rest asked for with HEAD. The feeds
the block and the pages' <head> name are fetched and parsed, and every item's link
works. axe finds nothing at levels A and AA in either colour scheme, the Nu HTML Checker
no error, and screenshots of the block land in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from playwright.sync_api import Browser, Page

from .browser_support import (
    ColorScheme,
    StaticServer,
    html_files,
    launch_chromium,
    open_page,
    run_axe,
    run_vnu,
    save_screenshot,
    serve_built_site,
)

pytestmark = pytest.mark.browser

ISSUE = "2026-02-28/"
# Every kind of page, each with the files its block links beyond the site's own
# (feed.xml, feed.json, papers.xml, papers.json, feeds.opml and bibliography.bib).
ISSUE_FILES = {f"{ISSUE}email.html", f"{ISSUE}email.txt", f"{ISSUE}digest-2026-02-28.bib"}
PAGES = {
    "": ISSUE_FILES,  # the home page shows the latest issue
    ISSUE: ISSUE_FILES,
    "papers/dpcache/": ISSUE_FILES,
    "topics/": set(),
    "topics/acceleration/": set(),
    "search/": set(),
    "papers/no-such-paper/": set(),  # the 404 page, served at depth
}
SITE_FILES = {"feed.xml", "feed.json", "papers.xml", "papers.json", "feeds.opml"}
SITE_FILES.add("bibliography.bib")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, example_root: Path) -> Iterator[StaticServer]:
    with serve_built_site(example_root, tmp_path_factory.mktemp("subscribe")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def block_links(page: Page) -> list[str]:
    """The absolute targets of the visible Subscribe block's links."""
    block = page.locator("footer nav.subscribe")
    assert block.is_visible(), page.url
    assert block.locator("h2").inner_text().strip().casefold() == "subscribe"
    links: list[str] = block.locator("a[href]").evaluate_all("links => links.map(a => a.href)")
    return links


def status_of(page: Page, url: str, method: str = "HEAD") -> int:
    response = page.request.fetch(url, method=method)
    return response.status


@pytest.mark.parametrize("path", list(PAGES))
def test_every_kind_of_page_has_the_block_and_its_links_work(
    site: StaticServer, browser: Browser, path: str
) -> None:
    page, _ = open_page(browser, site.url_for(path))
    links = block_links(page)
    below_root = {link.removeprefix(site.url) for link in links}
    assert all(link.startswith(site.url) for link in links), links
    assert below_root == SITE_FILES | PAGES[path]
    for link in links:
        assert status_of(page, link) == 200, (page.url, link)
    page.context.close()


def test_a_reader_clicks_through_to_the_issue_e_mail_edition(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, site.url_for("papers/dpcache/"))
    link = page.locator("footer nav.subscribe").get_by_role(
        "link", name="E-mail edition", exact=True
    )
    with page.expect_navigation(wait_until="load"):
        link.click()
    assert page.url == site.url_for(f"{ISSUE}email.html")
    assert "Diffusion Models: Navigating the Frontiers" in page.locator("h1").inner_text()
    # The e-mail edition names no icon (a mail client shows none), so Chromium asks for
    # the host's /favicon.ico, outside the site's sub-path.
    assert log.problems(site.origin, allow=[f"{site.origin}/favicon.ico"]) == []
    page.context.close()


def test_the_feeds_the_pages_name_parse_and_their_items_link_to_pages(
    site: StaticServer, browser: Browser
) -> None:
    page, _ = open_page(browser, site.url_for(ISSUE))
    alternates: list[str] = page.locator("head link[rel=alternate]").evaluate_all(
        "links => links.map(l => l.href)"
    )
    named = {link.removeprefix(site.url) for link in alternates}
    assert named == {"feed.xml", "feed.json", "papers.xml", "papers.json"}
    for url in ("feed.xml", "papers.xml"):
        response = page.request.get(site.url_for(url))
        assert response.status == 200
        parsed = feedparser.parse(response.body())
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.entries
        for entry in parsed.entries:
            assert status_of(page, entry.link) == 200, entry.link
    issues = feedparser.parse(page.request.get(site.url_for("feed.xml")).body()).entries
    assert [entry.link for entry in issues] == [site.url_for(ISSUE)]
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_block_passes_axe_and_is_shown_whole(
    site: StaticServer, browser: Browser, width: int, scheme: ColorScheme
) -> None:
    for path in ("", ISSUE, "topics/acceleration/"):
        page, log = open_page(browser, site.url_for(path), width=width, color_scheme=scheme)
        assert run_axe(page) == [], page.url
        assert log.problems(site.origin) == []
        # Every row fits the screen: nothing of the block is cut off sideways.
        overflow = page.evaluate(
            "() => [...document.querySelectorAll('nav.subscribe li')]"
            ".filter(li => li.getBoundingClientRect().right > innerWidth).length"
        )
        assert overflow == 0, page.url
        page.context.close()
    page, _ = open_page(browser, site.url_for(ISSUE), width=width, color_scheme=scheme)
    footer = page.locator("footer")
    footer.scroll_into_view_if_needed()
    shot = save_screenshot(page, f"subscribe-{width}-{scheme}.png", full_page=False)
    assert shot.stat().st_size > 5_000
    page.context.close()


def test_every_page_is_valid_html(site: StaticServer) -> None:
    pages = [path for path in html_files(site.folder) if path.name != "email.html"]
    assert len(pages) >= 30
    assert run_vnu(pages) == []
