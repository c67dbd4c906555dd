"""`digest serve`: a real server on a free port, raw HTTP requests, real rebuilds on disk edits."""

from __future__ import annotations

import errno
import http.client
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import watchfiles

from digest import serve_http, swap, watch
from digest.manifest import read_manifest
from digest.serve import DevServer
from digest.serve_http import CLIENT, inject_client, resolve_request
from tests.conftest import MINIMAL_ISSUE, paper_yaml

PAPER = "entries/2026-02-28/fast-sampler.yaml"


FILES = {
    "pyproject.toml": "[tool.digest]\n",
    "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
    PAPER: paper_yaml(title='"A Fast Sampler"'),
    "entries/2026-02-28/other-paper.yaml": paper_yaml(title='"Another Paper"'),
}


def write_site(root: Path) -> Path:
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    return write_site(tmp_path / "root")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server for the tests that only read."""
    root = write_site(tmp_path_factory.mktemp("serve") / "root")
    with DevServer(root, port=0, echo=lambda _: None) as running:
        yield running


@pytest.fixture
def server(site_root: Path) -> Iterator[DevServer]:
    lines: list[str] = []
    with DevServer(site_root, port=0, echo=lines.append) as running:
        yield running


def get(server: DevServer, target: str) -> tuple[int, bytes, dict[str, str]]:
    """One raw request: the target is sent exactly as written (no normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for the server to rebuild")


def edit(path: Path, text: str) -> None:
    """Write `text` and make sure the mtime moves even on a coarse-grained file system."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_serves_pages_with_the_reload_script_but_never_writes_it(shared_server: DevServer) -> None:
    status, body, headers = get(shared_server, "/papers/fast-sampler/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"A Fast Sampler" in body
    assert body.count(CLIENT.encode()) == 1
    assert body.index(CLIENT.encode()) < body.lower().rindex(b"</body>")
    on_disk = (shared_server.state.out / "papers" / "fast-sampler" / "index.html").read_bytes()
    assert CLIENT.encode() not in on_disk
    status, script, headers = get(shared_server, CLIENT)
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert b"EventSource" in script


def test_folder_without_slash_redirects_and_missing_page_is_404(shared_server: DevServer) -> None:
    status, _, headers = get(shared_server, "/papers/fast-sampler")
    assert status == 301
    assert headers["Location"] == "/papers/fast-sampler/"
    status, body, _ = get(shared_server, "/papers/no-such-paper/")
    assert status == 404
    assert CLIENT.encode() in body


TRAVERSALS = [
    "/../pyproject.toml",
    "/../../pyproject.toml",
    "/papers/../../pyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/%2E%2E/pyproject.toml",
    "/..%2fpyproject.toml",
    "/%2e%2e%2fpyproject.toml",
    "/papers/%2e%2e/%2e%2e/pyproject.toml",
    "/%252e%252e/pyproject.toml",
    "/..\\pyproject.toml",
    "/..%5cpyproject.toml",
    "/%5c..%5cpyproject.toml",
    "/.%00./pyproject.toml",
    "http://127.0.0.1/../pyproject.toml",
    "//../pyproject.toml",
    "/C:/Windows/win.ini",
    "pyproject.toml",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_path_traversal_is_404(shared_server: DevServer, target: str) -> None:
    status, body, _ = get(shared_server, target)
    assert status == 404
    assert b"[tool.digest]" not in body


def test_absolute_paths_and_symlinks_out_of_the_site_are_404(server: DevServer) -> None:
    config = server.root / "pyproject.toml"
    status, body, _ = get(server, "/" + config.as_posix().lstrip("/"))
    assert status == 404
    link = server.state.out / "leak.toml"
    link.symlink_to(config)
    (server.state.out / "leak-dir").symlink_to(server.root, target_is_directory=True)
    for target in ("/leak.toml", "/leak-dir/pyproject.toml"):
        status, body, _ = get(server, target)
        assert status == 404, target
        assert b"[tool.digest]" not in body


def test_resolve_request_stays_inside_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "papers").mkdir(parents=True)
    (out / "index.html").write_text("home")
    assert resolve_request(out, "/") == out.resolve()
    assert resolve_request(out, "/index.html?x=1#top") == (out / "index.html").resolve()
    assert resolve_request(out, "/papers/../index.html") is None
    assert resolve_request(out, "/missing.html") is None


def test_inject_client_before_the_last_body_close() -> None:
    page = b"<html><body><p>&lt;/body&gt;</p></BODY></html>"
    injected = inject_client(page, 7)
    assert injected.endswith(b'data-generation="7"></script>\n</BODY></html>')
    assert inject_client(b"no body", 1).startswith(b"no body<script")


class Watching:
    """`watch.changes` run in a thread, as the server runs it; `next()` is the next burst."""

    def __init__(self, root: Path) -> None:
        self.stop, ready = threading.Event(), threading.Event()
        self.bursts: queue.Queue[list[str]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(root, ready), daemon=True)
        self.thread.start()
        assert ready.wait(10)

    def _run(self, root: Path, ready: threading.Event) -> None:
        for changed in watch.changes(root, self.stop, ready):
            self.bursts.put(changed)

    def next(self, timeout: float = 10) -> list[str]:
        return self.bursts.get(timeout=timeout)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive()


def test_watching_reports_what_a_build_reads_and_skips_dot_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "QUIET_MS", 150)  # a burst stays one on a busy machine
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "card.html").write_text("card")
    templates = tmp_path / "templates"
    (templates / ".cache").mkdir(parents=True)
    (templates / "base.html").write_text("base")
    (templates / "partials").symlink_to(shared)  # a linked folder: its files are watched
    (tmp_path / "entries").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.digest]\n")
    (tmp_path / "notes.txt").write_text("not the site's")
    watching = Watching(tmp_path)
    try:
        (templates / ".base.html.swp").write_text("an editor's")
        (templates / ".cache" / "x").write_text("x")
        (tmp_path / "notes.txt").write_text("still not the site's")
        (shared / "card.html").write_text("a longer card")
        assert watching.next() == [str(templates / "partials" / "card.html")]
        saved = tmp_path / "entries" / "paper.yaml.tmp"  # saved by a rename: the file it names
        saved.write_text("a paper")
        saved.replace(tmp_path / "entries" / "paper.yaml")
        assert watching.next() == [str(tmp_path / "entries" / "paper.yaml")]
        (templates / "base.html").write_text("a")  # a burst of saves is reported once
        (tmp_path / "entries" / "new.yaml").write_text("b")
        assert watching.next() == [
            str(tmp_path / "entries" / "new.yaml"),
            str(templates / "base.html"),
        ]
    finally:
        watching.close()


def test_watching_follows_the_config_and_folders_made_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch, "RECHECK_MS", 100)  # folders made later are looked for sooner
    config = tmp_path / "pyproject.toml"
    config.write_text("[tool.digest]\n")
    (tmp_path / "entries").mkdir()
    watching = Watching(tmp_path)
    try:
        for text in ("[tool.digest]\ntitle = 'A'\n", "[tool.digest]\ntitle = 'B'\n"):
            saved = tmp_path / "pyproject.toml.new"  # saved as many editors do: a rename
            saved.write_text(text)
            saved.replace(config)
            assert str(config) in watching.next()
        (tmp_path / "templates").mkdir()  # not there when watching started
        assert watching.next() == [str(tmp_path / "templates")]
        (tmp_path / "templates" / "base.html").write_text("base")
        assert watching.next() == [str(tmp_path / "templates" / "base.html")]
        config.write_text("[tool.digest]\nentries = 'papers'\n")  # the config moves a folder
        watching.next()
        (tmp_path / "papers").mkdir()
        watching.next()
        (tmp_path / "papers" / "a.yaml").write_text("a")
        assert watching.next() == [str(tmp_path / "papers" / "a.yaml")]
    finally:
        watching.close()


def test_watching_looks_instead_when_the_system_gives_no_more_watches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.digest]\n")
    real = watchfiles.watch
    asked: list[bool | None] = []

    def limited(*paths: Path, force_polling: bool | None = None, **options: Any) -> Any:
        asked.append(force_polling)
        if not force_polling:  # as inotify answers past fs.inotify.max_user_watches
            raise OSError(errno.ENOSPC, "OS file watch limit reached")
        yield from real(*paths, force_polling=True, poll_delay_ms=20, **options)

    monkeypatch.setattr(watchfiles, "watch", limited)  # as digest.watch calls it
    watching = Watching(tmp_path)
    try:
        for attempt in range(
            50
        ):  # polling sees changes after its first look, made in the background
            (tmp_path / "entries" / "a.yaml").write_text(f"attempt {attempt}")
            try:
                burst = watching.next(timeout=0.2)
                break
            except queue.Empty:
                continue
        assert str(tmp_path / "entries" / "a.yaml") in burst  # with its folder, polled
        assert asked == [None, True]
    finally:
        watching.close()


def test_edit_rebuilds_and_tells_open_pages(server: DevServer) -> None:
    generation = server.state.generation
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    connection.request("GET", f"/__digest/events?since={generation}")
    events = connection.getresponse()
    assert events.headers["Content-Type"] == "text/event-stream"
    assert events.readline() == b"retry: 500\n"
    edit(server.root / PAPER, paper_yaml(title='"A Much Faster Sampler"'))
    lines: list[bytes] = []
    while not lines or lines[-1] != b"\n":
        lines.append(events.readline())
        if lines[-1] == b"\n" and len(lines) == 1:
            lines.clear()  # the blank line after `retry`
    connection.close()
    assert lines[0] == b"event: reload\n"
    assert lines[1] == f"data: {generation + 1}\n".encode()
    status, body, _ = get(server, "/papers/fast-sampler/")
    assert status == 200
    assert b"A Much Faster Sampler" in body


def test_while_idle_the_server_makes_the_spare_that_the_next_rebuild_updates(
    server: DevServer,
) -> None:
    out = server.state.out
    spare = swap.spare_path(out)
    wait_for(lambda: read_manifest(spare) is not None)
    assert read_manifest(spare) == read_manifest(out)
    home = (out / "index.html").stat().st_ino
    assert (spare / "index.html").stat().st_ino == home
    edit(server.root / PAPER, paper_yaml(title='"A Sampler Once More"'))
    wait_for(lambda: b"Once More" in get(server, "/papers/fast-sampler/")[1])
    assert (out / "papers/fast-sampler/index.html").exists()
    beside = sorted(p.name for p in out.parent.iterdir() if p.name.startswith(".site"))
    assert beside == [spare.name]  # the spare, and no stage left over


def test_broken_entry_shows_an_error_page_and_keeps_the_last_good_site(server: DevServer) -> None:
    good = (server.state.out / "papers" / "fast-sampler" / "index.html").read_bytes()
    edit(server.root / PAPER, paper_yaml(themes="[acceleraton]"))
    wait_for(lambda: server.state.error is not None)
    status, body, _ = get(server, "/papers/fast-sampler/")
    assert status == 500
    assert b"Build failed" in body
    assert b"entries/2026-02-28/fast-sampler.yaml:3:" in body
    assert b"did you mean &#x27;acceleration&#x27;?" in body
    assert CLIENT.encode() in body
    assert (server.state.out / "papers" / "fast-sampler" / "index.html").read_bytes() == good
    status, _, headers = get(server, "/assets/style.css")  # assets still come from the last site
    assert status == 200
    assert headers["Content-Type"] == "text/css; charset=utf-8"

    edit(server.root / PAPER, paper_yaml(title='"A Repaired Sampler"'))
    wait_for(lambda: server.state.error is None)
    status, body, _ = get(server, "/papers/fast-sampler/")
    assert status == 200
    assert b"A Repaired Sampler" in body


def test_template_and_config_changes_rebuild(server: DevServer) -> None:
    before = server.builds
    config = server.root / "pyproject.toml"
    edit(config, config.read_text() + 'title = "Renamed Digest"\n')
    wait_for(lambda: server.builds > before and b"Renamed Digest" in get(server, "/")[1])
    templates = server.root / "templates"
    templates.mkdir()
    edit(
        templates / "404.html",
        "<!DOCTYPE html><title>x</title><body><p>custom missing page</p></body>",
    )
    wait_for(lambda: b"custom missing page" in get(server, "/nowhere/")[1])


def _default_interrupt() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_cleanly(site_root: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from digest.cli import main; main()",
            "serve",
            "--root",
            str(site_root),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A test run started in the background (`cmd &` without job control) ignores
        # SIGINT, and a child inherits that: Python then installs no Ctrl-C handler.
        preexec_fn=_default_interrupt,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    seen = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        seen.append(line)
        if line.startswith("serving "):
            break
    else:
        process.kill()
        raise AssertionError(f"no 'serving' line: {seen}")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "Traceback" not in err
    assert "stopping" in out


def test_port_in_use_is_a_usage_error(site_root: Path, shared_server: DevServer) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from digest.cli import main; main()",
            "serve",
            "--root",
            str(site_root),
            "--port",
            str(shared_server.port),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{shared_server.port}" in done.stderr
    assert "Traceback" not in done.stderr


H1 = "document.querySelector('h1')?.textContent.trim()"


@pytest.mark.browser
def test_open_page_follows_edits_errors_and_fixes_in_chromium(site_root: Path) -> None:
    """Real headless Chromium: the page updates itself after each save, with no reload by us.

    Each edit follows the previous page load at once, on purpose: the page's script carries
    the build generation it was served from, so a build that finishes before the page's
    event stream connects still reloads it.
    """
    from tests.browser_support import launch_chromium, open_page

    lines: list[str] = []
    paper = site_root / PAPER
    with (
        DevServer(site_root, port=0, echo=lines.append) as server,
        launch_chromium() as browser,
    ):
        page, _ = open_page(browser, f"{server.url}papers/fast-sampler/")
        assert page.locator("h1").first.inner_text() == "A Fast Sampler"

        edit(paper, paper_yaml(title='"A Sampler Renamed On Disk"'))
        page.wait_for_function(f"() => {H1} === 'A Sampler Renamed On Disk'", timeout=20_000)

        edit(paper, paper_yaml(title='"A Sampler Renamed On Disk"', themes="[acceleraton]"))
        page.wait_for_function(f"() => {H1} === 'Build failed'", timeout=20_000)
        assert "unknown theme 'acceleraton'" in page.locator("pre").inner_text()

        edit(paper, paper_yaml(title='"Fixed Again"'))
        page.wait_for_function(f"() => {H1} === 'Fixed Again'", timeout=20_000)
    assert any(line.startswith("build failed") for line in lines)


# ------------------------------------------------------------------ staying quiet and bounded


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN, as a browser that drops a connection may."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_until_closed(sock: socket.socket, seconds: float) -> bytes:
    """Everything the server sends until it closes the connection (fails on a timeout)."""
    sock.settimeout(seconds)
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_client_resets_print_nothing(site_root: Path, capfd: pytest.CaptureFixture[str]) -> None:
    lines: list[str] = []
    with DevServer(site_root, port=0, echo=lines.append) as running:
        capfd.readouterr()
        built = len(lines)  # what the first build printed
        for number in range(300):
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=5)
            if number % 3 == 1:
                sock.sendall(b"GET / HTTP/1.1\r\n")
            elif number % 3 == 2:
                sock.sendall(b"GET /__digest/events HTTP/1.1\r\nHost: x\r\n\r\n")
            _reset(sock)
        time.sleep(0.5)
        assert get(running, "/")[0] == 200  # still serving
    printed = capfd.readouterr()
    assert (printed.out, printed.err) == ("", "")
    assert lines[built:] == []


def test_head_of_the_event_stream_has_no_body_and_ends(shared_server: DevServer) -> None:
    with socket.create_connection(("127.0.0.1", shared_server.port), timeout=5) as sock:
        sock.sendall(b"HEAD /__digest/events HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = _read_until_closed(sock, 3)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200") and b"text/event-stream" in head
    assert body == b""


def test_a_stalled_request_is_dropped_after_the_timeout(
    site_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_http, "CONNECTION_TIMEOUT_SECONDS", 0.3)
    with (
        DevServer(site_root, port=0, echo=lambda _: None) as running,
        socket.create_connection(("127.0.0.1", running.port), timeout=5) as sock,
    ):
        sock.sendall(b"GET /index.ht")
        started = time.monotonic()
        assert _read_until_closed(sock, 3) == b""
        assert time.monotonic() - started < 2.5


def test_handler_threads_are_bounded(site_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_http, "MAX_CONNECTIONS", 4)
    monkeypatch.setattr(serve_http, "CONNECTION_TIMEOUT_SECONDS", 5.0)
    with DevServer(site_root, port=0, echo=lambda _: None) as running:
        spare = swap.spare_path(running.state.out)
        wait_for(lambda: read_manifest(spare) is not None)  # made in a thread of its own
        wait_for(lambda: all(t.name != "digest-spare" for t in threading.enumerate()))
        before = threading.active_count()
        stalled = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(4)]
        try:
            for sock in stalled:
                sock.sendall(b"GET / HT")  # each holds a handler until it times out
            wait_for(lambda: threading.active_count() >= before + 4, timeout=5)
            extra = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(20)]
            for sock in extra:
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                assert _read_until_closed(sock, 3).startswith(b"HTTP/1.0 503")
                sock.close()
            assert threading.active_count() <= before + 4
        finally:
            for sock in stalled:
                sock.close()
        wait_for(lambda: get(running, "/")[0] == 200, timeout=10)
