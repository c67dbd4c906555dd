"""Search postings: which papers hold each term of the search index, in the compact form
digest.search_index writes into its term shards and templates/assets/search-core.js
reads.

A term's postings are a varint per paper that has it, in order: `(gap << 2) | class`,
where `gap` is how many papers lie between it and the one before (the first counts
from the first paper of the run the postings cover) and `class` the best field class
the term is found in (digest.search). Postings are made for one issue's papers, then
merged run by run: joining two runs' postings of a term only counts the second's first
gap again, from the term's last paper in the first.

Terms are ordered as JavaScript compares strings (UTF-16 code units), so that
search-core.js finds a term's shard by comparing it with each shard's first term.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, groupby

from digest import search

# A union is kept when its words' postings are at least this large and it saves at
# least a quarter of them.
UNION_MIN_BYTES = 2048
UNION_SAVING = 0.75


@dataclass(frozen=True)
class Postings:
    """The postings of `papers` consecutive papers: terms in search-core.js's order, each
    with its postings (`lengths[i]` bytes of `data`, in order, gaps counted from the
    first of these papers) and the numbers of its first and last paper here; and the
    facet values as written, by term. The terms are kept as one text, a term a line:
    the store holds thousands of these, and a build of 100,000 papers would otherwise
    hold millions of small strings."""

    papers: int
    lines: str
    lengths: array[int]
    firsts: array[int]
    lasts: array[int]
    data: bytes
    names: dict[str, str]

    @property
    def terms(self) -> list[str]:
        return self.lines.split("\n") if self.lines else []


def _varint(value: int, out: bytearray) -> None:
    while value > 127:
        out.append(value & 127 | 128)
        value >>= 7
    out.append(value)


def _encode(codes: list[int]) -> bytes:
    """A term's postings from its `local << 2 | class` codes, in order. (Most words of
    an issue are in one of its papers: `issue_postings` writes those itself.)"""
    # The gap before a paper, shifted, is its code less the code the next paper after
    # the one before would start at.
    values = [
        code - ((previous >> 2) + 1 << 2)
        for previous, code in zip([-4, *codes], codes, strict=False)
    ]
    if max(values) < 128:  # nearly every other list
        return bytes(values)
    out = bytearray()
    for value in values:
        _varint(value, out)
    return bytes(out)


def term_order(terms: Sequence[str]) -> list[str]:
    """`terms` sorted as JavaScript compares strings (by UTF-16 code units): as Python
    does, unless a character lies beyond the Basic Multilingual Plane."""
    if not terms or max("".join(terms)) <= "\uffff":
        return sorted(terms)
    return sorted(terms, key=_utf16_key)


def issue_postings(papers: Sequence[dict[str, int]], names: dict[str, str]) -> Postings:
    """The postings of one issue's papers (each a term → class mapping, in the issue's
    order), with the unions of its words."""
    codes: dict[str, list[int]] = {}
    for local, terms in enumerate(papers):
        base = local << 2
        for term, kind in terms.items():
            found = codes.get(term)
            if found is None:
                codes[term] = [base | kind]
            else:
                found.append(base | kind)
    for union, words in _union_words(codes):
        if len(words) == 1:  # one word of the issue starts so: it is the union
            codes[union] = codes[words[0]]
            continue
        # Sorted, a paper's codes come best class first: keep the first of each paper.
        merged = sorted(chain.from_iterable(codes[word] for word in words))
        codes[union] = [
            code
            for before, code in zip([-4, *merged], merged, strict=False)
            if code >> 2 != before >> 2
        ]
    ordered = term_order(list(codes))
    lists = [codes[term] for term in ordered]
    encoded = [
        bytes(found) if found[-1] < 128 and len(found) == 1 else _encode(found) for found in lists
    ]
    return Postings(
        len(papers),
        "\n".join(ordered),
        array("I", map(len, encoded)),
        array("I", [found[0] >> 2 for found in lists]),
        array("I", [found[-1] >> 2 for found in lists]),
        b"".join(encoded),
        names,
    )


def _union_words(codes: dict[str, list[int]]) -> Iterator[tuple[str, list[str]]]:
    """Each union term of these words, with the words it stands for."""
    words = sorted(term for term in codes if is_word(term))
    for length in search.UNION_LENGTHS:
        long_enough = (word for word in words if len(word) >= length)
        for prefix, group in groupby(long_enough, key=lambda word: word[:length]):
            yield prefix + search.UNION, list(group)


def merge(parts: Sequence[Postings]) -> Postings:
    """The postings of consecutive runs of papers, given oldest first: each term's
    postings joined in that order (the first gap of each part counted again from the
    term's last paper before it), and the newest part's spelling of each facet value."""
    if len(parts) == 1:
        return parts[0]
    joined: dict[str, _Joined] = {}
    names: dict[str, str] = {}
    offset = 0
    for part in parts:
        data = part.data
        at = 0
        for term, length, first, last in zip(
            part.terms, part.lengths, part.firsts, part.lasts, strict=True
        ):
            end = at + length
            # The part's first gap is `first` (its varint's low bits hold the class,
            # whatever its length); here it is counted from the term's last paper.
            kind = data[at] & 3
            value = first << 2 | kind
            start = at + (1 if value < 128 else 2 if value < 16384 else _varint_length(value))
            found = joined.get(term)
            if found is None:
                found = joined[term] = _Joined(bytearray(), offset + first, offset + last)
                code = value + (offset << 2)
            else:
                code = (offset + first - found.last - 1) << 2 | kind
                found.last = offset + last
            postings = found.postings
            if code < 128:
                postings.append(code)
            elif code < 16384:  # a gap past the papers of the parts between
                postings.append(code & 127 | 128)
                postings.append(code >> 7)
            else:
                _varint(code, postings)
            postings += data[start:end]
            at = end
        names.update(part.names)
        offset += part.papers
    ordered = term_order(list(joined))
    found_in_order = [joined[term] for term in ordered]
    return Postings(
        offset,
        "\n".join(ordered),
        array("I", [len(found.postings) for found in found_in_order]),
        array("I", [found.first for found in found_in_order]),
        array("I", [found.last for found in found_in_order]),
        b"".join(found.postings for found in found_in_order),
        names,
    )


class _Joined:
    """A term's postings as `merge` joins them, and its first and last paper."""

    __slots__ = ("first", "last", "postings")

    def __init__(self, postings: bytearray, first: int, last: int) -> None:
        self.postings = postings
        self.first = first
        self.last = last


def _varint_length(value: int) -> int:
    """The bytes `value` takes as a varint."""
    return 1 if value < 128 else 2 if value < 16384 else (value.bit_length() + 6) // 7


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    _varint(value, out)
    return bytes(out)


def kept_terms(terms: list[str], lengths: array[int]) -> list[int]:
    """The positions of the terms the index keeps: every term but the unions that do
    not pay for themselves. A union (`prefix*`, digest.search) is kept when it stands
    for two words or more whose postings are `UNION_MIN_BYTES` or more together, and is
    at most `UNION_SAVING` of their size; otherwise search-core.js reads the words."""
    # Sizes and counts of the words alone, summed, to weigh a union against its words.
    sizes = [0]
    counts = [0]
    size = count = 0
    for term, length in zip(terms, lengths, strict=True):
        if term[0].isalnum() and term[-1] != search.UNION:  # a word
            size += length
            count += 1
        sizes.append(size)
        counts.append(count)
    # Python orders strings as JavaScript does unless one has a character beyond the
    # Basic Multilingual Plane (`term_order`).
    plain = not terms or max("".join(terms)) <= "\uffff"
    kept = []
    for at, term in enumerate(terms):
        if term.endswith(search.UNION):
            prefix = term[:-1]
            low = at - 1 if at and terms[at - 1] == prefix else at
            end = prefix + "\uffff"
            if plain:
                high = bisect.bisect_left(terms, end, lo=at)
            else:
                high = bisect.bisect_left(terms, _utf16_key(end), lo=at, key=_utf16_key)
            words_size = sizes[high] - sizes[low]
            if counts[high] - counts[low] < 2 or words_size < UNION_MIN_BYTES:
                continue
            if lengths[at] > words_size * UNION_SAVING:
                continue
        kept.append(at)
    return kept


def is_word(term: str) -> bool:
    """Whether the term is a word (not a union or a facet value)."""
    return term[0].isalnum() and not term.endswith(search.UNION)


def _utf16_key(term: str) -> bytes:
    return term.encode("utf-16-be", "surrogatepass")
