"""Every page of the built example is valid HTML (Nu HTML Checker) and passes axe-core.

vnu runs over every .html file with --errors-only and must report nothing. axe-core is
injected into Chromium on every page, served as readers get it, and must find no violation of
the WCAG 2 A/AA rules; colour contrast is checked in light and in dark mode
(prefers-color-scheme), and on the 404 page as a missing address serves it.
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
    html_files,
    launch_chromium,
    open_page,
    page_url,
    run_axe,
    run_vnu,
    serve_built_site,
    serve_folder,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, example_root: Path) -> Iterator[StaticServer]:
    with serve_built_site(example_root, tmp_path_factory.mktemp("validity")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def readable(violations: list[AxeViolation]) -> str:
    return f"{len(violations)} axe violations:\n" + "\n".join(map(str, violations))


def axe_every_page(
    site: StaticServer, browser: Browser, color_scheme: ColorScheme
) -> list[AxeViolation]:
    files = html_files(site.folder)
    page, _ = open_page(browser, site.url, color_scheme=color_scheme)
    violations = []
    for file in files:
        response = page.goto(page_url(site, file), wait_until="load")
        assert response is not None
        if file.name != "404.html":
            assert response.ok, f"{page.url}: HTTP {response.status}"
        violations += run_axe(page)
    return violations


def test_every_page_is_valid_html(site: StaticServer, example_root: Path) -> None:
    files = html_files(site.folder)
    # Home, the issue, the topics index, each topic, each paper, the 404 page.
    papers = {p.stem for p in example_root.glob("entries/*/*.yaml")} - {"_issue"}
    checked = {f.relative_to(site.folder).as_posix() for f in files}
    assert {f"papers/{paper}/index.html" for paper in papers} <= checked
    assert {"index.html", "topics/index.html", "404.html"} <= checked
    messages = run_vnu(files)
    assert messages == [], f"{len(messages)} vnu errors:\n" + "\n".join(map(str, messages))


def test_every_page_passes_axe_in_light_mode(site: StaticServer, browser: Browser) -> None:
    violations = axe_every_page(site, browser, "light")
    assert violations == [], readable(violations)


def test_every_page_passes_axe_in_dark_mode(site: StaticServer, browser: Browser) -> None:
    """Dark mode has its own colours: contrast (and the rest) is checked again with them."""
    page, _ = open_page(browser, site.url, color_scheme="dark")
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert dark, "Chromium did not emulate prefers-color-scheme: dark"
    violations = axe_every_page(site, browser, "dark")
    assert violations == [], readable(violations)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_404_page_passes_axe_where_it_is_served(
    site: StaticServer, browser: Browser, color_scheme: ColorScheme
) -> None:
    missing = site.url_for("topics/no-such-topic/")
    page, log = open_page(browser, missing, color_scheme=color_scheme)
    assert log.problems(site.origin, allow=[missing]) == []
    violations = run_axe(page)
    assert violations == [], readable(violations)


def test_the_checkers_catch_broken_pages(tmp_path: Path, browser: Browser) -> None:
    """A negative control: vnu and axe (light and dark) report pages with known faults."""
    (tmp_path / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><style>'
        "@media (prefers-color-scheme: dark) { body { background: #111; color: #222 } }"
        "</style></head><body><main><h1>t</h1><p><div>block in a paragraph</p>"
        '<img src="data:,"></main></body></html>',
        encoding="utf-8",
    )
    messages = run_vnu([tmp_path / "index.html"])
    assert any("Unclosed element “div”" in message.message for message in messages)
    assert all(message.file.endswith("/index.html") and message.line == 1 for message in messages)
    with serve_folder(tmp_path) as server:
        light_page, _ = open_page(browser, server.url)
        light = {violation.rule for violation in run_axe(light_page)}
        dark_page, _ = open_page(browser, server.url, color_scheme="dark")
        dark = run_axe(dark_page)
    assert light == {"image-alt"}
    assert {violation.rule for violation in dark} == {"image-alt", "color-contrast"}
    contrast = next(violation for violation in dark if violation.rule == "color-contrast")
    assert contrast.url == server.url
    assert "div" in contrast.targets
    assert "color-contrast (serious)" in str(contrast)
