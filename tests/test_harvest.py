"""`digest harvest`: the search sent to arXiv, paging and spacing, the triage list, theme
suggestions, faults, and the list read back by `digest new --from-file`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.cli_options import Network
from digest.harvest import first_sentence, search_query, triage_text
from digest.importer import RateLimiter
from digest.ranking import ThemeModel, ThemeText, words
from digest.source_list import requests_from
from tests.conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml
from tests.http_server import (
    ATOM,
    FakeClock,
    RecordingServer,
    Reply,
    closed_port,
    fixture,
    running,
)

CONFIG = 'contact = "editor@example.org"\nbase_url = "https://digest.example.org"\n'
FILED = "2026-02-21"
QUERY = "cat:cs.CV AND abs:diffusion"
WINDOW = "submittedDate:[202602210000 TO 202603072359]"


def filed_paper(title: str, theme: str, tags: str, arxiv: str | None = None) -> str:
    return paper_yaml(
        title=f'"{title}"', themes=f"[{theme}]", tags=f"[{tags}]", arxiv=arxiv and f'"{arxiv}"'
    )


# The papers already in the test digest, each under its theme: they are what the themes
# are made of, besides their titles and descriptions. LESA is in it (another version).
SITE_FILES = {
    f"entries/{FILED}/_issue.yaml": MINIMAL_ISSUE,
    f"entries/{FILED}/lesa.yaml": filed_paper(
        "LESA: Learnable Stage-Aware Predictors for Diffusion Model Acceleration",
        "acceleration",
        "caching, speedup, sampling-steps",
        "2602.23311v1",
    ),
    f"entries/{FILED}/chai.yaml": filed_paper(
        "CHAI: CacHe Attention Inference for text2video", "acceleration", "caching, video"
    ),
    f"entries/{FILED}/purifier.yaml": filed_paper(
        "Diffusion or Non-Diffusion Adversarial Defenses: Rethinking the Relation between "
        "Classifier and Adversarial Purifier",
        "safety",
        "adversarial, robustness",
    ),
    f"entries/{FILED}/dp-adaln.yaml": filed_paper(
        "DP-aware AdaLN-Zero: Taming Conditioning-Induced Heavy-Tailed Gradients in "
        "Differentially Private Diffusion",
        "safety",
        "privacy, concept-erasure, unsafe-content",
    ),
    f"entries/{FILED}/dm4ct.yaml": filed_paper(
        "DM4CT: Benchmarking Diffusion Models for Computed Tomography Reconstruction",
        "medical",
        "ct, reconstruction, clinical",
    ),
    f"entries/{FILED}/dermae.yaml": filed_paper(
        "DerMAE: Improving skin lesion classification through conditioned latent diffusion "
        "and MAE distillation",
        "medical",
        "dermatology, mri, segmentation",
    ),
    f"entries/{FILED}/two-calm-ends.yaml": filed_paper(
        "Two Calm Ends and the Wild Middle: A Geometric Picture of Memorization in "
        "Diffusion Models",
        "theory",
        "geometry, memorization",
    ),
    f"entries/{FILED}/model-collapse.yaml": filed_paper(
        "Error Propagation and Model Collapse in Diffusion Models: A Theoretical Study",
        "theory",
        "convergence, error-bounds",
    ),
}


def route(asked_path: str) -> Reply:
    """The arXiv API of the tests: the recorded search pages by `start`, faults by query."""
    params = {k: v[0] for k, v in parse_qs(urlsplit(asked_path).query).items()}
    if "id_list" in params:  # `digest new` after a harvest must not ask
        return Reply(500, b"unexpected id_list request in test")
    query, start = params.get("search_query", ""), params.get("start", "0")
    if "abs:refused" in query:
        return fixture("arxiv/search-error.xml", ATOM, 400)
    if "abs:busy" in query:
        return Reply(429, b"Rate exceeded.", {"Retry-After": "30"})
    if "abs:down" in query:
        return Reply(503, b"Service Unavailable", {"Retry-After": "120"})
    if "abs:broken" in query:
        return fixture("arxiv/search-truncated.xml", ATOM)
    if "abs:brokenlater" in query and start == "3":
        return fixture("arxiv/search-truncated.xml", ATOM)
    return fixture(f"arxiv/search-page-{1 if start == '0' else 2}.xml", ATOM)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingServer]:
    for server in running():
        server.route("/api/query", lambda asked: route(asked.path))
        monkeypatch.setenv("DIGEST_ARXIV_API", server.url("/api/query"))
        yield server


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return make_site(SITE_FILES, CONFIG)


def fast_network() -> Network:
    clock = FakeClock()
    return Network(arxiv_limiter=RateLimiter(3.0, clock, clock.sleep))


def invoke(*args: str, obj: Network | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), obj=obj or fast_network())
    return result.exit_code, result.stdout, result.stderr


def harvest(site: Path, *args: str, obj: Network | None = None) -> tuple[int, str, str]:
    return invoke(
        "harvest", "--query", QUERY, "--until", "2026-03-07", "--root", str(site), *args, obj=obj
    )


def asked(server: RecordingServer) -> list[dict[str, str]]:
    return [{k: v[0] for k, v in parse_qs(urlsplit(path).query).items()} for path in server.paths()]


def candidate_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# ---------------------------------------------------------------- the search and paging


def test_the_query_window_sort_and_paging_sent(site: Path, server: RecordingServer) -> None:
    code, _, _ = harvest(site, "--max", "3")
    assert code == 0
    search = f"({QUERY}) AND {WINDOW}"  # since the newest issue, until the given day
    common = {"search_query": search, "sortBy": "submittedDate", "sortOrder": "descending"}
    assert asked(server) == [
        {**common, "start": "0", "max_results": "3"},  # 2 new + LESA, already filed
        {**common, "start": "3", "max_results": "3"},
    ]
    assert {seen.user_agent for seen in server.log} == {"digest/0.1.0 (+mailto:editor@example.org)"}


def test_paging_goes_on_until_the_results_end(site: Path, server: RecordingServer) -> None:
    """arXiv may send fewer results than asked; paging goes on to `totalResults`."""
    code, out, err = harvest(site, "--max", "10")
    assert code == 0
    assert [(a["start"], a["max_results"]) for a in asked(server)] == [("0", "10"), ("3", "10")]
    assert len(candidate_lines(out)) == 5
    assert err == "listed 5 candidates; 1 already in the digest\n"


def test_since_defaults_to_the_newest_issue_and_until_to_today(
    site: Path, server: RecordingServer
) -> None:
    (site / "entries/2026-02-28").mkdir()
    code, _, _ = invoke("harvest", "--query", QUERY, "--root", str(site))
    assert code == 0
    today = date.today().strftime("%Y%m%d")
    assert asked(server)[0]["search_query"] == (
        f"({QUERY}) AND submittedDate:[202602280000 TO {today}2359]"
    )
    assert asked(server)[0]["max_results"] == "100"  # the default --max
    code, _, _ = harvest(site, "--since", "2026-01-01", "--max", "3")
    assert "submittedDate:[202601010000 TO 202603072359]" in asked(server)[-1]["search_query"]


def test_requests_are_spaced_by_the_rate_limiter(site: Path, server: RecordingServer) -> None:
    """Each request reaches the server at least the interval after the previous answer."""
    interval = 0.2
    code, _, _ = harvest(site, "--max", "3", obj=Network(arxiv_limiter=RateLimiter(interval)))
    assert code == 0
    times = [seen.time for seen in server.log]
    assert len(times) == 2
    assert times[1] - times[0] >= interval


def test_the_default_limiter_waits_three_seconds(site: Path, server: RecordingServer) -> None:
    clock = FakeClock()
    network = Network(arxiv_limiter=RateLimiter(3.0, clock, clock.sleep))
    assert harvest(site, "--max", "3", obj=network)[0] == 0
    assert clock.sleeps == [3.0]


def test_search_answers_are_cached(site: Path, server: RecordingServer) -> None:
    assert harvest(site, "--max", "3")[0] == 0
    first = harvest(site, "--max", "3")
    assert first[0] == 0
    assert len(server.log) == 2  # the second run asked nothing


# ---------------------------------------------------------------- the list


EXPECTED_LIST = f"""\
# arXiv papers for '{QUERY}' submitted 2026-02-21 to 2026-03-07, best fit to the site's themes first
# 5 candidates; 1 already in the digest (left out)
# Delete the lines you do not want, then run:
#     digest new --issue YYYY-MM-DD --from-file THIS-FILE
"""


def test_the_list_reads_as_designed(site: Path, server: RecordingServer) -> None:
    code, out, err = harvest(site, "--max", "10")
    assert code == 0
    assert out.startswith(EXPECTED_LIST)
    assert "\n\n# Sharp Convergence Rates for Masked Diffusion Models\n" in out
    block = out.split("# Sharp Convergence Rates for Masked Diffusion Models\n", 1)[1]
    lines = block.splitlines()
    assert lines[0] == "# Yuchen Liang · cs.LG · submitted 2026-02-24"
    assert lines[1] == (
        "# We study how fast masked diffusion models converge to the data distribution as the "
        "number of sampling steps grows."
    )
    assert lines[2].startswith("# score ")
    assert " for theory (" in lines[2]
    assert lines[3] == "sharp-convergence-rates-masked arxiv:2602.21637 theme=theory"
    assert "1 already in the digest" in err


def test_suggested_themes_on_the_labelled_fixture(site: Path, server: RecordingServer) -> None:
    """Each paper of the fixture has one right theme; the speech paper fits none."""
    code, out, _ = harvest(site, "--max", "10")
    assert code == 0
    got = {line.split()[1]: line.partition("theme=")[2] or None for line in candidate_lines(out)}
    assert got == {
        "arxiv:2602.24107": "acceleration",  # DPCache
        "arxiv:2602.22785": "safety",  # concept erasure
        "arxiv:2602.22140": "medical",  # OrthoDiffusion
        "arxiv:2602.21637": "theory",  # convergence rates
        "arxiv:2602.21102": None,  # speech enhancement
    }


def test_candidates_are_ranked_and_those_without_a_theme_come_last(
    site: Path, server: RecordingServer
) -> None:
    code, out, _ = harvest(site, "--max", "10")
    assert code == 0
    scores = [float(line.split()[2]) for line in out.splitlines() if line.startswith("# score ")]
    assert len(scores) == 4
    assert scores == sorted(scores, reverse=True)
    last = out.rstrip("\n").splitlines()
    assert last[-1] == "absorbing-discrete-diffusion-speech arxiv:2602.21102"
    assert last[-2].startswith("# no theme: none scores 0.05 or more (best: ")
    assert last[-2].endswith("; add theme=SLUG or choose one in the entry")


def test_papers_already_in_the_digest_are_left_out_and_counted(
    site: Path, server: RecordingServer
) -> None:
    """LESA is filed as 2602.23311v1; arXiv lists 2602.23311v2: the same paper."""
    code, out, err = harvest(site, "--max", "3")
    assert code == 0
    assert "2602.23311" not in out
    assert "LESA" not in out
    assert "# 3 candidates; 1 already in the digest (left out)\n" in out
    assert err == "listed 3 candidates; 1 already in the digest\n"


def test_a_paper_linked_to_its_arxiv_page_counts_as_filed(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    files = dict(SITE_FILES)
    files[f"entries/{FILED}/dpcache.yaml"] = paper_yaml(
        title='"DPCache"', links="\n  paper: https://arxiv.org/pdf/2602.24107v3.pdf"
    )
    code, out, err = harvest(make_site(files, CONFIG), "--max", "10")
    assert code == 0
    assert "2602.24107" not in out
    assert err == "listed 4 candidates; 2 already in the digest\n"


def test_ids_are_made_as_new_makes_them_and_never_taken(
    make_site: SiteFactory, server: RecordingServer
) -> None:
    files = dict(SITE_FILES)
    taken = "orthodiffusion"
    files[f"entries/{FILED}/{taken}.yaml"] = filed_paper("Another", "medical", "mri")
    site = make_site(files, CONFIG)
    code, out, _ = harvest(site, "--max", "10")
    assert code == 0
    lines = candidate_lines(out)
    assert "orthodiffusion-2 arxiv:2602.22140 theme=medical" in lines  # from "Name: ..."
    assert "denoising-as-path-planning arxiv:2602.24107 theme=acceleration" in lines


def test_out_writes_a_file_and_never_overwrites_without_force(
    site: Path, server: RecordingServer, tmp_path: Path
) -> None:
    listing = tmp_path / "candidates.txt"
    code, out, err = harvest(site, "--max", "3", "--out", str(listing))
    assert (code, out) == (0, "")
    assert err == f"listed 3 candidates into {listing}; 1 already in the digest\n"
    assert listing.read_text().startswith("# arXiv papers for ")
    listing.write_text("my edits\n")
    requests = len(server.log)
    code, _, err = harvest(site, "--max", "3", "--out", str(listing))
    assert code == 1
    assert err == f"error: {listing} exists; use --force to replace it\n"
    assert listing.read_text() == "my edits\n"
    assert len(server.log) == requests  # refused before asking anyone
    assert harvest(site, "--max", "3", "--out", str(listing), "--force")[0] == 0
    assert listing.read_text().startswith("# arXiv papers for ")


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "abs:refused",
            "error: the arXiv API refused the search 'abs:refused': max_results must be less "
            "than or equal to 30000",
        ),
        (
            "abs:busy",
            "error: the arXiv API is busy and asked digest to slow down (it asks to wait 30 s); "
            "try again later",
        ),
        (
            "abs:down",
            "error: the arXiv API is busy and asked digest to slow down (it asks to wait 120 s); "
            "try again later",
        ),
        (
            "abs:broken",
            "error: the arXiv API sent malformed XML (no element found: line 19, column 42)",
        ),
        (  # the first page was fine: still nothing is written
            "abs:brokenlater",
            "error: the arXiv API sent malformed XML (no element found: line 19, column 42)",
        ),
    ],
)
def test_faults_write_nothing_and_exit_1(
    site: Path, server: RecordingServer, tmp_path: Path, query: str, message: str
) -> None:
    listing = tmp_path / "candidates.txt"
    result = CliRunner().invoke(
        app,
        ["harvest", "--query", query, "--max", "3", "--out", str(listing), "--root", str(site)],
        obj=fast_network(),
    )
    assert result.exit_code == 1
    assert result.stderr == f"{message}\nnothing written\n"
    assert result.stdout == ""
    assert not listing.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != site.name] == []  # no temp file


def test_no_network_writes_nothing(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DIGEST_ARXIV_API", f"http://127.0.0.1:{closed_port()}/api/query")
    code, out, err = harvest(site, "--out", str(tmp_path / "list.txt"))
    assert (code, out) == (1, "")
    assert err.startswith("error: could not reach the arXiv API for the search ")
    assert err.endswith("\nnothing written\n")
    assert not (tmp_path / "list.txt").exists()


def test_a_failed_page_is_not_cached(site: Path, server: RecordingServer) -> None:
    assert invoke("harvest", "--query", "abs:broken", "--root", str(site))[0] == 1
    assert invoke("harvest", "--query", "abs:broken", "--root", str(site))[0] == 1
    assert len(server.log) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--query", " "], "give an arXiv search"),
        (["--query", "x", "--since", "2026-02-30"], "'2026-02-30' is not a real date"),
        (
            ["--query", "x", "--since", "2026-03-08", "--until", "2026-03-07"],
            "after its end (2026-03-07)",
        ),
        # Click words the range differently from one release to the next.
        (["--query", "x", "--max", "0"], "Invalid value for '--max':"),
    ],
)
def test_usage_errors(site: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["harvest", *args, "--root", str(site)])
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())


# ---------------------------------------------------------------- back into `digest new`


def test_harvest_then_new_from_file_then_check(
    site: Path, server: RecordingServer, tmp_path: Path
) -> None:
    """The weekly round: harvest, delete some lines, import the rest, check."""
    listing = tmp_path / "candidates.txt"
    assert harvest(site, "--max", "10", "--out", str(listing))[0] == 0
    requests = len(server.log)
    kept = [
        line
        for line in listing.read_text().splitlines()
        if not line.startswith(("concept-erasure", "localized-concept", "orthodiffusion"))
    ]
    listing.write_text("\n".join(kept) + "\n")
    code, out, err = invoke(
        "new", "--issue", "2026-03-07", "--from-file", str(listing), "--root", str(site)
    )
    assert code == 0, err
    assert len(server.log) == requests  # every paper came from the harvest's cache
    written = [line for line in out.splitlines() if line.startswith("wrote")]
    assert written == [
        "wrote entries/2026-03-07/_issue.yaml",
        "wrote entries/2026-03-07/denoising-as-path-planning.yaml",
        "wrote entries/2026-03-07/sharp-convergence-rates-masked.yaml",
        "wrote entries/2026-03-07/absorbing-discrete-diffusion-speech.yaml",
    ]
    rewrite = "    to do: summary: the authors' abstract; rewrite it in your own words"
    assert out.splitlines().count(rewrite) == 3  # the summaries are the editor's to write
    dpcache = (site / "entries/2026-03-07/denoising-as-path-planning.yaml").read_text()
    assert "themes: [acceleration]" in dpcache
    assert 'arxiv: "2602.24107"' in dpcache
    code, out, _ = invoke("check", "--root", str(site), "--drafts")
    assert code == 1
    lines = out.splitlines()
    # What remains is the editor's: the new issue's text and the theme of the paper that
    # fits none. The imported abstracts are marked for rewriting, not reported.
    assert lines == [
        "entries/2026-03-07/_issue.yaml:2:8: error[E103]: 'title' is empty",
        "entries/2026-03-07/_issue.yaml:4:8: error[E103]: 'intro' is empty",
        "entries/2026-03-07/absorbing-discrete-diffusion-speech.yaml:9:10: "
        "error[E105]: unknown theme 'choose-a-theme'",
        "    hint: configured themes: acceleration, safety, medical, theory",
        lines[-1],
    ]
    again = harvest(site, "--max", "10")
    assert "# 2 candidates; 4 already in the digest (left out)\n" in again[1]


# ---------------------------------------------------------------- --from-file's theme= words


def test_from_file_reads_theme_words(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(
        "# a comment\nddpm arxiv:2006.11239 theme=theory theme=acceleration\n"
        "arxiv:2011.13456 theme=theory  # trailing comment\n2006.11239\n"
    )
    requests = requests_from(None, [], listing, ["acceleration", "theory"])
    assert [(r.id, str(r.source), r.themes) for r in requests] == [
        ("ddpm", "arxiv:2006.11239", ("theory", "acceleration")),
        (None, "arxiv:2011.13456", ("theory",)),
        (None, "arxiv:2006.11239", ()),
    ]


def test_from_file_reports_every_bad_theme_at_its_column(site: Path, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(
        "ddpm arxiv:2006.11239 theme=acceleraton\n"
        "arxiv:2011.13456 theme=\n"
        "sde arxiv:2011.13456 theme=theory theme=zzz\n"
        "theme=theory\n"
        "a b c\n"
        "arxiv:nonsense\n"
    )
    result = CliRunner().invoke(
        app, ["new", "--issue", "2026-03-07", "--from-file", str(listing), "--root", str(site)]
    )
    assert result.exit_code == 2
    with pytest.raises(ValueError, match=r"(?s).*") as raised:
        requests_from(None, [], listing, ["acceleration", "safety", "medical", "theory"])
    assert str(raised.value).splitlines() == [
        f"{listing}:1:29: unknown theme 'acceleraton'; did you mean 'acceleration'?",
        f"{listing}:2:24: 'theme=' names no theme: write theme=SLUG",
        f"{listing}:3:41: unknown theme 'zzz'; configured: acceleration, safety, medical, theory",
        f"{listing}:4:1: a theme without a source: write 'ID SOURCE theme=SLUG'",
        f"{listing}:5:5: write one 'SOURCE' or 'ID SOURCE' per line, then any 'theme=SLUG'",
        f"{listing}:6:1: 'arxiv:nonsense' is neither an arXiv id nor a DOI "
        "(write arxiv:2401.12345, arxiv:hep-th/9901001 or doi:10.1000/xyz123)",
    ]
    assert "did you mean 'acceleration'?" in " ".join(result.stderr.replace("│", " ").split())


def test_theme_words_and_the_theme_option_combine(
    site: Path, server: RecordingServer, tmp_path: Path
) -> None:
    listing = tmp_path / "list.txt"
    assert harvest(site, "--max", "3", "--out", str(listing))[0] == 0
    code, _, err = invoke(
        "new", "--issue", "2026-03-07", "--from-file", str(listing), "--theme", "theory",
        "--root", str(site),
    )  # fmt: skip
    assert code == 0, err
    assert (
        "themes: [acceleration, theory]"
        in (site / "entries/2026-03-07/denoising-as-path-planning.yaml").read_text()
    )


# ---------------------------------------------------------------- the parts


def test_words_fold_case_diacritics_plurals_and_stop_words() -> None:
    assert words("The Schrödinger Bridges of Diffusion Models, via 3 losses") == [
        "schrodinger", "bridge", "diffusion", "model", "losse",
    ]  # fmt: skip
    assert words("Analysis and focus on loss") == ["analysis", "focus", "loss"]


def test_theme_model_scores_and_explains() -> None:
    model = ThemeModel(
        [
            ThemeText("fast", "Acceleration", "Faster sampling", ("Caching for speed caching",)),
            ThemeText("safe", "Safety", "Privacy and robustness", ("Concept erasure",)),
        ]
    )
    fast = model.suggest("Caching for faster sampling", "We cache features to sample fast.")
    assert fast.theme == "fast"
    assert fast.terms[0] == "caching"
    assert [slug for slug, _ in fast.scores] == ["fast", "safe"]
    assert fast.scores[1][1] == 0.0
    none = model.suggest("Protein folding", "Amino acids in three dimensions.")
    assert (none.theme, none.score, none.terms) == (None, 0.0, ())


def test_search_query_and_first_sentence() -> None:
    assert search_query("cat:cs.LG", date(2026, 3, 1), date(2026, 3, 7)) == (
        "(cat:cs.LG) AND submittedDate:[202603010000 TO 202603072359]"
    )
    assert first_sentence("We use e.g. caching. It works. Really.") == "We use e.g. caching."
    assert first_sentence("No end") == "No end"
    assert first_sentence("x" * 300).endswith("…")


def test_the_list_never_lets_a_text_out_of_its_comment(site: Path) -> None:
    """Comments are one line each, whatever the query holds."""
    from digest.harvest import Harvest

    text = triage_text(
        Harvest("a\nevil arxiv:2006.11239", date(2026, 1, 1), date(2026, 1, 2), (), 0)
    )
    assert candidate_lines(text) == []


def test_spacing_counts_from_the_answer() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3.0, clock, clock.sleep)
    limiter.wait()
    clock.now += 2.0  # a slow answer
    limiter.restart()
    limiter.wait()
    assert clock.sleeps == [3.0]
