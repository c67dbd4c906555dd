"""The link checker, against a real server on 127.0.0.1 playing several hosts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from digest import link_report
from digest.cli import app
from digest.cli_options import Network
from digest.content import load_content
from digest.http_cache import DiskCache
from digest.link_report import Occurrence, check_links, diagnostics, located, written_urls
from digest.links import MAX_WAIT, LinkChecker, Result, Settings, retry_after
from digest.models import SiteConfig
from tests.conftest import MINIMAL_ISSUE, SiteFactory, first_arguments, paper_yaml
from tests.http_server import (
    Asked,
    FakeClock,
    LoopbackTransport,
    RecordingServer,
    Reply,
    closed_port,
    running,
)

QUICK = Settings(timeout=0.3, concurrency=4, per_host=2, retries=2, cache_ttl=3600)


def no_head(asked: Asked) -> Reply:
    return Reply(405) if asked.method == "HEAD" else Reply(200, b"hello")


class Flaky:
    """503 with Retry-After the first time, then 200."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, asked: Asked) -> Reply:
        self.calls += 1
        return Reply(503, headers={"Retry-After": "2"}) if self.calls == 1 else Reply(200)


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    for server in running():
        server.route("/ok", Reply(200, b"fine"))
        server.route("/gone", Reply(404, b"not here"))
        server.route("/boom", Reply(500, b"oops"))
        server.route("/no-head", no_head)
        server.route("/busy", Reply(429, headers={"Retry-After": "7"}))
        server.route("/very-busy", Reply(429, headers={"Retry-After": "3600"}))
        server.route("/flaky", Flaky())
        server.route("/chain/1", Reply(302, headers={"Location": "/chain/2"}))
        server.route("/chain/2", Reply(307, headers={"Location": "http://papers.test/chain/3"}))
        server.route("/chain/3", Reply(200))
        server.route("/old", Reply(301, headers={"Location": "http://code.test/new"}))
        server.route("/new", Reply(200))
        server.route("/loop/a", Reply(302, headers={"Location": "/loop/b"}))
        server.route("/loop/b", Reply(302, headers={"Location": "/loop/a"}))
        server.route("/slow", Reply(200, delay=1.0))
        yield server


def transport(server: RecordingServer) -> LoopbackTransport:
    port = server.port
    return LoopbackTransport({"papers.test": port, "code.test": port, "down.test": closed_port()})


def check_urls(
    server: RecordingServer,
    urls: list[str],
    settings: Settings = QUICK,
    cache: DiskCache | None = None,
    clock: FakeClock | None = None,
) -> tuple[dict[str, Result], FakeClock]:
    fake = clock or FakeClock()
    client = httpx.AsyncClient(transport=transport(server), timeout=settings.timeout)
    checker = LinkChecker(client, settings, cache, fake.async_sleep, fake)

    async def run() -> dict[str, Result]:
        async with client:
            return await checker.check_all(urls)

    return asyncio.run(run()), fake


# ---------------------------------------------------------------- one answer each


@pytest.mark.parametrize(
    ("url", "state", "detail", "moved_to"),
    [
        ("http://papers.test/ok", "ok", "", None),
        ("http://papers.test/gone", "broken", "404 Not Found", None),
        ("http://papers.test/chain/1", "ok", "", None),  # temporary redirects are fine
        ("http://papers.test/old", "moved", "", "http://code.test/new"),
        (
            "http://papers.test/loop/a",
            "broken",
            "redirect loop: http://papers.test/loop/a → http://papers.test/loop/b → "
            "http://papers.test/loop/a",
            None,
        ),
        ("http://papers.test/no-head", "ok", "", None),
    ],
)
def test_answers(
    server: RecordingServer, url: str, state: str, detail: str, moved_to: str | None
) -> None:
    results, _ = check_urls(server, [url])
    assert (results[url].state, results[url].detail, results[url].moved_to) == (
        state,
        detail,
        moved_to,
    )


def test_head_refused_falls_back_to_get(server: RecordingServer) -> None:
    check_urls(server, ["http://papers.test/no-head"])
    assert [(seen.method, seen.path) for seen in server.log] == [
        ("HEAD", "/no-head"),
        ("GET", "/no-head"),
    ]


def test_a_server_that_breaks_on_head_is_asked_with_get(server: RecordingServer) -> None:
    server.route("/drop-head", lambda asked: Reply(drop=asked.method == "HEAD"))
    server.route("/drop-all", Reply(drop=True))
    results, _ = check_urls(server, ["http://papers.test/drop-head", "http://papers.test/drop-all"])
    assert results["http://papers.test/drop-head"].state == "ok"
    broken = results["http://papers.test/drop-all"]
    assert (broken.state, broken.detail.split(":")[0]) == ("broken", "RemoteProtocolError")
    assert [(s.method, s.path) for s in server.log if s.path == "/drop-head"] == [
        ("HEAD", "/drop-head"),
        ("GET", "/drop-head"),
    ]


def test_redirect_chain_is_followed_hop_by_hop(server: RecordingServer) -> None:
    check_urls(server, ["http://papers.test/chain/1"])
    assert server.paths() == ["/chain/1", "/chain/2", "/chain/3"]
    assert {seen.host for seen in server.log} == {"papers.test"}


def test_server_error_is_retried_then_broken(server: RecordingServer) -> None:
    results, clock = check_urls(server, ["http://papers.test/boom"])
    result = results["http://papers.test/boom"]
    assert (result.state, result.detail, result.definitive) == (
        "broken",
        "500 Internal Server Error",
        False,
    )
    # HEAD gave 500, so GET was tried; a 500 is not retried like 429/503.
    assert [seen.method for seen in server.log] == ["HEAD", "GET"]
    assert clock.sleeps == []


def test_persisting_429_is_unknown_and_honours_retry_after(server: RecordingServer) -> None:
    results, clock = check_urls(server, ["http://papers.test/busy"])
    result = results["http://papers.test/busy"]
    assert result.state == "unknown"
    assert result.detail == "the host kept answering 429 Too Many Requests"
    assert clock.sleeps == [7.0, 7.0]  # Retry-After, twice (retries=2)
    assert server.paths() == ["/busy"] * 3


def test_retry_after_beyond_the_limit_is_not_waited_for(server: RecordingServer) -> None:
    results, clock = check_urls(server, ["http://papers.test/very-busy"])
    assert results["http://papers.test/very-busy"].state == "unknown"
    assert clock.sleeps == []
    assert len(server.log) == 1


def test_503_then_success(server: RecordingServer) -> None:
    results, clock = check_urls(server, ["http://papers.test/flaky"])
    assert results["http://papers.test/flaky"].state == "ok"
    assert clock.sleeps == [2.0]
    assert server.paths() == ["/flaky", "/flaky"]


def test_connection_refused_is_broken_after_backoff(server: RecordingServer) -> None:
    results, clock = check_urls(server, ["http://down.test/page"])
    result = results["http://down.test/page"]
    assert result.state == "broken"
    assert result.detail.startswith("cannot connect")
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff without Retry-After


def test_slow_host_times_out(server: RecordingServer) -> None:
    settings = Settings(timeout=0.2, concurrency=2, per_host=1, retries=0, cache_ttl=0)
    results, _ = check_urls(server, ["http://papers.test/slow"], settings)
    assert results["http://papers.test/slow"].detail == "no answer within 0.2 s"


def test_retry_after_header_forms() -> None:
    assert retry_after("120", now=0.0) == 120.0
    assert retry_after(formatdate(1030.0, usegmt=True), now=1000.0) == 30.0
    assert retry_after("soon", now=0.0) is None
    assert retry_after(None, now=0.0) is None
    assert MAX_WAIT == 60.0


# ---------------------------------------------------------------- limits, from the server's log


def test_concurrency_limits_overall_and_per_host(server: RecordingServer) -> None:
    for number in range(12):
        server.route(f"/slow-ok/{number}", Reply(200, delay=0.15))
    urls = [f"http://{'papers.test' if n % 2 else 'code.test'}/slow-ok/{n}" for n in range(12)]
    settings = Settings(timeout=5.0, concurrency=3, per_host=2, retries=0, cache_ttl=0)
    results, _ = check_urls(server, urls, settings)
    assert {result.state for result in results.values()} == {"ok"}
    assert len(server.log) == 12
    assert max(seen.in_flight for seen in server.log) == 3
    assert max(seen.in_flight_host for seen in server.log) == 2
    assert {seen.host for seen in server.log} == {"papers.test", "code.test"}


# ---------------------------------------------------------------- the cache


def test_results_are_cached_with_a_ttl(server: RecordingServer, tmp_path: Path) -> None:
    clock = FakeClock()
    cache = DiskCache(tmp_path / "links", clock)
    urls = ["http://papers.test/ok", "http://papers.test/gone", "http://papers.test/boom"]
    first, _ = check_urls(server, urls, cache=cache, clock=clock)
    asked = len(server.log)
    again, _ = check_urls(server, urls, cache=cache, clock=clock)
    assert again == first
    # ok and 404 came from the cache; the 500 was not cached and was asked again.
    assert server.paths()[asked:] == ["/boom", "/boom"]
    clock.now += QUICK.cache_ttl + 1
    asked = len(server.log)
    check_urls(server, urls, cache=cache, clock=clock)
    assert sorted(set(server.paths()[asked:])) == ["/boom", "/gone", "/ok"]


# ---------------------------------------------------------------- where URLs are written


def test_occurrences_carry_the_position_they_are_written_at(make_site: SiteFactory) -> None:
    paper = paper_yaml(
        links="\n  code: https://github.com/hojonathanho/diffusion\n  paper: ftp://old.example/x",
        summary=(
            "|\n  Builds on [DDPM](https://arxiv.org/abs/2006.11239) and\n"
            "  <https://github.com/your-repo/thing>, see also [docs](/relative)."
        ),
    )
    issue = MINIMAL_ISSUE.replace(
        "A short introduction.", "A short [introduction](https://example.org/intro)."
    )
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": issue, "entries/2026-02-28/ddpm.yaml": paper}
    )
    folder = root / "entries/2026-02-28"
    found = [
        *located(str(folder / "_issue.yaml"), root, "2026-02-28"),
        *located(str(folder / "ddpm.yaml"), root, "2026-02-28"),
    ]
    assert found == [
        Occurrence("https://example.org/intro", "entries/2026-02-28/_issue.yaml", 4, 26, "intro"),
        Occurrence(
            "https://github.com/hojonathanho/diffusion",
            "entries/2026-02-28/ddpm.yaml",
            8,
            9,
            "links.code",
        ),
        Occurrence(
            "https://arxiv.org/abs/2006.11239", "entries/2026-02-28/ddpm.yaml", 5, 20, "summary"
        ),
        Occurrence(
            "https://github.com/your-repo/thing", "entries/2026-02-28/ddpm.yaml", 6, 4, "summary"
        ),
    ]


def test_a_checked_entry_has_the_urls_its_file_has(make_site: SiteFactory) -> None:
    paper = paper_yaml(
        links="\n  project: https://ddpm.example/\n  code: https://github.com/hojonathanho/diffusion",
        summary="|\n  Builds on [DDPM](https://arxiv.org/abs/2006.11239), see [docs](/relative).",
    )
    issue = MINIMAL_ISSUE.replace(
        "A short introduction.", "A short [introduction](https://example.org/intro)."
    )
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": issue, "entries/2026-02-28/ddpm.yaml": paper}
    )
    content = load_content(root)
    written = written_urls(content.papers, content.issues)
    for shown in ("entries/2026-02-28/_issue.yaml", "entries/2026-02-28/ddpm.yaml"):
        in_file = [place.url for place in located(str(root / shown), root, "2026-02-28")]
        assert sorted(written[shown]) == sorted(in_file) and in_file


def test_only_files_with_a_link_to_report_are_composed_again(
    make_site: SiteFactory, server: RecordingServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    fine = paper_yaml(links="\n  code: http://papers.test/ok")
    broken = paper_yaml(links="\n  code: http://papers.test/gone")
    invalid = paper_yaml(links="\n  code: http://papers.test/gone", colour="blue")
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/fine.yaml": fine,
            "entries/2026-02-28/broken.yaml": broken,
            "entries/2026-02-28/invalid.yaml": invalid,  # fails the check: read from its file
        }
    )
    content = load_content(root)
    assert [entry.id for entry in content.papers] == ["broken", "fine"]
    composed = first_arguments(monkeypatch, link_report, "load_file")
    found = check_links(
        root,
        content.config or SiteConfig(),
        transport(server),
        checked=(content.papers, content.issues),
    )
    assert sorted(path.name for path in composed) == ["broken.yaml", "invalid.yaml"]
    assert [(d.path, d.line, d.code) for d in found] == [
        ("entries/2026-02-28/broken.yaml", 7, "E501"),
        ("entries/2026-02-28/invalid.yaml", 7, "E501"),
    ]


def test_diagnostics_for_each_state() -> None:
    found = [
        Occurrence("https://a.test/x", "p.yaml", 3, 9, "links.code"),
        Occurrence("https://a.test/x", "q.yaml", 7, 5, "summary"),
        Occurrence("https://b.test/old", "p.yaml", 4, 10, "links.project"),
        Occurrence("https://c.test/busy", "p.yaml", 5, 7, "links.data"),
        Occurrence("https://github.com/your-repo/x", "p.yaml", 9, 4, "summary"),
        Occurrence("https://github.com/your-repo/y", "p.yaml", 6, 9, "links.code"),
        Occurrence("https://d.test/fine", "p.yaml", 8, 9, "links.paper"),
    ]
    results = {
        "https://a.test/x": Result("https://a.test/x", "broken", "404 Not Found"),
        "https://b.test/old": Result("https://b.test/old", "moved", moved_to="https://b.test/new"),
        "https://c.test/busy": Result(
            "https://c.test/busy", "unknown", "the host kept answering 429"
        ),
        "https://d.test/fine": Result("https://d.test/fine", "ok"),
    }
    lines = [
        (d.path, d.line, d.col, d.severity.value, d.code, d.message, d.hint)
        for d in diagnostics(found, results)
    ]
    assert lines == [
        (
            "p.yaml", 3, 9, "error", "E501",
            "broken link in 'links.code': https://a.test/x (404 Not Found)", None,
        ),
        (
            "q.yaml", 7, 5, "error", "E501",
            "broken link in 'summary': https://a.test/x (404 Not Found)", None,
        ),
        (
            "p.yaml", 4, 10, "warning", "W501",
            "'links.project' permanently redirects to https://b.test/new",
            "replace https://b.test/old with the new address",
        ),
        (
            "p.yaml", 5, 7, "warning", "W502",
            "could not check 'links.data': https://c.test/busy (the host kept answering 429)",
            "the host limits requests; run the check again later",
        ),
        (
            "p.yaml", 9, 4, "warning", "W102",
            "'summary' links to a placeholder: https://github.com/your-repo/x",
            "replace it with the real address, or remove it",
        ),
    ]  # fmt: skip


# ---------------------------------------------------------------- digest check --links


def test_check_links_command(make_site: SiteFactory, server: RecordingServer) -> None:
    paper = paper_yaml(
        links="\n  paper: http://papers.test/ok\n  code: http://papers.test/gone\n  project: http://papers.test/old",
        summary="|\n  See [the data](http://code.test/busy) and [this](https://github.com/your-repo/x).",
    )
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/ddpm.yaml": paper},
        'link_retries = 1\nbase_url = "https://digest.example.org"\n',
    )
    clock = FakeClock()
    network = Network(link_transport=transport(server), link_sleep=clock.async_sleep)
    result = CliRunner().invoke(app, ["check", "--links", "--root", str(root)], obj=network)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "entries/2026-02-28/ddpm.yaml:5:18: warning[W502]: could not check 'summary': "
        "http://code.test/busy (the host kept answering 429 Too Many Requests)",
        "    hint: the host limits requests; run the check again later",
        "entries/2026-02-28/ddpm.yaml:5:52: warning[W102]: 'summary' links to a placeholder: "
        "https://github.com/your-repo/x",
        "    hint: replace it with the real address, or remove it",
        "entries/2026-02-28/ddpm.yaml:8:9: error[E501]: broken link in 'links.code': "
        "http://papers.test/gone (404 Not Found)",
        "entries/2026-02-28/ddpm.yaml:9:12: warning[W501]: 'links.project' permanently "
        "redirects to http://code.test/new",
        "    hint: replace http://papers.test/old with the new address",
        "1 paper in 1 issue: 1 error, 3 warnings in 1 file",
    ]
    assert clock.sleeps == [7.0]  # one retry of the 429, after its Retry-After
    assert "github.com" not in {seen.host for seen in server.log}
    assert {seen.user_agent for seen in server.log} == {"digest/0.1.0"}


def test_check_without_links_makes_no_requests(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    paper = paper_yaml(links="\n  code: http://papers.test/gone")
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/x.yaml": paper}
    )
    network = Network(link_transport=transport(server))
    result = CliRunner().invoke(app, ["check", "--root", str(root)], obj=network)
    assert (result.exit_code, server.log) == (0, [])


def _offline_site(make_site: SiteFactory) -> Path:
    paper = paper_yaml(
        links="\n  paper: http://papers.test/ok\n  code: http://code.test/x\n"
        "  project: http://nowhere.test/p",
        summary="|\n  See [this](https://github.com/your-repo/x) and [that](http://papers.test/ok).",
    )
    return make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/ddpm.yaml": paper},
        'base_url = "https://digest.example.org"\n',
    )


def test_no_network_is_said_once(make_site: SiteFactory) -> None:
    # Nothing listens on the ports, and nowhere.test does not resolve: no host answers.
    root = _offline_site(make_site)
    offline = LoopbackTransport({"papers.test": closed_port(), "code.test": closed_port()})
    clock = FakeClock()
    network = Network(link_transport=offline, link_sleep=clock.async_sleep)
    result = CliRunner().invoke(app, ["check", "--links", "--root", str(root)], obj=network)
    assert (result.exit_code, result.stdout.splitlines()) == (
        1,
        [
            "entries:1:1: error[E502]: no network: could not reach any host (3 links unchecked)",
            "    hint: check the connection (or the proxy settings), then run "
            "`digest check --links` again",
            "entries/2026-02-28/ddpm.yaml:5:14: warning[W102]: 'summary' links to a "
            "placeholder: https://github.com/your-repo/x",
            "    hint: replace it with the real address, or remove it",
            "1 paper in 1 issue: 1 error, 1 warning in 2 files",
        ],
    )


def test_when_some_host_answers_each_unreachable_link_is_broken(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    root = _offline_site(make_site)
    clock = FakeClock()
    network = Network(link_transport=transport(server), link_sleep=clock.async_sleep)
    result = CliRunner().invoke(app, ["check", "--links", "--root", str(root)], obj=network)
    assert result.exit_code == 1
    broken = [line for line in result.stdout.splitlines() if "error[" in line]
    assert broken == [
        "entries/2026-02-28/ddpm.yaml:8:9: error[E501]: broken link in 'links.code': "
        "http://code.test/x (404 Not Found)",
        "entries/2026-02-28/ddpm.yaml:9:12: error[E501]: broken link in 'links.project': "
        "http://nowhere.test/p (cannot connect (unknown test host nowhere.test))",
    ]


# ---------------------------------------------------------------- hostile hosts (issue #23)


@pytest.mark.parametrize(
    ("location", "detail"),
    [
        ("javascript:alert(1)", "redirects to javascript:alert(1), which is not an http(s) URL"),
        (
            "data:text/html,<script>alert(1)</script>",
            "redirects to data:text/html,<script>alert(1)</script>, which is not an http(s) URL",
        ),
        (
            "http://code.test:70000/x",
            "redirects to http://code.test:70000/x, which is not a valid URL (port 70000 is above "
            "65535)",
        ),
    ],
)
def test_a_redirect_out_of_the_web_is_broken(
    server: RecordingServer, location: str, detail: str
) -> None:
    server.route("/away", Reply(302, headers={"Location": location}))
    results, _ = check_urls(server, ["http://papers.test/away"])
    result = results["http://papers.test/away"]
    assert (result.state, result.detail) == ("broken", detail)
    assert server.paths() == ["/away"]


def test_a_redirect_without_location_is_broken(server: RecordingServer) -> None:
    server.route("/nowhere", Reply(302))
    results, _ = check_urls(server, ["http://papers.test/nowhere"])
    result = results["http://papers.test/nowhere"]
    assert (result.state, result.detail) == ("broken", "302 Found without a Location to go to")


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("http://papers.test:70000/x", "not a valid URL (port 70000 is above 65535)"),
        ("http://papers.test/a\x01b", "not a valid URL (it holds the control character '\\x01')"),
        ("http://papers.test/a\x7fb", "not a valid URL (it holds the control character '\\x7f')"),
    ],
)
def test_a_url_that_cannot_be_requested_is_broken_without_asking(
    server: RecordingServer, url: str, detail: str
) -> None:
    results, _ = check_urls(server, [url, "http://papers.test/ok"])
    assert (results[url].state, results[url].detail) == ("broken", detail)
    assert results["http://papers.test/ok"].state == "ok"
    assert server.paths() == ["/ok"]


def test_a_port_above_65535_is_broken_without_a_traceback() -> None:
    # Without the loopback transport: httpx itself is asked to connect.
    port = 70000 + closed_port()
    url = f"http://127.0.0.1:{port}/x"

    async def run() -> dict[str, Result]:
        async with httpx.AsyncClient(timeout=1.0) as client:
            return await LinkChecker(client, QUICK, None, FakeClock().async_sleep).check_all([url])

    result = asyncio.run(run())[url]
    assert (result.state, result.detail) == (
        "broken",
        f"not a valid URL (port {port} is above 65535)",
    )


def test_a_retry_after_that_is_not_ascii_digits_is_ignored(server: RecordingServer) -> None:
    server.route("/odd", Reply(429, headers={"Retry-After": "²"}))
    results, clock = check_urls(server, ["http://papers.test/odd"])
    assert results["http://papers.test/odd"].state == "unknown"
    assert clock.sleeps == [1.0, 2.0]  # the usual backoff, as without Retry-After
    assert retry_after("²", now=0.0) is None
    assert retry_after("٣", now=0.0) is None
    assert retry_after("9" * 5000, now=0.0) == float("inf")
    assert retry_after("Mon, 01 Jan 99999 00:00:00 GMT", now=0.0) is None


def test_a_dripping_host_is_broken_at_link_timeout(server: RecordingServer) -> None:
    # One header byte every 0.1 s for 4 s: no read waits 0.5 s, the whole answer does.
    server.route("/drip", Reply(200, drip=40))
    settings = Settings(timeout=0.5, concurrency=2, per_host=1, retries=0, cache_ttl=0)
    results, _ = check_urls(server, ["http://papers.test/drip"], settings)
    result = results["http://papers.test/drip"]
    assert (result.state, result.detail) == ("broken", "no answer within 0.5 s")


def test_check_links_reports_every_hostile_link_and_ends(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    server.route("/js", Reply(302, headers={"Location": "javascript:alert(1)"}))
    server.route("/odd", Reply(429, headers={"Retry-After": "²"}))
    server.route("/drip", Reply(200, drip=40))
    paper = paper_yaml(
        links="\n  paper: http://papers.test/js\n  code: http://papers.test:70000/x\n"
        '  project: "http://papers.test/a\\x01b"\n  data: http://papers.test/drip',
        summary="|\n  See [this](http://code.test/odd).",
    )
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/ddpm.yaml": paper},
        "link_retries = 0\nlink_timeout = 0.5\n",
    )
    network = Network(link_transport=transport(server), link_sleep=FakeClock().async_sleep)
    result = CliRunner().invoke(app, ["check", "--links", "--root", str(root)], obj=network)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if "[E50" in line or "[W50" in line] == [
        "entries/2026-02-28/ddpm.yaml:5:14: warning[W502]: could not check 'summary': "
        "http://code.test/odd (the host kept answering 429 Too Many Requests)",
        "entries/2026-02-28/ddpm.yaml:7:10: error[E501]: broken link in 'links.paper': "
        "http://papers.test/js (redirects to javascript:alert(1), which is not an http(s) URL)",
        "entries/2026-02-28/ddpm.yaml:8:9: error[E501]: broken link in 'links.code': "
        "http://papers.test:70000/x (not a valid URL (port 70000 is above 65535))",
        "entries/2026-02-28/ddpm.yaml:9:12: error[E501]: broken link in 'links.project': "
        "http://papers.test/a\x01b (not a valid URL (it holds the control character '\\x01'))",
        "entries/2026-02-28/ddpm.yaml:10:9: error[E501]: broken link in 'links.data': "
        "http://papers.test/drip (no answer within 0.5 s)",
    ]


def test_a_host_that_answers_too_slowly_was_reached(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    # The only link drips: it is broken (E501), and the network is not said to be down.
    server.route("/drip", Reply(200, drip=40))
    paper = paper_yaml(links="\n  code: http://papers.test/drip")
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/x.yaml": paper},
        "link_retries = 0\nlink_timeout = 0.5\n",
    )
    network = Network(link_transport=transport(server))
    result = CliRunner().invoke(app, ["check", "--links", "--root", str(root)], obj=network)
    assert result.exit_code == 1
    assert [line for line in result.stdout.splitlines() if "[E50" in line] == [
        "entries/2026-02-28/x.yaml:7:9: error[E501]: broken link in 'links.code': "
        "http://papers.test/drip (no answer within 0.5 s)",
    ]
