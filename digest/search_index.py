"""The search index: the files templates/assets/search-core.js reads, split so that a
query loads only the parts it needs, and built from pieces kept in the store.

Every file is gzip-compressed by digest (hosts do not all compress binary files), and
search-core.js reads it with the browser's DecompressionStream. Papers are numbered oldest
issue first, in each issue's order (digest.organise), so a new issue leaves the
numbers of the older papers as they were.

`search/index.bin`, the head, read first (and revalidated on every page load):

    u32 (little-endian) length of the JSON part, the JSON part, then each paper's
    place in `facets`, in `facet_bytes` bytes (little-endian).

    {"version": 3, "papers": N, "token": "…",   # changes with any file of the index
     "topics": [[slug, title, description], …], "contributions": [[kind, label], …],
     "issues": [[date, paper count], …],       # oldest first: papers follow in this order
     "months": ["Jan.", …],                    # dates as pages write them
     "stop_words": […], "min_prefix": 3, "union_lengths": [3, 4],
     "short_words": […],                       # indexed words shorter than min_prefix
     "term_shards": [first term, …],           # terms/<i>.bin holds terms from the ith
     "paper_shard_size": 32,                   # papers/<i>.bin holds papers from i * 32
     "facets": [[topic numbers, flags], …],    # each distinct one, as papers have them
     "facet_bytes": 1}

    A paper's flags: bits 0-3 its contributions (in `CONTRIBUTIONS` order), bit 4 set
    when it links to code. The distinct (topics, flags) are few (a few hundred), and a
    paper's place among them compresses better than its topics and flags apart.

`search/terms/<i>.bin`, a contiguous range of the terms in sorted order (UTF-16 code
units, as JavaScript compares strings), each shard about `SHARD_BYTES` before
compression at most, unless one term alone is larger:

    u32 length of the JSON part, then {"terms": [term or [term, value as written], …],
    "sizes": [bytes of each term's postings, …]}, then the postings one after another.

A term's postings are a varint per paper that has it, in order: `(gap << 2) | class`,
where `gap` is how many papers lie between it and the one before (the first counts
from paper 0) and `class` the best field class the term is found in (digest.search;
digest.search_postings makes and merges them). Terms are words, `prefix*` unions and
the tag and author values (digest.search): a union is kept only where it saves a
quarter of its words' postings or more (`search_postings.UNION_SAVING`);
search-core.js reads those words where it is not.

`search/papers/<i>.bin`: a JSON array of the display rows (digest.search.display_row)
of the papers from i * `PAPER_SHARD_SIZE` on.

search-core.js fetches term and paper shards as `<file>?v=<token>`, so a browser never
mixes the files of two builds from its cache.

Building: each issue's piece (postings counted from its first paper, its papers'
topics and flags, their display rows) is kept in the store under the issue's digest,
each run of `GROUP` issues' merged piece under its issues' keys, and the whole
assembly (shards and columns) under the runs' keys. A rebuild after one edit makes
one issue's piece, merges its run and then the runs (merging postings only counts each
part's first gap again); files whose content is unchanged are kept.
"""

from __future__ import annotations

import bisect
import gzip
import json
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from digest import search
from digest.hashing import combine, digest_bytes
from digest.models import CONTRIBUTIONS
from digest.organise import IssueView, Library, entry_digest
from digest.pool import map_forked, worker_count
from digest.search_postings import Postings, is_word, issue_postings, kept_terms, merge
from digest.store import Store
from digest.wording import AP_MONTHS, CONTRIBUTION_LABELS

INDEX_VERSION = 3
HEAD_PATH = "search/index.bin"
TERMS_PATH = "search/terms/{}.bin"
PAPERS_PATH = "search/papers/{}.bin"
SHARD_BYTES = 48_000  # a term shard's size before compression (about 25 KB after)
PAPER_SHARD_SIZE = 32  # papers a display shard holds
GROUP = 16  # issues whose pieces are merged and kept together
MIN_PARALLEL = 64  # issues to index before worker processes pay for their start-up
# Postings compress little, and slowly: at level 4 term shards are 1% larger than at
# level 6, made in half the time (an edit rewrites most of them).
TERMS_LEVEL = 4


Facets = list[tuple[list[int], int]]  # distinct (topic numbers, flags) of papers


# ------------------------------------------------------------------ an issue's piece


@dataclass(frozen=True)
class Piece:
    """What one issue, or a run of them, gives the index: postings, the topics and
    flags columns of its papers, and (for one issue) their display rows."""

    postings: Postings
    topics: bytes
    flags: bytes
    rows: tuple[str, ...] = ()


def topic_bytes(library: Library) -> int:
    """The bytes a paper's topics take as bits, one a configured topic."""
    return max(1, (len(library.config.themes) + 7) // 8)


def issue_piece(view: IssueView, topics: Sequence[str], width: int) -> Piece:
    """Index one issue."""
    papers: list[dict[str, int]] = []
    names: dict[str, str] = {}
    topic_column = bytearray()
    flags = bytearray()
    rows = []
    for entry in view.papers:
        terms, row = search.paper_part(entry)
        paper = entry.paper
        for mark, values in ((search.TAG, paper.tags), (search.AUTHOR, paper.authors)):
            for term, value in search.facet_terms(mark, values):
                terms[term] = search.NAMES
                names.setdefault(term, value)
        papers.append(terms)
        rows.append(row)
        topic_bits, flag = search.facet_bits(entry, topics)
        topic_column += topic_bits.to_bytes(width, "little")
        flags.append(flag)
    return Piece(issue_postings(papers, names), bytes(topic_column), bytes(flags), tuple(rows))


def merge_pieces(pieces: Sequence[Piece]) -> Piece:
    """Several issues' pieces, oldest first, as one (without display rows)."""
    return Piece(
        merge([piece.postings for piece in pieces]),
        b"".join(piece.topics for piece in pieces),
        b"".join(piece.flags for piece in pieces),
    )


# ------------------------------------------------------------------ shards


@dataclass(frozen=True)
class TermShard:
    first: str
    content: bytes  # before compression

    @cached_property
    def key(self) -> str:
        return digest_bytes(self.content)


def _with_length(header: object, rest: bytes) -> bytes:
    text = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    return struct.pack("<I", len(text)) + text + rest


def term_shards(postings: Postings, terms: list[str]) -> list[TermShard]:
    """The kept terms (`terms` are the postings') cut into shards of about `SHARD_BYTES`."""
    lengths, names = postings.lengths, postings.names
    offsets = [0]
    for length in lengths:
        offsets.append(offsets[-1] + length)
    data = memoryview(postings.data)
    shards: list[TermShard] = []
    chosen: list[int] = []
    size = 0

    def entry(at: int) -> str | list[str]:
        term = terms[at]
        return [term, names[term]] if term in names else term

    def cut() -> None:
        header = {
            "terms": [entry(i) for i in chosen],
            "sizes": [lengths[i] for i in chosen],
        }
        body = b"".join(data[offsets[i] : offsets[i + 1]] for i in chosen)
        shards.append(TermShard(terms[chosen[0]], _with_length(header, body)))

    for at in kept_terms(terms, lengths):
        weight = lengths[at] + len(terms[at]) + 8
        if chosen and size + weight > SHARD_BYTES:
            cut()
            chosen, size = [], 0
        chosen.append(at)
        size += weight
    if chosen:
        cut()
    return shards


@dataclass(frozen=True)
class Assembly:
    """What every issue's piece makes together: the term shards, the indexed words
    shorter than `MIN_PREFIX`, the distinct facets of papers and each paper's."""

    shards: list[TermShard]
    short: list[str]
    facets: Facets
    column: bytes  # each paper's place in `facets`, in `facet_bytes` bytes


def assemble(groups: Sequence[Piece], width: int) -> Assembly:
    """The whole index from its groups' pieces, oldest first; `width` is the number of
    bytes of a paper's topics."""
    if not groups:
        return Assembly([], [], [], b"")
    whole = merge_pieces(groups)
    terms = whole.postings.terms
    short = [term for term in terms if len(term) < search.MIN_PREFIX and is_word(term)]
    facets, column = facet_column(whole.topics, whole.flags, width)
    return Assembly(term_shards(whole.postings, terms), short, facets, column)


def facet_column(topics: bytes, flags: bytes, width: int) -> tuple[Facets, bytes]:
    """The distinct (topics, flags) of papers in the order first met, and each paper's
    place among them in `facet_bytes` bytes (little-endian): smaller, compressed, than
    its topics and flags apart, since they are not independent."""
    seen: dict[tuple[bytes, int], int] = {}
    places: list[int] = []
    for number, flag in enumerate(flags):
        found = (topics[number * width : (number + 1) * width], flag)
        place = seen.get(found)
        if place is None:
            place = seen[found] = len(seen)
        places.append(place)
    facets = []
    for bits, flag in seen:
        value = int.from_bytes(bits, "little")
        facets.append(([n for n in range(width * 8) if value >> n & 1], flag))
    size = facet_bytes(facets)
    if size == 1:
        return facets, bytes(places)
    return facets, b"".join(place.to_bytes(size, "little") for place in places)


def facet_bytes(facets: Sequence[object]) -> int:
    """The bytes of a paper's place among the distinct facets."""
    return 1 if len(facets) <= 1 << 8 else 2 if len(facets) <= 1 << 16 else 4


def compressed(content: bytes, level: int = 6) -> bytes:
    """`content` as the index's files hold it: gzip, with no time stamp."""
    return gzip.compress(content, compresslevel=level, mtime=0)


# ------------------------------------------------------------------ the whole index


@dataclass(frozen=True)
class IndexFile:
    """One file of the index: its url, the key of what it holds, and its content."""

    url: str
    key: str
    make: Callable[[], bytes]


class IndexBuilder:
    """The index of one build's library, from the pieces the store keeps (`store` may be
    None: everything is then made here)."""

    def __init__(self, library: Library, store: Store | None, site_key: str) -> None:
        self.library = library
        self.store = store
        self.site_key = site_key
        self.topics = [theme.slug for theme in library.config.themes]
        self.width = topic_bytes(library)
        self.issues = library.issues[::-1]  # oldest first: the index's order
        self.piece_keys = [combine("search-issue", site_key, view.digest) for view in self.issues]
        self._pieces: dict[int, Piece] = {}

    # -- pieces, from the store or made now

    def _stored(self, keys: list[str]) -> dict[str, Piece]:
        if self.store is None:
            return {}
        found = self.store.values(keys)
        return {key: value for key, value in found.items() if isinstance(value, Piece)}

    def pieces(self, numbers: Sequence[int]) -> list[Piece]:
        """The pieces of the issues `numbers` (the store's, or made over worker
        processes when many are missing)."""
        wanted = [n for n in numbers if n not in self._pieces]
        stored = self._stored([self.piece_keys[n] for n in wanted])
        missing = [n for n in wanted if self.piece_keys[n] not in stored]
        for number in wanted:
            if self.piece_keys[number] in stored:
                self._pieces[number] = stored[self.piece_keys[number]]
        workers = worker_count(len(missing), MIN_PARALLEL)
        for share in map_forked(self._make_pieces, missing, workers):
            for number, piece in share:
                self._pieces[number] = piece
                if self.store is not None:
                    self.store.keep(self.piece_keys[number], piece)
        return [self._pieces[n] for n in numbers]

    def _make_pieces(self, numbers: Sequence[int]) -> list[tuple[int, Piece]]:
        return [(n, issue_piece(self.issues[n], self.topics, self.width)) for n in numbers]

    def _keep(self, keys: Sequence[str]) -> None:
        """Keep these objects in the store without reading them: a piece merged into a
        group read from the store is still wanted after the next edit."""
        if self.store is not None:
            self.store.keep_known(keys)

    def groups(self, runs: Sequence[range], keys: Sequence[str]) -> list[Piece]:
        """The merged piece of each run of issues (`keys` are theirs), oldest first."""
        stored = self._stored(list(keys))
        self._keep(self.piece_keys)
        # The pieces of every run to merge, asked for at once: when many are missing (a
        # first build), they are made over the worker processes.
        self.pieces(
            [n for run, key in zip(runs, keys, strict=True) if key not in stored for n in run]
        )
        found = []
        for run, key in zip(runs, keys, strict=True):
            group = stored.get(key)
            if group is None:
                group = merge_pieces(self.pieces(list(run)))
                if self.store is not None:
                    self.store.keep(key, group)
            found.append(group)
        return found

    def assembly(self) -> Assembly:
        """The whole index's terms and columns: from the store when no issue changed,
        else merged from the runs of `GROUP` issues (each from the store unless one of
        its issues changed)."""
        count = len(self.issues)
        runs = [range(start, min(start + GROUP, count)) for start in range(0, count, GROUP)]
        keys = [combine("search-group", *(self.piece_keys[n] for n in run)) for run in runs]
        key = combine("search-index", *keys)
        stored = self.store.value(key) if self.store is not None else None
        if isinstance(stored, Assembly):
            self._keep([*keys, *self.piece_keys])
            return stored
        made = assemble(self.groups(runs, keys), self.width)
        if self.store is not None:
            self.store.keep(key, made)
        return made

    # -- the files

    def files(self) -> list[IndexFile]:
        made = self.assembly()
        papers = [entry for view in self.issues for entry in view.papers]
        paper_keys = [
            combine(*map(entry_digest, papers[start : start + PAPER_SHARD_SIZE]))
            for start in range(0, len(papers), PAPER_SHARD_SIZE)
        ]
        # What every file holds, with the tool and settings that wrote it (the site's key).
        token = combine(self.site_key, *(shard.key for shard in made.shards), *paper_keys)[:16]
        head = self.head(made, token)
        files = [IndexFile(HEAD_PATH, digest_bytes(head), lambda: compressed(head))]
        for number, shard in enumerate(made.shards):
            files.append(
                IndexFile(TERMS_PATH.format(number), shard.key, _term_shard_maker(shard.content))
            )
        for number, key in enumerate(paper_keys):
            make = _paper_shard_maker(self, number)
            files.append(IndexFile(PAPERS_PATH.format(number), key, make))
        return files

    def head(self, made: Assembly, token: str) -> bytes:
        """The head's content (see the module docstring)."""
        config = self.library.config
        header = {
            "version": INDEX_VERSION,
            "papers": len(made.column) // facet_bytes(made.facets),
            "token": token,
            "topics": [[t.slug, t.title, t.description] for t in config.themes],
            "contributions": [[kind, CONTRIBUTION_LABELS[kind]] for kind in CONTRIBUTIONS],
            "issues": [[view.slug, len(view.papers)] for view in self.issues],
            "months": list(AP_MONTHS),
            "stop_words": sorted(search.STOP_WORDS),
            "min_prefix": search.MIN_PREFIX,
            "union_lengths": list(search.UNION_LENGTHS),
            "short_words": made.short,
            "term_shards": [shard.first for shard in made.shards],
            "paper_shard_size": PAPER_SHARD_SIZE,
            "facets": made.facets,
            "facet_bytes": facet_bytes(made.facets),
        }
        return _with_length(header, made.column)

    def shard_rows(self, number: int) -> bytes:
        """The display rows of the `number`th paper shard, as its JSON array."""
        start = number * PAPER_SHARD_SIZE
        end = start + PAPER_SHARD_SIZE
        ends = self.ends
        rows: list[str] = []
        issue = bisect.bisect_right(ends, start)  # the first issue with a paper from `start`
        while issue < len(ends) and ends[issue] - len(self.issues[issue].papers) < end:
            first = ends[issue] - len(self.issues[issue].papers)
            rows += self.pieces([issue])[0].rows[max(start - first, 0) : end - first]
            issue += 1
        return ("[" + ",".join(rows) + "]").encode()

    @cached_property
    def ends(self) -> list[int]:
        """Each issue's end: the number after its last paper."""
        found = []
        total = 0
        for view in self.issues:
            total += len(view.papers)
            found.append(total)
        return found


def _term_shard_maker(content: bytes) -> Callable[[], bytes]:
    return lambda: compressed(content, TERMS_LEVEL)


def _paper_shard_maker(builder: IndexBuilder, number: int) -> Callable[[], bytes]:
    return lambda: compressed(builder.shard_rows(number))


def index_files(
    library: Library, store: Store | None = None, site_key: str = ""
) -> list[IndexFile]:
    """Every file of the search index, each with its key."""
    return IndexBuilder(library, store, site_key).files()
