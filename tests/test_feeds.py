"""Feeds: Atom and JSON Feed per site and topic, OPML, ids that survive reordering."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import feedparser
import pytest

from digest import feeds, reader_outputs
from digest.content import load_content
from digest.organise import Library, organise
from digest.template_set import load_templates

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml, rendered_files

BASE = "https://digest-demo.github.io/diffusion"


def library_of(root: Path, *, reverse: bool = False) -> Library:
    content = load_content(root)
    assert content.config is not None
    assert not content.report.errors, content.report.errors
    papers = list(reversed(content.papers)) if reverse else content.papers
    issues = list(reversed(content.issues)) if reverse else content.issues
    return organise(content.config, issues, papers)


def feed_pages(library: Library, root: Path) -> dict[str, str]:
    templates, problems = load_templates(library.config, root)
    assert templates is not None, problems
    return rendered_files(reader_outputs.feed_jobs, library, templates)


@pytest.fixture(scope="module")
def example(example_root: Path) -> tuple[Library, dict[str, str]]:
    library = library_of(example_root)
    return library, feed_pages(library, example_root)


def parsed(text: str) -> Any:
    result = feedparser.parse(text)
    assert not result.bozo, result.get("bozo_exception")
    return result


def test_site_feed_parses_and_holds_every_published_paper(
    example: tuple[Library, dict[str, str]],
) -> None:
    library, pages = example
    result = parsed(pages["feed.xml"])
    assert result.version == "atom10"
    links = {entry.link for entry in result.entries}
    assert links == {f"{BASE}/papers/{paper_id}/" for paper_id in library.papers}
    assert len(result.entries) == len(library.papers) == 27
    assert result.feed.title == "Diffusion Digest"


def test_atom_entry_has_title_authors_html_summary_and_issue_date(
    example: tuple[Library, dict[str, str]],
) -> None:
    _, pages = example
    entry = next(e for e in parsed(pages["feed.xml"]).entries if e.link.endswith("/dpcache/"))
    assert entry.id == "tag:digest-demo.github.io,2026-02-28:/diffusion/papers/dpcache"
    assert entry.title.startswith("Denoising as Path Planning")
    assert [author.name for author in entry.authors] == ["Bowen Cui"]
    assert entry.updated == "2026-02-28T00:00:00Z"
    content = entry.content[0]
    assert content.type == "text/html"
    assert content.value.startswith("<p>DPCache looks at sampling end to end")
    assert '<a href="https://github.com/argsss/DPCache">Code</a>' in content.value
    assert [tag.term for tag in entry.tags] == ["Acceleration"]


def test_topic_feeds_hold_exactly_the_topic_papers(example: tuple[Library, dict[str, str]]) -> None:
    library, pages = example
    for topic in library.topics:
        result = parsed(pages[f"topics/{topic.theme.slug}/feed.xml"])
        expected = {p.id for group in topic.issues for p in group.papers}
        found = {entry.link.rsplit("/", 2)[-2] for entry in result.entries}
        assert found == expected, topic.theme.slug
        assert result.feed.link == f"{BASE}/topics/{topic.theme.slug}/"


def test_json_feed_has_the_documented_fields(example: tuple[Library, dict[str, str]]) -> None:
    library, pages = example
    document = json.loads(pages["feed.json"])
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert document["title"] == "Diffusion Digest"
    assert document["home_page_url"] == f"{BASE}/"
    assert document["feed_url"] == f"{BASE}/feed.json"
    assert len(document["items"]) == len(library.papers)
    atom_ids = {entry.id for entry in parsed(pages["feed.xml"]).entries}
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"] in atom_ids
        assert item["url"].startswith(f"{BASE}/papers/")
        assert item["content_html"].startswith("<")
        assert item["date_published"] == "2026-02-28T00:00:00Z"
        assert all(set(author) == {"name"} for author in item.get("authors", []))
    for topic in library.topics:
        topic_document = json.loads(pages[f"topics/{topic.theme.slug}/feed.json"])
        assert topic_document["version"] == feeds.JSON_FEED_VERSION
        assert len(topic_document["items"]) == topic.count


def test_opml_lists_the_site_feed_and_every_topic_feed(
    example: tuple[Library, dict[str, str]],
) -> None:
    library, pages = example
    tree = ET.fromstring(pages["feeds.opml"])
    urls = [outline.get("xmlUrl") for outline in tree.iter("outline")]
    expected = [f"{BASE}/feed.xml"]
    expected += [f"{BASE}/topics/{t.theme.slug}/feed.xml" for t in library.topics]
    assert urls == expected
    assert all(feed_url.removeprefix(BASE + "/") in pages for feed_url in expected)


def test_ids_survive_a_rebuild_with_reordered_input(example_root: Path) -> None:
    first = feed_pages(library_of(example_root), example_root)
    second = feed_pages(library_of(example_root, reverse=True), example_root)

    def ids(text: str) -> dict[str, str]:
        return {entry.link: entry.id for entry in parsed(text).entries}

    assert ids(first["feed.xml"]) == ids(second["feed.xml"])
    assert len(set(ids(first["feed.xml"]).values())) == 27


def test_ids_survive_a_retitled_paper(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/alpha.yaml": paper_yaml(title='"Alpha"'),
        "entries/2026-01-05/beta.yaml": paper_yaml(title='"Beta"'),
    }
    config = f'base_url = "{BASE}"\n'
    root = make_site(files, config)
    before = {e.link: e.id for e in parsed(feed_pages(library_of(root), root)["feed.xml"]).entries}
    (root / "entries/2026-01-05/beta.yaml").write_text(paper_yaml(title='"A retitled Beta"'))
    after = parsed(feed_pages(library_of(root), root)["feed.xml"]).entries
    assert after[0].title == "A retitled Beta"  # it moved to the front...
    assert {e.link: e.id for e in after} == before  # ...and kept its id


def test_item_links_have_the_labels_of_the_pages(make_site: SiteFactory) -> None:
    links = "{code: 'https://c.example/', project: 'https://p.example/'}"
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/a.yaml": paper_yaml(arxiv="'2601.01234'", links=links),
    }
    root = make_site(files, f'base_url = "{BASE}"\n')
    content = parsed(feed_pages(library_of(root), root)["feed.xml"]).entries[0].content[0].value
    assert content.endswith(
        '<p><a href="https://arxiv.org/abs/2601.01234">Paper</a> · '
        '<a href="https://c.example/">Code</a> · '
        '<a href="https://p.example/">Project page</a></p>'
    )


def test_drafts_stay_out_and_whole_issues_fill_the_feed(make_site: SiteFactory) -> None:
    files: dict[str, str | bytes] = {}
    for day, count in (("2026-03-01", 60), ("2026-02-01", 50), ("2026-01-01", 5)):
        files[f"entries/{day}/_issue.yaml"] = MINIMAL_ISSUE
        for number in range(count):
            files[f"entries/{day}/p{day[5:7]}-{number}.yaml"] = paper_yaml()
    files["entries/2026-04-01/_issue.yaml"] = MINIMAL_ISSUE + "draft: true\n"
    files["entries/2026-04-01/draft-paper.yaml"] = paper_yaml()
    root = make_site(files, f'base_url = "{BASE}"\n')
    entries = parsed(feed_pages(library_of(root), root)["feed.xml"]).entries
    months = {entry.id.split(",")[1][:7] for entry in entries}
    # 60 papers are fewer than MIN_FEED_ITEMS, so the next whole issue follows; then it stops.
    assert feeds.MIN_FEED_ITEMS == 100
    assert len(entries) == 110
    assert months == {"2026-03", "2026-02"}
    assert not any("draft-paper" in entry.link for entry in entries)


def test_no_feeds_without_base_url(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-05/a.yaml": paper_yaml()}
    )
    assert feed_pages(library_of(root), root) == {}


def test_build_without_base_url_warns_and_strict_fails(make_site: SiteFactory) -> None:
    from digest.build import run

    root = make_site(
        {"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-05/a.yaml": paper_yaml()}
    )
    result = run(root, root / "out")
    assert result.ok
    assert [(d.code, d.path, d.line) for d in result.report.warnings] == [
        ("W120", "pyproject.toml", 1)
    ]
    written = {p.relative_to(root / "out").as_posix() for p in (root / "out").rglob("*")}
    assert "search/index.json" in written and "bibliography.bib" in written
    assert not {"feed.xml", "feed.json", "sitemap.xml", "2026-01-05/email.html"} & written
    strict = run(root, root / "strict-out", strict=True)
    assert not strict.ok and not (root / "strict-out").exists()


def test_pages_link_to_the_feeds_for_autodiscovery(make_site: SiteFactory) -> None:
    from digest.build import run

    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/a.yaml": paper_yaml(),
    }
    root = make_site(files, f'base_url = "{BASE}"\n')
    assert run(root, root / "out").ok
    home = (root / "out/index.html").read_text()
    assert 'type="application/atom+xml" title="Research digest" href="./feed.xml">' in home
    topic = (root / "out/topics/acceleration/index.html").read_text()
    assert (
        'type="application/atom+xml" title="Research digest: Acceleration" href="feed.xml"' in topic
    )
    paper = (root / "out/papers/a/index.html").read_text()
    assert '<meta property="og:title" content="A Paper About Things">' in paper
    assert '<meta name="twitter:card" content="summary">' in paper
    assert '"@type":"ScholarlyArticle"' in paper
    assert "citation_" not in paper  # the paper is not ours: no Google Scholar tags
    assert "@misc{lovelace-a," in paper
