from __future__ import annotations

import gzip
import posixpath
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from typer.testing import CliRunner

from digest.build import run
from digest.cli import app
from digest.manifest import MANIFEST

from .conftest import MINIMAL_ISSUE, REPO, SiteFactory, paper_yaml

SMALL = REPO / "tests" / "fixtures" / "sites" / "small"
runner = CliRunner()


class PageParser(HTMLParser):
    """Collects every element's attributes, the ids, and the script elements of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        if "id" in values:
            self.ids.add(values["id"])


def parse(path: Path) -> PageParser:
    parser = PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def html_pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def broken_links(out: Path, skip: tuple[str, ...] = ("404.html",)) -> list[str]:
    """Every href/src of every page that does not resolve to a file (and #id) inside `out`.

    External (scheme or //host) targets are not followed; they are checked by `digest check
    --links`. 404.html is skipped: it is served at any depth, so its links start at "/".
    """
    problems = []
    parsed = {page: parse(page) for page in html_pages(out)}
    for page, parser in parsed.items():
        name = page.relative_to(out).as_posix()
        if name in skip:
            continue
        for tag, attrs in parser.elements:
            for attribute in ("href", "src"):
                if attribute not in attrs:
                    continue
                target = attrs[attribute]
                parts = urlsplit(target)
                if parts.scheme or target.startswith("//"):
                    continue
                if not parts.path:
                    resolved = page
                else:
                    joined = posixpath.normpath(
                        posixpath.join(posixpath.dirname(name), unquote(parts.path))
                    )
                    if joined.startswith("../") or joined == ".." or posixpath.isabs(joined):
                        problems.append(f"{name}: <{tag} {attribute}={target!r}> leaves the site")
                        continue
                    resolved = out / joined
                    if parts.path.endswith("/") or resolved.is_dir():
                        resolved = resolved / "index.html"
                if not resolved.is_file():
                    problems.append(f"{name}: <{tag} {attribute}={target!r}> names no file")
                elif parts.fragment and resolved.suffix == ".html":
                    ids = parsed[resolved].ids if resolved in parsed else parse(resolved).ids
                    if parts.fragment not in ids:
                        problems.append(f"{name}: <{tag} {attribute}={target!r}> names no id")
    return problems


def theme_script(tag: str, attrs: dict[str, str]) -> bool:
    """False for an executable script that is inline or not one of the theme's own assets.

    JSON-LD data blocks (`type="application/ld+json"`) never run; a title that broke out
    of one would show up here as a second, inline script without that type.
    """
    if tag != "script" or attrs.get("type") == "application/ld+json":
        return True
    source = attrs.get("src", "")
    local = not urlsplit(source).scheme and not source.startswith("//")
    return local and posixpath.basename(posixpath.dirname(source)) == "assets"


def tree(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "site"
    result = run(REPO, out)
    assert result.ok, result.report.errors
    return out


# ---------------------------------------------------------------- the example site


def test_the_example_builds_every_page_of_the_site_map(example_site: Path) -> None:
    files = tree(example_site)
    assert "index.html" in files
    assert "2026-02-28/index.html" in files
    assert "topics/index.html" in files
    assert "404.html" in files
    assert "assets/style.css" in files
    papers = sorted(
        p.name for p in (REPO / "entries" / "2026-02-28").glob("*.yaml") if p.stem != "_issue"
    )
    assert sorted(f"{u.split('/')[1]}.yaml" for u in files if u.startswith("papers/")) == papers
    for slug in ("acceleration", "safety", "medical", "theory", "data", "applications"):
        assert f"topics/{slug}/index.html" in files


def test_every_internal_link_resolves_inside_the_output(example_site: Path) -> None:
    assert broken_links(example_site) == []


def test_the_link_checker_notices_broken_and_escaping_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text(
        '<a href="../b/">b</a><a href="../../up.html">up</a><a href="#nope">x</a>'
        '<img src="pic.png" alt=""><a href="https://ok.org/">ext</a>'
    )
    assert broken_links(tmp_path) == [
        "a/index.html: <a href='../b/'> names no file",
        "a/index.html: <a href='../../up.html'> leaves the site",
        "a/index.html: <a href='#nope'> names no id",
        "a/index.html: <img src='pic.png'> names no file",
    ]


def test_pages_have_one_h1_unique_ids_and_a_language(example_site: Path) -> None:
    for page in html_pages(example_site):
        parser = parse(page)
        tags = [tag for tag, _ in parser.elements]
        assert tags.count("h1") == 1, page
        ids = [attrs["id"] for _, attrs in parser.elements if "id" in attrs]
        assert len(ids) == len(set(ids)), page
        assert parser.elements[0] == ("html", {"lang": "en"}), page
        assert all(theme_script(tag, attrs) for tag, attrs in parser.elements), page


def test_nothing_is_loaded_from_another_host(example_site: Path) -> None:
    for page in html_pages(example_site):
        for tag, attrs in parse(page).elements:
            fetched = tag == "link" and attrs.get("rel") not in ("canonical", "alternate")
            loaded = attrs.get("src") or (attrs.get("href") if fetched else None)
            if loaded:
                assert not urlsplit(loaded).scheme and not loaded.startswith("//"), (page, loaded)


def test_the_digest_page_reads_like_the_seed(example_site: Path) -> None:
    text = (example_site / "2026-02-28" / "index.html").read_text()
    assert "Latest 27 papers on diffusion models: Feb. 28, 2026" in text
    assert '<a href="../papers/dpcache/">Denoising as Path Planning' in text
    assert (
        '<span class="authors"><a href="../authors/bowen-cui/">Bowen Cui</a> et al.</span>' in text
    )
    assert '<span class="affiliations">Alibaba Group</span>' in text
    order = [
        text.index(marker)
        for marker in (
            'id="theme-acceleration"',
            'id="theme-safety"',
            'id="under-the-hood"',
            '<h3 id="hood-architectures">Architectures</h3>',
            '<h3 id="hood-techniques">Techniques &amp; training strategies</h3>',
            '<h3 id="hood-datasets">Datasets &amp; benchmarks</h3>',
            'id="outlook"',
        )
    ]
    assert order == sorted(order)


# ---------------------------------------------------------------- determinism and atomicity


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    assert run(SMALL, first, drafts=True).ok
    assert run(SMALL, second, drafts=True).ok
    assert tree(first) == tree(second)
    assert len(tree(first)) > 10


def test_a_build_failing_half_way_leaves_the_old_site_intact(tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(SMALL, root)
    out = tmp_path / "site"
    assert run(root, out).ok
    before = tree(out)
    # The paper template breaks only when rendering: home, issues and topics render first.
    (root / "templates").mkdir()
    (root / "templates" / "paper.html").write_text(
        "{% extends 'base.html' %}{% block content %}{{ paper.no_such_field }}{% endblock %}\n"
    )
    (root / "entries" / "2026-01-15" / "convergence-bounds.yaml").write_text(
        paper_yaml(title='"A Retitled Paper"', themes="[theory]")
    )
    result = run(root, out)
    assert not result.ok
    assert [d.code for d in result.report.errors] == ["E402"]
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root", "site"]


XSS_TITLE = '"<script>alert(1)</script> <img src=x onerror=alert(1)> Title"'
XSS_SUMMARY = (
    "|\n  <script>alert(2)</script> <img src=x onerror=alert(3)>\n"
    '  [x](javascript:alert(4)) [y](JAVASCRIPT:alert(5)) <a href="javascript:alert(6)">z</a>'
)


def test_hostile_title_and_summary_build_to_inert_pages(make_site: SiteFactory) -> None:
    issue = MINIMAL_ISSUE + "themes:\n  acceleration: |\n    <script>alert(7)</script>\n"
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": issue,
            "entries/2026-02-28/evil.yaml": paper_yaml(title=XSS_TITLE, summary=XSS_SUMMARY),
        }
    )
    result = run(root, root / "site")
    assert result.ok, result.report.errors
    pages = html_pages(root / "site")
    assert len(pages) >= 5
    seen_text = False
    for page in pages:
        text = page.read_text()
        seen_text = seen_text or "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        for tag, attrs in parse(page).elements:
            assert theme_script(tag, attrs), (page, attrs)
            assert not any(name.startswith("on") for name in attrs), (page, tag, attrs)
            for name in ("href", "src", "action", "formaction", "srcdoc"):
                value = attrs.get(name, "").lower().replace(" ", "")
                assert "javascript:" not in value, (page, tag, attrs)
            assert not (tag == "img" and attrs.get("src") == "x"), page
    assert seen_text  # the title is shown as text, not dropped


def test_a_paper_with_two_themes_appears_under_both(tmp_path: Path) -> None:
    """Its card is in its first theme's section; the other section links to that card."""
    out = tmp_path / "site"
    assert run(SMALL, out).ok
    issue = (out / "2026-01-15" / "index.html").read_text()
    card = '<article class="paper" id="paper-fast-and-safe">'
    also = '<a href="#paper-fast-and-safe">Fast and Safe Sampling'
    accel, safety = issue.index('id="theme-acceleration"'), issue.index('id="theme-safety"')
    assert issue.count(card) == 1 and issue.count(also) == 1
    assert accel < issue.index(card) < safety < issue.index(also)
    for slug in ("acceleration", "safety"):
        topic = (out / "topics" / slug / "index.html").read_text()
        assert topic.count('<a href="../../papers/fast-and-safe/">') == 1


def test_drafts_are_built_only_with_drafts(tmp_path: Path) -> None:
    without, with_drafts = tmp_path / "without", tmp_path / "with"
    assert run(SMALL, without).ok
    assert run(SMALL, with_drafts, drafts=True).ok
    assert not (without / "2026-03-01").exists()
    assert not (without / "papers" / "draft-paper").exists()
    assert "unfinished issue" not in (without / "index.html").read_text()
    assert (with_drafts / "2026-03-01" / "index.html").is_file()
    assert (with_drafts / "papers" / "draft-paper" / "index.html").is_file()
    assert "Small Digest, unfinished issue" in (with_drafts / "index.html").read_text()


def test_the_small_site_links_resolve_with_and_without_drafts(tmp_path: Path) -> None:
    for drafts in (False, True):
        out = tmp_path / f"site-{drafts}"
        assert run(SMALL, out, drafts=drafts).ok
        assert broken_links(out) == []


def test_404_links_start_from_the_site_root(tmp_path: Path, make_site: SiteFactory) -> None:
    out = tmp_path / "small"
    assert run(SMALL, out).ok
    assert 'href="/small/topics/"' in (out / "404.html").read_text()
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    assert run(root, root / "site").ok
    text = (root / "site" / "404.html").read_text()
    assert 'href="/topics/"' in text
    assert 'href="/assets/style.css"' in text


# ---------------------------------------------------------------- the command


def test_cli_build_exits_0_and_says_what_it_built(tmp_path: Path) -> None:
    # A copy, because the command keeps its build cache in the content root.
    root = tmp_path / "small"
    shutil.copytree(SMALL, root)
    out = tmp_path / "out"
    result = runner.invoke(app, ["build", "--root", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = [u for u in tree(out) if not u.startswith("assets/") and u != MANIFEST]
    assert result.output.splitlines()[-1] == f"built {len(pages)} pages into {out.as_posix()}/"
    assert result.output.splitlines()[-2].startswith("4 papers in 3 issues: ")
    assert (out / "index.html").is_file()


def test_cli_build_exits_1_on_content_errors_and_keeps_the_old_site(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    assert runner.invoke(app, ["build", "--root", str(root)]).exit_code == 0
    before = tree(root / "site")
    (root / "entries" / "2026-02-28" / "b.yaml").write_text(paper_yaml(themes="[acceleraton]"))
    result = runner.invoke(app, ["build", "--root", str(root)])
    assert result.exit_code == 1
    assert "entries/2026-02-28/b.yaml:" in result.output
    assert "did you mean 'acceleration'?" in result.output
    assert "built" not in result.output
    assert "Traceback" not in result.output
    assert tree(root / "site") == before


def test_cli_build_strict_fails_on_warnings(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(authors=None),
        }
    )
    assert runner.invoke(app, ["build", "--root", str(root)]).exit_code == 0
    result = runner.invoke(
        app, ["build", "--root", str(root), "--strict", "--out", str(root / "x")]
    )
    assert result.exit_code == 1
    assert "error[W101]" in result.output
    assert not (root / "x").exists()


def test_cli_build_template_errors_exit_1_without_traceback(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
            "templates/topic.html": "{% for x in %}\n",
        }
    )
    result = runner.invoke(app, ["build", "--root", str(root)])
    assert result.exit_code == 1
    assert "templates/topic.html:1:1: error[E401]: template syntax error:" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "args", [["--format", "xml"], ["--no-such-option"], ["--root", "/no/such/dir"]]
)
def test_cli_build_usage_errors_exit_2(args: list[str]) -> None:
    assert runner.invoke(app, ["build", *args]).exit_code == 2


def test_cli_build_json_output_is_one_document(tmp_path: Path) -> None:
    root = tmp_path / "small"  # a copy: the command keeps its cache in the content root
    shutil.copytree(SMALL, root)
    result = runner.invoke(
        app, ["build", "--root", str(root), "--out", str(tmp_path / "o"), "--format", "json"]
    )
    assert result.exit_code == 0
    assert result.output.lstrip().startswith("{")
    assert result.output.rstrip().endswith("}")


def test_a_link_loop_in_the_templates_folder_is_not_followed(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
            "templates/assets/extra.css": "p { margin: 0 }\n",
        }
    )
    (root / "templates" / "assets" / "up").symlink_to(root / "templates")
    for _ in range(2):  # the first build, then one that compares stamps
        result = runner.invoke(app, ["build", "--root", str(root)])
        assert result.exit_code == 0, result.output
    assert (root / "site" / "assets" / "extra.css").read_text() == "p { margin: 0 }\n"
    # The link is followed once, to the folder it names, and not round again.
    linked = root / "site" / "assets" / "up" / "assets"
    assert (linked / "extra.css").is_file() and not (linked / "up").exists()


def test_an_asset_link_that_leads_nowhere_is_reported_where_it_is(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    assert runner.invoke(app, ["build", "--root", str(root)]).exit_code == 0
    before = (root / "site" / "index.html").read_bytes()
    (root / "templates" / "assets").mkdir(parents=True)
    (root / "templates" / "assets" / "logo.svg").symlink_to(root / "moved" / "logo.svg")
    result = runner.invoke(app, ["build", "--root", str(root)])
    assert result.exit_code == 1
    assert (
        "templates/assets/logo.svg:1:1: error[E407]: cannot copy the asset assets/logo.svg: "
        f"it is a link to {root / 'moved' / 'logo.svg'}, which is not a file\n"
        "    hint: restore the file it points to, or remove the link\n"
    ) in result.output
    assert "Traceback" not in result.output
    assert (root / "site" / "index.html").read_bytes() == before  # the last site stays


def test_cli_build_refuses_to_empty_a_folder_it_did_not_make(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    documents = root.parent / "documents"
    documents.mkdir()
    (documents / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["build", "--root", str(root), "--out", str(documents)])
    assert result.exit_code == 1
    assert (
        f"{documents}/notes.txt:1:1: error[E405]: refusing to replace {documents}: "
        "it holds notes.txt, which digest did not write"
    ) in result.output
    assert [p.name for p in documents.iterdir()] == ["notes.txt"]
    assert [p.name for p in root.parent.iterdir() if p.name.startswith(".")] == []  # no stage


# ---------------------------------------------------------------- drafts never block


DRAFT_ISSUE = 'title: "Unfinished"\nsubject: diffusion models\ndraft: yes\nintro:\n'
DRAFT_SUFFIX = " (in a draft issue, which is not built)"


def draft_site(make_site: SiteFactory) -> Path:
    """A published issue, and a later draft whose _issue.yaml and papers have mistakes
    (one of them takes an id the published issue uses)."""
    return make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/dup.yaml": paper_yaml(title='"Published"'),
            "entries/2026-03-07/_issue.yaml": DRAFT_ISSUE,
            "entries/2026-03-07/bad.yaml": paper_yaml(themes="[theroy]", summary="secret"),
            "entries/2026-03-07/dup.yaml": paper_yaml(title='"Secret twin"'),
            "entries/2026-03-07/ok.yaml": paper_yaml(title='"Secret but valid"'),
        },
        'base_url = "https://digest.example.org"\n',
    )


def draft_lines(level: str, suffix: str) -> list[str]:
    return [
        f"entries/2026-03-07/_issue.yaml:4:7: {level}[E103]: 'intro' must be text, "
        f"not empty{suffix}",
        f"entries/2026-03-07/bad.yaml:3:10: {level}[E105]: unknown theme 'theroy'{suffix}",
        "    hint: did you mean 'theory'?",
        f"entries/2026-03-07/dup.yaml:1:1: {level}[E201]: paper id 'dup' is already used{suffix}",
        "    hint: first used by entries/2026-02-28/dup.yaml; ids are unique across all issues",
    ]


def test_a_draft_with_errors_does_not_block_the_published_site(make_site: SiteFactory) -> None:
    root = draft_site(make_site)
    for command in ("check", "build"):
        result = runner.invoke(app, [command, "--root", str(root)])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert lines[:5] == draft_lines("warning", DRAFT_SUFFIX)
        assert lines[5] == "2 papers in 1 issue: 0 errors, 3 warnings in 3 files"
    site = root / "site"
    assert (site / "2026-02-28" / "index.html").is_file()
    assert not (site / "2026-03-07").exists()
    # The search index's files are gzip: a draft's text is looked for inside them too.
    contents = [p.read_bytes() for p in site.rglob("*") if p.is_file()]
    texts = [gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data for data in contents]
    assert not any(b"Secret" in text for text in texts)
    assert (site / "papers" / "dup" / "index.html").read_text().count("Published") > 0


@pytest.mark.parametrize(
    ("flags", "level", "suffix"),
    [(["--strict"], "error", DRAFT_SUFFIX), (["--drafts"], "error", "")],
    ids=["strict", "drafts"],
)
def test_a_draft_with_errors_fails_under_strict_or_drafts(
    make_site: SiteFactory, flags: list[str], level: str, suffix: str
) -> None:
    root = draft_site(make_site)
    results = [runner.invoke(app, [c, "--root", str(root), *flags]) for c in ("check", "build")]
    for result in results:
        assert result.exit_code == 1
        assert result.output.splitlines()[:5] == draft_lines(level, suffix)
    assert results[0].output == results[1].output
    assert not (root / "site").exists()


def test_a_published_paper_keeps_its_id_from_an_earlier_draft(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-21/_issue.yaml": MINIMAL_ISSUE + "draft: true\n",
            "entries/2026-02-21/dup.yaml": paper_yaml(title='"Draft twin"'),
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/dup.yaml": paper_yaml(title='"Published"'),
        },
        'base_url = "https://digest.example.org"\n',
    )
    result = runner.invoke(app, ["build", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:2] == [
        "entries/2026-02-21/dup.yaml:1:1: warning[E201]: paper id 'dup' is already used"
        + DRAFT_SUFFIX,
        "    hint: first used by entries/2026-02-28/dup.yaml; ids are unique across all issues",
    ]
    assert "Published" in (root / "site" / "papers" / "dup" / "index.html").read_text()


@pytest.mark.parametrize("out", ["templates/assets/gen", "templates", "entries/2026-02-28/x"])
def test_an_output_folder_inside_the_templates_or_entries_is_refused(
    make_site: SiteFactory, out: str
) -> None:
    """Issue #23: `out = "templates/assets/gen"` copied the site into itself each build."""
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
        },
        config=f'title = "T"\nout = "{out}"\n',
    )
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    result = runner.invoke(app, ["build", "--root", str(root)])
    assert result.exit_code == 1
    setting = out.split("/")[0]
    assert (
        f"pyproject.toml:3:1: error[E405]: refusing to write the site into {out}: "
        f"it is inside the {setting} folder"
    ) in result.output
    assert "E405" in runner.invoke(app, ["check", "--root", str(root)]).output
    (root / "pyproject.toml").write_text('[tool.digest]\ntitle = "T"\n')
    target = root / out
    result = runner.invoke(app, ["build", "--root", str(root), "--out", str(target)])
    assert result.exit_code == 1
    assert (
        f"{target}:1:1: error[E405]: refusing to write the site into {target}: "
        f"it is inside the {setting} folder"
    ) in result.output
    after = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert [p for p in after if p not in before and not p.startswith(".digest-cache")] == []
