"""Math in real headless Chromium: the MathML digest writes is laid out as math, a wide
display formula scrolls in its own box on a phone, and the pages stay valid (vnu) and
accessible (axe) in light and dark.

The site is small and made here: a paper whose summary has inline math and a display
formula far wider than a phone, an issue whose intro, theme prose and outlook have math.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from .conftest import paper_yaml

pytestmark = pytest.mark.browser

WIDE = " + ".join(f"\\frac{{a_{{{i}}}}}{{b_{{{i}}}}}" for i in range(1, 25))
SUMMARY = (
    "|\n"
    "  The sampler's error falls as $O(1/\\sqrt{T})$ for $T$ steps, at $5 a run:\n"
    "\n"
    "  $$\n"
    f"  \\mathrm{{KL}}(p \\,\\|\\, q_T) \\le {WIDE}\n"
    "  $$\n"
    "\n"
    "  A bound inside a sentence, $$\\sum_{i=1}^n x_i^2,$$ and the end.\n"
)
ISSUE = (
    'title: "Math issue"\n'
    "subject: diffusion models\n"
    "intro: |\n"
    "  An intro with $\\alpha$ and $\\beta$.\n"
    "themes:\n"
    "  theory: |\n"
    "    Prose with $\\nabla_x \\log p_t(x)$, $\\mathop{E}_x \\fbox{y} \\not= a\\!b$ and\n"
    "    $\\begin{cases}a & b\\\\c & d\\end{cases}$.\n"
    "outlook: |\n"
    "  Next: $\\mathbb{E}[x]$.\n"
)
PAGES = ("2026-02-28/", "papers/bound/")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("math-root")
    (root / "pyproject.toml").write_text("[tool.digest]\n", encoding="utf-8")
    issue = root / "entries" / "2026-02-28"
    issue.mkdir(parents=True)
    (issue / "_issue.yaml").write_text(ISSUE, encoding="utf-8")
    (issue / "bound.yaml").write_text(
        paper_yaml(themes="[theory]", summary=SUMMARY), encoding="utf-8"
    )
    with serve_built_site(root, tmp_path_factory.mktemp("math-site")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def boxes(page: Page, selector: str) -> list[dict[str, Any]]:
    """The size, place and CSS display of each element `selector` finds, as laid out."""
    found: list[dict[str, Any]] = page.locator(selector).evaluate_all(
        "elements => elements.map(e => { const r = e.getBoundingClientRect();"
        " return {width: r.width, height: r.height, top: r.top, bottom: r.bottom,"
        " display: getComputedStyle(e).display}; })"
    )
    return found


@pytest.mark.parametrize("path", PAGES)
def test_math_renders_as_math_elements_with_size(
    site: StaticServer, browser: Browser, path: str
) -> None:
    page, log = open_page(browser, site.url_for(path))
    found = boxes(page, "main math")
    assert len(found) >= 4
    assert all(box["width"] > 0 and box["height"] > 0 for box in found), found
    # Laid out as MathML, not as unknown inline tags: a fraction's numerator sits above
    # its denominator, and display math is a block of its own.
    numerators = boxes(page, "main mfrac > :first-child")
    denominators = boxes(page, "main mfrac > :last-child")
    assert numerators
    assert all(n["bottom"] <= d["top"] + 1 for n, d in zip(numerators, denominators, strict=True))
    if path.startswith("papers/"):
        assert [box["display"] for box in boxes(page, "main math[display=block]")] == [
            "block math",
            "block math",
        ]
    assert log.problems(site.origin) == []
    assert log.hosts == {site.origin}, "math loads nothing: no script, no font, no other host"


def test_the_email_edition_shows_math_too(site: StaticServer, browser: Browser) -> None:
    page, log = open_page(browser, site.url_for("2026-02-28/email.html"))
    found = boxes(page, "math")
    assert len(found) >= 6  # the intro's two, the prose's one, the summary's three, ...
    assert all(box["width"] > 0 and box["height"] > 0 for box in found), found
    # An e-mail names no icon, so the browser asks the server's root for one.
    assert log.problems(site.origin, allow=[f"{site.origin}/favicon.ico"]) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_wide_formula_scrolls_in_its_box_on_a_phone(
    site: StaticServer, browser: Browser, scheme: ColorScheme
) -> None:
    page, log = open_page(browser, site.url_for("papers/bound/"), width=390, color_scheme=scheme)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
    save_screenshot(page, f"math-paper-390-{scheme}.png")
    box = page.locator("main div.math-display").first
    assert box.evaluate("e => e.scrollWidth > e.clientWidth"), "the formula is wider than 390 px"
    # A keyboard reader reaches the box with Tab and scrolls it with the arrow keys.
    box.focus()
    assert box.evaluate("e => document.activeElement === e")
    box.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('main div.math-display').scrollLeft > 0", timeout=5000
    )
    assert log.problems(site.origin) == []


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_pages_with_math_pass_axe(
    site: StaticServer, browser: Browser, width: int, scheme: ColorScheme
) -> None:
    violations = []
    for path in PAGES:
        page, _ = open_page(browser, site.url_for(path), width=width, color_scheme=scheme)
        violations += run_axe(page)
        page.context.close()
    assert violations == [], "\n".join(map(str, violations))


def test_pages_with_math_are_valid_html(site: StaticServer) -> None:
    files = html_files(Path(site.folder))
    assert any("<math" in file.read_text(encoding="utf-8") for file in files)
    messages = run_vnu(files)
    assert messages == [], "\n".join(map(str, messages))
