"""Names: when two tags (or two authors) are the same name, and the slug of each name's page.

Two spellings are the same name when they differ only in case or in whitespace
("Ada  Lovelace", "ada lovelace"): `name_key` is what they share. Anything else makes a
different name, diacritics included: "José García" and "Jose Garcia" are two people.

A name's slug is its `plain_slug`: compatibility forms decomposed (NFKD), marks removed,
the search's extra folds (`digest.folding`: ß → ss, ø → o, every dash → "-", ...),
lower case, and each run of anything but ASCII letters and digits made one "-". Different
names never share a page (`assign_slugs`): among names with the same plain slug, the first
in code-point order of its key keeps it and each other gets a suffix made from its own key
(`jose-garcia-3f9a`). A name with no ASCII letter or digit to make a slug of (李明, "+++")
gets one made of its key alone (`n-5f2c81d0`). `page` is never a name's slug: `tags/page/`
holds the pages of the tag index itself.
"""

from __future__ import annotations

import re
import unicodedata

from digest.folding import fold
from digest.hashing import combine

RESERVED = frozenset({"page"})  # folders a listing's own pages use (permalinks.page_path)
SUFFIX_LENGTH = 4  # hex digits of the suffix that sets apart names with one plain slug
KEY_SLUG_LENGTH = 8  # hex digits of the slug of a name with no plain slug
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def name_key(name: str) -> str:
    """What the spellings of one name share: NFC, whitespace runs made one space, casefolded."""
    spaced = " ".join(name.split())
    if spaced.isascii():
        return spaced.lower()
    return unicodedata.normalize("NFC", spaced).casefold()


def plain_slug(name: str) -> str:
    """The name in lowercase ASCII letters, digits and single hyphens ("" if none are left)."""
    return _NOT_ALNUM.sub("-", fold(name)).strip("-")


def _key_hash(key: str, length: int) -> str:
    return combine("name", key)[:length]


def own_slug(key: str, plain: str | None = None) -> str:
    """The slug a name has when no other name shares its plain slug (`plain`, when the
    caller has it already)."""
    plain = plain_slug(key) if plain is None else plain
    return plain if plain and plain not in RESERVED else f"n-{_key_hash(key, KEY_SLUG_LENGTH)}"


def assign_slugs(plain_slugs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A distinct slug for each name key of `plain_slugs` (key → its `plain_slug`), the
    same for the same keys whatever their order: the first key of each `own_slug` (in
    code-point order) keeps it, the others get a suffix made from their own key, as long
    as it takes to be unique. Returns every key's slug, and apart those that are not the
    key's own slug: they alone depend on which other names there are."""
    slugs: dict[str, str] = {}
    taken: set[str] = set(RESERVED)
    later: list[tuple[str, str]] = []
    for key in sorted(plain_slugs):
        slug = own_slug(key, plain_slugs[key])
        if slug in taken:
            later.append((key, slug))
        else:
            slugs[key] = slug
            taken.add(slug)
    displaced: dict[str, str] = {}
    for key, stem in later:
        slug = slugs[key] = displaced[key] = _suffixed(key, stem, taken)
        taken.add(slug)
    return slugs, displaced


def _suffixed(key: str, stem: str, taken: set[str]) -> str:
    """`<stem>-<hex>` with the fewest hex digits of the key's hash that no other name's
    slug has; in the end the whole hash, then a count."""
    whole = _key_hash(key, 40)
    for length in range(SUFFIX_LENGTH, len(whole) + 1, 4):
        slug = f"{stem}-{whole[:length]}"
        if slug not in taken:
            return slug
    number = 2
    while f"{stem}-{whole}-{number}" in taken:
        number += 1
    return f"{stem}-{whole}-{number}"
