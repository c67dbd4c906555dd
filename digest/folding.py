"""Folding: text as search compares it and as the slugs of tag and author pages spell it.

`fold`: compatibility forms decomposed (NFKD), accents and other marks removed, lower
case, then `FOLDS`. The search (digest.search, and templates/assets/search-core.js with
the same table) matches folded words; digest.names makes slugs of folded names.
"""

from __future__ import annotations

import unicodedata

# What NFKD, removing marks and lower case leave apart but a reader takes as the same:
# letters spelled two ways, the multiplication sign (U+00D7, as a speed-up is written),
# final sigma, and the dashes and hyphens (non-breaking, en, em, minus, ...), all made
# the ASCII hyphen.
# templates/assets/search-core.js holds the same table.
FOLDS = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ð": "d",
    "þ": "th",
    "\u0131": "i",  # dotless i
    "\u03c2": "\u03c3",  # final sigma, sigma
    "\u00d7": "x",  # the multiplication sign
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d", "-"),
}
_FOLD_TABLE = str.maketrans(FOLDS)


def fold(text: str) -> str:
    """The text folded: see the module docstring."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return bare.lower().translate(_FOLD_TABLE)
