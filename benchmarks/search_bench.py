"""Search at scale: what the first query downloads, and how fast results come, in Chromium.

    python -m benchmarks.search_bench [--papers 10000] [--root DIR] [--pagefind]

Generates the corpus with benchmarks.generate (or reads the content root `--root`),
builds the search page and its index alone (digest's other pages are not needed) and
reports the index's build time, files and bytes. Then it serves the site on 127.0.0.1
and, in headless Chromium (tests/browser_support.py), runs a fixed mix of queries, each
in a freshly loaded search page with an empty cache:

- the bytes the page downloaded by the time the query's results are shown, each file
  counted gzip-compressed (the index's files are stored compressed; the page, its
  style sheet and scripts are compressed here as a host would): page, script, head,
  shards;
- the query entered at once (pasted, or from the address) and typed one key every
  `TYPING_MS`, which also fetches what the partial words need;
- the time from the query to its results, measured in the page with performance.now():
  cold (its files fetched over the local connection) and warm (the query again once
  they are loaded).

With --pagefind (`pip install -e '.[bench]'`), it also builds the whole site, runs
Pagefind over the paper pages and reports its build time, files and bytes, and the same
first-query downloads and times through Pagefind's own JavaScript API.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser

from benchmarks.generate import make_corpus, write_digest
from digest import search_index
from digest.build import run
from digest.content import load_content
from digest.organise import organise
from digest.reader_outputs import search_jobs
from tests.browser_support import launch_chromium, open_page, serve_folder

TYPING_MS = 100  # between two key presses when a query is typed
BUDGET = 400_000  # bytes the first query may download (issue #21)
# Entered in the search box: a topic's title, a dense word, two words, prefixes of 3, 4
# and 5 letters, a surname, a tag's word, a speed-up, a hyphenated word, nothing.
QUERIES = [
    "safety",
    "diffusion",
    "latent diffusion",
    "con",
    "guid",
    "distil",
    "kowalski",
    "watermarking",
    "12x",
    "training-free",
    "zzzz nothing matches",
]
# Loaded from the address: a query with filters, a tag, an author.
ADDRESSES = [
    "?q=sampling&topic=acceleration&code=1",
    "?tag=caching",
    "?author=Bowen+Cui",
]
# Waits for the search the input started, and gives the time it took in the page.
MEASURE = """
async ([query, typing]) => {
  const input = document.getElementById("search-q");
  const results = document.getElementById("search-results");
  const settled = () => new Promise(resolve => {
    if (!results.hasAttribute("aria-busy")) return resolve(performance.now());
    const observer = new MutationObserver(() => {
      if (!results.hasAttribute("aria-busy")) {
        observer.disconnect();
        resolve(performance.now());
      }
    });
    observer.observe(results, {attributes: true, attributeFilter: ["aria-busy"]});
  });
  const enter = text => {
    input.value = text;
    input.dispatchEvent(new Event("input", {bubbles: true}));
  };
  /* Until the page has drawn what it shows: a frame, and the one after it. */
  const drawn = () => new Promise(resolve => {
    requestAnimationFrame(() => requestAnimationFrame(resolve));
  });
  await drawn();
  let start = performance.now();
  if (typing) {
    for (let end = 1; end < query.length; end++) {
      enter(query.slice(0, end));
      await new Promise(resolve => setTimeout(resolve, typing));
    }
    start = performance.now();
  }
  enter(query);
  const cold = (await settled()) - start;
  enter("");
  await settled();
  await drawn();
  start = performance.now();
  enter(query);
  const warm = (await settled()) - start;
  return {cold: cold, warm: warm, status: document.getElementById("search-status").textContent};
}
"""
READY = "#search-form:not([aria-busy]) ~ #search-results:not([aria-busy])"


def compressed_size(path: Path) -> int:
    """What a file costs to download: its size when it is already gzip, else gzipped."""
    data = path.read_bytes()
    return len(data) if data[:2] == b"\x1f\x8b" else len(gzip.compress(data, compresslevel=6))


def downloaded(folder: Path, prefix: str, urls: list[str]) -> int:
    """The compressed bytes of the distinct files behind `urls`, served from `folder`."""
    total = 0
    for path in {unquote(urlsplit(url).path) for url in urls if url.startswith("http")}:
        relative = path[len(prefix) :]
        file = folder / relative
        if relative == "" or relative.endswith("/"):
            file = file / "index.html"
        if file.is_file():
            total += compressed_size(file)
    return total


def folder_size(folder: Path) -> tuple[int, int]:
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


# ------------------------------------------------------------------ digest


def build_search(root: Path, out: Path) -> dict[str, Any]:
    """The search page, its assets and its index, built alone into `out`; and the time
    the index takes to build from the loaded content."""
    content = load_content(root)
    assert content.config is not None
    library = organise(content.config, content.issues, content.papers)
    started = time.perf_counter()
    files = search_index.index_files(library)
    made = [(made.url, made.make()) for made in files]
    build_s = time.perf_counter() - started
    result = run(root, out, builders=[search_jobs])
    if not result.ok:
        raise SystemExit("the search page did not build")
    head = next(data for url, data in made if url == search_index.HEAD_PATH)
    return {
        "papers": len(library.papers),
        "index_build_s": round(build_s, 2),
        "index_files": len(made),
        "index_bytes": sum(len(data) for _, data in made),
        "head_bytes": len(head),
        "term_shards": sum(url.startswith("search/terms/") for url, _ in made),
        "paper_shards": sum(url.startswith("search/papers/") for url, _ in made),
    }


def first_queries(browser: Browser, site: Path) -> list[dict[str, Any]]:
    """Each query of the mix in a fresh page: pasted, typed, and from the address."""
    found = []
    with serve_folder(site, "/digest/") as server:
        page_url = server.url_for("search/")
        for query in QUERIES:
            for typing in (0, TYPING_MS):
                page, log = open_page(browser, page_url)
                page.wait_for_selector(READY, state="attached")
                timing = page.evaluate(MEASURE, [query, typing])
                found.append(
                    {
                        "query": query,
                        "entered": "typed" if typing else "pasted",
                        "bytes": downloaded(site, server.prefix, log.requested),
                        "cold_ms": round(timing["cold"], 1),
                        "warm_ms": round(timing["warm"], 1),
                        "status": timing["status"],
                    }
                )
                page.context.close()
        for address in ADDRESSES:
            page, log = open_page(browser, page_url + address)
            page.wait_for_selector(READY, state="attached")
            loaded_ms = page.evaluate("performance.now()")
            found.append(
                {
                    "query": address,
                    "entered": "address",
                    "bytes": downloaded(site, server.prefix, log.requested),
                    "cold_ms": round(loaded_ms, 1),  # from the page's start
                    "warm_ms": None,
                    "status": page.locator("#search-status").inner_text(),
                }
            )
            page.context.close()
    return found


# ------------------------------------------------------------------ Pagefind

PAGEFIND_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Pagefind</title></head>
<body><script type="module">
window.query = async (text) => {
  const pagefind = await import("./pagefind/pagefind.js");
  let start = performance.now();
  let search = await pagefind.search(text);
  await Promise.all(search.results.slice(0, 20).map(result => result.data()));
  const cold = performance.now() - start;
  start = performance.now();
  search = await pagefind.search(text);
  await Promise.all(search.results.slice(0, 20).map(result => result.data()));
  return {cold: cold, warm: performance.now() - start, count: search.results.length};
};
</script></body></html>
"""


def pagefind(root: Path, work: Path, browser: Browser, built: Path | None) -> dict[str, Any]:
    """Pagefind over the paper pages of the site (`built`, or built here): its cost, and
    the mix's first queries."""
    site = built or work / "site"
    started = time.perf_counter()
    if built is None and not run(root, site).ok:
        raise SystemExit("the site did not build; cannot run Pagefind")
    site_build_s = time.perf_counter() - started
    served = work / "pagefind-site"
    bundle = served / "pagefind"
    served.mkdir()
    command = [sys.executable, "-m", "pagefind", "--site", str(site)]
    command += ["--glob", "papers/*/index.html", "--output-path", str(bundle)]
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    index_s = time.perf_counter() - started
    (served / "index.html").write_text(PAGEFIND_PAGE, encoding="utf-8")
    files, size = folder_size(bundle)
    queries = []
    with serve_folder(served, "/") as server:
        for query in QUERIES:
            page, log = open_page(browser, server.url)
            timing = page.evaluate("text => window.query(text)", query)
            queries.append(
                {
                    "query": query,
                    "bytes": downloaded(served, "/", log.requested),
                    "cold_ms": round(timing["cold"], 1),
                    "warm_ms": round(timing["warm"], 1),
                    "results": timing["count"],
                }
            )
            page.context.close()
    return {
        "site_build_s": round(site_build_s, 1) if built is None else None,
        "index_s": round(index_s, 1),
        "files": files,
        "bytes": size,
        "queries": queries,
    }


# ------------------------------------------------------------------ the report


def summary(queries: list[dict[str, Any]]) -> dict[str, Any]:
    def spread(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 1), "max": round(max(values), 1)}

    found: dict[str, Any] = {"max_bytes": max(q["bytes"] for q in queries)}
    found["within_budget"] = found["max_bytes"] <= BUDGET
    found["cold_ms"] = spread([q["cold_ms"] for q in queries if q.get("entered") != "address"])
    found["warm_ms"] = spread([q["warm_ms"] for q in queries if q["warm_ms"] is not None])
    return found


@contextmanager
def corpus_root(args: argparse.Namespace, work: Path) -> Iterator[Path]:
    if args.root is not None:
        yield args.root
        return
    root = work / "digest"
    issues, papers = make_corpus(args.papers)
    write_digest(root, issues, papers)
    yield root


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--papers", type=int, default=10_000, help="the corpus to generate")
    parser.add_argument("--root", type=Path, help="a content root to read instead")
    parser.add_argument("--pagefind", action="store_true", help="also measure Pagefind")
    parser.add_argument(
        "--site", type=Path, help="with --pagefind: the content root's site, already built"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp, corpus_root(args, Path(temp)) as root:
        work = Path(temp)
        site = work / "search-site"
        report: dict[str, Any] = build_search(root, site)
        with launch_chromium() as browser:
            queries = first_queries(browser, site)
            report["queries"] = queries
            report["summary"] = summary(queries)
            if args.pagefind:
                found = pagefind(root, work, browser, args.site)
                found["summary"] = summary(found["queries"])
                report["pagefind"] = found
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
