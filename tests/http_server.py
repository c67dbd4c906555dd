"""A real HTTP server on 127.0.0.1 for the network tests, with a request log.

Routes map a path (with or without its query string) to a `Reply` or to a function of the
request. Every request is logged with its arrival time (from an injectable clock, so a
fake clock shared with a rate limiter shows the limiter's spacing without any waiting),
method, path, Host header, User-Agent and how many requests were in flight at arrival,
overall and for its Host. Tests assert on that log, never on wall-clock durations.

`LoopbackTransport` sends requests for made-up host names (papers.test, code.test) to
servers on 127.0.0.1 while keeping the Host header, so one server can play several hosts
and the per-host limits show in the log.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

FIXTURES = Path(__file__).parent / "fixtures" / "http"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow host)
    drop: bool = False  # close the connection without answering (a broken server)
    content_type: str = "text/plain; charset=utf-8"
    # A dripping server: `drip` bytes of padding, one every `drip_every` seconds, in a
    # header ("headers") or as whitespace before the body ("body"); then the rest at once.
    drip: int = 0
    drip_every: float = 0.1
    drip_in: str = "headers"


def fixture(name: str, content_type: str, status: int = 200) -> Reply:
    """A recorded response from tests/fixtures/http/."""
    return Reply(status, (FIXTURES / name).read_bytes(), content_type=content_type)


@dataclass(frozen=True)
class Seen:
    """One logged request."""

    time: float
    method: str
    path: str
    host: str
    user_agent: str
    in_flight: int  # requests being handled when it arrived, itself included
    in_flight_host: int  # the same, counting only its Host


@dataclass(frozen=True)
class Asked:
    method: str
    path: str
    host: str


Route = Reply | Callable[[Asked], Reply]


class RecordingServer:
    """A threading HTTP server with a route table and a request log."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.routes: dict[str, Route] = {}
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        self._in_flight = 0
        self._per_host: dict[str, int] = {}
        self.stopping = threading.Event()  # ends a dripping answer when the test is over
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, reply: Route) -> None:
        self.routes[path] = reply

    def paths(self, method: str | None = None) -> list[str]:
        return [seen.path for seen in self.log if method is None or seen.method == method]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def _reply(self, asked: Asked) -> Reply:
        route = self.routes.get(asked.path) or self.routes.get(asked.path.split("?", 1)[0])
        if route is None:
            return Reply(404, b"no such route in the test server")
        return route(asked) if callable(route) else route

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return  # the test log replaces stderr noise

            def _answer(self, head: bool) -> None:
                host = self.headers.get("Host", "")
                with server._lock:
                    server._in_flight += 1
                    server._per_host[host] = server._per_host.get(host, 0) + 1
                    server.log.append(
                        Seen(
                            server.clock(),
                            self.command,
                            self.path,
                            host,
                            self.headers.get("User-Agent", ""),
                            server._in_flight,
                            server._per_host[host],
                        )
                    )
                try:
                    reply = server._reply(Asked(self.command, self.path, host))
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.drop:
                        self.close_connection = True
                        return
                    if reply.drip:
                        self._drip(reply, head)
                        return
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    if not head:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer
                finally:
                    with server._lock:
                        server._in_flight -= 1
                        server._per_host[host] -= 1

            def _drip(self, reply: Reply, head: bool) -> None:
                """Send the answer's first bytes at once, then pad it one byte at a time."""
                in_body = reply.drip_in == "body" and not head
                body = b" " * reply.drip + reply.body if in_body else reply.body
                start = (
                    f"HTTP/1.1 {reply.status} Dripping\r\n"
                    f"Content-Type: {reply.content_type}\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n"
                ).encode("latin-1")
                if in_body:
                    slow, rest = b"\r\n" + body[: reply.drip], body[reply.drip :]
                else:
                    start += b"X-Drip: "
                    slow, rest = b"a" * reply.drip, b"\r\n\r\n" + (b"" if head else body)
                self.close_connection = True
                self.wfile.write(start)
                for number in range(len(slow)):
                    if server.stopping.wait(reply.drip_every):
                        return
                    self.wfile.write(slow[number : number + 1])
                self.wfile.write(rest)

            def do_GET(self) -> None:
                self._answer(head=False)

            def do_HEAD(self) -> None:
                self._answer(head=True)

        return Handler


def running(clock: Callable[[], float] = time.monotonic) -> Iterator[RecordingServer]:
    """Start a server, yield it, stop it (the body of a pytest fixture)."""
    server = RecordingServer(clock)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class LoopbackTransport(httpx.AsyncBaseTransport):
    """Routes made-up host names to ports on 127.0.0.1; the Host header stays as written."""

    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        port = self.ports.get(request.url.host)
        if port is None:
            raise httpx.ConnectError(f"unknown test host {request.url.host}", request=request)
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class FakeClock:
    """Time that moves only when something sleeps."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


# ---------------------------------------------------------------- the recorded services

ATOM = "application/atom+xml; charset=utf-8"
JSON = "application/json"
ARXIV_FILES = {  # id_list → recorded feed; arXiv answers its Error entry with HTTP 400
    "2006.11239": "arxiv/2006.11239.xml",
    "2011.13456v2": "arxiv/2011.13456v2.xml",
    "hep-th/9711200": "arxiv/hep-th-9711200.xml",
    "0701.00001": "arxiv/error.xml",
    "2501.99999": "arxiv/empty.xml",
}


def arxiv_feed(asked: Asked) -> Reply:
    """The arXiv API: the recorded feed for the `id_list` asked for."""
    wanted = parse_qs(urlsplit(asked.path).query).get("id_list", [""])[0]
    if wanted not in ARXIV_FILES:
        return Reply(500, b"unexpected id in test")
    status = 400 if ARXIV_FILES[wanted] == "arxiv/error.xml" else 200
    return fixture(ARXIV_FILES[wanted], ATOM, status)


def serve_arxiv(server: RecordingServer) -> None:
    server.route("/api/query", arxiv_feed)
