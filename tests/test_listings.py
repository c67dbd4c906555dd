"""Listings: the tag and author pages, the paginated topic, tag, author and issue
listings, the links to them from cards and paper pages, and the switches that turn tag
and author pages off."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from posixpath import normpath
from urllib.parse import urljoin

import pytest

from digest import listing_pages, wording
from digest.build import run
from digest.listing_views import NameLink, author_line
from digest.pages import HOME_ARCHIVE, PAGE_BUILDERS
from digest.reader_outputs import sitemap_jobs

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

BASE = "https://example.org/digest"
CONFIG = f'title = "Digest"\nbase_url = "{BASE}"\n'


def entry(title: str, tags: str, authors: str, themes: str = "[acceleration]") -> str:
    return paper_yaml(title=f'"{title}"', tags=tags, authors=authors, themes=themes)


# Three issues. Within an issue papers are in title order: a1 before a2, b2 (Delta)
# before b1 (Gamma). "caching"/"Caching" and "Sampling"/"sampling" are one tag each;
# "Ada Lovelace"/"ada  lovelace" one author; "José García" and "Jose Garcia" two.
FILES = {
    "entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-03/a1.yaml": entry(
        "Alpha one", "[caching, Sampling]", "[Ada Lovelace, José García]"
    ),
    "entries/2026-01-03/a2.yaml": entry("Beta two", "[caching]", "[Jose Garcia]", "[safety]"),
    "entries/2026-01-10/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-10/b1.yaml": entry("Gamma", "[sampling]", '["ada  lovelace"]'),
    "entries/2026-01-10/b2.yaml": entry("Delta", "[Caching]", "[Ada Lovelace, Emmy Noether]"),
    "entries/2026-01-17/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-17/c1.yaml": entry("Epsilon", "[rare-tag]", "[Ada Lovelace]"),
}
NEWEST_FIRST = ["c1", "b2", "b1", "a1", "a2"]


def build(root: Path) -> Path:
    out = root / "site"
    result = run(root, out, builders=[*PAGE_BUILDERS, sitemap_jobs])
    assert result.ok, result.report.diagnostics
    return out


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def index_names(html: str) -> list[tuple[str, str, str]]:
    """The (href, name, count) of each name an index page lists."""
    found = re.search(r'<ul class="name-list">(.*?)</ul>', html, re.S)
    assert found is not None
    item = (
        r'<li(?: id="[^"]+")?><a href="([^"]+)">([^<]+)</a> <span class="count-text">([^<]+)</span>'
    )
    return re.findall(item, found.group(1))


def row_ids(html: str) -> list[str]:
    """The ids of the papers a tag's or an author's page lists, in order."""
    return re.findall(r'class="paper-row-title" href="[./]*papers/([^/]+)/"', html)


def card_ids(html: str) -> list[str]:
    return re.findall(r'<article class="paper paper-compact" id="paper-([^"]+)"', html)


def resolve(url: str, href: str) -> str:
    """The site file a relative `href` on the page at site path `url` leads to."""
    target = urljoin(f"http://site/{url}", href).removeprefix("http://site/")
    target = normpath(target) + ("/" if target.endswith("/") else "")
    return f"{target}index.html" if target.endswith("/") or target == "." else target


def pages_of(site: Path, listing: str) -> list[str]:
    """The files of a paginated listing, page 1 first, found by following rel=next."""
    url = f"{listing}index.html"
    found = []
    while True:
        found.append(url)
        html = (site / url).read_text(encoding="utf-8")
        after = re.search(r'<a href="([^"]+)" rel="next">', html)
        if after is None:
            return found
        url = resolve(url, after.group(1))


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    return build(make_site(FILES, CONFIG))


def test_a_tag_page_lists_its_papers_newest_first(site: Path) -> None:
    assert row_ids(page(site, "tags/caching")) == ["b2", "a1", "a2"]
    assert row_ids(page(site, "tags/rare-tag")) == ["c1"]  # one paper still has a page


def test_an_author_page_lists_their_papers_newest_first(site: Path) -> None:
    assert row_ids(page(site, "authors/ada-lovelace")) == ["c1", "b2", "b1", "a1"]
    assert row_ids(page(site, "authors/emmy-noether")) == ["b2"]


def test_spellings_differing_in_case_or_spaces_share_a_page_in_the_usual_spelling(
    site: Path,
) -> None:
    assert sorted(p.name for p in (site / "tags").iterdir() if p.is_dir()) == [
        "caching",
        "rare-tag",
        "sampling",
    ]
    caching = page(site, "tags/caching")
    assert "<h1>caching</h1>" in caching  # two papers write "caching", one "Caching"
    assert "3 papers" in caching
    # A tie: "Sampling" and "sampling" once each; the first in code-point order shows.
    assert "<h1>Sampling</h1>" in page(site, "tags/sampling")
    assert "<h1>Ada Lovelace</h1>" in page(site, "authors/ada-lovelace")


def test_names_differing_in_accents_have_pages_of_their_own(site: Path) -> None:
    assert row_ids(page(site, "authors/jose-garcia")) == ["a2"]
    accented = [p.name for p in (site / "authors").iterdir() if p.name.startswith("jose-garcia-")]
    assert len(accented) == 1
    assert re.fullmatch(r"jose-garcia-[0-9a-f]{4}", accented[0])
    assert row_ids(page(site, f"authors/{accented[0]}")) == ["a1"]
    assert "<h1>José García</h1>" in page(site, f"authors/{accented[0]}")


def test_the_indexes_list_every_name_a_to_z_with_its_count(site: Path) -> None:
    assert index_names(page(site, "tags")) == [
        ("../tags/caching/", "caching", "3 papers"),
        ("../tags/rare-tag/", "rare-tag", "1 paper"),
        ("../tags/sampling/", "Sampling", "2 papers"),
    ]
    authors = [name for _, name, _ in index_names(page(site, "authors"))]
    assert authors == ["Ada Lovelace", "Emmy Noether", "Jose Garcia", "José García"]


def test_cards_and_paper_pages_link_each_tag_and_author(site: Path) -> None:
    paper = page(site, "papers/a1")
    assert '<a href="../../tags/caching/">caching</a>' in paper
    assert '<a href="../../tags/sampling/">Sampling</a>' in paper
    byline = '<a href="../../authors/ada-lovelace/">Ada Lovelace</a>, <a href="../../authors/'
    assert byline + "jose-garcia-" in paper
    # Each name as its entry writes it, linked to the page of the name it spells.
    issue = page(site, "2026-01-10")
    assert '<a href="../authors/ada-lovelace/">ada  lovelace</a>' in issue
    assert '<a href="../tags/caching/">Caching</a>' in issue


def test_every_tag_and_author_link_of_the_site_leads_to_its_page(
    make_site: SiteFactory,
) -> None:
    """Cards are drawn once per depth and reused: their links must work wherever they are
    shown, on a listing's first page and on the pages after it."""
    site = build(make_site(FILES, CONFIG + "page_size = 2\n"))
    links = 0
    for html_file in site.rglob("*.html"):
        url = html_file.relative_to(site).as_posix()
        for href in re.findall(r'href="([^"#]+)"', html_file.read_text(encoding="utf-8")):
            target = resolve(url, href)
            if target.startswith(("tags/", "authors/")):
                links += 1
                assert (site / target).is_file(), f"{url}: {href}"
    assert links > 50


def test_the_byline_reads_as_the_author_line() -> None:
    for names in ([], ["A"], ["A", "B"], ["A", "B", "C"], ["A", "B", "C", "D"]):
        links = tuple(NameLink(name, None) for name in names)
        for et_al in (False, True):
            short = author_line(links, et_al, short=True)
            full = author_line(links, et_al, short=False)
            assert "".join(n.label + n.after for n in short) == wording.authors_short(names, et_al)
            assert "".join(n.label + n.after for n in full) == wording.authors_full(names, et_al)


def test_pagination_keeps_every_paper_once_in_order(make_site: SiteFactory) -> None:
    site = build(make_site(FILES, CONFIG + "page_size = 2\n"))
    topic = pages_of(site, "topics/acceleration/")
    assert topic == [
        "topics/acceleration/index.html",
        "topics/acceleration/page/2/index.html",
    ]
    shown = [i for url in topic for i in card_ids((site / url).read_text(encoding="utf-8"))]
    assert shown == ["c1", "b2", "b1", "a1"]  # a2 is on the safety topic only
    ada = pages_of(site, "authors/ada-lovelace/")
    assert len(ada) == 2
    assert [i for url in ada for i in row_ids((site / url).read_text())] == NEWEST_FIRST[:4]
    assert not (site / "authors/ada-lovelace/page/1").exists()  # page 1 is the listing's own


def test_each_page_links_the_pages_around_it(make_site: SiteFactory) -> None:
    site = build(make_site(FILES, CONFIG + "page_size = 1\n"))
    pages = pages_of(site, "authors/ada-lovelace/")
    assert pages == [
        "authors/ada-lovelace/index.html",
        *(f"authors/ada-lovelace/page/{n}/index.html" for n in (2, 3, 4)),
    ]
    for number, url in enumerate(pages):
        html = (site / url).read_text(encoding="utf-8")
        assert f"Page {number + 1} of 4" in html
        assert row_ids(html) == [NEWEST_FIRST[number]]
        links = dict(re.findall(r'<li class="pager-(\w+)"><a href="([^"]+)"', html))
        expected = {
            "first": pages[0] if number > 1 else None,
            "previous": pages[number - 1] if number > 0 else None,
            "next": pages[number + 1] if number < 3 else None,
            "last": pages[3] if number < 2 else None,
        }
        assert {k: resolve(url, v) for k, v in links.items()} == {
            k: v for k, v in expected.items() if v is not None
        }
    title = "<title>Papers by Ada Lovelace, page 2 of 4 — Digest</title>"
    assert title in (site / pages[1]).read_text()


def test_a_listing_of_one_page_shows_no_pager(site: Path) -> None:
    assert 'class="pager"' not in page(site, "tags/caching")
    assert 'class="pager"' not in page(site, "topics/acceleration")


def test_indexes_are_paginated_a_to_z(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing_pages, "INDEX_PAGE_SIZE", 2)
    site = build(make_site(FILES, CONFIG))
    pages = pages_of(site, "authors/")
    assert pages == ["authors/index.html", "authors/page/2/index.html"]
    names = [name for url in pages for _, name, _ in index_names((site / url).read_text())]
    assert names == ["Ada Lovelace", "Emmy Noether", "Jose Garcia", "José García"]
    assert "4 authors · page 2 of 2" in (site / pages[1]).read_text()
    # Every page links each initial's first name, on whichever page it is.
    for url in pages:
        initials = re.findall(r'<li><a href="([^"]+)">(\w)</a></li>', (site / url).read_text())
        assert [letter for _, letter in initials] == ["A", "E", "J"]
        for href, letter in initials:
            path, _, anchor = href.partition("#")
            target = resolve(url, path)
            assert anchor == f"initial-{letter.lower()}"
            assert f'<li id="{anchor}">' in (site / target).read_text()


def test_the_home_page_lists_the_newest_issues_and_links_the_archive(
    make_site: SiteFactory,
) -> None:
    days = [f"2026-{month:02d}-01" for month in range(1, 13)]
    files = {f"entries/{day}/_issue.yaml": MINIMAL_ISSUE for day in days}
    site = build(make_site(files, CONFIG))
    home = page(site, "")
    assert home.count('<li>\n    <time datetime="') == HOME_ARCHIVE
    assert '<a href="./issues/">All 12 issues</a>' in home
    archive = page(site, "issues")
    assert re.findall(r'<time datetime="([^"]+)">', archive) == sorted(days, reverse=True)


def test_a_site_of_few_issues_lists_them_all_on_the_home_page(site: Path) -> None:
    home = page(site, "")
    assert "All issues</h2>" in home
    assert 'href="./issues/"' not in home


def test_switched_off_there_are_no_tag_or_author_pages_nor_links(
    make_site: SiteFactory,
) -> None:
    config = CONFIG + "tag_pages = false\nauthor_pages = false\n"
    site = build(make_site(FILES, config))
    assert not (site / "tags").exists()
    assert not (site / "authors").exists()
    for html_file in site.rglob("*.html"):
        html = html_file.read_text(encoding="utf-8")
        assert not re.search(r'href="[^"]*(tags|authors)/', html), html_file
    assert "tags/" not in (site / "sitemap.xml").read_text(encoding="utf-8")
    paper = page(site, "papers/a1")
    assert "<dt>Tags</dt>\n      <dd>caching, Sampling</dd>" in paper  # as text
    assert "Ada Lovelace, José García" in paper


def test_one_switch_leaves_the_other_kind_of_page(make_site: SiteFactory) -> None:
    site = build(make_site(FILES, CONFIG + "author_pages = false\n"))
    assert (site / "tags/caching/index.html").is_file()
    assert not (site / "authors").exists()
    assert '<li><a href="../../tags/">Tags</a></li>' in page(site, "papers/a1")
    assert "authors/" not in page(site, "papers/a1")


def test_the_sitemap_lists_the_tag_and_author_pages(site: Path) -> None:
    tree = ET.parse(site / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    lastmod = {
        url.findtext("s:loc", "", ns): url.findtext("s:lastmod", "", ns) for url in tree.getroot()
    }
    for path in ("tags/", "authors/", "issues/", "tags/caching/", "authors/emmy-noether/"):
        assert f"{BASE}/{path}" in lastmod
    assert lastmod[f"{BASE}/tags/caching/"] == "2026-01-10"  # its newest paper's issue
    listed = {
        loc for loc in lastmod if loc.startswith(f"{BASE}/authors/") and loc != f"{BASE}/authors/"
    }
    assert len(listed) == 4  # Ada Lovelace, Emmy Noether and the two José Garcías
    assert not any("/page/" in loc for loc in lastmod)  # a listing by its first page
