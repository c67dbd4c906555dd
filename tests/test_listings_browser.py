"""Tag, author and paginated listing pages in real headless Chromium: a reader goes
from a card's tag to the tag's page and through a topic's pages and back; each page
passes axe-core (light and dark, at 1280 and 390 px wide), fits a phone screen and is
valid HTML. Served from a sub-path, as a project's GitHub Pages.

The site is test_listings.py's: three issues, a tag and an author spelled two ways, two
authors whose names differ only by their accents, two papers a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from .browser_support import (
    AxeViolation,
    ColorScheme,
    StaticServer,
    follow_link,
    launch_chromium,
    open_page,
    run_axe,
    run_vnu,
    save_screenshot,
    serve_built_site,
)
from .test_listings import FILES

pytestmark = pytest.mark.browser

PAGES = {
    "tag": "tags/caching/",
    "author": "authors/ada-lovelace/page/2/",
    "topic": "topics/acceleration/page/2/",
    "tags": "tags/",
    "authors": "authors/",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("listings") / "root"
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.digest]\ntitle = "Digest"\npage_size = 2\n')
    with serve_built_site(root, tmp_path_factory.mktemp("built")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def readable(violations: list[AxeViolation]) -> str:
    return f"{len(violations)} axe violations:\n" + "\n".join(map(str, violations))


def test_a_reader_follows_a_tag_and_pages_through_a_topic(
    site: StaticServer, browser: Browser
) -> None:
    page, log = open_page(browser, site.url_for("papers/b2/"))
    assert follow_link(page, ".paper-tags a") == site.url_for("tags/caching/")
    assert page.locator("h1").inner_text() == "caching"
    assert page.locator(".paper-row-title").count() == 2  # two papers a page
    assert follow_link(page, "a[rel=next]") == site.url_for("tags/caching/page/2/")
    assert page.locator(".paper-row-title").all_inner_texts() == ["Beta two"]
    assert follow_link(page, "a[rel=prev]") == site.url_for("tags/caching/")
    assert follow_link(page, ".paper-row-meta a") == site.url_for("2026-01-10/")
    assert follow_link(page, "#paper-b1 .authors a") == site.url_for("authors/ada-lovelace/")
    assert follow_link(page, "a[rel=next]") == site.url_for("authors/ada-lovelace/page/2/")
    assert page.locator(".pager-where").inner_text() == "Page 2 of 2"
    assert log.problems(site.origin) == []
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_listing_pages_pass_axe_at_both_widths(
    site: StaticServer, browser: Browser, scheme: ColorScheme
) -> None:
    violations: list[AxeViolation] = []
    for name, url in PAGES.items():
        for width in (1280, 390):
            page, log = open_page(browser, site.url_for(url), width=width, color_scheme=scheme)
            violations += run_axe(page)
            assert log.problems(site.origin) == [], url
            save_screenshot(page, f"listing-{name}-{width}-{scheme}.png")
            page.context.close()
    assert violations == [], readable(violations)


def test_listing_pages_fit_a_phone_screen(site: StaticServer, browser: Browser) -> None:
    for url in PAGES.values():
        page, _ = open_page(browser, site.url_for(url), width=360)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
        page.context.close()


def test_listing_pages_are_valid_html(site: StaticServer) -> None:
    folder: Path = site.folder
    files = [folder / url / "index.html" for url in PAGES.values()]
    files += [folder / "issues/index.html", folder / "papers/a1/index.html"]
    assert run_vnu(files) == []
