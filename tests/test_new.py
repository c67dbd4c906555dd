"""`digest new`: scaffolds that round-trip through `digest check`, imports, batches, failures."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from digest.cli import app
from digest.cli_options import Network
from digest.importer import RateLimiter
from digest.markdown import cross_references, math_problems, render_markdown
from digest.metadata import Metadata, Source, clean_text
from digest.models import SiteConfig
from digest.new_entries import derive_id
from digest.scaffold import (
    THEME_PLACEHOLDER,
    Draft,
    DraftRefused,
    abstract_as_summary,
    check_draft,
    paper_text,
    quoted,
)
from digest.yaml_nodes import parse_yaml
from tests.conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml
from tests.http_server import (
    JSON,
    FakeClock,
    RecordingServer,
    Reply,
    closed_port,
    fixture,
    running,
    serve_arxiv,
)

CONFIG = 'contact = "editor@example.org"\nbase_url = "https://digest.example.org"\n'
ISSUE = "2026-02-28"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    """Recorded arXiv and Crossref answers; the environment points digest at them."""
    for server in running():
        serve_arxiv(server)
        server.route("/works/10.1038/nature14539", fixture("crossref/nature14539.json", JSON))
        server.route(
            "/works/10.1016/j.media.2023.102846", fixture("crossref/media-survey.json", JSON)
        )
        server.route("/works/10.1000/missing", fixture("crossref/not-found.txt", "text/plain", 404))
        server.route("/works/10.1000/broken", fixture("crossref/truncated.json", JSON))
        server.route("/works/10.1000/error", Reply(500, b"Internal Server Error"))
        monkeypatch.setenv("DIGEST_ARXIV_API", server.url("/api/query"))
        monkeypatch.setenv("DIGEST_CROSSREF_API", server.url("/works"))
        yield server


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return make_site({f"entries/{ISSUE}/_issue.yaml": MINIMAL_ISSUE}, CONFIG)


def invoke(*args: str, obj: Network | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), obj=obj or fast_network())
    return result.exit_code, result.stdout, result.stderr


def fast_network() -> Network:
    clock = FakeClock()
    return Network(arxiv_limiter=RateLimiter(3.0, clock, clock.sleep))


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the content root except the HTTP cache."""
    files = (p for p in root.rglob("*") if p.is_file() and ".digest-cache" not in p.parts)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in files}


# ---------------------------------------------------------------- round trips through check


def test_arxiv_import_with_a_theme_passes_check(site: Path, server: RecordingServer) -> None:
    code, out, _ = invoke(
        "new", "ddpm", "--issue", ISSUE, "--from", "arxiv:2006.11239",
        "--theme", "acceleration", "--root", str(site),
    )  # fmt: skip
    assert code == 0
    assert out == (
        f"wrote entries/{ISSUE}/ddpm.yaml\n"
        "    to do: summary: the authors' abstract; rewrite it in your own words\n"
    )
    text = (site / f"entries/{ISSUE}/ddpm.yaml").read_text()
    assert 'title: "Denoising Diffusion Probabilistic Models"' in text
    assert "# TODO: REWRITE. Below is the authors' abstract" in text
    assert 'arxiv: "2006.11239"\npublished: 2020-06-19\n' in text
    assert [seen.user_agent for seen in server.log] == ["digest/0.1.0 (+mailto:editor@example.org)"]
    code, out, _ = invoke("check", "--root", str(site))
    assert (code, out) == (0, "1 paper in 1 issue: no problems found\n")


def test_without_themes_check_names_the_one_field_left(site: Path, server: RecordingServer) -> None:
    code, out, _ = invoke(
        "new", "maldacena", "--issue", ISSUE, "--from", "arxiv:hep-th/9711200", "--root", str(site)
    )
    assert code == 0
    assert "    to do: themes: pick one or more of acceleration, safety, medical, theory\n" in out
    text = (site / f"entries/{ISSUE}/maldacena.yaml").read_text()
    assert 'arxiv: "hep-th/9711200"\ndoi: "10.1023/A:1026654312961"\n' in text
    assert 'affiliations:\n  - "Harvard University"\n' in text
    assert "# appeared in: Adv.Theor.Math.Phys.2:231-252,1998;" in text
    code, out, _ = invoke("check", "--root", str(site))
    assert code == 1
    assert out == (
        f"entries/{ISSUE}/maldacena.yaml:10:10: error[E105]: unknown theme '{THEME_PLACEHOLDER}'\n"
        "    hint: configured themes: acceleration, safety, medical, theory\n"
        "0 papers in 1 issue: 1 error, 0 warnings in 1 file\n"
    )


def test_blank_entry_and_new_issue_report_exactly_what_to_fill(
    make_site: SiteFactory,
) -> None:
    root = make_site({f"entries/{ISSUE}/_issue.yaml": MINIMAL_ISSUE}, CONFIG)
    code, out, _ = invoke("new", "my-paper", "--issue", "2026-03-07", "--root", str(root))
    assert code == 0
    assert out == (
        "wrote entries/2026-03-07/_issue.yaml\n"
        "    to do: title, subject and intro; draft: false to publish\n"
        "wrote entries/2026-03-07/my-paper.yaml\n"
        "    to do: title: the paper's title\n"
        "    to do: authors: the authors, in paper order\n"
        "    to do: themes: pick one or more of acceleration, safety, medical, theory\n"
        "    to do: summary: what the paper does and why it matters\n"
    )
    issue = (root / "entries/2026-03-07/_issue.yaml").read_text()
    assert 'subject: "diffusion models"' in issue  # taken from the newest issue
    assert "draft: true" in issue
    code, out, _ = invoke("check", "--drafts", "--root", str(root))
    assert code == 1
    assert out.splitlines() == [
        "entries/2026-03-07/_issue.yaml:2:8: error[E103]: 'title' is empty",
        "entries/2026-03-07/_issue.yaml:4:8: error[E103]: 'intro' is empty",
        "entries/2026-03-07/my-paper.yaml:2:8: error[E103]: 'title' is empty",
        "entries/2026-03-07/my-paper.yaml:8:10: error[E105]: unknown theme 'choose-a-theme'",
        "    hint: configured themes: acceleration, safety, medical, theory",
        "entries/2026-03-07/my-paper.yaml:18:10: error[E103]: 'summary' is empty",
        "0 papers in 1 issue: 5 errors, 0 warnings in 2 files",
    ]
    # The new issue is a draft: until it is published, its gaps do not fail the check.
    code, out, _ = invoke("check", "--root", str(root))
    assert code == 0
    assert out.splitlines()[0] == (
        "entries/2026-03-07/_issue.yaml:2:8: warning[E103]: 'title' is empty "
        "(in a draft issue, which is not built)"
    )
    assert out.splitlines()[-1] == "0 papers in 1 issue: 0 errors, 5 warnings in 2 files"


def test_crossref_partial_date_is_left_as_a_comment(site: Path, server: RecordingServer) -> None:
    code, _, _ = invoke(
        "new", "survey", "--issue", ISSUE, "--from", "doi:10.1016/j.media.2023.102846",
        "--theme", "medical", "--root", str(site),
    )  # fmt: skip
    assert code == 0
    text = (site / f"entries/{ISSUE}/survey.yaml").read_text()
    assert "# published: 2023-08  # the service gives no full date" in text
    assert 'summary: ""  # TODO' in text  # Crossref gave no abstract
    code, out, _ = invoke("check", "--root", str(site))
    assert code == 1
    assert (
        out.splitlines()[0] == f"entries/{ISSUE}/survey.yaml:25:10: error[E103]: 'summary' is empty"
    )


# ---------------------------------------------------------------- never overwrite


def test_existing_entry_is_left_byte_identical_without_force(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    original = paper_yaml(title='"Hand-written, keep me"').encode()
    root = make_site(
        {f"entries/{ISSUE}/_issue.yaml": MINIMAL_ISSUE, f"entries/{ISSUE}/ddpm.yaml": original},
        CONFIG,
    )
    before = snapshot(root)
    code, out, err = invoke(
        "new", "ddpm", "--issue", ISSUE, "--from", "arxiv:2006.11239", "--root", str(root)
    )
    assert (code, out) == (1, "")
    assert err == (
        f"error: entries/{ISSUE}/ddpm.yaml already exists; use --force to replace it\n"
        "nothing written\n"
    )
    assert snapshot(root) == before
    assert server.log == []  # refused before asking anyone
    code, _, _ = invoke(
        "new",
        "ddpm",
        "--issue",
        ISSUE,
        "--from",
        "arxiv:2006.11239",
        "--force",
        "--root",
        str(root),
    )
    assert code == 0
    assert (root / f"entries/{ISSUE}/ddpm.yaml").read_bytes() != original
    assert not list(root.rglob("*.tmp"))


def test_an_id_used_in_another_issue_is_refused_even_with_force(make_site: SiteFactory) -> None:
    root = make_site(
        {
            f"entries/{ISSUE}/_issue.yaml": MINIMAL_ISSUE,
            f"entries/{ISSUE}/ddpm.yaml": paper_yaml(),
        },
        CONFIG,
    )
    code, _, err = invoke("new", "ddpm", "--issue", "2026-03-07", "--force", "--root", str(root))
    assert code == 1
    assert err.splitlines()[0] == (
        f"error: paper id 'ddpm' is already used by entries/{ISSUE}/ddpm.yaml; "
        "ids are unique across all issues"
    )
    assert not (root / "entries/2026-03-07").exists()


# ---------------------------------------------------------------- failures write nothing


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("arxiv:2501.99999", "arXiv has no paper 2501.99999"),
        ("doi:10.1000/missing", "Crossref has no record of DOI 10.1000/missing"),
        ("doi:10.1000/broken", "Crossref sent malformed JSON"),
        ("doi:10.1000/error", "Crossref answered 500 Internal Server Error for doi:10.1000/error"),
    ],
)
def test_failed_imports_write_nothing(
    make_site: SiteFactory, server: RecordingServer, source: str, message: str
) -> None:
    root = make_site({}, CONFIG)
    code, out, err = invoke(
        "new", "x", "--issue", "2026-03-07", "--from", source, "--root", str(root)
    )
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {source}: {message}")
    assert err.endswith("nothing written\n")
    assert not (root / "entries").exists()


def test_unreachable_service_writes_nothing(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_ARXIV_API", f"http://127.0.0.1:{closed_port()}/api/query")
    root = make_site({}, CONFIG)
    code, _, err = invoke(
        "new", "x", "--issue", "2026-03-07", "--from", "arxiv:2006.11239", "--root", str(root)
    )
    assert code == 1
    assert err.startswith("error: arxiv:2006.11239: could not reach the arXiv API")
    assert not (root / "entries").exists()


def test_one_failure_in_a_batch_writes_nothing(site: Path, server: RecordingServer) -> None:
    before = snapshot(site)
    code, _, err = invoke(
        "new", "--issue", ISSUE, "--from", "arxiv:2006.11239", "--from", "doi:10.1000/missing",
        "--from", "arxiv:2501.99999", "--root", str(site),
    )  # fmt: skip
    assert code == 1
    assert err.splitlines() == [
        "error: doi:10.1000/missing: Crossref has no record of DOI 10.1000/missing "
        "(Crossref says: Resource not found.)",
        "error: arxiv:2501.99999: arXiv has no paper 2501.99999",
        "nothing written",
    ]
    assert snapshot(site) == before
    # The answer that did arrive is cached, so fixing the list and retrying asks arXiv less.
    assert len(list((site / ".digest-cache" / "importer").iterdir())) == 1


# ---------------------------------------------------------------- batches


def test_batch_derives_ids_and_spaces_arxiv_calls(site: Path, server: RecordingServer) -> None:
    clock = FakeClock()
    network = Network(arxiv_limiter=RateLimiter(3.0, clock, clock.sleep))
    code, out, _ = invoke(
        "new", "--issue", ISSUE, "--from", "arxiv:2006.11239", "--from", "doi:10.1038/nature14539",
        "--from", "arxiv:2011.13456v2", "--theme", "theory", "--root", str(site), obj=network,
    )  # fmt: skip
    assert code == 0
    assert [line for line in out.splitlines() if line.startswith("wrote")] == [
        f"wrote entries/{ISSUE}/denoising-diffusion-probabilistic-models.yaml",
        f"wrote entries/{ISSUE}/deep-learning.yaml",
        f"wrote entries/{ISSUE}/score-based-generative-modeling.yaml",
    ]
    assert clock.sleeps == [3.0]  # two arXiv calls, one wait between them
    assert len(server.log) == 3
    code, out, _ = invoke("check", "--root", str(site))
    assert code == 1  # Crossref gave no abstract for "Deep learning": its summary is to write
    assert out.splitlines() == [
        f"entries/{ISSUE}/deep-learning.yaml:21:10: error[E103]: 'summary' is empty",
        "2 papers in 1 issue: 1 error, 0 warnings in 1 file",
    ]


def test_from_file_with_ids_and_comments(
    site: Path, server: RecordingServer, tmp_path: Path
) -> None:
    listing = tmp_path / "papers.txt"
    listing.write_text(
        "# this week's imports\nddpm arxiv:2006.11239  # the classic\n\nsde 2011.13456v2\n"
    )
    code, out, _ = invoke(
        "new",
        "--issue",
        ISSUE,
        "--from-file",
        str(listing),
        "--theme",
        "theory",
        "--root",
        str(site),
    )
    assert code == 0
    assert f"wrote entries/{ISSUE}/ddpm.yaml\n" in out
    assert f"wrote entries/{ISSUE}/sde.yaml\n" in out
    code, out, _ = invoke("check", "--root", str(site))
    assert (code, out) == (0, "2 papers in 1 issue: no problems found\n")


def test_second_run_is_served_from_the_cache(site: Path, server: RecordingServer) -> None:
    args = ["new", "ddpm", "--issue", ISSUE, "--from", "arxiv:2006.11239", "--root", str(site)]
    assert invoke(*args)[0] == 0
    assert invoke(*args, "--force")[0] == 0
    assert len(server.log) == 1
    assert any((site / ".digest-cache" / "importer").iterdir())


# ---------------------------------------------------------------- usage errors (exit 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["x", "--issue", "2026-02-30"],
            "'2026-02-30' is not a real date (day is out of range for month)",
        ),
        (["x", "--issue", "28.02.2026"], "'28.02.2026' is not a date written YYYY-MM-DD"),
        (["x", "--issue", ISSUE, "--theme", "acceleraton"], "did you mean 'acceleration'?"),
        (["x", "--issue", ISSUE, "--from", "nature14539"], "is neither an arXiv id nor a DOI"),
        (  # refused before asking arXiv, by the rule entries are checked with
            ["x", "--issue", ISSUE, "--from", "arxiv:0701.00001"],
            "'0701.00001' is not an arXiv id: new-style ids start at 0704 (April 2007); older "
            "ones look like hep-th/0601001",
        ),
        (
            ["x", "--issue", ISSUE, "--from", "2006.11239", "--from", "2011.13456"],
            "an ID names one entry",
        ),
        (["--issue", ISSUE], "give the new paper's ID"),
    ],
)
def test_usage_errors(site: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["new", *args, "--root", str(site)])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())


def test_an_invalid_id_is_refused(site: Path) -> None:
    code, _, err = invoke("new", "My_Paper", "--issue", ISSUE, "--root", str(site))
    assert code == 1
    assert "'My_Paper' is not a valid paper id" in err


# ---------------------------------------------------------------- the YAML text itself


def test_derive_id() -> None:
    assert derive_id("DPCache: Training-Free Acceleration", set()) == "dpcache"
    assert (
        derive_id("The Large N Limit of Superconformal field theories", set())
        == "large-n-limit-superconformal"
    )
    assert derive_id("Deep learning", {"deep-learning", "deep-learning-2"}) == "deep-learning-3"
    assert derive_id("???", set()) == "paper"


names = st.text(alphabet=st.characters(codec="utf-8"), min_size=1).filter(
    lambda text: clean_text(text) != ""
)
words = st.text(alphabet=string.ascii_letters + " ,.;:$\\{}'\"#-*[]()!?|>&%@`", min_size=1)


@given(title=names, authors=st.lists(names, max_size=4), abstract=words)
def test_scaffold_text_round_trips_through_the_loader(
    title: str, authors: list[str], abstract: str
) -> None:
    metadata = Metadata(
        Source("arxiv", "2401.12345"),
        clean_text(title),
        authors=tuple(clean_text(a) for a in authors),
        abstract=clean_text(abstract) or None,
    )
    draft = paper_text(metadata, ["theory"], SiteConfig())
    data, _, _ = parse_yaml(draft.text)
    assert data["title"] == metadata.title
    assert data.get("authors", []) == list(metadata.authors)
    assert data["themes"] == ["theory"]
    if metadata.abstract:
        assert " ".join(data["summary"].split()) == abstract_as_summary(metadata.abstract)
        assert cross_references(data["summary"].strip()) == ()


# ---------------------------------------------------------------- hostile services (issue #23)

EVIL_DOI = "10.1038/nature14539\n  code: https://evil.example/x\ntags: [pwned]\ntagline: pwned"


def crossref_answer(doi: str) -> Reply:
    record = {"DOI": doi, "title": ["Deep learning"], "author": [{"given": "Y", "family": "L"}]}
    return Reply(200, json.dumps({"status": "ok", "message": record}).encode(), content_type=JSON)


@pytest.mark.parametrize("doi", [EVIL_DOI, "10.1038/\udc80"])
def test_a_crossref_answer_cannot_inject_yaml(
    make_site: SiteFactory, server: RecordingServer, doi: str
) -> None:
    server.route("/works/10.1000/evil", crossref_answer(doi))
    root = make_site({}, CONFIG)
    code, out, err = invoke(
        "new", "x", "--issue", "2026-03-07", "--from", "doi:10.1000/evil", "--theme", "theory",
        "--root", str(root),
    )  # fmt: skip
    assert (code, out) == (1, "")
    assert err == (
        f"error: doi:10.1000/evil: Crossref's record of doi:10.1000/evil gives {doi!r} as its "
        "DOI, which is not a DOI\nnothing written\n"
    )
    assert not (root / "entries").exists()


def test_a_failure_after_the_first_file_writes_nothing(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    # The new issue's _issue.yaml can be written, the entry cannot (a folder is in its way).
    root = make_site({"entries/2026-03-07/ddpm.yaml/keep": "a folder, not an entry"}, CONFIG)
    before = snapshot(root)
    code, out, err = invoke(
        "new", "ddpm", "--issue", "2026-03-07", "--from", "arxiv:2006.11239", "--root", str(root)
    )
    assert (code, out) == (1, "")
    assert snapshot(root) == before
    assert sorted(p.name for p in (root / "entries/2026-03-07").iterdir()) == ["ddpm.yaml"]
    assert err.startswith("error: cannot write entries/2026-03-07/ddpm.yaml: ")
    assert err.endswith("\nnothing written\n")


def test_a_replaced_entry_comes_back_when_a_later_write_fails(
    make_site: SiteFactory, server: RecordingServer, tmp_path: Path
) -> None:
    original = paper_yaml(title='"Hand-written, keep me"')
    root = make_site(
        {
            f"entries/{ISSUE}/_issue.yaml": MINIMAL_ISSUE,
            f"entries/{ISSUE}/ddpm.yaml": original,
            f"entries/{ISSUE}/sde.yaml/keep": "a folder, not an entry",
        },
        CONFIG,
    )
    before = snapshot(root)
    listing = tmp_path / "papers.txt"
    listing.write_text("ddpm arxiv:2006.11239\nsde arxiv:2011.13456v2\n")
    code, _, err = invoke(
        "new", "--issue", ISSUE, "--from-file", str(listing), "--force", "--root", str(root)
    )
    assert code == 1
    assert snapshot(root) == before  # ddpm.yaml, replaced first, is back as it was
    assert not list(root.rglob("*.tmp"))
    assert err.startswith(f"error: cannot write entries/{ISSUE}/sde.yaml: ")


def test_a_dripping_service_ends_at_link_timeout(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    # One header byte every 0.1 s for 4 s: no read ever waits 0.5 s, the whole answer does.
    body = fixture("crossref/nature14539.json", JSON).body
    server.route("/works/10.1000/drip", Reply(200, body, content_type=JSON, drip=40))
    root = make_site({}, CONFIG + "link_timeout = 0.5\n")
    code, _, err = invoke(
        "new", "x", "--issue", "2026-03-07", "--from", "doi:10.1000/drip", "--root", str(root)
    )
    assert code == 1
    assert err == (
        "error: doi:10.1000/drip: Crossref did not answer in time for doi:10.1000/drip "
        f"({server.url('/works/10.1000/drip')})\nnothing written\n"
    )
    assert not (root / "entries").exists()


def test_a_draft_that_does_not_read_back_as_written_is_refused() -> None:
    meant = {"title": "A", "themes": ["theory"], "summary": "x"}
    text = 'title: "A"\nthemes: [theory]\nsummary: x\ntags: [pwned]\n'
    with pytest.raises(DraftRefused) as caught:
        check_draft(Draft(text, (), meant), "paper", SiteConfig())
    assert str(caught.value) == "the entry would not read back as written ('tags' differs)"
    text = 'title: "A"\nthemes: [theory]\nsummary: x\n'
    check_draft(Draft(text, (), meant), "paper", SiteConfig())  # as meant: no complaint
    meant = {"title": "A", "themes": ["theory"], "summary": "x", "doi": "10.1000"}
    with pytest.raises(DraftRefused) as caught:
        check_draft(Draft(text + 'doi: "10.1000"\n', (), meant), "paper", SiteConfig())
    assert str(caught.value) == (
        "the entry would not pass check ('doi': '10.1000' is not a DOI (they look like "
        "10.1000/xyz123))"
    )


@given(st.text())
def test_quoted_round_trips_any_text(text: str) -> None:
    data, _, _ = parse_yaml(f"key: {quoted(text)}\n")
    assert data == {"key": text}


def test_tex_the_converter_cannot_handle_is_imported_as_text() -> None:
    """An abstract's formula that cannot be made MathML would fail the new entry (E111):
    its dollars are escaped so it reads as written; the other formulas stay math."""
    summary = abstract_as_summary(r"We solve $\arg\min_x f(x)$ at rate $O(1/T)$ for $5.")
    assert math_problems(summary) == ()
    assert r"\$\arg\min_x f(x)\$" in summary
    assert "$O(1/T)$" in summary and "for $5." in summary
    assert "<math" in render_markdown(summary).html
