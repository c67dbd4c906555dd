"""Names: which spellings are one tag or author, and the slug of each name's page."""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.names import assign_slugs, name_key, own_slug, plain_slug

from .conftest import examples

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slugs_of(*names: str) -> dict[str, str]:
    """Each name's slug, among these names."""
    keys = {name: name_key(name) for name in names}
    slugs, _ = assign_slugs({key: plain_slug(key) for key in keys.values()})
    return {name: slugs[key] for name, key in keys.items()}


def test_names_differing_only_in_case_or_whitespace_are_one_name() -> None:
    assert name_key("Ada Lovelace") == name_key("ada  lovelace") == name_key(" ADA\tLovelace ")
    assert name_key("Training-Free") == name_key("training-free")
    assert len(set(slugs_of("Ada Lovelace", "ada lovelace").values())) == 1


def test_names_differing_in_diacritics_are_different_names() -> None:
    assert name_key("José García") != name_key("Jose Garcia")
    # The same letters, composed or decomposed, are the same name.
    assert name_key("Jos\u00e9") == name_key("Jose\u0301")


def test_a_slug_folds_accents_case_and_punctuation() -> None:
    assert plain_slug("José García") == "jose-garcia"
    assert plain_slug("Björn Müller") == "bjorn-muller"
    assert plain_slug("Łukasz Øster-Straße") == "lukasz-oster-strasse"
    assert plain_slug("Training\u2013Free  (3D)") == "training-free-3d"
    assert plain_slug("C++") == "c"
    assert plain_slug("李明") == ""
    assert plain_slug("+++") == ""


def test_two_names_with_one_plain_slug_get_two_pages() -> None:
    found = slugs_of("José García", "Jose Garcia", "JOSÉ GARCÍA")
    # "Jose Garcia" comes first in code-point order and keeps the plain slug; "José
    # García" (whatever its case) gets a suffix made from its own name.
    assert found["Jose Garcia"] == "jose-garcia"
    assert found["José García"] == found["JOSÉ GARCÍA"]
    assert re.fullmatch(r"jose-garcia-[0-9a-f]{4}", found["José García"])


def test_a_name_alone_keeps_its_plain_slug_accents_and_all() -> None:
    assert slugs_of("José García") == {"José García": "jose-garcia"}


def test_slugs_do_not_depend_on_the_order_names_come_in() -> None:
    names = ["José García", "Jose Garcia", "Jose-Garcia", "jose garcía", "Ada", "ada", "李明"]
    first = slugs_of(*names)
    for seed in range(5):
        shuffled = names[:]
        random.Random(seed).shuffle(shuffled)
        assert slugs_of(*shuffled) == first


def test_only_slugs_another_name_took_are_displaced() -> None:
    plain = {key: plain_slug(key) for key in ("jose garcia", "josé garcía", "ada")}
    slugs, displaced = assign_slugs(plain)
    assert displaced == {"josé garcía": slugs["josé garcía"]}
    assert slugs["ada"] == "ada"


def test_a_name_without_ascii_letters_gets_a_slug_of_its_own() -> None:
    found = slugs_of("李明", "王芳", "+++")
    assert len(set(found.values())) == 3
    assert all(re.fullmatch(r"n-[0-9a-f]{8}", slug) for slug in found.values())
    assert own_slug(name_key("李明")) == found["李明"]


def test_page_is_never_a_slug() -> None:
    """tags/page/ holds the pages of the index of tags."""
    assert slugs_of("Page")["Page"] != "page"
    assert slugs_of("Larry Page")["Larry Page"] == "larry-page"


def test_a_suffix_another_name_already_has_grows_longer() -> None:
    taken = slugs_of("Jose Garcia", "José García")["José García"]  # jose-garcia-XXXX
    clash = taken.replace("-", " ")  # a name whose plain slug is exactly that
    found = slugs_of("Jose Garcia", "José García", clash)
    assert found[clash] == taken  # it is that name's own slug: it keeps it
    assert re.fullmatch(rf"{taken}[0-9a-f]{{4}}", found["José García"])


names = st.lists(
    st.text(alphabet="aAáÁeéoøß -\u2013.+李 ", min_size=1, max_size=8).filter(str.strip),
    max_size=12,
)


@settings(max_examples=examples(200))
@given(names)
def test_every_name_gets_one_safe_slug_and_no_two_names_share_one(spellings: list[str]) -> None:
    found = slugs_of(*spellings)
    by_key: dict[str, set[str]] = {}
    for name, slug in found.items():
        assert SLUG.fullmatch(slug), slug
        assert slug != "page"
        by_key.setdefault(name_key(name), set()).add(slug)
    assert all(len(slugs) == 1 for slugs in by_key.values())  # one name, one page
    distinct = [next(iter(slugs)) for slugs in by_key.values()]
    assert len(distinct) == len(set(distinct))  # two names, two pages
