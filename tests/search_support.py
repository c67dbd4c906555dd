"""Helpers of the search tests: the index of a content root written to a folder, read
back in Python, and searched by templates/assets/search-core.js in Node."""

from __future__ import annotations

import gzip
import json
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from digest import search_index
from digest.content import load_content
from digest.organise import Library, organise

SCRIPT = Path(__file__).resolve().parent.parent / "templates" / "assets" / "search-core.js"
NO_FILTERS: dict[str, Any] = {
    "topic": "",
    "contribution": "",
    "issue": "",
    "year": "",
    "tag": "",
    "author": "",
    "code": False,
}


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None
    return organise(content.config, content.issues, content.papers)


def write_index(library: Library, folder: Path) -> Path:
    """The library's search index written under `folder` (as a site holds it); the
    folder of the site."""
    shutil.rmtree(folder, ignore_errors=True)
    for made in search_index.index_files(library):
        path = folder / made.url
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(made.make())
    return folder


# ------------------------------------------------------------------ reading it in Python


def split(content: bytes) -> tuple[Any, bytes]:
    """A file's JSON part and the bytes after it."""
    (length,) = struct.unpack_from("<I", content)
    return json.loads(content[4 : 4 + length]), content[4 + length :]


def read_file(site: Path, url: str) -> bytes:
    return gzip.decompress((site / url).read_bytes())


@dataclass
class Term:
    name: str  # the value as written, for a tag or an author; else ""
    postings: list[tuple[int, int]]  # (paper number, class)


def read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 127) << shift
        shift += 7
        if byte < 128:
            return value, at


def decode(data: bytes) -> list[tuple[int, int]]:
    """A term's postings (the format of digest.search_index): (paper number, class)."""
    found = []
    at = 0
    paper = -1
    while at < len(data):
        value, at = read_varint(data, at)
        paper += (value >> 2) + 1
        found.append((paper, value & 3))
    return found


@dataclass
class ReadIndex:
    head: dict[str, Any]
    facets: list[tuple[list[int], int]]  # each paper's topic numbers and flags
    terms: dict[str, Term]
    shard_of: dict[str, int]  # the shard each term is in
    rows: list[list[Any]]  # every paper's display row, by number


def read_index(site: Path) -> ReadIndex:
    head, column = split(read_file(site, search_index.HEAD_PATH))
    count, size = head["papers"], head["facet_bytes"]
    assert len(column) == count * size
    places = [int.from_bytes(column[n * size : (n + 1) * size], "little") for n in range(count)]
    facets = [(head["facets"][place][0], head["facets"][place][1]) for place in places]
    terms: dict[str, Term] = {}
    shard_of = {}
    for number in range(len(head["term_shards"])):
        header, data = split(read_file(site, search_index.TERMS_PATH.format(number)))
        at = 0
        for entry, length in zip(header["terms"], header["sizes"], strict=True):
            term, name = (entry, "") if isinstance(entry, str) else entry
            terms[term] = Term(name, decode(data[at : at + length]))
            shard_of[term] = number
            at += length
    rows: list[list[Any]] = []
    for number in range(-(-count // head["paper_shard_size"])):
        rows += json.loads(read_file(site, search_index.PAPERS_PATH.format(number)))
    return ReadIndex(head, facets, terms, shard_of, rows)


# ------------------------------------------------------------------ searching it in Node


def run_node(program: str, data: Any = None, site: Path | None = None) -> Any:
    """Run `program` in Node with `core` (search-core.js), `input` (`data`) and, given
    a `site`, `index` (its search index, opened) defined, and `loaded`, the files read;
    it sets `output`, which comes back as JSON. The program may `await`."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to run templates/assets/search-core.js outside a browser")
    script = f"""
const core = require(process.argv[1]);
const fs = require("fs");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const loaded = [];
const load = (path, fresh) => {{
  loaded.push(path);
  return core.gunzip(fs.readFileSync(process.argv[2] + "/search/" + path.split("?")[0]));
}};
(async () => {{
  let output = null;
  const index = process.argv[2] ? await core.open(load) : null;
  {program}
  process.stdout.write(JSON.stringify(output));
}})().catch(problem => {{ console.error(problem.stack); process.exit(1); }});
"""
    done = subprocess.run(
        [node, "-e", script, str(SCRIPT), str(site or "")],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"node failed:\n{done.stderr}")
    return json.loads(done.stdout)


SEARCHES = """
const byName = (names, counts) => Object.fromEntries(
  names.map((name, i) => [name, counts[i]]).filter(([, n]) => n > 0));
output = [];
for (const [query, filters, suggest] of input) {
  const found = await index.search(query, filters);
  const rows = await index.rows(Array.from(found.papers));
  const c = found.counts;
  const suggested = {};
  for (const [facet, typed] of Object.entries(suggest || {})) {
    suggested[facet] = (await index.suggest(facet, typed, found, 1000)).values;
  }
  output.push({
    ids: rows.map(row => row.id), terms: found.terms, common: found.common,
    unknown: found.unknown, any: c.any, code: c.code,
    topic: byName(index.topics.map(t => t.slug), c.topic),
    contribution: byName(index.contributions.map(k => k.value), c.contribution),
    issue: byName(index.issues.map(i => i.date), c.issue),
    year: byName(index.years, c.year),
    suggested: suggested,
  });
}
"""


def run_searches(site: Path, queries: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Each query's result: the ids found in order, the words searched and left out,
    the facet counts by value (topics by slug, issues by date), and for each
    (facet → typed text) asked, the filter's suggestions ({name, count})."""
    asked = [[query, {**NO_FILTERS, **filters}, *rest] for query, filters, *rest in queries]
    result: list[dict[str, Any]] = run_node(SEARCHES, asked, site)
    return result


def ids_of(site: Path, query: str, **filters: Any) -> list[str]:
    found: list[str] = run_searches(site, [(query, filters)])[0]["ids"]
    return found
