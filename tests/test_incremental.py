"""Incremental builds: the output of a cached rebuild is byte-identical to a clean build."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest import build, hashing, store, swap, write
from digest import organise as organise_module
from digest.files import theme_dir
from digest.manifest import MANIFEST, manifest_text
from digest.render import RenderedPage
from tests.conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml
from tests.test_load import run_digest

from .conftest import examples

ISSUES = ("2026-01-03", "2026-01-10")
IDS = ("alpha", "beta", "gamma", "delta", "epsilon")
# A paper's themes: one, or two (its card under the first, an "also" line under the other).
THEMES = ("acceleration", "safety", "medical", "theory", "safety, acceleration", "theory, safety")
CONFIG = '[tool.digest]\ntitle = "{title}"\nbase_url = "https://example.org/digest"\n'
# Two papers a page: with a few papers, topic, tag and author listings run over pages.
LISTINGS = "page_size = 2\n"
# A summary naming two papers (cross-references): the title of the first shows wherever
# the summary does, so an "edit" of alpha changes pages of other papers and issues, and
# "delete" or "rename" of alpha makes an error of it.
XREF = "After [[alpha]] and [[beta|the other]]."


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (as None): empty folders count too."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


@dataclass
class Site:
    """A content root on disk plus what is in it, so edits can name existing papers."""

    root: Path
    papers: dict[str, str] = field(default_factory=dict)  # id → issue folder
    title: str = "Digest"
    themes: str = ""  # the configuration's `themes = [...]`, when not the defaults
    listings: str = LISTINGS  # the configuration's tag and author switches and page size

    def write_config(self) -> None:
        self.write("pyproject.toml", CONFIG.format(title=self.title) + self.listings + self.themes)

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def paper_path(self, paper: str) -> Path:
        return self.root / "entries" / self.papers[paper] / f"{paper}.yaml"


def new_site(root: Path) -> Site:
    if root.exists():
        shutil.rmtree(root)
    site = Site(root)
    site.write_config()
    for issue in ISSUES:
        site.write(f"entries/{issue}/_issue.yaml", MINIMAL_ISSUE)
    # beta's summary names alpha, of the other issue: its pages show alpha's title.
    for paper, issue, summary in (
        ("alpha", ISSUES[0], "It does things, quickly."),
        ("beta", ISSUES[1], XREF),
    ):
        site.papers[paper] = issue
        text = paper_yaml(title=f'"Paper {paper}"', summary=f"|\n  {summary}")
        site.write(f"entries/{issue}/{paper}.yaml", text)
    return site


ISSUE_TEXTS = (
    MINIMAL_ISSUE,
    MINIMAL_ISSUE.replace("A short introduction.", "A *new* introduction."),
    MINIMAL_ISSUE + "themes:\n  safety: |\n    Safety prose.\noutlook: |\n    Next time.\n",
    MINIMAL_ISSUE + "under_the_hood: |\n  What it *builds*.\n",
)
# What "Under the hood" shows of a paper: its label and its contributions.
LABELS = (None, "Zeta", "alpha")
CONTRIBUTIONS = (None, "technique", "[architecture, dataset]")
# The `themes` of the configuration: the defaults, or a list without "medical" and with
# the others reordered and retitled.
THEME_LISTS = (
    "",
    "themes = [\n"
    + "".join(
        f'  {{ slug = "{slug}", title = "{slug.title()}!", description = "About {slug}." }},\n'
        for slug in ("theory", "acceleration", "safety")
    )
    + "]\n",
)
# A paper's tags and authors: spellings of one name ("caching", "Caching"), names that
# differ only by their accents (one of which then has a slug that depends on the other).
TAG_LISTS = ("[]", "[caching]", "[Caching, sampling]", "[sampling, rare]")
AUTHOR_LISTS = (
    "[Ada Lovelace]",
    '["ada  lovelace", José García]',
    "[Jose Garcia]",
    "[]",
    "[José García, Emmy Noether]",
)
# Tag and author pages on or off, and the papers a listing's page shows.
LISTING_SETTINGS = tuple(
    f"tag_pages = {tags}\nauthor_pages = {authors}\npage_size = {size}\n"
    for tags, authors, size in (("true", "true", 1), ("false", "true", 2), ("true", "false", 50))
)
# The default macros, to override the one every listing card is drawn with.
DEFAULT_MACROS = (theme_dir() / "macros" / "papers.html").read_text(encoding="utf-8")
COMPACT = '<article class="paper paper-compact"'
assert COMPACT in DEFAULT_MACROS

titles = st.text(alphabet="abcdefgh XYZ", min_size=1, max_size=12).map(
    lambda t: f'"{t.strip() or "x"}"'
)
summaries = st.sampled_from(
    [
        "Fast.",
        "It *works* well.",
        "See [code](https://github.com/a/b).",
        "Two.\n\n  Paras.",
        XREF,
    ]
)
operations = st.one_of(
    st.tuples(
        st.just("add"),
        st.sampled_from(IDS),
        st.sampled_from(ISSUES),
        titles,
        st.sampled_from(THEMES),
    ),
    st.tuples(st.just("edit"), st.integers(0, 4), titles, summaries),
    st.tuples(st.just("delete"), st.integers(0, 4)),
    st.tuples(st.just("rename"), st.integers(0, 4), st.sampled_from(IDS), st.sampled_from(ISSUES)),
    st.tuples(st.just("template"), st.sampled_from(["", "one", "two"])),
    st.tuples(st.just("config"), st.sampled_from(["Digest", "Another Digest", "Third"])),
    st.tuples(st.just("break"), st.integers(0, 4)),
    st.tuples(st.just("issue"), st.sampled_from(ISSUES), st.sampled_from(ISSUE_TEXTS)),
    st.tuples(st.just("draft"), st.sampled_from(ISSUES), st.booleans()),
    st.tuples(st.just("themes"), st.sampled_from(THEME_LISTS)),
    st.tuples(st.just("macro"), st.sampled_from(["", "one", "two"])),
    st.tuples(
        st.just("names"),
        st.integers(0, 4),
        st.sampled_from(TAG_LISTS),
        st.sampled_from(AUTHOR_LISTS),
    ),
    st.tuples(st.just("listings"), st.sampled_from((LISTINGS, *LISTING_SETTINGS))),
    st.tuples(
        st.just("hood"),
        st.integers(0, 4),
        st.sampled_from(LABELS),
        st.sampled_from(CONTRIBUTIONS),
        st.sampled_from(THEMES),
    ),
)


def apply(site: Site, operation: tuple[object, ...]) -> None:
    kind = operation[0]
    existing = sorted(site.papers)
    if kind == "add":
        _, paper, issue, title, theme = operation
        assert isinstance(paper, str) and isinstance(issue, str)
        if paper in site.papers:
            site.paper_path(paper).unlink()
        site.papers[paper] = issue
        site.write(
            f"entries/{issue}/{paper}.yaml", paper_yaml(title=str(title), themes=f"[{theme}]")
        )
    elif kind == "template":
        override = site.root / "templates" / "404.html"
        if operation[1]:
            site.write(
                "templates/404.html",
                f"<!DOCTYPE html><title>{{{{ page.title }}}}</title><p>{operation[1]}</p>\n",
            )
        elif override.exists():
            override.unlink()
    elif kind == "config":
        site.title = str(operation[1])
        site.write_config()
    elif kind == "themes":
        site.themes = str(operation[1])
        site.write_config()
    elif kind == "listings":
        site.listings = str(operation[1])
        site.write_config()
    elif kind == "issue":
        site.write(f"entries/{operation[1]}/_issue.yaml", str(operation[2]))
    elif kind == "draft":
        path = site.root / "entries" / str(operation[1]) / "_issue.yaml"
        text = path.read_text(encoding="utf-8").replace("draft: true\n", "")
        path.write_text(text + ("draft: true\n" if operation[2] else ""), encoding="utf-8")
    elif kind == "macro":
        override = site.root / "templates" / "macros" / "papers.html"
        if operation[1]:
            marked = f'<article class="paper paper-compact" data-v="{operation[1]}"'
            site.write("templates/macros/papers.html", DEFAULT_MACROS.replace(COMPACT, marked))
        elif override.exists():
            override.unlink()
    elif existing:
        paper = existing[int(str(operation[1])) % len(existing)]
        path = site.paper_path(paper)
        if kind == "edit":
            path.write_text(
                paper_yaml(title=str(operation[2]), summary=f"|\n  {operation[3]}"),
                encoding="utf-8",
            )
        elif kind == "delete":
            path.unlink()
            del site.papers[paper]
        elif kind == "break":
            path.write_text(paper_yaml(themes="[not-a-theme]"), encoding="utf-8")
        elif kind == "names":
            tags, authors = (str(v) for v in operation[2:])
            text = paper_yaml(title=f'"Paper {paper}"', tags=tags, authors=authors)
            path.write_text(text, encoding="utf-8")
        elif kind == "hood":
            label, contribution, themes = (None if v is None else str(v) for v in operation[2:])
            text = paper_yaml(
                title=f'"Paper {paper}"',
                label=label,
                contribution=contribution,
                themes=f"[{themes}]",
            )
            path.write_text(text, encoding="utf-8")
        elif kind == "rename":
            _, _, new_id, issue = operation
            assert isinstance(new_id, str) and isinstance(issue, str)
            if new_id in site.papers and new_id != paper:
                return
            target = site.root / "entries" / issue / f"{new_id}.yaml"
            path.rename(target)
            del site.papers[paper]
            site.papers[new_id] = issue


def build_both(
    site: Site, incremental_out: Path, clean_out: Path
) -> tuple[build.BuildResult, build.BuildResult]:
    incremental = build.run(site.root, incremental_out, cache=True)
    if clean_out.exists():
        shutil.rmtree(clean_out)
    clean = build.run(site.root, clean_out, cache=False)
    return incremental, clean


def assert_same(
    incremental: build.BuildResult, clean: build.BuildResult, inc_out: Path, clean_out: Path
) -> None:
    assert incremental.ok == clean.ok
    assert incremental.report.sorted() == clean.report.sorted()
    assert (incremental.pages, incremental.files) == (clean.pages, clean.files)
    if clean.ok:
        assert tree(inc_out) == tree(clean_out)
        assert_state_describes(incremental.content.root, inc_out)


def assert_state_describes(root: Path, out: Path) -> None:
    """The store records exactly the files `out` holds: size, mtime and content digest."""
    recorded = store.Store(root / store.CACHE_DIR / store.STORE_FILE).outputs
    files = {p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file()}
    assert {url: (o.size, o.mtime_ns, o.digest) for url, o in recorded.items()} == {
        url: (p.stat().st_size, p.stat().st_mtime_ns, hashing.digest_bytes(p.read_bytes()))
        for url, p in files.items()
    }


@settings(
    max_examples=examples(12),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operations, min_size=1, max_size=5))
def test_incremental_output_equals_a_clean_build(
    tmp_path: Path, steps: list[tuple[object, ...]]
) -> None:
    site = new_site(tmp_path / "root")
    inc_out, clean_out = tmp_path / "incremental", tmp_path / "clean"
    if inc_out.exists():
        shutil.rmtree(inc_out)
    assert_same(*build_both(site, inc_out, clean_out), inc_out, clean_out)
    for operation in steps:
        apply(site, operation)
        assert_same(*build_both(site, inc_out, clean_out), inc_out, clean_out)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return new_site(tmp_path / "root")


def stamps(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_mtime_ns, path.stat().st_ino)
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_no_change_rebuild_leaves_the_site_alone(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build.run(site.root, out, cache=True)
    assert first.ok
    before, folder = stamps(out), out.stat().st_ino
    again = build.run(site.root, out, cache=True)
    assert again.ok
    assert (again.pages, again.files) == (first.pages, first.files)
    assert again.report.sorted() == first.report.sorted()
    assert stamps(out) == before
    assert out.stat().st_ino == folder  # not even swapped


def test_one_edit_rewrites_only_the_pages_it_changes(site: Site, tmp_path: Path) -> None:
    out, clean_out = tmp_path / "out", tmp_path / "clean"
    assert build.run(site.root, out, cache=True).ok
    before = stamps(out)
    site.paper_path("alpha").write_text(paper_yaml(title='"Paper alpha"', summary="|\n  Changed."))
    result = build.run(site.root, out, cache=True)
    assert result.ok
    after = stamps(out)
    changed = {url for url in after if after[url] != before.get(url)}
    assert "papers/alpha/index.html" in changed
    assert "papers/beta/index.html" not in changed
    assert "assets/style.css" not in changed
    assert len(changed) < len(after) / 2
    assert build.run(site.root, clean_out, cache=False).ok
    assert tree(out) == tree(clean_out)
    assert_state_describes(site.root, out)


def test_a_corrupted_cache_is_survived(site: Site, tmp_path: Path) -> None:
    out, clean_out = tmp_path / "out", tmp_path / "clean"
    assert build.run(site.root, out, cache=True).ok
    folder = site.root / store.CACHE_DIR
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 3] + b"\x00garbage")
    (folder / "unrelated").write_bytes(os.urandom(64))
    site.paper_path("beta").write_text(paper_yaml(title='"Beta, edited"'))
    result = build.run(site.root, out, cache=True)
    assert result.ok
    assert build.run(site.root, clean_out, cache=False).ok
    assert tree(out) == tree(clean_out)
    # and the cache works again afterwards
    assert build.run(site.root, out, cache=True).ok


def test_a_failed_build_keeps_the_site_and_the_cache(site: Site, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert build.run(site.root, out, cache=True).ok
    before = stamps(out)
    good = site.paper_path("alpha").read_text()
    site.paper_path("alpha").write_text(paper_yaml(themes="[nope]"))
    assert not build.run(site.root, out, cache=True).ok
    assert stamps(out) == before
    site.paper_path("alpha").write_text(good)
    assert build.run(site.root, out, cache=True).ok
    assert stamps(out) == before  # back to the inputs of the last good build: nothing to do


def _reusing(out: Path, previous: dict[str, bytes]) -> write.Reuse:
    return lambda url, data: out / url if previous.get(url) == data else None


def test_a_rebuild_updates_the_spare_and_swaps_it_in(tmp_path: Path) -> None:
    out = tmp_path / "site"
    spare = swap.spare_path(out)
    first = {"index.html": b"home", "papers/gone/index.html": b"gone"}
    assert write.write_site([RenderedPage(u, d) for u, d in first.items()], out).ok
    first_site = tree(out)
    second = {"index.html": b"home", "new/index.html": b"new"}
    pages = [RenderedPage(u, d) for u, d in second.items()]
    assert write.write_site(pages, out, reuse=_reusing(out, first)).ok
    assert tree(spare) == first_site  # no spare yet: a new folder, the old site kept
    second_site, home = tree(out), (out / "index.html").stat()
    third = {"index.html": b"home", "new/index.html": b"newer"}
    pages = [RenderedPage(u, d) for u, d in third.items()]
    assert write.write_site(pages, out, reuse=_reusing(out, second)).ok
    assert tree(out) == {  # papers/ went with its last file: a clean build has no empty folder
        MANIFEST: manifest_text(third),
        "index.html": b"home",
        "new": None,
        "new/index.html": b"newer",
    }
    now = (out / "index.html").stat()
    assert (now.st_ino, now.st_mtime_ns) == (home.st_ino, home.st_mtime_ns)  # not touched
    assert tree(spare) == second_site
    assert sorted(p.name for p in tmp_path.iterdir()) == [spare.name, "site"]


def test_a_spare_that_cannot_be_updated_gives_way_to_a_new_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "site"
    for text in ("one", "two"):
        assert write.write_site([RenderedPage("a.html", text)], out).ok
    assert (swap.spare_path(out) / "a.html").read_text() == "one"

    def failing(*args: Any) -> Any:
        raise PermissionError("no")

    monkeypatch.setattr(write, "_refresh", failing)
    pages = [RenderedPage("a.html", "three"), RenderedPage("b", "a file")]
    result = write.write_site(pages, out, reuse=_reusing(out, {"a.html": b"two"}))
    assert result.ok
    assert tree(out) == {
        MANIFEST: manifest_text(["a.html", "b"]),
        "a.html": b"three",
        "b": b"a file",
    }
    assert (swap.spare_path(out) / "a.html").read_text() == "two"


def test_a_spare_made_ahead_is_the_site_in_hard_links_and_the_next_rebuild_uses_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "site"
    spare = swap.spare_path(out)
    first = {"index.html": b"home", "papers/a/index.html": b"a", "papers/b/index.html": b"b"}
    assert write.write_site([RenderedPage(u, d) for u, d in first.items()], out).ok
    assert not spare.exists()  # a first build has no previous site to keep
    assert write.make_spare(out, threading.Event())
    assert tree(spare) == tree(out)
    for url in first:  # hard links: the same files, no content copied
        assert (spare / url).stat().st_ino == (out / url).stat().st_ino
    assert not write.make_spare(out, threading.Event())  # there is one already
    home = (out / "index.html").stat()
    second = {**first, "papers/a/index.html": b"a, edited"}
    pages = [RenderedPage(u, d) for u, d in second.items()]
    assert write.write_site(pages, out, reuse=_reusing(out, first)).ok
    assert tree(out) == {
        **dict.fromkeys(("papers", "papers/a", "papers/b")),
        **second,
        MANIFEST: manifest_text(second),
    }
    assert (out / "index.html").stat().st_ino == home.st_ino  # the same file, never rewritten
    assert tree(spare) == {
        **dict.fromkeys(("papers", "papers/a", "papers/b")),
        **first,
        MANIFEST: manifest_text(first),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [spare.name, "site"]


def test_a_spare_given_up_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert write.write_site([RenderedPage("a.html", "one")], out).ok
    site = tree(out)
    abandon = threading.Event()
    abandon.set()  # a save came in
    assert not write.make_spare(out, abandon)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert tree(out) == site


def test_an_entry_edited_while_a_build_runs_is_rebuilt_next_time(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inputs are stamped before they are read, so a late edit is never taken as built."""
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(title='"Before the edit"'),
        },
        config='base_url = "https://digest-demo.github.io/t"\n',
    )
    assert build.run(root, cache=True).ok
    entry = root / "entries/2026-02-28/a.yaml"
    entry.write_text(paper_yaml(title='"Second version"'))
    real_organise = organise_module.organise

    def edit_then_organise(*args: Any, **kwargs: Any) -> Any:
        entry.write_text(paper_yaml(title='"Third version"'))  # after loading, mid-build
        return real_organise(*args, **kwargs)

    monkeypatch.setattr(build, "organise", edit_then_organise)
    assert build.run(root, cache=True).ok
    monkeypatch.setattr(build, "organise", real_organise)
    assert build.run(root, cache=True).ok
    page = (root / "site/papers/a/index.html").read_text(encoding="utf-8")
    assert "Third version" in page


def test_damaged_objects_in_the_store_are_made_again(site: Site, tmp_path: Path) -> None:
    """Compiled templates, checked entries and pieces whose bytes no longer match their
    checksum are never used: the build makes them afresh, and the site is the same."""
    out = tmp_path / "out"
    assert build.run(site.root, out, cache=True).ok
    before = tree(out)
    path = site.root / store.CACHE_DIR / store.STORE_FILE
    with sqlite3.connect(path) as db:
        kinds = {key.split(":")[0] for (key,) in db.execute("SELECT key FROM objects")}
        assert "jinja" in kinds  # compiled templates are kept
        db.execute("UPDATE objects SET data = substr(data, 1, 20) || x'80'")
    site.paper_path("alpha").write_text(paper_yaml(title='"Paper alpha, again"'))
    # In a new process: this one holds the compiled templates in memory too.
    done = run_digest("build", "--root", str(site.root), "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    site.paper_path("alpha").write_text(paper_yaml(title='"Paper alpha"'))
    assert build.run(site.root, out, cache=True).ok
    assert tree(out) == before


def test_templates_compiled_for_one_site_reach_the_store_of_the_next(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    """A process that built a site already holds the theme's templates compiled; the
    next site it builds keeps them in its own store all the same, for the next process."""
    first = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    second = tmp_path / "second"
    shutil.copytree(first, second)
    assert build.run(first, cache=True).ok
    assert build.run(second, cache=True).ok

    def compiled(root: Path) -> set[str]:
        with sqlite3.connect(root / store.CACHE_DIR / store.STORE_FILE) as db:
            keys = [key for (key,) in db.execute("SELECT key FROM objects")]
        return {key for key in keys if key.startswith("jinja:")}

    assert compiled(first) and compiled(second) == compiled(first)


def test_a_template_edited_between_builds_of_one_process_shows_the_edit(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
            "templates/partials/_footer.html": "<footer>First footer</footer>\n",
        }
    )
    assert build.run(root, tmp_path / "one").ok
    (root / "templates/partials/_footer.html").write_text("<footer>Second footer</footer>\n")
    assert build.run(root, tmp_path / "two").ok
    page = (tmp_path / "two/index.html").read_text(encoding="utf-8")
    assert "Second footer" in page and "First footer" not in page
