"""The benchmark corpus generator and runner: a smoke run at tiny N (no timing assertions)."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest

from benchmarks import generate as gen
from benchmarks import run as bench
from benchmarks import serve_latency
from digest.content import load_content

REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_generator_is_deterministic_and_writes_the_same_corpus_three_ways(tmp_path: Path) -> None:
    first = gen.generate(tmp_path / "a", 90, seed=3, per_issue=20)
    second = gen.generate(tmp_path / "b", 90, seed=3, per_issue=20)
    for name in ("digest", "pelican", "hugo"):
        assert tree(first[name]) == tree(second[name]), name
    other = gen.generate(tmp_path / "c", 90, seed=4, per_issue=20)
    assert tree(other["digest"]) != tree(first["digest"])

    entries = sorted((first["digest"] / "entries").glob("*/*.yaml"))
    papers = [p for p in entries if p.name != "_issue.yaml"]
    assert len(papers) == 90
    assert len(entries) - len(papers) == 5  # ceil(90 / 20) weekly issues, each with _issue.yaml
    ids = {p.stem for p in papers}
    assert {p.stem for p in (first["pelican"] / "content").glob("*.md")} == ids
    assert {p.stem for p in (first["hugo"] / "content" / "posts").glob("*.md")} == ids
    assert (first["hugo"] / "layouts" / "_default" / "term.html").is_file()
    pelican_config = (first["pelican"] / "pelicanconf.py").read_text()
    assert 'TAG_SAVE_AS = "tag/{slug}.html"' in pelican_config
    assert tomllib.loads((first["hugo"] / "hugo.toml").read_text())["taxonomies"]["tag"] == "tags"


def test_generated_corpus_is_valid_and_spread_over_every_theme(tmp_path: Path) -> None:
    root = gen.generate(tmp_path, 300, seed=0)["digest"]
    content = load_content(root)
    assert content.report.diagnostics == []
    assert len(content.papers) == 300
    assert len(content.issues) == 8
    themes = {slug for entry in content.papers for slug in entry.paper.themes}
    assert content.config is not None
    assert themes == set(content.config.theme_slugs)
    with_code = sum(entry.paper.links.code is not None for entry in content.papers)
    assert 0.3 < with_code / 300 < 0.5
    authors = [len(entry.paper.authors) for entry in content.papers]
    assert min(authors) >= 1
    assert max(authors) <= 12


@pytest.mark.slow
def test_runner_smoke_digest_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_latency, "SETTLE", 0.2)  # a site of 30 papers builds at once
    raw = tmp_path / "samples.json"
    code = bench.main(
        [
            "--sizes",
            "30",
            "--runs",
            "1",
            "--tools",
            "digest",
            "--workdir",
            str(tmp_path),
            "--json",
            str(raw),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    rows = [line for line in printed.splitlines() if line.startswith("| 30 |")]
    assert len(rows) == 1
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert cells[1] == "digest"
    assert all(float(value) > 0 for value in cells[2:8]), cells  # timings, memory, page
    assert cells[8] == "1.00"
    assert "targets are set at 10,000 papers" in printed
    assert "targets are set at 100,000 papers" in printed
    [stored] = json.loads(raw.read_text())
    assert stored["tool"] == "digest"
    size, page = stored["largest_page"]  # measured after the builds, before `serve`
    assert page.endswith("index.html") and cells[7] == f"{size / 1e3:.0f}"
    for scenario in bench.SCENARIOS:  # one timed run and one that reads the memory
        timed, memory = stored["samples"][scenario]
        assert timed["timed"] and timed["peak_bytes"] == 0
        assert not memory["timed"] and memory["peak_bytes"] > 0
    [latency] = stored["serve_seconds"]  # digest serve: an entry saved, its page rebuilt
    assert latency > 0
    edited = sorted((tmp_path / "30" / "digest" / "entries").glob("*/p*.yaml"))[15]
    assert "Edited in benchmark run 0." in edited.read_text()
    assert not (tmp_path / ".set-aside").exists()  # what the cold build moved away is gone


def test_a_cold_run_sets_the_old_output_aside_without_deleting_a_file(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "papers").mkdir(parents=True)
    (site / "papers" / "index.html").write_text("old")
    inode = (site / "papers" / "index.html").stat().st_ino
    trash = tmp_path / "trash"
    bench.set_aside([site, tmp_path / ".digest-cache"], trash)  # the cache never existed
    assert not site.exists()
    [moved] = list(trash.rglob("index.html"))
    assert moved.read_text() == "old" and moved.stat().st_ino == inode  # renamed, not copied
    site.mkdir()
    bench.set_aside([site], trash)  # a second one goes beside the first
    assert len(list(trash.iterdir())) == 2


def test_table_and_targets_report_skips_failures_and_ratios() -> None:
    def result(tool: str, cold: float, **others: float) -> bench.Result:
        found = bench.Result(tool, 10_000)
        found.samples["cold"] = [bench.Sample(cold, 300_000_000)]
        for scenario, seconds in others.items():
            found.samples[scenario] = [bench.Sample(seconds, 100_000_000)]
        return found

    results = [
        result("digest", 2.0, warm=0.3, edit=1.5, check=1.0),
        result("hugo", 4.0, warm=4.0, edit=4.0),
        bench.Result("pelican", 10_000, skipped="not installed"),
    ]
    results[0].largest_page = (123_456, "topics/safety/index.html")
    printed = bench.table(results)
    assert "| 10,000 | digest | 2.00 | 0.30 | 1.50 | 1.00 | 300 | 123 | 1.00 |" in printed
    assert "| 10,000 | hugo | 4.00 | 4.00 | 4.00 | - | 300 | - | 0.50 |" in printed
    assert "| 10,000 | pelican | not installed |" in printed
    targets = bench.targets(results)
    assert "| cold build ÷ Hugo's < 1.0 | 0.50 | yes |" in targets
    assert "| cold build ÷ Pelican's ≤ 1/6 (0.167) | pelican not measured | - |" in targets
    assert "| one-entry rebuild < 1 s | 1.50 s | no |" in targets
    assert "| peak memory < 500 MB | 300 MB | yes |" in targets


def test_the_largest_page_and_memory_are_judged_at_100000_papers(tmp_path: Path) -> None:
    found = bench.Result("digest", 100_000)
    found.samples["cold"] = [bench.Sample(90.0, 2_500_000_000, timed=False)]
    (tmp_path / "topics" / "safety").mkdir(parents=True)
    (tmp_path / "topics" / "safety" / "index.html").write_bytes(b"x" * 310_000)
    (tmp_path / "index.html").write_bytes(b"x" * 1_000)
    (tmp_path / "search.bin").write_bytes(b"x" * 900_000)  # not a page
    found.largest_page = bench.largest_page(tmp_path)
    assert found.largest_page == (310_000, "topics/safety/index.html")
    judged = bench.scale_targets([found])
    assert "| peak memory < 2 GB | 2500 MB | no |" in judged
    assert "| largest HTML page ≤ 300 KB | 310 KB (topics/safety/index.html) | no |" in judged
    assert "set at 100,000 papers" in bench.scale_targets([bench.Result("digest", 10_000)])


def test_median_of_several_runs() -> None:
    found = bench.Result("digest", 10)
    found.samples["cold"] = [bench.Sample(s, 1) for s in (5.0, 1.0, 2.0)]
    assert found.median("cold") == 2.0
    assert found.median("warm") is None


def test_the_memory_run_is_not_timed_and_the_timed_runs_read_no_memory(tmp_path: Path) -> None:
    found = bench.Result("digest", 10)
    found.samples["cold"] = [bench.Sample(s) for s in (1.0, 2.0, 3.0)]
    found.samples["cold"].append(bench.Sample(50.0, 7_000_000, timed=False))
    assert found.median("cold") == 2.0
    assert found.peak_mb() == 7.0

    holds = [sys.executable, "-c", "import time; b = bytearray(80_000_000); time.sleep(0.3)"]
    timed = bench.measure(holds, tmp_path)
    assert timed.timed and timed.peak_bytes == 0 and timed.seconds > 0.3
    memory = bench.measure(holds, tmp_path, memory=True)
    assert not memory.timed and memory.peak_bytes > 80_000_000


@pytest.mark.browser
def test_search_benchmark_smoke_run(capsys: pytest.CaptureFixture[str]) -> None:
    """The search benchmark at a tiny size, in Chromium: every query of the mix is
    measured, pasted, typed and from the address."""
    from benchmarks import search_bench

    report = search_bench.main(["--papers", "60"])
    assert json.loads(capsys.readouterr().out) == report
    assert report["papers"] == 60
    assert report["index_files"] == 1 + report["term_shards"] + report["paper_shards"]
    entered = [(found["query"], found["entered"]) for found in report["queries"]]
    expected = [(q, how) for q in search_bench.QUERIES for how in ("pasted", "typed")]
    assert entered == expected + [(a, "address") for a in search_bench.ADDRESSES]
    script = search_bench.compressed_size(REPO / "templates" / "assets" / "search.js")
    for found in report["queries"]:
        # The page, its style sheet, the script and the index's head at least.
        assert found["bytes"] > script, found
        assert found["cold_ms"] > 0 and found["status"], found
    assert report["summary"]["within_budget"]
