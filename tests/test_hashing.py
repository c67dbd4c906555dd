"""The one hash that tells contents apart."""

from __future__ import annotations

import hashlib

from digest.hashing import combine, digest_bytes, tool_fingerprint


def test_digest_bytes_is_the_hex_digest_of_the_bytes() -> None:
    assert digest_bytes(b"") == hashlib.sha1(b"").hexdigest()
    assert digest_bytes(b"a") != digest_bytes(b"b")
    assert len(digest_bytes(b"a")) == 40


def test_combine_is_order_sensitive_and_unambiguous() -> None:
    assert combine("a", "b") == combine("a", "b")
    assert combine("a", "b") != combine("b", "a")
    assert combine("ab", "c") != combine("a", "bc")
    assert combine("a\0b") != combine("a", "b")
    assert combine("1:a") != combine("a")  # the length before each part is not confused
    assert combine() != combine("") != combine("", "")
    assert len({combine("x" * n, "x" * (3 - n)) for n in range(4)}) == 4


def test_combine_takes_any_text() -> None:
    assert combine("caf\u00e9") != combine("cafe")
    assert combine("\udcff") != combine("\udcfe")  # a name that is not UTF-8: no error


def test_the_tool_fingerprint_is_taken_once() -> None:
    assert tool_fingerprint() == tool_fingerprint()
    assert len(tool_fingerprint()) == 40
