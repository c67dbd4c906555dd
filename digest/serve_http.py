"""Answering the browser: static files of the built site, the reload event stream, bounded
and quiet.

The dev server's HTTP side (digest.serve runs it and rebuilds). Every HTML response from
this server (never a built file) gets one `<script src="/__digest/reload.js">` before
`</body>`, which listens on a Server-Sent Events stream at `/__digest/events` and reloads
the page when `SiteState.generation` moves on. While `SiteState.error` holds a failed
build's diagnostics, every page is an error page listing them.

Only files inside the output folder are served: the request path is decoded once and
any `..` segment, backslash, NUL or drive letter is refused, and the resolved path
(symlinks followed) must still lie inside the folder. Everything else is 404.

The server stays quiet and bounded whatever clients do: a client that drops or resets
its connection is no error (nothing is printed), each connection is closed after
`CONNECTION_TIMEOUT_SECONDS` without progress (a request line sent by halves and left
there), and at most `MAX_CONNECTIONS` are answered at once: one more is told 503 and
closed at once instead of getting a thread of its own. Only regular files are served (a
pipe left in the output folder is a 404, not a request that never ends).
"""

from __future__ import annotations

import html
import mimetypes
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from digest import permalinks
from digest.files import read_regular

PREFIX = "/__digest/"
EVENTS = PREFIX + "events"
CLIENT = PREFIX + "reload.js"
KEEPALIVE_SECONDS = 10.0
CONNECTION_TIMEOUT_SECONDS = 10.0  # a connection that makes no progress for this long is closed
MAX_CONNECTIONS = 64  # answered at once (each one a thread); one more is refused with a 503
BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
    b"Connection: close\r\n\r\n"
)
# What a client that goes away causes: never worth a line in the terminal.
DROPPED = (ConnectionError, TimeoutError)

CLIENT_SCRIPT = b"""\
(function () {
  "use strict";
  var script = document.currentScript;
  var since = (script && script.getAttribute("data-generation")) || "0";
  var source = new EventSource("/__digest/events?since=" + encodeURIComponent(since));
  source.addEventListener("reload", function () {
    source.close();
    window.location.reload();
  });
})();
"""

ERROR_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Build failed · digest serve</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; }}
h1 {{ color: #b00020; }}
pre {{ background: #f6f6f6; color: #111; padding: 1rem; overflow-x: auto; white-space: pre-wrap; }}
</style>
</head>
<body>
<main>
<h1>Build failed</h1>
<p>The site was not rebuilt: fix the problems below and save. This page reloads by itself
when the build succeeds. The last good site is kept in <code>{out}</code>.</p>
<pre>{problems}</pre>
</main>
</body>
</html>
"""

NOT_FOUND = b"<!DOCTYPE html><title>Not found</title><h1>Not found</h1>"

Echo = Callable[[str], None]


# ------------------------------------------------------------------ paths


def resolve_request(out: Path, target: str) -> Path | None:
    """The file under `out` a request target names, or None when it names nothing there.

    `target` is the raw request target (path and query). Folders are returned as is;
    the caller picks their index.html.
    """
    if target.startswith(("http://", "https://")):  # absolute-form request target
        target = urlsplit(target).path or "/"
    raw = target.split("?", 1)[0].split("#", 1)[0]
    if not raw.startswith("/"):
        return None
    path = unquote(raw, errors="strict") if "%" in raw else raw
    if "\\" in path or "\x00" in path:
        return None
    parts = [part for part in path.split("/") if part]
    if any(part == ".." or part == "." or ":" in part for part in parts):
        return None
    base = out.resolve()
    candidate = base.joinpath(*parts) if parts else base
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if resolved != base and not resolved.is_relative_to(base):
        return None
    return resolved


def inject_client(body: bytes, generation: int) -> bytes:
    """`body` with the reload script before its last `</body>` (or at the end)."""
    tag = f'<script src="{CLIENT}" data-generation="{generation}"></script>\n'.encode()
    index = body.lower().rfind(b"</body>")
    if index < 0:
        return body + tag
    return body[:index] + tag + body[index:]


# ------------------------------------------------------------------ the site


@dataclass
class SiteState:
    """What the request handlers need: the folder, the current build, the last error."""

    out: Path
    generation: int = 0
    error: str | None = None
    stopping: bool = False
    changed: threading.Condition = field(default_factory=threading.Condition)
    building: threading.Lock = field(default_factory=threading.Lock)


# ------------------------------------------------------------------ the server


def make_server(host: str, port: int, state: SiteState, echo: Echo) -> ThreadingHTTPServer:
    """A bound server answering from `state` (not yet serving: call `serve_forever`)."""
    return _Server((host, port), _handler_for(state), echo)


class _Server(ThreadingHTTPServer):
    """The standard threading server, with a thread per connection up to `MAX_CONNECTIONS`
    and no traceback when a client goes away."""

    daemon_threads = True
    request_queue_size = 128  # connections the system holds until they are taken (not 5)

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], echo: Echo
    ) -> None:
        self.echo = echo
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self._refuse(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _refuse(self, request: socket.socket) -> None:
        """Answer 503 without a thread (a fresh socket's buffer takes the few bytes)."""
        try:
            request.setblocking(False)
            request.send(BUSY)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A dropped connection is no error; anything else is a bug, told in one line."""
        problem = sys.exc_info()[1]
        if isinstance(problem, DROPPED):
            return
        self.echo(f"internal error while answering a request (please report it): {problem!r}")


def _handler_for(state: SiteState) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        site = state

    return Handler


class _Handler(BaseHTTPRequestHandler):
    site: SiteState
    server_version = "digest-serve"

    def setup(self) -> None:
        # Read now, not when the class is made, so that a test can lower it.
        self.request.settimeout(CONNECTION_TIMEOUT_SECONDS)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the terminal shows builds, not requests."""

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _send(
        self, status: int, body: bytes, content_type: str, head: bool, **headers: str
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _respond(self, head: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == EVENTS:
            self._events(head)
            return
        if path == CLIENT:
            self._send(200, CLIENT_SCRIPT, "text/javascript; charset=utf-8", head)
            return
        try:
            found = resolve_request(self.site.out, self.path)
        except UnicodeDecodeError:
            found = None
        with self.site.changed:
            error, generation = self.site.error, self.site.generation
        if found is not None and found.is_dir():
            if not path.endswith("/"):
                self._send(
                    HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", head, Location=path + "/"
                )
                return
            found = found / "index.html"
        wants_html = found is None or found.suffix == ".html"
        if error is not None and wants_html:
            page = ERROR_PAGE.format(
                out=html.escape(str(self.site.out)), problems=html.escape(error)
            )
            page_bytes = inject_client(page.encode(), generation)
            self._send(500, page_bytes, "text/html; charset=utf-8", head)
            return
        with self.site.building:  # never serve a half-swapped site
            body = _read(found)
            status = HTTPStatus.OK
            if body is None or found is None:
                status, found = HTTPStatus.NOT_FOUND, self.site.out / permalinks.NOT_FOUND
                body = _read(found) or NOT_FOUND
        if found.suffix == ".html":
            body = inject_client(body, generation)
        self._send(status, body, _content_type(found), head)

    def _events(self, head: bool) -> None:
        """Server-Sent Events: `reload` whenever the build generation moves past `since`;
        for a HEAD request, only the headers."""
        query = parse_qs(urlsplit(self.path).query)
        try:
            since = int(query.get("since", ["-1"])[0])
        except ValueError:
            since = -1
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if head:
            return
        try:
            self.wfile.write(b"retry: 500\n\n")
            self.wfile.flush()
            for generation in _generations(self.site, since):
                message = (
                    ": keep-alive\n\n"
                    if generation is None
                    else f"event: reload\ndata: {generation}\n\n"
                )
                self.wfile.write(message.encode())
                self.wfile.flush()
        except DROPPED:
            return


def _generations(site: SiteState, since: int) -> Iterator[int | None]:
    """Each new build generation after `since`; None every few seconds to keep the line alive."""
    while True:
        with site.changed:
            if site.stopping:
                return
            if site.generation == since:
                site.changed.wait(KEEPALIVE_SECONDS)
            if site.stopping:
                return
            current = site.generation
        if current != since:
            since = current
            yield current
        else:
            yield None


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    textual = guessed.startswith("text/") or guessed.endswith(("xml", "json", "javascript"))
    return f"{guessed}; charset=utf-8" if textual else guessed


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return read_regular(path)[1]
    except OSError:  # missing, or not a regular file (a pipe would never end)
        return None
