"""Feeds: the site feed of issues, the papers feed, topic feeds, OPML, stable ids and
stamps, and the footer's "Subscribe" block that links them."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import jsonschema
import pytest

from digest import feeds, listing_pages, pages, reader_outputs
from digest.build import run
from digest.content import load_content
from digest.organise import Library, organise
from digest.template_set import load_templates

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml, rendered_files

BASE = "https://digest-demo.github.io/diffusion"
ATOM = "{http://www.w3.org/2005/Atom}"
ISSUE_TITLE = "Diffusion Models: Navigating the Frontiers of AI Generation, Efficiency, and Safety"

# JSON Feed 1.1 (https://jsonfeed.org/version/1.1) as a schema: what the spec requires
# (version, title, items; an item's id and its content_html or content_text) and the
# types of the fields digest writes.
_STRING = {"type": "string", "minLength": 1}
_URL = {"type": "string", "pattern": "^https?://"}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
_AUTHORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": _STRING, "url": _URL, "avatar": _URL},
        "minProperties": 1,
        "additionalProperties": False,
    },
}
JSON_FEED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": _STRING,
        "home_page_url": _URL,
        "feed_url": _URL,
        "description": {"type": "string"},
        "authors": _AUTHORS,
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
                "properties": {
                    "id": _STRING,
                    "url": _URL,
                    "external_url": _URL,
                    "title": {"type": "string"},
                    "content_html": {"type": "string"},
                    "summary": {"type": "string"},
                    "date_published": _DATE,
                    "date_modified": _DATE,
                    "authors": _AUTHORS,
                    "tags": {"type": "array", "items": _STRING},
                },
            },
        },
    },
}


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


def site_pages(library: Library, root: Path) -> dict[str, str]:
    templates, problems = load_templates(library.config, root)
    assert templates is not None, problems
    found: dict[str, str] = {}
    for builder in (pages.issue_jobs, listing_pages.topic_jobs):
        found.update(rendered_files(builder, library, templates))
    return found


@pytest.fixture(scope="module")
def example(example_root: Path) -> tuple[Library, dict[str, str]]:
    library = library_of(example_root)
    return library, feed_pages(library, example_root)


def parsed(text: str) -> Any:
    result = feedparser.parse(text)
    assert not result.bozo, result.get("bozo_exception")
    return result


def paper_id(link: str) -> str:
    return link.rsplit("/", 2)[-2]


def card_order(html: str) -> list[str]:
    """The ids of the papers whose cards a page shows, in their order."""
    return re.findall(r'class="paper-title"><a href="(?:\.\./)+papers/([a-z0-9-]+)/"', html)


def several_issues(make_site: SiteFactory) -> Path:
    """Two issues and a draft. The later issue's page shows Zeta's card first (under
    Acceleration, its first theme), then Alpha's and Beta's (under Safety); the Safety
    page lists Alpha, Beta, Zeta."""
    outlook = "outlook: |\n  Next: see [the notes](notes/) and [ours](https://example.org/).\n"
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/old.yaml": paper_yaml(title='"An older paper"'),
        "entries/2026-01-12/_issue.yaml": MINIMAL_ISSUE.replace("A test", "The second") + outlook,
        "entries/2026-01-12/zeta.yaml": paper_yaml(
            title='"Zeta"', tagline="Zeta in a line.", themes="[acceleration, safety]"
        ),
        "entries/2026-01-12/beta.yaml": paper_yaml(title='"Beta"', themes="[safety]"),
        "entries/2026-01-12/alpha.yaml": paper_yaml(title='"Alpha & <friends>"', themes="[safety]"),
        "entries/2026-02-01/_issue.yaml": MINIMAL_ISSUE + "draft: true\n",
        "entries/2026-02-01/draft-paper.yaml": paper_yaml(),
    }
    return make_site(files, f'base_url = "{BASE}"\n')


# ---------------------------------------------------------------- the site feed: issues


def test_site_feed_has_one_entry_per_issue_linking_its_page(
    example: tuple[Library, dict[str, str]],
) -> None:
    library, found = example
    result = parsed(found["feed.xml"])
    assert result.version == "atom10"
    assert result.feed.title == "Diffusion Digest"
    (entry,) = result.entries
    assert entry.link == f"{BASE}/2026-02-28/"
    assert entry.id == "tag:digest-demo.github.io,2026-02-28:/diffusion/2026-02-28"
    assert entry.title == ISSUE_TITLE
    assert entry.summary == "Latest 27 papers on diffusion models: Feb. 28, 2026"
    assert entry.updated == "2026-02-28T00:00:00Z"
    assert [tag.term for tag in entry.tags][:2] == ["Acceleration", "Safety"]
    assert len(library.issues) == 1


def test_an_issue_entry_holds_the_intro_linked_one_liners_and_the_outlook(
    example: tuple[Library, dict[str, str]],
) -> None:
    library, found = example
    content = parsed(found["feed.xml"]).entries[0].content[0]
    assert content.type == "text/html"
    html = content.value
    assert html.startswith("<p>This issue collects recent work on diffusion models")
    outlook = html.index("<h2>Impact &amp; the road ahead</h2>")
    assert html.index("<h2>Acceleration</h2>") < html.index("<h2>Safety</h2>") < outlook
    assert (
        f'<li><a href="{BASE}/papers/dpcache/">Denoising as Path Planning: Training-Free '
        "Acceleration of Diffusion Models with DPCache</a>: Speeds up diffusion sampling with "
        "no extra training by planning the entire denoising route at once.</li>"
    ) in html
    # Every paper of the issue is there, linked once (as on the page), before the outlook.
    linked = re.findall(rf'<li><a href="{BASE}/papers/([a-z0-9-]+)/"', html[:outlook])
    assert sorted(linked) == sorted(library.papers)


def test_issue_entries_are_newest_first_without_drafts_and_with_absolute_links(
    make_site: SiteFactory,
) -> None:
    root = several_issues(make_site)
    found = feed_pages(library_of(root), root)
    entries = parsed(found["feed.xml"]).entries
    assert [entry.link for entry in entries] == [f"{BASE}/2026-01-12/", f"{BASE}/2026-01-05/"]
    assert [entry.title for entry in entries] == ["The second issue", "A test issue"]
    html = entries[0].content[0].value
    # Titles are escaped; relative links in the issue's text point at the issue's page.
    assert f'<a href="{BASE}/papers/alpha/">Alpha &amp; &lt;friends&gt;</a>: It does' in html
    assert f'<a href="{BASE}/papers/zeta/">Zeta</a>: Zeta in a line.</li>' in html
    assert f'<a href="{BASE}/2026-01-12/notes/">the notes</a>' in html
    assert "draft" not in found["feed.xml"]
    document = json.loads(found["feed.json"])
    assert [item["url"] for item in document["items"]] == [entry.link for entry in entries]
    assert document["items"][0]["summary"] == "Latest 3 papers on diffusion models: Jan. 12, 2026"


# ---------------------------------------------------------------- the papers feed


def test_papers_feed_holds_every_published_paper(example: tuple[Library, dict[str, str]]) -> None:
    library, found = example
    result = parsed(found["papers.xml"])
    assert result.feed.title == "Diffusion Digest: papers"
    links = {entry.link for entry in result.entries}
    assert links == {f"{BASE}/papers/{paper}/" for paper in library.papers}
    assert len(result.entries) == len(library.papers) == 27


def test_a_paper_entry_has_title_authors_html_summary_and_links(
    example: tuple[Library, dict[str, str]],
) -> None:
    _, found = example
    entry = next(e for e in parsed(found["papers.xml"]).entries if e.link.endswith("/dpcache/"))
    assert entry.id == "tag:digest-demo.github.io,2026-02-28:/diffusion/papers/dpcache"
    assert entry.title.startswith("Denoising as Path Planning")
    assert [author.name for author in entry.authors] == ["Bowen Cui"]
    assert entry.updated.startswith("2026-02-28T00:00:")
    content = entry.content[0]
    assert content.type == "text/html"
    assert content.value.startswith("<p>DPCache looks at sampling end to end")
    assert '<a href="https://github.com/argsss/DPCache">Code</a>' in content.value
    assert [tag.term for tag in entry.tags] == ["Acceleration"]


def test_item_links_have_the_labels_of_the_pages(make_site: SiteFactory) -> None:
    links = "{code: 'https://c.example/', project: 'https://p.example/'}"
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/a.yaml": paper_yaml(arxiv="'2601.01234'", links=links),
    }
    root = make_site(files, f'base_url = "{BASE}"\n')
    content = parsed(feed_pages(library_of(root), root)["papers.xml"]).entries[0].content[0].value
    assert content.endswith(
        '<p><a href="https://arxiv.org/abs/2601.01234">Paper</a> · '
        '<a href="https://c.example/">Code</a> · '
        '<a href="https://p.example/">Project page</a></p>'
    )


def test_topic_feeds_hold_exactly_the_topic_papers(example: tuple[Library, dict[str, str]]) -> None:
    library, found = example
    for topic in library.topics:
        result = parsed(found[f"topics/{topic.theme.slug}/feed.xml"])
        expected = {p.id for group in topic.issues for p in group.papers}
        assert {paper_id(entry.link) for entry in result.entries} == expected, topic.theme.slug
        assert result.feed.link == f"{BASE}/topics/{topic.theme.slug}/"


def test_whole_issues_fill_the_feeds_and_drafts_stay_out(make_site: SiteFactory) -> None:
    files: dict[str, str | bytes] = {}
    for day, count in (("2026-03-01", 60), ("2026-02-01", 50), ("2026-01-01", 5)):
        files[f"entries/{day}/_issue.yaml"] = MINIMAL_ISSUE
        for number in range(count):
            files[f"entries/{day}/p{day[5:7]}-{number}.yaml"] = paper_yaml()
    files["entries/2026-04-01/_issue.yaml"] = MINIMAL_ISSUE + "draft: true\n"
    files["entries/2026-04-01/draft-paper.yaml"] = paper_yaml()
    root = make_site(files, f'base_url = "{BASE}"\n')
    found = feed_pages(library_of(root), root)
    papers = parsed(found["papers.xml"]).entries
    months = {entry.id.split(",")[1][:7] for entry in papers}
    # 60 papers are fewer than MIN_FEED_ITEMS, so the next whole issue follows; then it stops.
    assert feeds.MIN_FEED_ITEMS == 100
    assert len(papers) == 110
    assert months == {"2026-03", "2026-02"}
    assert not any("draft-paper" in entry.link for entry in papers)
    # The site feed holds the same issues.
    issues = parsed(found["feed.xml"]).entries
    assert [entry.link for entry in issues] == [f"{BASE}/2026-03-01/", f"{BASE}/2026-02-01/"]


# ---------------------------------------------------------------- ids and stamps


def test_ids_are_distinct_and_survive_a_rebuild_with_reordered_input(example_root: Path) -> None:
    first = feed_pages(library_of(example_root), example_root)
    second = feed_pages(library_of(example_root, reverse=True), example_root)

    def ids(text: str) -> dict[str, str]:
        return {entry.link: entry.id for entry in parsed(text).entries}

    every_id: list[str] = []
    for url in ("feed.xml", "papers.xml", "topics/acceleration/feed.xml"):
        assert ids(first[url]) == ids(second[url]), url
    for url in ("feed.xml", "papers.xml"):
        every_id += ids(first[url]).values()
    assert len(every_id) == len(set(every_id)) == 28  # the issue and its 27 papers


def test_ids_survive_a_retitled_paper(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/alpha.yaml": paper_yaml(title='"Alpha"'),
        "entries/2026-01-05/beta.yaml": paper_yaml(title='"Beta"'),
    }
    root = make_site(files, f'base_url = "{BASE}"\n')

    def entries() -> Any:
        return parsed(feed_pages(library_of(root), root)["papers.xml"]).entries

    before = {e.link: e.id for e in entries()}
    (root / "entries/2026-01-05/beta.yaml").write_text(paper_yaml(title='"A retitled Beta"'))
    after = entries()
    assert after[0].title == "A retitled Beta"  # it moved to the front...
    assert {e.link: e.id for e in after} == before  # ...and kept its id


def stamps_in_order(text: str) -> list[tuple[str, str]]:
    """(paper id, stamp) of each entry, as a reader sorting newest first lists them."""
    entries = parsed(text).entries
    ordered = sorted(entries, key=lambda entry: entry.updated, reverse=True)
    return [(paper_id(entry.link), entry.updated) for entry in ordered]


def test_the_papers_of_an_issue_are_stamped_apart_in_the_issue_page_order(
    example_root: Path, example: tuple[Library, dict[str, str]]
) -> None:
    library, found = example
    page_order = card_order(site_pages(library, example_root)["2026-02-28/index.html"])
    stamped = stamps_in_order(found["papers.xml"])
    assert [paper for paper, _ in stamped] == page_order
    # In the file too, and a second apart: the last at midnight.
    assert [paper_id(e.link) for e in parsed(found["papers.xml"]).entries] == page_order
    stamps = [stamp for _, stamp in stamped]
    assert stamps[0] == "2026-02-28T00:00:26Z" and stamps[-1] == "2026-02-28T00:00:00Z"
    assert len(set(stamps)) == len(stamps) == 27
    # Stable: the same input read in another order stamps every paper the same.
    again = feed_pages(library_of(example_root, reverse=True), example_root)
    assert stamps_in_order(again["papers.xml"]) == stamped
    # The JSON Feed stamps the same.
    items = json.loads(found["papers.json"])["items"]
    assert [(paper_id(i["url"]), i["date_published"]) for i in items] == stamped


def test_a_topic_feed_stamps_its_papers_in_the_topic_page_order(make_site: SiteFactory) -> None:
    # The issue's page lists Zeta before Alpha, the Safety page Alpha before Zeta: each
    # feed keeps the order of the page it follows.
    root = several_issues(make_site)
    library = library_of(root)
    found = feed_pages(library, root)
    shown = site_pages(library, root)
    issue_order = card_order(shown["2026-01-12/index.html"])
    assert issue_order == ["zeta", "alpha", "beta"]
    papers = [p for p, stamp in stamps_in_order(found["papers.xml"]) if "01-12" in stamp]
    assert papers == issue_order
    for slug in ("safety", "acceleration"):
        topic_order = card_order(shown[f"topics/{slug}/index.html"])
        stamped = stamps_in_order(found[f"topics/{slug}/feed.xml"])
        assert [paper for paper, _ in stamped] == topic_order, slug
        assert len({stamp for _, stamp in stamped}) == len(stamped)
    assert stamps_in_order(found["topics/safety/feed.xml"]) == [
        ("alpha", "2026-01-12T00:00:02Z"),
        ("beta", "2026-01-12T00:00:01Z"),
        ("zeta", "2026-01-12T00:00:00Z"),
    ]


def test_a_feed_is_updated_when_its_newest_item_is(make_site: SiteFactory) -> None:
    root = several_issues(make_site)
    found = feed_pages(library_of(root), root)
    assert parsed(found["papers.xml"]).feed.updated == "2026-01-12T00:00:02Z"
    assert parsed(found["feed.xml"]).feed.updated == "2026-01-12T00:00:00Z"
    # A topic with no papers yet is as new as the site's latest issue.
    assert parsed(found["topics/theory/feed.xml"]).feed.updated == "2026-01-12T00:00:00Z"


def test_an_incremental_build_restamps_the_papers_a_new_paper_moves(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = several_issues(make_site)
    assert run(root, root / "site", cache=True).ok
    # "Aardvark" comes first on the issue's page: every other paper moves down a second.
    (root / "entries/2026-01-12/aardvark.yaml").write_text(paper_yaml(title='"Aardvark"'))
    assert run(root, root / "site", cache=True).ok
    clean = tmp_path / "clean"
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns(".digest-cache", "site"))
    assert run(clean, clean / "site").ok
    for url in ("papers.xml", "papers.json", "feed.xml", "topics/acceleration/feed.xml"):
        assert (root / "site" / url).read_bytes() == (clean / "site" / url).read_bytes(), url
    stamped = stamps_in_order((root / "site/papers.xml").read_text())
    # Aardvark (Acceleration) now comes first, before Zeta.
    assert stamped[:2] == [("aardvark", "2026-01-12T00:00:03Z"), ("zeta", "2026-01-12T00:00:02Z")]


# ---------------------------------------------------------------- formats and the OPML


def test_every_atom_entry_has_an_id_a_title_and_updated(
    example: tuple[Library, dict[str, str]],
) -> None:
    _, found = example
    atom = [url for url in found if url.endswith(".xml")]
    assert {"feed.xml", "papers.xml", "topics/acceleration/feed.xml"} <= set(atom)
    for url in atom:
        tree = ET.fromstring(found[url])
        for part in ("id", "title", "updated", "author"):
            assert len(tree.findall(f"{ATOM}{part}")) == 1, (url, part)
        for entry in tree.iter(f"{ATOM}entry"):
            for part in ("id", "title", "updated"):
                assert len(entry.findall(f"{ATOM}{part}")) == 1, (url, part)


def test_every_json_feed_is_valid_json_feed_1_1(example: tuple[Library, dict[str, str]]) -> None:
    library, found = example
    documents = {url: json.loads(text) for url, text in found.items() if url.endswith(".json")}
    assert len(documents) == 2 + len(library.topics)
    for url, document in documents.items():
        jsonschema.validate(document, JSON_FEED_SCHEMA)
        assert document["feed_url"] == f"{BASE}/{url}"
    papers = documents["papers.json"]
    assert papers["home_page_url"] == f"{BASE}/"
    assert len(papers["items"]) == len(library.papers)
    atom_ids = {entry.id for entry in parsed(found["papers.xml"]).entries}
    assert {item["id"] for item in papers["items"]} == atom_ids
    for topic in library.topics:
        assert len(documents[f"topics/{topic.theme.slug}/feed.json"]["items"]) == topic.count


def test_the_json_feed_schema_rejects_what_the_spec_does() -> None:
    item = {"id": "x", "content_html": "<p>x</p>"}
    good = {"version": feeds.JSON_FEED_VERSION, "title": "T", "items": [item]}
    jsonschema.validate(good, JSON_FEED_SCHEMA)
    for bad in (
        {**good, "version": "https://jsonfeed.org/version/1"},
        {**good, "items": [{"id": "x"}]},  # neither content_html nor content_text
        {**good, "items": [{**item, "date_published": "28 Feb 2026"}]},
        {key: value for key, value in good.items() if key != "title"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, JSON_FEED_SCHEMA)


def test_opml_lists_the_site_papers_and_topic_feeds(
    example: tuple[Library, dict[str, str]],
) -> None:
    library, found = example
    tree = ET.fromstring(found["feeds.opml"])
    outlines = list(tree.iter("outline"))
    expected = [f"{BASE}/feed.xml", f"{BASE}/papers.xml"]
    expected += [f"{BASE}/topics/{t.theme.slug}/feed.xml" for t in library.topics]
    assert [outline.get("xmlUrl") for outline in outlines] == expected
    assert [outline.get("title") for outline in outlines][:2] == [
        "Diffusion Digest",
        "Diffusion Digest: papers",
    ]
    assert all(feed_url.removeprefix(BASE + "/") in found for feed_url in expected)


# ---------------------------------------------------------------- without base_url


def test_no_feeds_without_base_url(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-05/a.yaml": paper_yaml()}
    )
    assert feed_pages(library_of(root), root) == {}


def test_build_without_base_url_warns_and_strict_fails(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-05/a.yaml": paper_yaml()}
    )
    result = run(root, root / "out")
    assert result.ok
    assert [(d.code, d.path, d.line) for d in result.report.warnings] == [
        ("W120", "pyproject.toml", 1)
    ]
    written = {p.relative_to(root / "out").as_posix() for p in (root / "out").rglob("*")}
    assert "search/index.bin" in written and "bibliography.bib" in written
    assert not {"feed.xml", "feed.json", "papers.xml", "sitemap.xml", "2026-01-05/email.html"} & (
        written
    )
    strict = run(root, root / "strict-out", strict=True)
    assert not strict.ok and not (root / "strict-out").exists()


# ---------------------------------------------------------------- pages link the feeds


def test_pages_link_to_the_feeds_for_autodiscovery(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-01-05/a.yaml": paper_yaml(),
    }
    root = make_site(files, f'base_url = "{BASE}"\n')
    assert run(root, root / "out").ok
    home = (root / "out/index.html").read_text()
    assert 'type="application/atom+xml" title="Research digest" href="./feed.xml">' in home
    assert (
        'type="application/atom+xml" title="Research digest: papers" href="./papers.xml">' in home
    )
    assert 'type="application/feed+json" title="Research digest: papers (JSON Feed)"' in home
    topic = (root / "out/topics/acceleration/index.html").read_text()
    assert 'type="application/atom+xml" title="Research digest" href="../../feed.xml">' in topic
    assert (
        'title="Research digest: Acceleration" href="../../topics/acceleration/feed.xml"' in topic
    )
    paper = (root / "out/papers/a/index.html").read_text()
    assert 'title="Research digest: papers" href="../../papers.xml">' in paper
    assert '<meta property="og:title" content="A Paper About Things' in paper
    assert '<meta name="twitter:card" content="summary">' in paper
    assert '"@type":"ScholarlyArticle"' in paper
    assert "citation_" not in paper  # the paper is not ours: no Google Scholar tags
    assert "@misc{lovelace-a," in paper


# ---------------------------------------------------------------- the Subscribe block


def footer_links(html: str) -> list[str]:
    """The targets of the links in the page's "Subscribe" block."""
    block = re.search(r'<nav class="subscribe".*?</nav>', html, re.DOTALL)
    assert block is not None, "no Subscribe block"
    return re.findall(r'href="([^"]+)"', block.group(0))


def subscribe_targets(site: Path, page: Path) -> list[str]:
    """Where the page's Subscribe links lead, as paths under the site (404.html's links
    start at the site's root path)."""
    url = "/" + page.relative_to(site).as_posix()
    found = []
    for href in footer_links(page.read_text(encoding="utf-8")):
        found.append(urljoin(url, href).lstrip("/"))
    return found


def test_every_page_has_a_subscribe_block_whose_links_work(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = several_issues(make_site)
    site = tmp_path / "built"
    assert run(root, site).ok
    html_pages = sorted(site.rglob("*.html"))
    everywhere = {"feed.xml", "feed.json", "papers.xml", "papers.json", "feeds.opml"}
    everywhere.add("bibliography.bib")
    for page in html_pages:
        if page.name == "email.html":  # made for mail clients, with links of its own
            continue
        targets = subscribe_targets(site, page)
        if page.name == "404.html":  # served at any depth: its links start at /diffusion/
            targets = [target.removeprefix("diffusion/") for target in targets]
        assert everywhere <= set(targets), page
        for target in targets:
            assert (site / target).is_file(), (page, target)
    # The pages of an issue, and the home page, link that issue's e-mail edition and BibTeX.
    issue_files = {
        "2026-01-12/email.html",
        "2026-01-12/email.txt",
        "2026-01-12/digest-2026-01-12.bib",
    }
    for url in ("index.html", "2026-01-12/index.html", "papers/zeta/index.html"):
        assert issue_files <= set(subscribe_targets(site, site / url)), url
    assert "2026-01-05/email.html" in subscribe_targets(site, site / "papers/old/index.html")
    assert set(subscribe_targets(site, site / "topics/safety/index.html")) == everywhere


def test_the_subscribe_block_of_a_site_without_papers_or_base_url_links_what_exists(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site({"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE})
    site = tmp_path / "built"
    assert run(root, site).ok
    for page in ("index.html", "2026-01-05/index.html", "topics/safety/index.html"):
        # No feeds and no e-mail edition without base_url, and no BibTeX of an issue
        # without papers; the site's bibliography.bib is written even empty.
        assert subscribe_targets(site, site / page) == ["bibliography.bib"], page
    assert (site / "bibliography.bib").read_text() == ""
