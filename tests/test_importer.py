"""The importer: sources, recorded arXiv/Crossref answers, fetching from a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from digest.http_cache import DiskCache
from digest.importer import Importer, RateLimiter, Services, user_agent
from digest.metadata import (
    ImportFailure,
    Source,
    clean_paragraphs,
    clean_text,
    parse_arxiv,
    parse_crossref,
    parse_source,
)
from digest.models import SiteConfig
from tests.http_server import (
    ATOM,
    FIXTURES,
    JSON,
    FakeClock,
    RecordingServer,
    Reply,
    closed_port,
    fixture,
    running,
    serve_arxiv,
)


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    yield from running()


def make_importer(
    server: RecordingServer,
    cache: DiskCache | None = None,
    limiter: RateLimiter | None = None,
    timeout: float = 5.0,
) -> Importer:
    services = Services(
        server.url("/api/query"), server.url("/works"), "digest/0.1.0 (+mailto:ed@example.org)"
    )
    clock = FakeClock()
    client = httpx.AsyncClient(timeout=timeout)
    limiter = limiter or RateLimiter(3.0, clock, clock.sleep)
    return Importer(client, services, cache, limiter, deadline=timeout)


# ---------------------------------------------------------------- sources


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("arxiv:2401.12345", Source("arxiv", "2401.12345")),
        ("arxiv:2401.12345v2", Source("arxiv", "2401.12345v2")),
        ("2401.12345", Source("arxiv", "2401.12345")),
        ("arxiv:hep-th/9901001", Source("arxiv", "hep-th/9901001")),
        ("https://arxiv.org/abs/2006.11239v2", Source("arxiv", "2006.11239v2")),
        ("doi:10.1038/nature14539", Source("doi", "10.1038/nature14539")),
        ("https://doi.org/10.1038/nature14539", Source("doi", "10.1038/nature14539")),
        ("10.1007/978-3-319-24574-4_28", Source("doi", "10.1007/978-3-319-24574-4_28")),
    ],
)
def test_sources_are_read_in_their_usual_spellings(text: str, expected: Source) -> None:
    assert parse_source(text) == expected


@pytest.mark.parametrize("text", ["arxiv:10.1038/x", "doi:2401.12345", "paper", "arxiv:2413.00001"])
def test_a_source_that_is_neither_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is neither an arXiv id nor a DOI"):
        parse_source(text)


def test_an_arxiv_id_that_cannot_exist_is_refused_with_the_entries_rule() -> None:
    with pytest.raises(ValueError, match="is not an arXiv id") as caught:
        parse_source("arxiv:2401.1234")
    assert str(caught.value) == (
        "'2401.1234' is not an arXiv id: ids from 1501 (January 2015) on have 5 digits after "
        "the dot"
    )
    with pytest.raises(ValueError, match="is not an arXiv id") as caught:
        parse_source("https://arxiv.org/abs/1201.00001")
    assert str(caught.value) == (
        "'1201.00001' is not an arXiv id: ids from 0704 to 1412 have 4 digits after the dot"
    )


# ---------------------------------------------------------------- text clean-up


def test_clean_text_joins_lines_and_latex_breaks() -> None:
    assert clean_text("Score-Based Modeling\n  through SDEs") == "Score-Based Modeling through SDEs"
    assert clean_text(r"Fast \\ and \newline Safe\\[2pt] Sampling") == "Fast and Safe Sampling"
    assert clean_text("a\x00b\u2028c") == "a b c"


def test_clean_paragraphs_splits_where_arxiv_indents() -> None:
    text = "  First line\nwraps here.\n  Second paragraph\nwraps too.\n"
    assert clean_paragraphs(text) == ["First line wraps here.", "Second paragraph wraps too."]


# ---------------------------------------------------------------- arXiv answers


def test_arxiv_entry_new_style_id() -> None:
    paper = parse_arxiv(recorded("arxiv/2006.11239.xml"), Source("arxiv", "2006.11239"))
    assert paper.title == "Denoising Diffusion Probabilistic Models"
    assert paper.authors == ("Jonathan Ho", "Ajay Jain", "Pieter Abbeel")
    assert paper.affiliations == ()
    assert paper.published == date(2020, 6, 19)
    assert paper.arxiv == "2006.11239"
    assert paper.paper_url == "https://arxiv.org/abs/2006.11239"
    assert paper.doi is None and paper.journal_ref is None
    assert paper.abstract is not None
    assert paper.abstract.startswith(
        "We present high quality image synthesis results using diffusion"
    )
    assert "\n" not in paper.abstract


def test_arxiv_entry_with_a_version_and_a_wrapped_title() -> None:
    paper = parse_arxiv(recorded("arxiv/2011.13456v2.xml"), Source("arxiv", "2011.13456v2"))
    assert (
        paper.title == "Score-Based Generative Modeling through Stochastic Differential Equations"
    )
    assert paper.arxiv == "2011.13456v2"
    assert len(paper.authors) == 6
    assert paper.abstract is not None
    first, second = paper.abstract.split("\n\n")
    assert first.startswith("Creating noise from data is easy;")
    assert second == (
        "We also demonstrate high fidelity generation of $1024 \\times 1024$ images "
        "for the first time from a score-based generative model."
    )


def test_arxiv_entry_old_style_id_with_doi_journal_ref_and_affiliation() -> None:
    paper = parse_arxiv(recorded("arxiv/hep-th-9711200.xml"), Source("arxiv", "hep-th/9711200"))
    assert paper.title == "The Large N Limit of Superconformal field theories and supergravity"
    assert paper.authors == ("Juan M. Maldacena",)
    assert paper.affiliations == ("Harvard University",)
    assert paper.doi == "10.1023/A:1026654312961"
    assert paper.journal_ref == (
        "Adv.Theor.Math.Phys.2:231-252,1998; Int.J.Theor.Phys.38:1113-1133,1999"
    )
    assert paper.published == date(1997, 11, 27)


def test_arxiv_error_entry_is_a_failure_with_arxivs_reason() -> None:
    with pytest.raises(ImportFailure) as caught:
        parse_arxiv(recorded("arxiv/error.xml"), Source("arxiv", "0701.00001"))
    assert str(caught.value) == (
        "the arXiv API refused arxiv:0701.00001: incorrect id format for 0701.00001"
    )


def test_arxiv_empty_feed_means_no_such_paper() -> None:
    with pytest.raises(ImportFailure, match=r"^arXiv has no paper 2501\.99999$"):
        parse_arxiv(recorded("arxiv/empty.xml"), Source("arxiv", "2501.99999"))


def test_arxiv_feed_for_another_paper_is_not_taken() -> None:
    with pytest.raises(ImportFailure, match="but not with that paper"):
        parse_arxiv(recorded("arxiv/2006.11239.xml"), Source("arxiv", "2011.13456"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (recorded("arxiv/truncated.xml"), "the arXiv API sent malformed XML"),
        ("Rate exceeded.", "the arXiv API sent malformed XML"),
        ("<html><body>Oops</body></html>", "not an Atom feed"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><feed/>', "with a DTD"),
    ],
)
def test_arxiv_malformed_answers(body: str, message: str) -> None:
    with pytest.raises(ImportFailure, match=message):
        parse_arxiv(body, Source("arxiv", "2006.11239"))


# ---------------------------------------------------------------- Crossref answers


def test_crossref_full_record_without_affiliations() -> None:
    paper = parse_crossref(
        recorded("crossref/nature14539.json"), Source("doi", "10.1038/nature14539")
    )
    assert paper.title == "Deep learning"
    assert paper.authors == ("Yann LeCun", "Yoshua Bengio", "Geoffrey Hinton")
    assert paper.affiliations == ()
    assert paper.published == date(2015, 5, 27)
    assert paper.partial_date is None
    assert paper.doi == "10.1038/nature14539"
    assert paper.paper_url == "https://doi.org/10.1038/nature14539"
    assert paper.journal_ref == "Nature"


def test_crossref_affiliations_are_listed_once() -> None:
    doi = "10.1007/978-3-319-24574-4_28"
    paper = parse_crossref(recorded("crossref/unet.json"), Source("doi", doi))
    assert paper.title == "U-Net: Convolutional Networks for Biomedical Image Segmentation"
    assert paper.affiliations == (
        "Computer Science Department and BIOSS Centre for Biological Signalling Studies, "
        "University of Freiburg",
    )
    assert paper.published == date(2015, 11, 18)  # the online date is the full one


def test_crossref_partial_date_is_kept_as_a_note() -> None:
    doi = "10.1016/j.media.2023.102846"
    paper = parse_crossref(recorded("crossref/media-survey.json"), Source("doi", doi))
    assert paper.published is None
    assert paper.partial_date == "2023-08"
    assert paper.authors[1] == "Ehsan Khodapanah Aghdam"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (recorded("crossref/truncated.json"), "Crossref sent malformed JSON"),
        ('{"status": "failed", "message": []}', "did not return a record"),
        ('{"status": "ok", "message": {"title": []}}', "has no title"),
    ],
)
def test_crossref_malformed_answers(body: str, message: str) -> None:
    with pytest.raises(ImportFailure, match=message):
        parse_crossref(body, Source("doi", "10.1038/nature14539"))


# ---------------------------------------------------------------- configuration and politeness


def test_environment_wins_over_config_for_base_urls() -> None:
    config = SiteConfig(arxiv_api="https://mirror.example/api", contact="ed@example.org")
    from_config = Services.from_config(config, {})
    assert from_config.arxiv_api == "https://mirror.example/api"
    assert from_config.crossref_api == "https://api.crossref.org/works"
    env = {
        "DIGEST_ARXIV_API": "http://127.0.0.1:9/q",
        "DIGEST_CROSSREF_API": "http://127.0.0.1:9/w/",
    }
    from_env = Services.from_config(config, env)
    assert (from_env.arxiv_api, from_env.crossref_api) == (
        "http://127.0.0.1:9/q",
        "http://127.0.0.1:9/w",
    )


def test_user_agent_names_the_tool_and_the_contact() -> None:
    assert user_agent("ed@example.org") == "digest/0.1.0 (+mailto:ed@example.org)"
    assert user_agent(None) == "digest/0.1.0"


def test_rate_limiter_spaces_calls_with_a_fake_clock() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(3.0, clock, clock.sleep)
    limiter.wait()  # first call: no wait
    clock.now += 1.0  # one second of other work
    limiter.wait()
    limiter.wait()
    clock.now += 10.0
    limiter.wait()  # long enough ago: no wait
    assert clock.sleeps == [2.0, 3.0]


# ---------------------------------------------------------------- over the network (127.0.0.1)


def test_fetch_sends_one_polite_request(server: RecordingServer) -> None:
    serve_arxiv(server)
    with make_importer(server) as importer:
        paper = importer.fetch(Source("arxiv", "hep-th/9711200"))
    assert paper.doi == "10.1023/A:1026654312961"
    assert len(server.log) == 1
    seen = server.log[0]
    assert seen.method == "GET"
    assert parse_qs(urlsplit(seen.path).query) == {
        "id_list": ["hep-th/9711200"],
        "max_results": ["1"],
    }
    assert seen.user_agent == "digest/0.1.0 (+mailto:ed@example.org)"


def test_arxiv_requests_are_three_seconds_apart_in_the_servers_log() -> None:
    clock = FakeClock(start=0.0)
    for server in running(clock):
        serve_arxiv(server)
        server.route("/works/10.1038/nature14539", fixture("crossref/nature14539.json", JSON))
        with make_importer(server, limiter=RateLimiter(3.0, clock, clock.sleep)) as importer:
            importer.fetch(Source("arxiv", "2006.11239"))
            importer.fetch(Source("doi", "10.1038/nature14539"))  # another host: not spaced
            importer.fetch(Source("arxiv", "2011.13456v2"))
            importer.fetch(Source("arxiv", "hep-th/9711200"))
        arxiv_times = [seen.time for seen in server.log if seen.path.startswith("/api/query")]
        assert [urlsplit(p).path for p in server.paths()] == [
            "/api/query",
            "/works/10.1038/nature14539",
            "/api/query",
            "/api/query",
        ]
        assert arxiv_times == [0.0, 3.0, 6.0]
        assert clock.sleeps == [3.0, 3.0]


def test_answers_are_cached_on_disk(server: RecordingServer, tmp_path: Path) -> None:
    serve_arxiv(server)
    cache = DiskCache(tmp_path / "cache")
    with make_importer(server, cache) as importer:
        first = importer.fetch(Source("arxiv", "2006.11239"))
    with make_importer(server, cache) as importer:
        again = importer.fetch(Source("arxiv", "2006.11239"))
    assert first == again
    assert len(server.log) == 1


def test_a_malformed_answer_is_not_cached(server: RecordingServer, tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    server.route("/api/query", fixture("arxiv/truncated.xml", ATOM))
    with make_importer(server, cache) as importer, pytest.raises(ImportFailure):
        importer.fetch(Source("arxiv", "2006.11239"))
    serve_arxiv(server)
    with make_importer(server, cache) as importer:
        assert importer.fetch(Source("arxiv", "2006.11239")).title.startswith("Denoising")
    assert len(server.log) == 2


def test_arxiv_error_entry_over_http_400(server: RecordingServer) -> None:
    serve_arxiv(server)
    with make_importer(server) as importer, pytest.raises(ImportFailure) as caught:
        importer.fetch(Source("arxiv", "0701.00001"))
    assert str(caught.value).endswith("incorrect id format for 0701.00001")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            fixture("crossref/not-found.txt", "text/plain", 404),
            "Crossref has no record of DOI 10.1038/nature14539 "
            "(Crossref says: Resource not found.)",
        ),
        (Reply(500, b"Internal Server Error"), "Crossref answered 500 Internal Server Error"),
        (
            Reply(429, b"slow down", {"Retry-After": "60"}),
            "Crossref is busy and asked digest to slow down (it asks to wait 60 s)",
        ),
        (fixture("crossref/truncated.json", JSON), "Crossref sent malformed JSON"),
        (Reply(200, b"x", delay=1.0), "Crossref did not answer in time"),
    ],
)
def test_crossref_faults(server: RecordingServer, reply: Reply, message: str) -> None:
    server.route("/works/10.1038/nature14539", reply)
    with make_importer(server, timeout=0.3) as importer, pytest.raises(ImportFailure) as caught:
        importer.fetch(Source("doi", "10.1038/nature14539"))
    assert message in str(caught.value)


def test_rate_exceeded_from_arxiv(server: RecordingServer) -> None:
    server.route("/api/query", fixture("arxiv/rate-exceeded.txt", "text/plain", 503))
    with make_importer(server) as importer, pytest.raises(ImportFailure) as caught:
        importer.fetch(Source("arxiv", "2006.11239"))
    assert (
        str(caught.value) == "the arXiv API is busy and asked digest to slow down; try again later"
    )


def test_connection_refused() -> None:
    port = closed_port()
    services = Services(f"http://127.0.0.1:{port}/api/query", "http://127.0.0.1:9/works", "t")
    with (
        Importer(httpx.AsyncClient(timeout=2.0), services) as importer,
        pytest.raises(ImportFailure) as caught,
    ):
        importer.fetch(Source("arxiv", "2006.11239"))
    assert str(caught.value).startswith("could not reach the arXiv API for arxiv:2006.11239:")


def test_redirects_are_followed(server: RecordingServer) -> None:
    server.route("/works/10.1038/nature14539", Reply(301, headers={"Location": "/moved"}))
    server.route("/moved", fixture("crossref/nature14539.json", JSON))
    with make_importer(server) as importer:
        assert importer.fetch(Source("doi", "10.1038/nature14539")).title == "Deep learning"
    assert server.paths() == ["/works/10.1038/nature14539", "/moved"]


# ---------------------------------------------------------------- hostile answers (issue #23)

NATURE = "10.1038/nature14539"


def fetch_crossref(server: RecordingServer, reply: Reply, timeout: float = 5.0) -> str:
    """The ImportFailure message for `reply` as Crossref's answer about NATURE."""
    server.route(f"/works/{NATURE}", reply)
    with make_importer(server, timeout=timeout) as importer, pytest.raises(ImportFailure) as caught:
        importer.fetch(Source("doi", NATURE))
    return str(caught.value)


@pytest.mark.parametrize("charset", ["rot13", "hex", "base64", "idna", "no-such-charset"])
def test_an_answer_in_a_charset_that_is_not_a_text_encoding_is_refused(
    server: RecordingServer, charset: str
) -> None:
    body = (FIXTURES / "crossref/nature14539.json").read_bytes()
    reply = Reply(200, body, content_type=f"application/json; charset={charset}")
    assert fetch_crossref(server, reply) == (
        f"Crossref sent its answer in the charset '{charset}', which digest does not read"
    )


def test_known_charsets_are_read(server: RecordingServer) -> None:
    body = (FIXTURES / "crossref/nature14539.json").read_text(encoding="utf-8")
    reply = Reply(200, body.encode("utf-16"), content_type="application/json; charset=UTF-16")
    server.route(f"/works/{NATURE}", reply)
    with make_importer(server) as importer:
        assert importer.fetch(Source("doi", NATURE)).title == "Deep learning"


@pytest.mark.parametrize(
    "location", ["javascript:alert(1)", "data:application/json,{}", "ftp://files.example/x"]
)
def test_a_redirect_to_something_other_than_http_is_a_failure(
    server: RecordingServer, location: str
) -> None:
    reply = Reply(302, headers={"Location": location})
    message = fetch_crossref(server, reply)
    assert message.startswith(f"Crossref redirected doi:{NATURE} to {location}, which is not")


def test_a_redirect_without_location_is_a_failure(server: RecordingServer) -> None:
    assert fetch_crossref(server, Reply(302)) == (
        f"Crossref answered 302 Found for doi:{NATURE} without saying where to"
    )


def test_a_redirect_loop_ends(server: RecordingServer) -> None:
    server.route("/moved", Reply(302, headers={"Location": f"/works/{NATURE}"}))
    message = fetch_crossref(server, Reply(302, headers={"Location": "/moved"}))
    assert message == f"Crossref redirected doi:{NATURE} more than 10 times"


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_dripping_answer_ends_at_the_deadline(server: RecordingServer, where: str) -> None:
    # One byte every 0.1 s never trips a 0.5 s read timeout; the whole answer would take
    # 4 s, so only a deadline on the whole exchange stops it.
    body = (FIXTURES / "crossref/nature14539.json").read_bytes()
    reply = Reply(200, body, content_type=JSON, drip=40, drip_in=where)
    message = fetch_crossref(server, reply, timeout=0.5)
    assert message == (
        f"Crossref did not answer in time for doi:{NATURE} ({server.url('/works/' + NATURE)})"
    )


def crossref_record(**work: object) -> str:
    record = {"DOI": NATURE, "title": ["Deep learning"], **work}
    return json.dumps({"status": "ok", "message": record})


def test_crossref_date_parts_out_of_range_are_ignored() -> None:
    record = crossref_record(
        **{
            "published-online": {"date-parts": [[99999999999, 1, 1]]},
            "published-print": {"date-parts": [[2015, 13]]},
            "issued": {"date-parts": [[True, 5, 27]]},
        }
    )
    paper = parse_crossref(record, Source("doi", NATURE))
    assert (paper.published, paper.partial_date) == (None, None)


def test_crossref_json_nested_too_deeply_is_malformed() -> None:
    body = '{"status": "ok", "message": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(
        ImportFailure, match=r"^Crossref sent malformed JSON \(nested too deeply\)$"
    ):
        parse_crossref(body, Source("doi", NATURE))


@pytest.mark.parametrize(
    "doi",
    [
        f"{NATURE}\n  code: https://evil.example/x",
        f"{NATURE}\ntags: [pwned]",
        "10.1038/\udc80",
        "10.1038/a\x00b",
        "10.1038/a\u202eb",
        "not a doi",
    ],
)
def test_a_crossref_record_whose_doi_is_not_a_doi_is_refused(doi: str) -> None:
    with pytest.raises(ImportFailure) as caught:
        parse_crossref(crossref_record(DOI=doi), Source("doi", NATURE))
    assert str(caught.value) == (
        f"Crossref's record of doi:{NATURE} gives {doi!r} as its DOI, which is not a DOI"
    )


def test_text_from_a_service_has_no_control_characters() -> None:
    record = crossref_record(
        title=["Deep\ud800 le\x1barning\u2028\ufffe"],
        author=[{"given": "Yann\x00", "family": "LeCun\x85", "affiliation": [{"name": "NYU\x7f"}]}],
        abstract="<jats:p>One\x0bline</jats:p>",
        **{"container-title": ["Nat\x9bure"]},
    )
    paper = parse_crossref(record, Source("doi", NATURE))
    assert paper.title == "Deep le arning"
    assert (paper.authors, paper.affiliations) == (("Yann LeCun",), ("NYU",))
    assert (paper.abstract, paper.journal_ref) == ("One line", "Nat ure")


def test_a_dtd_anywhere_in_an_arxiv_answer_is_refused() -> None:
    feed = recorded("arxiv/2006.11239.xml")
    declaration, rest = feed.split("\n", 1)
    entity = '<!DOCTYPE feed [<!ENTITY t "Injected">]>'
    body = f"{declaration}\n<!-- {'x' * 5000} -->\n{entity}\n" + rest.replace(
        "<title>Denoising Diffusion Probabilistic Models</title>", "<title>&t;</title>"
    )
    with pytest.raises(ImportFailure, match="with a DTD"):
        parse_arxiv(body, Source("arxiv", "2006.11239"))


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("javascript:alert(1)", "not an http(s) URL"),
        ("http://[::1/api", "not a valid URL (Invalid IPv6 URL)"),
        ("http://127.0.0.1:99999/api", "not a valid URL (port 99999 is above 65535)"),
    ],
)
def test_a_service_address_that_is_not_a_web_url_is_a_failure(base: str, problem: str) -> None:
    services = Services(base, base, "t")
    with (
        Importer(httpx.AsyncClient(), services) as importer,
        pytest.raises(ImportFailure) as caught,
    ):
        importer.fetch(Source("arxiv", "2006.11239"))
    assert str(caught.value) == f"cannot ask the arXiv API at {base}: it is {problem}"
