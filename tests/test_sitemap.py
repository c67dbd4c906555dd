"""sitemap.xml and robots.txt: every page at an absolute URL; no sitemap without base_url."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from digest import permalinks, reader_outputs, sitemap
from digest.content import load_content
from digest.organise import Library, organise
from digest.template_set import load_templates

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml, rendered_files

BASE = "https://digest-demo.github.io/diffusion"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None
    return organise(content.config, content.issues, content.papers)


def sitemap_pages(root: Path) -> dict[str, str]:
    library = library_of(root)
    templates, problems = load_templates(library.config, root)
    assert templates is not None, problems
    return rendered_files(reader_outputs.sitemap_jobs, library, templates)


def test_sitemap_lists_every_page_with_absolute_urls(example_root: Path) -> None:
    library = library_of(example_root)
    pages = sitemap_pages(example_root)
    tree = ET.fromstring(pages["sitemap.xml"])
    found = {
        url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
        for url in tree.findall("s:url", NS)
    }
    expected = [f"{BASE}/", f"{BASE}/2026-02-28/", f"{BASE}/topics/", f"{BASE}/search/"]
    expected += [f"{BASE}/issues/", f"{BASE}/tags/", f"{BASE}/authors/"]
    expected += [f"{BASE}/topics/{slug}/" for slug in library.config.theme_slugs]
    expected += [f"{BASE}/tags/{tag.slug}/" for tag in library.tags.listings]
    expected += [f"{BASE}/authors/{author.slug}/" for author in library.authors.listings]
    expected += [f"{BASE}/papers/{paper_id}/" for paper_id in library.papers]
    assert sorted(str(loc) for loc in found) == sorted(expected)
    assert found[f"{BASE}/papers/dpcache/"] == "2026-02-28"
    assert found[f"{BASE}/search/"] is None


def test_robots_txt_names_the_sitemap(example_root: Path) -> None:
    text = sitemap_pages(example_root)["robots.txt"]
    assert text == f"User-agent: *\nAllow: /\nSitemap: {BASE}/sitemap.xml\n"


def test_without_base_url_no_sitemap_and_a_warning(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(),
        },
        'title = "T"\n',
    )
    assert sitemap_pages(root) == {"robots.txt": "User-agent: *\nAllow: /\n"}
    warning = permalinks.missing_base_url(root)
    assert (warning.path, warning.line, warning.code) == ("pyproject.toml", 1, "W120")


def test_a_sitemap_over_the_url_limit_is_an_index_of_parts(
    example_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = library_of(example_root)
    whole = sitemap.sitemap_entries(library.config, sitemap.sitemap_pages(library))
    monkeypatch.setattr(sitemap, "MAX_URLS", 20)  # as 50,000 are for a real site
    pages = sitemap_pages(example_root)
    index = ET.fromstring(pages["sitemap.xml"])
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    parts = [part.findtext("s:loc", namespaces=NS) for part in index.findall("s:sitemap", NS)]
    count = -(-len(whole) // 20)
    assert parts == [f"{BASE}/sitemaps/{n}.xml" for n in range(1, count + 1)]
    listed = []
    for number in range(1, count + 1):
        part = ET.fromstring(pages[f"sitemaps/{number}.xml"])
        urls = [url.findtext("s:loc", namespaces=NS) for url in part.findall("s:url", NS)]
        assert 0 < len(urls) <= 20
        listed += urls
    assert listed == [entry.loc for entry in whole]  # every page once, in the same order
    newest = max(entry.lastmod for entry in whole[:20] if entry.lastmod)
    assert index.findall("s:sitemap", NS)[0].findtext("s:lastmod", namespaces=NS) == newest
