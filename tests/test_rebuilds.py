"""Rebuilds: a rebuild renders only the pages whose inputs changed, and its output is
byte-identical to a clean build's."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from digest import build, citations, store
from digest.content import load_content
from digest.organise import organise
from digest.render import RenderedPage, Renderer
from tests.conftest import MINIMAL_ISSUE, SiteFactory, first_arguments, paper_yaml

CONFIG = 'title = "Digest"\nbase_url = "https://example.org/digest"\n'
FILES = {
    "entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-03/alpha.yaml": paper_yaml(title='"Paper alpha"', themes="[safety]"),
    "entries/2026-01-03/beta.yaml": paper_yaml(title='"Paper beta"', themes="[acceleration]"),
    "entries/2026-01-10/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-10/gamma.yaml": paper_yaml(title='"Paper gamma"', themes="[medical]"),
}
# What summarises the site: counts, issues and topics, not what a paper says.
SUMMARIES = {"index.html", "topics/index.html"}


def tree(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def damage(path: Path) -> None:
    """Flip the bits of one byte near the end of the file, as a bad disk might."""
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The url of every page a template is rendered for, in order."""
    urls: list[str] = []
    original = Renderer.page

    def spy(self: Renderer, url: str, template: str, context: Any) -> RenderedPage | None:
        urls.append(url)
        return original(self, url, template, context)

    monkeypatch.setattr(Renderer, "page", spy)
    return urls


def clean_build(root: Path, tmp_path: Path) -> dict[str, bytes]:
    copy = tmp_path / "clean"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".digest-cache", "site"))
    result = build.run(copy, copy / "site")
    assert result.ok, result.report.diagnostics
    return tree(copy / "site")


def test_an_edit_renders_exactly_the_pages_that_show_the_paper(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    everything = set(rendered)
    assert {"papers/alpha/index.html", "papers/gamma/index.html"} <= everything

    rendered.clear()
    path = root / "entries/2026-01-03/alpha.yaml"
    path.write_text(paper_yaml(title='"Paper alpha, edited"', themes="[safety]"))
    assert build.run(root, cache=True).ok

    shows_alpha = {
        "papers/alpha/index.html",
        "papers/beta/index.html",  # beta's card is before alpha's: its page names alpha next
        "2026-01-03/index.html",
        "2026-01-03/email.html",
        "topics/safety/index.html",
        "authors/ada-lovelace/index.html",  # every paper here is Ada Lovelace's
        "feed.xml",
        "papers.xml",
        "topics/safety/feed.xml",
    }
    assert set(rendered) == shows_alpha
    # The other topics' feeds do not show alpha; the sitemap, the list of feeds and the
    # search page name the same pages as before (an edit changes what they say, not
    # which there are); the home and topics pages count the same papers.
    kept = {"topics/medical/feed.xml", "sitemap.xml", "feeds.opml", "search/index.html"}
    assert kept | SUMMARIES | {"404.html"} <= everything
    assert len(rendered) == len(set(rendered))  # nothing rendered twice
    for untouched in (
        "papers/gamma/index.html",
        "2026-01-10/index.html",
        "2026-01-10/email.html",
        "topics/medical/index.html",
    ):
        assert untouched not in rendered
    assert tree(root / "site") == clean_build(root, tmp_path)


@pytest.mark.parametrize(
    ("path", "text", "summaries"),
    [
        # Another theme for a paper of the latest issue: its counts change.
        (
            "entries/2026-01-10/gamma.yaml",
            paper_yaml(title='"Paper gamma"', themes="[theory]"),
            True,
        ),
        # A new paper in an older issue: that issue's count and a topic's count change.
        (
            "entries/2026-01-03/delta.yaml",
            paper_yaml(title='"Paper delta"', themes="[safety]"),
            True,
        ),
        # The latest issue's paper says something new: counts stay.
        ("entries/2026-01-10/gamma.yaml", paper_yaml(title='"New"', themes="[medical]"), False),
        # An older issue's own text: its summary on the home page changes.
        ("entries/2026-01-03/_issue.yaml", MINIMAL_ISSUE.replace("A short", "A new"), True),
    ],
)
def test_the_home_and_topics_pages_render_again_when_what_they_summarise_changes(
    make_site: SiteFactory,
    tmp_path: Path,
    rendered: list[str],
    path: str,
    text: str,
    summaries: bool,
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    rendered.clear()
    (root / path).write_text(text)
    assert build.run(root, cache=True).ok
    assert (set(rendered) >= SUMMARIES) is summaries
    assert SUMMARIES.isdisjoint(rendered) is not summaries
    assert "404.html" not in rendered
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_an_unchanged_page_keeps_its_file(make_site: SiteFactory, tmp_path: Path) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    gamma = root / "site/papers/gamma/index.html"
    before = gamma.stat()
    (root / "entries/2026-01-03/beta.yaml").write_text(paper_yaml(title='"Paper beta, again"'))
    assert build.run(root, cache=True).ok
    after = gamma.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_template_change_renders_every_page(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    everything = sorted(rendered)
    rendered.clear()
    (root / "templates/partials").mkdir(parents=True)
    (root / "templates/partials/_footer.html").write_text("<footer>Ours</footer>\n")
    assert build.run(root, cache=True).ok
    assert sorted(rendered) == everything
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_touched_output_folder_is_not_trusted(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    everything = sorted(rendered)
    rendered.clear()
    (root / "site/papers/gamma/index.html").write_text("changed by hand")
    (root / "entries/2026-01-03/beta.yaml").write_text(paper_yaml(title='"Paper beta, again"'))
    assert build.run(root, cache=True).ok
    assert sorted(rendered) == everything
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_damaged_store_file_means_a_full_build(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    everything = sorted(rendered)
    path = root / store.CACHE_DIR / store.STORE_FILE
    path.write_bytes(b"not a database" * 100 + path.read_bytes()[1400:])
    rendered.clear()
    (root / "entries/2026-01-03/beta.yaml").write_text(paper_yaml(title='"Paper beta, again"'))
    assert build.run(root, cache=True).ok
    assert sorted(rendered) == everything
    assert "building from scratch" in capsys.readouterr().err
    assert tree(root / "site") == clean_build(root, tmp_path)
    rendered.clear()
    assert build.run(root, cache=True).ok  # and the store, made afresh, works again
    assert rendered == []


def test_digests_change_only_for_what_shows_the_paper(make_site: SiteFactory) -> None:
    root = make_site(FILES, CONFIG)

    def digests() -> tuple[dict[str, str], dict[str, str], str]:
        content = load_content(root)
        assert content.config is not None
        library = organise(content.config, content.issues, content.papers)
        papers = {paper_id: entry.digest for paper_id, entry in library.papers.items()}
        issues = {view.slug: view.digest for view in library.issues}
        return papers, issues, library.digest

    papers, issues, whole = digests()
    (root / "entries/2026-01-03/alpha.yaml").write_text(
        paper_yaml(title='"Paper alpha"', themes="[safety]", tagline='"New tagline"')
    )
    papers2, issues2, whole2 = digests()
    assert {k for k in papers if papers[k] != papers2[k]} == {"alpha"}
    assert {k for k in issues if issues[k] != issues2[k]} == {"2026-01-03"}
    assert whole != whole2


def test_a_new_paper_renders_the_sitemap_and_its_feeds_again(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    rendered.clear()
    (root / "entries/2026-01-10/delta.yaml").write_text(
        paper_yaml(title='"Paper delta"', themes="[theory]"), encoding="utf-8"
    )
    assert build.run(root, cache=True).ok
    assert {"sitemap.xml", "feed.xml", "topics/theory/feed.xml"} <= set(rendered)
    assert "topics/safety/feed.xml" not in rendered
    assert tree(root / "site") == clean_build(root, tmp_path)


SAFETY = {
    **FILES,
    "entries/2026-01-10/delta.yaml": paper_yaml(title='"Paper delta"', themes="[safety]"),
    "entries/2026-01-10/epsilon.yaml": paper_yaml(
        title='"Paper epsilon"', themes="[safety, theory]"
    ),
}


def test_what_a_kept_page_is_made_from_is_kept_for_the_next_edit(
    make_site: SiteFactory, tmp_path: Path, cards: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cards of a topic page and the BibTeX records of the bibliography stay in the
    store through builds that keep those pages as they are: the edit after draws only
    what it changed."""
    root = make_site(SAFETY, CONFIG)
    assert build.run(root, cache=True).ok
    records = first_arguments(monkeypatch, citations, "citable_bibtex")
    cards.clear()
    assert build.run(root, cache=True).ok  # nothing changed: every page is kept
    assert (cards, records) == ([], [])
    (root / "entries/2026-01-10/gamma.yaml").write_text(
        paper_yaml(title='"Paper gamma, edited"', themes="[medical]")
    )
    assert build.run(root, cache=True).ok  # the safety page is kept
    assert cards == ["gamma"]
    assert [entry.id for entry in records] == ["gamma"]
    cards.clear()
    records.clear()
    (root / "entries/2026-01-10/delta.yaml").write_text(
        paper_yaml(title='"Paper delta, edited"', themes="[safety]")
    )
    assert build.run(root, cache=True).ok
    assert cards == ["delta"]  # alpha's and epsilon's cards come from the store
    assert [entry.id for entry in records] == ["delta"]
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_topic_page_renders_only_the_cards_that_changed(
    make_site: SiteFactory, tmp_path: Path, cards: list[str]
) -> None:
    root = make_site(SAFETY, CONFIG)
    assert build.run(root, cache=True).ok
    # epsilon is on two topic pages, drawn once: both show it at the same depth and level
    assert sorted(cards) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    theory = (root / "site/topics/theory/index.html").read_text()
    safety = (root / "site/topics/safety/index.html").read_text()
    card = r'<article class="paper paper-compact"[^>]*>.*?epsilon.*?</article>'
    epsilon = re.search(card, theory, re.S)
    assert epsilon is not None and epsilon.group(0) in safety

    cards.clear()
    (root / "entries/2026-01-10/delta.yaml").write_text(
        paper_yaml(title='"Paper delta, edited"', themes="[safety]")
    )
    assert build.run(root, cache=True).ok
    assert cards == ["delta"]  # alpha and epsilon are the safety page's kept cards
    assert tree(root / "site") == clean_build(root, tmp_path)
    assert "Paper delta, edited" in (root / "site/topics/safety/index.html").read_text()

    cards.clear()  # a change to the macro that draws the cards draws them all again
    (root / "templates/macros").mkdir(parents=True)
    macros = Path(build.__file__).parent.parent / "templates/macros/papers.html"
    (root / "templates/macros/papers.html").write_text(
        macros.read_text().replace('class="paper paper-compact"', 'class="paper listed"')
    )
    assert build.run(root, cache=True).ok
    assert sorted(cards) == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_damaged_pieces_are_drawn_afresh(
    make_site: SiteFactory, tmp_path: Path, cards: list[str]
) -> None:
    root = make_site(SAFETY, CONFIG)
    assert build.run(root, cache=True).ok
    with sqlite3.connect(root / store.CACHE_DIR / store.STORE_FILE) as db:
        db.execute("UPDATE objects SET data = x'00'")  # no checksum matches any more
    cards.clear()
    (root / "entries/2026-01-10/delta.yaml").write_text(
        paper_yaml(title='"Paper delta, edited"', themes="[safety]")
    )
    assert build.run(root, cache=True).ok
    assert sorted(cards) == ["alpha", "delta", "epsilon"]  # the safety page, in full
    assert tree(root / "site") == clean_build(root, tmp_path)


def object_keys(root: Path) -> set[str]:
    with sqlite3.connect(root / store.CACHE_DIR / store.STORE_FILE) as db:
        return {key for (key,) in db.execute("SELECT key FROM objects")}


def test_the_store_keeps_only_what_the_last_build_used(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    themes = '[{slug = "safety", title = "Safety"}, {slug = "medical", title = "Medical"}]'
    files = {**SAFETY, "entries/2026-01-03/beta.yaml": paper_yaml(themes="[safety]")}
    files["entries/2026-01-10/epsilon.yaml"] = paper_yaml(themes="[safety]")
    root = make_site(files, f"{CONFIG}themes = {themes}\n")
    assert build.run(root, cache=True).ok
    (root / "entries/2026-01-10/gamma.yaml").write_text(paper_yaml(themes="[safety]"))
    (root / "pyproject.toml").write_text(
        f'[tool.digest]\n{CONFIG}themes = [{{slug = "safety", title = "Safety"}}]\n'
    )
    assert build.run(root, cache=True).ok
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".digest-cache", "site"))
    assert build.run(copy, cache=True).ok
    assert object_keys(root) == object_keys(copy)  # what a first build of the same site keeps


def test_the_search_index_makes_rows_only_for_the_edited_issue(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest import search

    made: list[str] = []
    paper_part = search.paper_part

    def spy(entry: Any) -> tuple[dict[str, int], str]:
        made.append(entry.id)
        return paper_part(entry)

    monkeypatch.setattr(search, "paper_part", spy)
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    assert sorted(made) == ["alpha", "beta", "gamma"]
    made.clear()
    (root / "entries/2026-01-03/alpha.yaml").write_text(paper_yaml(title='"Alpha, edited"'))
    assert build.run(root, cache=True).ok
    assert sorted(made) == ["alpha", "beta"]  # the edited issue's rows; gamma's are kept
    assert tree(root / "site") == clean_build(root, tmp_path)


# Tags and authors: alpha and gamma share the tag "caching" and the author Ada Lovelace;
# beta is Alan Turing's, tagged "sampling".
NAMED = {
    **FILES,
    "entries/2026-01-03/alpha.yaml": paper_yaml(
        title='"Paper alpha"', themes="[safety]", tags="[caching]"
    ),
    "entries/2026-01-03/beta.yaml": paper_yaml(
        title='"Paper beta"', themes="[acceleration]", tags="[sampling]", authors="[Alan Turing]"
    ),
    "entries/2026-01-10/gamma.yaml": paper_yaml(
        title='"Paper gamma"',
        themes="[medical]",
        tags="[caching]",
        authors="[Ada Lovelace, Emmy Noether]",
    ),
}


def listing_pages(urls: list[str]) -> set[str]:
    return {url for url in urls if url.startswith(("tags/", "authors/"))}


def test_a_new_tag_renders_exactly_the_listings_the_paper_leaves_and_joins(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(NAMED, CONFIG)
    assert build.run(root, cache=True).ok
    rendered.clear()
    (root / "entries/2026-01-03/alpha.yaml").write_text(
        paper_yaml(title='"Paper alpha"', themes="[safety]", tags="[sampling]")
    )
    assert build.run(root, cache=True).ok
    assert listing_pages(rendered) == {
        "tags/caching/index.html",  # alpha leaves it
        "tags/sampling/index.html",  # and joins it
        "tags/index.html",  # their counts change
        "authors/ada-lovelace/index.html",  # shows alpha
    }
    assert {"papers/alpha/index.html", "2026-01-03/index.html"} <= set(rendered)
    assert "papers/gamma/index.html" not in rendered
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_new_author_renders_the_author_index_and_their_page(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    root = make_site(NAMED, CONFIG)
    assert build.run(root, cache=True).ok
    rendered.clear()
    (root / "entries/2026-01-03/beta.yaml").write_text(
        paper_yaml(
            title='"Paper beta"',
            themes="[acceleration]",
            tags="[sampling]",
            authors="[Alan Turing, Mary Somerville]",
        )
    )
    assert build.run(root, cache=True).ok
    assert listing_pages(rendered) == {
        "authors/index.html",
        "authors/alan-turing/index.html",
        "authors/mary-somerville/index.html",
        "tags/sampling/index.html",
    }
    assert "sitemap.xml" in rendered  # a new page to list
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_a_new_paper_moves_the_pages_after_it_and_no_others(
    make_site: SiteFactory, tmp_path: Path, rendered: list[str]
) -> None:
    """One paper a page: a paper added to the newest issue is page 1 of its listings, and
    every page after it shows the paper the page before showed."""
    root = make_site(NAMED, CONFIG + "page_size = 1\n")
    assert build.run(root, cache=True).ok
    rendered.clear()
    (root / "entries/2026-01-10/delta.yaml").write_text(
        paper_yaml(title='"Paper delta"', themes="[safety]", tags="[caching]", authors="[]")
    )
    assert build.run(root, cache=True).ok
    assert listing_pages(rendered) == {
        "tags/index.html",
        "tags/caching/index.html",
        "tags/caching/page/2/index.html",
        "tags/caching/page/3/index.html",  # new
    }
    assert {"topics/safety/index.html", "topics/safety/page/2/index.html"} <= set(rendered)
    assert "topics/acceleration/index.html" not in rendered  # its issue is unchanged
    assert tree(root / "site") == clean_build(root, tmp_path)


def test_names_that_take_each_others_slug_render_the_pages_that_link_them(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """José García alone has the page authors/jose-garcia/; once Jose Garcia, first in
    code-point order, appears, José's page moves, and every link to it with it."""
    files = {
        **NAMED,
        "entries/2026-01-10/gamma.yaml": paper_yaml(
            title='"Paper gamma"', themes="[medical]", authors="[José García]"
        ),
    }
    root = make_site(files, CONFIG)
    assert build.run(root, cache=True).ok
    gamma = (root / "site/papers/gamma/index.html").read_text(encoding="utf-8")
    assert 'href="../../authors/jose-garcia/">José García</a>' in gamma
    (root / "entries/2026-01-03/beta.yaml").write_text(
        paper_yaml(title='"Paper beta"', authors="[Jose Garcia]")
    )
    assert build.run(root, cache=True).ok
    gamma = (root / "site/papers/gamma/index.html").read_text(encoding="utf-8")
    assert 'href="../../authors/jose-garcia-' in gamma
    assert tree(root / "site") == clean_build(root, tmp_path)
