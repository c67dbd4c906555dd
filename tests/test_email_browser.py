"""The e-mail edition in real headless Chromium: it fits a phone and its contents lead to
its sections.

An issue whose summary holds what stretches a page sideways (a very long address, a
very long word, a long line of code, a wide figure, a wide formula, a table with a long
cell) has its
e-mail edition built, served from a sub-path that is its `base_url`, and its email.html
opened at 390 px. Undoing any one of the message's wrapping rules in the page makes it
overflow again: the control that shows the issue really holds what it is meant to.
"""

from __future__ import annotations

import struct
import textwrap
import zlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from digest.build import run
from digest.reader_outputs import email_jobs

from .browser_support import (
    StaticServer,
    launch_chromium,
    open_page,
    run_axe,
    run_vnu,
    save_screenshot,
    serve_folder,
)
from .conftest import MINIMAL_ISSUE, paper_yaml

pytestmark = pytest.mark.browser

PHONE = 390
FIGURE = "figures/wide.png"
FIGURE_WIDTH = 1600
LONG_URL = "https://example.org/" + "/".join(f"segment-number-{n}" for n in range(12))
LONG_WORD = "Pneumono" + "ultramicroscopicsilicovolcano" * 3 + "coniosis"
WIDE_FORMULA = " + ".join(f"a_{{{n}}} b_{{{n}}}" for n in range(1, 25))
SUMMARY = f"""\
The data are at <{LONG_URL}>, and the method is called {LONG_WORD}.

```
python sample.py --steps 4 --guidance 7.5 --scheduler dpm-solver-plus-plus --seed 1234567890
```

![A wide figure]({FIGURE})

$${WIDE_FORMULA}$$

| setting | where |
|---|---|
| full | {LONG_URL} |
"""

# JavaScript run on every element to undo one of the e-mail's rules.
UNDO = {
    "long words and addresses": "e => { e.style.overflowWrap = e.style.wordWrap = 'normal'; }",
    "a wide figure": "e => { if (e.tagName === 'IMG') e.style.maxWidth = 'none'; }",
    "a long line of code": "e => { if (e.tagName === 'PRE') e.style.whiteSpace = 'pre'; }",
    "a wide formula": "e => { if (e.style.overflowX === 'auto') e.style.overflow = 'visible'; }",
}
OVERFLOW = "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
# Whether an element is wholly on screen, give or take the scroll's rounding (under 1 px).
IN_VIEW = "e => (box => box.top > -1 && box.bottom < innerHeight + 1)(e.getBoundingClientRect())"


def png(width: int, height: int) -> bytes:
    """A plain grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = b"".join(b"\x00" + b"\x99" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticServer]:
    root = tmp_path_factory.mktemp("email-content")
    issue = root / "entries" / "2026-02-28"
    issue.mkdir(parents=True)
    (issue / "_issue.yaml").write_text(
        MINIMAL_ISSUE + "outlook: |\n  What comes next.\n", encoding="utf-8"
    )
    summary = "|\n" + textwrap.indent(SUMMARY, "  ")
    papers = {
        "wide": paper_yaml(summary=summary, contribution="dataset"),
        "other": paper_yaml(title='"Another Paper"', themes="[safety]"),
    }
    for name, text in papers.items():
        (issue / f"{name}.yaml").write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("email-site") / "site"
    with serve_folder(out, "/digest/") as server:
        config = f'[tool.digest]\nbase_url = "{server.url}"\n'
        (root / "pyproject.toml").write_text(config, encoding="utf-8")
        result = run(root, out, builders=[email_jobs])
        assert result.ok, result.report.errors
        # The figure the summary shows, where its absolute address leads.
        figure = out / "2026-02-28" / FIGURE
        figure.parent.mkdir(parents=True)
        figure.write_bytes(png(FIGURE_WIDTH, 300))
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_chromium() as chromium:
        yield chromium


def open_email(browser: Browser, site: StaticServer, width: int = PHONE, height: int = 900) -> Page:
    url = site.url_for("2026-02-28/email.html")
    page, log = open_page(browser, url, width=width, height=height)
    assert log.problems(site.origin) == []
    return page


def test_the_email_fits_a_phone_screen(site: StaticServer, browser: Browser) -> None:
    page = open_email(browser, site)
    assert page.evaluate("document.querySelector('img').naturalWidth") == FIGURE_WIDTH
    assert page.locator(f"a[href='{LONG_URL}']").is_visible()
    assert page.evaluate(OVERFLOW) <= 0
    save_screenshot(page, "email-390.png")


@pytest.mark.parametrize("rule", UNDO)
def test_without_each_wrapping_rule_the_email_is_too_wide(
    site: StaticServer, browser: Browser, rule: str
) -> None:
    page = open_email(browser, site)
    page.evaluate(f"document.querySelectorAll('*').forEach({UNDO[rule]})")
    assert page.evaluate(OVERFLOW) > 0


@pytest.mark.parametrize("target", ["theme-safety", "under-the-hood", "outlook"])
def test_the_contents_lead_to_their_sections(
    site: StaticServer, browser: Browser, target: str
) -> None:
    page = open_email(browser, site, height=400)  # too short to show every section at once
    heading = page.locator(f"#{target}")
    assert heading.evaluate("h => h.tagName") == "H2"
    assert not heading.evaluate(IN_VIEW)
    page.locator(f"a[href='#{target}']").click()
    page.wait_for_function(f"location.hash === '#{target}'")
    assert heading.evaluate(IN_VIEW)


def test_the_email_passes_axe_and_the_nu_html_checker(site: StaticServer, browser: Browser) -> None:
    page = open_email(browser, site, width=1280)
    assert [str(violation) for violation in run_axe(page)] == []
    save_screenshot(page, "email-1280.png")
    assert [str(message) for message in run_vnu([site.folder / "2026-02-28" / "email.html"])] == []
