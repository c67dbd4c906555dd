"""Search at scale: index size and query latency for a synthetic corpus (default 10,000 papers).

    python -m benchmarks.search_bench [--papers 10000] [--pagefind]

Generates the corpus with benchmarks.generate, builds digest's search index
(search/index.json), and reports its size raw and gzipped and the time to build it.
Then runs templates/assets/search.js's matching core in Node (the V8 that Chromium
uses) and reports the time to load the index (parse + prepare) and the per-query
latency (median and 95th percentile) over a fixed mix of queries: one word, two words,
prefixes, a word plus filters, and filters alone.

With --pagefind (needs `pip install 'pagefind[bin]'`), it also builds the whole site and
runs Pagefind over it, reporting its index size on disk and what one query downloads.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generate import make_corpus, write_digest
from digest import search
from digest.build import run
from digest.content import load_content
from digest.organise import organise

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "templates" / "assets" / "search.js"

NODE_PROGRAM = r"""
const core = require(process.argv[1]);
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const text = fs.readFileSync(input.index, "utf8");
let start = process.hrtime.bigint();
const prepared = core.prepare(JSON.parse(text));
const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
const times = [];
const counts = [];
for (let round = 0; round < input.rounds; round++) {
  for (const [query, filters] of input.queries) {
    start = process.hrtime.bigint();
    const found = core.search(prepared, query, filters);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (round === 0) counts.push(found.papers.length);
  }
}
times.sort((a, b) => a - b);
const pick = q => times[Math.min(times.length - 1, Math.floor(q * times.length))];
process.stdout.write(JSON.stringify({
  load_ms: loadMs, median_ms: pick(0.5), p95_ms: pick(0.95), max_ms: times[times.length - 1],
  queries: times.length, counts: counts
}));
"""


def queries(index: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    none: dict[str, Any] = {
        "topic": "",
        "contribution": "",
        "issue": "",
        "year": "",
        "tag": "",
        "author": "",
        "code": False,
    }
    papers = index["papers"]
    first, middle = papers[0], papers[len(papers) // 2]
    return [
        ("diffusion", none),
        ("guidance", none),
        ("distil", none),
        ("latent diffusion", none),
        ("safety", none),  # a topic's title
        (first[1].split()[0], none),
        (" ".join(middle[1].split()[:3]), none),
        (middle[3][0] if middle[3] else "model", none),
        ("sampling", {**none, "topic": index["topics"][0][0], "code": True}),
        ("", none),  # everything, with every facet counted
        ("", {**none, "topic": index["topics"][2][0]}),
        ("", {**none, "issue": index["issues"][0][0], "contribution": "dataset"}),
        ("model", {**none, "year": index["issues"][-1][0][:4], "tag": middle[6][0]}),
        ("zzzz nothing matches", none),
    ]


def folder_size(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def pagefind(root: Path, work: Path) -> dict[str, Any]:
    site = work / "site"
    started = time.perf_counter()
    result = run(root, site)
    build_s = time.perf_counter() - started
    if not result.ok:
        raise SystemExit("the site did not build; cannot run Pagefind")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir", "pagefind"],
        check=True,
        capture_output=True,
    )
    index_s = time.perf_counter() - started
    folder = site / "pagefind"
    files, size = folder_size(folder)
    fixed = sum(
        path.stat().st_size
        for path in folder.iterdir()
        if path.is_file() and path.suffix in (".js", ".wasm", ".pagefind", ".css")
    )
    return {
        "site_build_s": round(build_s, 1),
        "pagefind_index_s": round(index_s, 1),
        "pagefind_files": files,
        "pagefind_bytes": size,
        "pagefind_entry_and_wasm_bytes": fixed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pagefind", action="store_true", help="also measure Pagefind")
    args = parser.parse_args(argv)
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is needed to time search.js")
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        root = work / "digest"
        issues, corpus = make_corpus(args.papers)
        write_digest(root, issues, corpus)
        content = load_content(root)
        assert content.config is not None
        library = organise(content.config, content.issues, content.papers)
        started = time.perf_counter()
        data = search.index_json(library)
        build_ms = (time.perf_counter() - started) * 1000
        index_path = work / "index.json"
        index_path.write_bytes(data)
        raw = len(data)
        zipped = len(gzip.compress(data, compresslevel=6))
        index = json.loads(data)
        done = subprocess.run(
            [node, "-e", NODE_PROGRAM, str(SCRIPT)],
            input=json.dumps(
                {"index": str(index_path), "queries": queries(index), "rounds": args.rounds}
            ),
            capture_output=True,
            text=True,
            check=True,
        )
        timings = json.loads(done.stdout)
        report: dict[str, Any] = {
            "papers": len(library.papers),
            "index_bytes": raw,
            "index_gzip_bytes": zipped,
            "index_build_ms": round(build_ms, 1),
            "load_ms": round(timings["load_ms"], 1),
            "query_median_ms": round(timings["median_ms"], 2),
            "query_p95_ms": round(timings["p95_ms"], 2),
            "query_max_ms": round(timings["max_ms"], 2),
            "queries_timed": timings["queries"],
            "result_counts": timings["counts"],
        }
        if args.pagefind:
            report.update(pagefind(root, work))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
