"""Real-browser test helpers: a static server, headless Chromium, axe-core and the Nu HTML Checker.

Small on purpose, so any test can drive a built site the way a reader's browser does:

    with serve_folder(site, prefix="/digest/") as server, launch_chromium() as browser:
        page, log = open_page(browser, server.url)
        page.click("a[href='topics/']")
        page.wait_for_load_state()
        assert log.problems(server.origin) == []
        assert run_axe(page) == []
        save_screenshot(page, "home-1280.png")
    assert run_vnu(html_files(site)) == []

Tools, installed by .ci/install-tools: Debian's `chromium` (driven by the `playwright` Python
package, pointed at /usr/bin/chromium: nothing is downloaded), Java plus the npm packages
`vnu-jar` and `axe-core` in tests/node_modules. A missing tool is an error that says how to
install it, never a skip: under `pytest --browser` these tests must really run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, sync_playwright

from digest.build import run as build_site
from digest.config import load_config
from digest.diagnostics import format_text

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
NODE_MODULES = TESTS / "node_modules"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
ARTIFACTS = REPO / "test-artifacts"

CHROMIUM = Path(os.environ.get("DIGEST_CHROMIUM", "/usr/bin/chromium"))
# Playwright adds --headless itself; these keep Chromium from calling home while it runs.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",  # Docker's /dev/shm (64 MB) is too small for long pages
)
# The WCAG 2.0, 2.1 and 2.2 success criteria at levels A and AA.
WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
INSTALL_HINT = "run `bash .ci/install-tools` (as root) to install the browser-test tools"

ColorScheme = Literal["light", "dark"]


class MissingTool(RuntimeError):
    """A tool the browser tests need is not installed."""


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise MissingTool(f"{what} not found at {path}: {INSTALL_HINT}")
    return path


# ------------------------------------------------------------------ static server


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int


@dataclass
class StaticServer:
    """A folder served at http://127.0.0.1:<port><prefix>; every request lands in `requests`."""

    folder: Path
    prefix: str
    port: int
    requests: list[LoggedRequest] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The site's root URL (ends with "/")."""
        return self.origin + self.prefix

    def url_for(self, relative: str) -> str:
        return self.url + relative.lstrip("/")


class _Handler(SimpleHTTPRequestHandler):
    """Serves `server.folder` under `server.prefix` like a static host does.

    A folder URL serves its index.html, a folder URL without its slash redirects to it, and a
    missing file gets the site's 404.html with status 404 (as GitHub Pages does).
    """

    def __init__(self, *args: Any, site: StaticServer, **kwargs: Any) -> None:
        self.site = site
        super().__init__(*args, directory=str(site.folder), **kwargs)

    def translate_path(self, path: str) -> str:
        request_path = unquote(urlsplit(path).path)
        if not request_path.startswith(self.site.prefix):
            # Outside the sub-path: nothing (a root-relative link would land here).
            return str(self.site.folder / ".outside-prefix" / "missing")
        return super().translate_path("/" + request_path[len(self.site.prefix) :])

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        not_found = self.site.folder / "404.html"
        if code != HTTPStatus.NOT_FOUND or not not_found.is_file():
            super().send_error(code, message, explain)
            return
        body = not_found.read_bytes()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if isinstance(code, int) or str(code).isdigit() else 0
        self.site.requests.append(LoggedRequest(self.command, self.path, status))

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is `StaticServer.requests`."""


@contextmanager
def serve_folder(folder: Path, prefix: str = "/") -> Iterator[StaticServer]:
    """Serve `folder` on 127.0.0.1 at a free port, under `prefix` (e.g. "/digest/")."""
    if not (prefix.startswith("/") and prefix.endswith("/")):
        raise ValueError(f"prefix must start and end with '/': {prefix!r}")
    site = StaticServer(folder=folder.resolve(), prefix=prefix, port=0)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, site=site))
    site.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="static-server", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@contextmanager
def serve_built_site(
    content_root: Path, workdir: Path, prefix: str = "/digest/"
) -> Iterator[StaticServer]:
    """Build `content_root` into workdir/site and serve it under `prefix`, as GitHub Pages
    serves a project site: `base_url` is set to the address it is served from, as a site owner
    sets it to their Pages address. Entries and templates are read from `content_root`.
    """
    config, problems = load_config(content_root)
    if config is None:
        raise RuntimeError(f"{content_root}: bad configuration:\n{format_text(problems)}")
    root = workdir / "content"
    root.mkdir()
    for name in (config.entries, config.templates):
        if (content_root / name).is_dir():
            shutil.copytree(content_root / name, root / name)
    pyproject = (content_root / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"(?m)^base_url\s*=.*\n", "", pyproject)
    if "[tool.digest]\n" not in pyproject:
        pyproject += "\n[tool.digest]\n"
    out = workdir / "site"
    with serve_folder(out, prefix) as server:
        pyproject = pyproject.replace(
            "[tool.digest]\n", f'[tool.digest]\nbase_url = "{server.url}"\n', 1
        )
        (root / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        result = build_site(root, out)
        if not result.ok:
            report = format_text(result.report.sorted())
            raise RuntimeError(f"the site did not build:\n{report}")
        yield server


def page_url(server: StaticServer, html_file: Path) -> str:
    """The URL a served .html file is read at: a folder's index.html by the folder's URL."""
    relative = html_file.relative_to(server.folder).as_posix()
    if relative == "index.html" or relative.endswith("/index.html"):
        relative = relative[: -len("index.html")]
    return server.url_for(relative)


# ------------------------------------------------------------------ Chromium


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, driven by Playwright (never a downloaded browser)."""
    _require(CHROMIUM, "Chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageLog:
    """What a page did while it was open: every request, every failure, every console error."""

    requested: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)  # loads cancelled by leaving the page
    console_errors: list[str] = field(default_factory=list)

    @property
    def hosts(self) -> set[str]:
        """Every origin asked for something ("http://127.0.0.1:8000", "data:", ...)."""
        found = set()
        for url in self.requested:
            parts = urlsplit(url)
            found.add(f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:")
        return found

    def problems(self, origin: str, *, allow: Iterable[str] = ()) -> list[str]:
        """Readable failures: console errors, failed requests, requests to any other origin.

        `allow` lists URLs whose failure is expected (say, a 404 page's own document).
        """
        allowed = set(allow)
        found = [f"console error: {text}" for text in self.console_errors]
        found += [f"failed request: {entry}" for entry in self.failed_requests]
        found += [
            f"request to another host: {url}"
            for url in self.requested
            if not url.startswith(origin + "/") and not url.startswith("data:")
        ]
        return [problem for problem in found if not any(url in problem for url in allowed)]


def watch(page: Page) -> PageLog:
    """Record a page's requests, failures and console errors from now on."""
    log = PageLog()

    def on_request(request: Request) -> None:
        log.requested.append(request.url)

    def on_failed(request: Request) -> None:
        if request.failure == "net::ERR_ABORTED" and not request.is_navigation_request():
            # Cancelled by the browser as the page was left (the favicon is fetched after
            # `load`, so a click right after may cancel it). A file that is missing or
            # broken fails otherwise: an HTTP error below, or another net:: error.
            log.aborted.append(request.url)
            return
        log.failed_requests.append(f"{request.url} ({request.failure})")

    def on_response(response: Response) -> None:
        if response.status >= 400:
            log.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            log.console_errors.append(f"{message.text} [{message.location.get('url', '')}]")

    def on_page_error(error: Exception) -> None:
        log.console_errors.append(f"uncaught: {error}")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    return log


def open_page(
    browser: Browser,
    url: str,
    *,
    width: int = 1280,
    height: int = 900,
    color_scheme: ColorScheme = "light",
    javascript: bool = True,
) -> tuple[Page, PageLog]:
    """A fresh page (own context: no shared cache) at `width`, watched from before it loads."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=color_scheme,
        java_script_enabled=javascript,
        service_workers="block",
    )
    page = context.new_page()
    log = watch(page)
    page.goto(url, wait_until="load")
    return page, log


def follow_link(page: Page, selector: str) -> str:
    """Click the first real <a> matching `selector`, wait for the next page, return its URL."""
    link = page.locator(selector).first
    with page.expect_navigation(wait_until="load"):
        link.click()
    return page.url


def save_screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Write test-artifacts/<name> (a PNG) and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


# ------------------------------------------------------------------ axe-core


@dataclass(frozen=True)
class AxeViolation:
    url: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]
    summary: str

    def __str__(self) -> str:
        where = ", ".join(self.targets[:5]) + (" ..." if len(self.targets) > 5 else "")
        detail = self.summary.replace("\n", " ")
        return f"{self.url}: {self.rule} ({self.impact}): {self.help}\n    at {where}\n    {detail}"


def run_axe(page: Page, tags: Iterable[str] = WCAG_TAGS) -> list[AxeViolation]:
    """Inject axe-core into the page and return its violations for the WCAG 2 A/AA rules."""
    page.add_script_tag(path=str(_require(AXE_JS, "axe-core")))
    result = page.evaluate(
        "tags => axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(tags),
    )
    violations = []
    for item in result["violations"]:
        nodes = item["nodes"]
        violations.append(
            AxeViolation(
                url=page.url,
                rule=item["id"],
                impact=str(item.get("impact")),
                help=item["help"],
                targets=tuple(" ".join(map(str, node["target"])) for node in nodes),
                summary=nodes[0].get("failureSummary", "") if nodes else "",
            )
        )
    return violations


# ------------------------------------------------------------------ Nu HTML Checker


@dataclass(frozen=True)
class VnuMessage:
    file: str
    line: int
    column: int
    message: str
    extract: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}\n    {self.extract!r}"


def html_files(folder: Path) -> list[Path]:
    """Every .html file under `folder`, sorted."""
    return sorted(folder.rglob("*.html"))


def run_vnu(files: Iterable[Path], *, errors_only: bool = True) -> list[VnuMessage]:
    """Check `files` with the Nu HTML Checker in one Java run; return its messages."""
    paths = [str(path) for path in files]
    if not paths:
        raise ValueError("run_vnu: no files to check")
    java = shutil.which("java")
    if java is None:
        raise MissingTool(f"java not found: {INSTALL_HINT}")
    command = [java, "-jar", str(_require(VNU_JAR, "vnu.jar")), "--format", "json"]
    if errors_only:
        command.append("--errors-only")
    done = subprocess.run(
        [*command, *paths], capture_output=True, text=True, encoding="utf-8", check=False
    )
    # vnu writes its JSON report to stderr; exit status 1 just means "messages found".
    try:
        report = json.loads(done.stderr)
    except json.JSONDecodeError as error:
        raise RuntimeError(f"vnu failed (exit {done.returncode}): {done.stderr[:2000]}") from error
    return [
        VnuMessage(
            file=unquote(urlsplit(item.get("url", "")).path),
            line=int(item.get("lastLine", 0)),
            column=int(item.get("firstColumn", item.get("lastColumn", 0))),
            message=item["message"],
            extract=item.get("extract", ""),
        )
        for item in report["messages"]
        if item.get("type") in ("error", "non-document-error") or not errors_only
    ]
