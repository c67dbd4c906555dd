"""Cross-references: `[[id]]` and `[[id|text]]` parsed (digest.markdown), checked
(digest.validate) and made links for the page, feed or e-mail that shows them
(digest.xrefs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest import build, xrefs
from digest.cli import app
from digest.content import load_content
from digest.markdown import analyse, cross_references
from digest.metadata import Metadata, Source
from digest.models import SiteConfig
from digest.organise import Library, organise
from digest.plain_prose import render_prose
from digest.scaffold import check_draft, paper_text
from digest.yaml_nodes import parse_yaml

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

runner = CliRunner()
BASE = "https://example.org/d/"

# Two issues: alpha and beta in the first, gamma in the second. Each kind of name: alpha
# has only a title, beta a short name, gamma a short name and a label.
FILES = {
    "entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE,
    "entries/2026-01-03/alpha.yaml": paper_yaml(
        title='"Alpha: a paper"',
        summary="|\n  Builds on [[beta]] and [[gamma|the gamma model]].",
    ),
    "entries/2026-01-03/beta.yaml": paper_yaml(title='"Beta paper"', short="Beta"),
    "entries/2026-01-10/_issue.yaml": (
        'title: "Second issue"\n'
        "subject: diffusion models\n"
        "intro: |\n"
        "  Start with [[gamma]], then go back to [[alpha]].\n"
    ),
    "entries/2026-01-10/gamma.yaml": paper_yaml(
        title='"Gamma paper"', short="Gamma", label="GammaSet"
    ),
}
CONFIG = f'base_url = "{BASE.rstrip("/")}"\n'


@pytest.fixture
def site(make_site: SiteFactory) -> Path:
    """The two issues, built into the content root's site/."""
    root = make_site(FILES, CONFIG)
    assert build.run(root).ok
    return root


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None and not content.report.failed(False)
    return organise(content.config, content.issues, content.papers)


def read(root: Path, path: str) -> str:
    return (root / "site" / path).read_text(encoding="utf-8")


def links(html: str) -> list[str]:
    return re.findall(r'<a href="[^"]*" data-xref="[^"]*">[^<]*</a>', html)


# ---------------------------------------------------------------- parsing


def test_a_cross_reference_is_a_placeholder_the_page_resolves() -> None:
    found = analyse("See [[beta]] and [[gamma|the gamma model]].")
    assert found.html == (
        '<p>See <a data-xref="beta"></a> and <a data-xref="gamma">the gamma model</a>.</p>\n'
    )
    assert [(r.id, r.text, r.offset, r.written) for r in found.references] == [
        ("beta", "", 4, "[[beta]]"),
        ("gamma", "the gamma model", 17, "[[gamma|the gamma model]]"),
    ]


def test_its_text_is_escaped() -> None:
    assert analyse("[[beta|<b>&</b>]]").html == (
        '<p><a data-xref="beta">&lt;b&gt;&amp;&lt;/b&gt;</a></p>\n'
    )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("`[[beta]]` is how", "<code>[[beta]]</code> is how"),
        ("\\[[beta]] is how", "[[beta]] is how"),
        ("[[]] and [[beta|a]b]]", "[[]] and [[beta|a]b]]"),
        ("a matrix [[0, 1], [1, 0]]", "a matrix [[0, 1], [1, 0]]"),
        ("[[beta\n]]", "[[beta\n]]"),
    ],
)
def test_brackets_that_are_no_cross_reference_stay_text(text: str, shown: str) -> None:
    assert cross_references(text) == ()
    assert analyse(text).html == f"<p>{shown}</p>\n"


def test_a_formula_keeps_its_brackets() -> None:
    assert cross_references("$[[x]]$ is a matrix") == ()


@pytest.mark.parametrize(
    "text",
    [
        "one [[beta]]",
        "`[[beta]]` then [[beta]]",
        "- an item\n  and [[beta]] in it",
        "> quoted\n> [[beta|text]] here  \n> and on",
        "# Heading [[beta]] #",
        "| a | b |\n|---|---|\n| [[beta]] | [[beta]] |",
        "Setext [[beta]]\n===",
        "1. first\n2. second\t[[beta]]",
    ],
)
def test_each_offset_is_where_the_brackets_are_written(text: str) -> None:
    found = cross_references(text)
    assert found
    assert [text[r.offset : r.offset + len(r.written)] for r in found] == [r.written for r in found]
    assert len({r.offset for r in found}) == len(found)


def test_plain_text_holds_the_text_or_the_id() -> None:
    assert analyse("See [[beta]] and [[gamma|the gamma model]].").plain == (
        "See beta and the gamma model."
    )


def test_plain_prose_leaves_cross_references_to_markdown_it() -> None:
    assert render_prose("See [[beta]] today.") is None
    assert render_prose("See [beta](https://example.org/b) today.") is not None


# ---------------------------------------------------------------- resolution


def test_shown_name_is_the_label_else_the_short_name_else_the_title(site: Path) -> None:
    library = library_of(site)
    names = {i: xrefs.shown_name(library.papers[i].paper) for i in ("alpha", "beta", "gamma")}
    assert names == {"alpha": "Alpha: a paper", "beta": "Beta", "gamma": "GammaSet"}


def test_resolve_for_a_page_an_issue_page_and_off_the_site(site: Path) -> None:
    library = library_of(site)
    html = analyse("[[beta]], [[gamma|G]] and [[nobody]]").html
    assert xrefs.resolve(html, library, xrefs.Place("../../")) == (
        '<p><a href="../../papers/beta/" data-xref="beta">Beta</a>, '
        '<a href="../../papers/gamma/" data-xref="gamma">G</a> and nobody</p>\n'
    )
    on_issue_page = xrefs.page_place(library, "2026-01-03/index.html", "../")
    assert on_issue_page == xrefs.Place("../", frozenset({"alpha", "beta"}))
    resolved = xrefs.resolve(html, library, on_issue_page)
    assert links(resolved) == [
        '<a href="#paper-beta" data-xref="beta">Beta</a>',
        '<a href="../papers/gamma/" data-xref="gamma">G</a>',
    ]
    # Resolved once for one place, the same HTML is resolved again for another.
    assert links(xrefs.resolve(resolved, library, xrefs.absolute_place(library))) == [
        f'<a href="{BASE}papers/beta/" data-xref="beta">Beta</a>',
        f'<a href="{BASE}papers/gamma/" data-xref="gamma">G</a>',
    ]


def test_only_an_issue_page_holds_cards(site: Path) -> None:
    library = library_of(site)
    for url in ("index.html", "2026-01-03/email.html", "2026-01-04/index.html", "x/index.html"):
        assert xrefs.page_place(library, url, "./").cards == frozenset()
    assert xrefs.page_place(library, "2026-01-10/index.html", "../").cards == {"gamma"}


def test_an_issue_page_links_its_own_papers_to_their_cards(site: Path) -> None:
    page = read(site, "2026-01-03/index.html")
    assert links(page) == [
        '<a href="#paper-beta" data-xref="beta">Beta</a>',
        '<a href="../papers/gamma/" data-xref="gamma">the gamma model</a>',
    ]
    assert 'id="paper-beta"' in page
    intro = read(site, "2026-01-10/index.html")
    assert links(intro) == [
        '<a href="#paper-gamma" data-xref="gamma">GammaSet</a>',
        '<a href="../papers/alpha/" data-xref="alpha">Alpha: a paper</a>',
    ]


def test_other_pages_link_to_the_papers_pages(site: Path) -> None:
    assert links(read(site, "papers/alpha/index.html")) == [
        '<a href="../../papers/beta/" data-xref="beta">Beta</a>',
        '<a href="../../papers/gamma/" data-xref="gamma">the gamma model</a>',
    ]
    # The home page shows the latest issue's intro.
    assert links(read(site, "index.html")) == [
        '<a href="./papers/gamma/" data-xref="gamma">GammaSet</a>',
        '<a href="./papers/alpha/" data-xref="alpha">Alpha: a paper</a>',
    ]


def test_no_placeholder_or_brackets_are_left_in_any_file(site: Path) -> None:
    for path in (site / "site").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8")
            assert "<a data-xref=" not in text, path
            assert "&lt;a data-xref=" not in text, path
            assert not re.search(r"\[\[(alpha|beta|gamma)", text), path


def test_feeds_link_to_the_absolute_address(site: Path) -> None:
    papers = json.loads(read(site, "papers.json"))
    alpha = next(item for item in papers["items"] if item["url"].endswith("/alpha/"))
    assert links(alpha["content_html"]) == [
        f'<a href="{BASE}papers/beta/" data-xref="beta">Beta</a>',
        f'<a href="{BASE}papers/gamma/" data-xref="gamma">the gamma model</a>',
    ]
    issues = json.loads(read(site, "feed.json"))
    assert links(issues["items"][0]["content_html"]) == [
        f'<a href="{BASE}papers/gamma/" data-xref="gamma">GammaSet</a>',
        f'<a href="{BASE}papers/alpha/" data-xref="alpha">Alpha: a paper</a>',
    ]
    atom = read(site, "papers.xml")  # the HTML content, escaped
    assert f"&lt;a href=&#34;{BASE}papers/beta/&#34; data-xref=&#34;beta&#34;&gt;Beta" in atom


def test_the_email_edition_links_to_the_absolute_address(site: Path) -> None:
    html = read(site, "2026-01-10/email.html")
    assert f'<a href="{BASE}papers/gamma/">GammaSet</a>' in html
    assert f'<a href="{BASE}papers/alpha/">Alpha: a paper</a>' in html
    text = read(site, "2026-01-10/email.txt")
    assert "Start with GammaSet [1], then go back to Alpha: a paper [2]." in text
    assert f"[1] {BASE}papers/gamma/\n[2] {BASE}papers/alpha/\n" in text
    first = read(site, "2026-01-03/email.txt")
    assert "Builds on Beta [1] and the gamma model [2]." in first


def test_absolute_markdown_writes_links_and_leaves_code_alone(site: Path) -> None:
    library = library_of(site)
    assert xrefs.absolute_markdown("`[[beta]]` writes [[beta]].", library) == (
        f"`[[beta]]` writes [Beta]({BASE}papers/beta/)."
    )
    escaped = xrefs.absolute_markdown("[[alpha]] and [[beta|*this*]]", library)
    assert escaped == (
        f"[Alpha\\: a paper]({BASE}papers/alpha/) and [\\*this\\*]({BASE}papers/beta/)"
    )
    assert analyse(escaped).plain == "Alpha: a paper and *this*"


# ---------------------------------------------------------------- checks


def check(root: Path, *options: str) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "--root", str(root), *options])
    return result.exit_code, result.output


def test_an_unknown_id_is_an_error_at_its_brackets(make_site: SiteFactory) -> None:
    files = dict(FILES)
    files["entries/2026-01-10/_issue.yaml"] = (
        'title: "Second issue"\n'
        "subject: diffusion models\n"
        "intro: |\n"
        "  Start with [[gama]] and `[[not-checked]]`.\n"
        "themes:\n"
        "  safety: >\n"
        "    Folded prose, then\n"
        "    [[zzz]].\n"
        'outlook: "Quoted: [[alpha]] and [[bta|B]]"\n'
    )
    code, output = check(make_site(files, CONFIG))
    assert code == 1
    assert output == (
        "entries/2026-01-10/_issue.yaml:4:14: error[E205]: 'intro': cross-reference to an "
        "unknown paper 'gama'\n"
        "    hint: did you mean 'gamma'?\n"
        "entries/2026-01-10/_issue.yaml:8:5: error[E205]: 'themes.safety': cross-reference "
        "to an unknown paper 'zzz'\n"
        "    hint: a paper's id is the name of its file without .yaml, e.g. [[dpcache]] for "
        "dpcache.yaml\n"
        "entries/2026-01-10/_issue.yaml:9:33: error[E205]: 'outlook': cross-reference to an "
        "unknown paper 'bta'\n"
        "    hint: did you mean 'beta'?\n"
        "3 papers in 2 issues: 3 errors, 0 warnings in 1 file\n"
    )


def test_a_summary_naming_an_unknown_paper_is_an_error(make_site: SiteFactory) -> None:
    files = dict(FILES)
    files["entries/2026-01-03/beta.yaml"] = paper_yaml(
        title='"Beta paper"', summary="|\n  Unlike\n  - the [[alpa|first]] one"
    )
    code, output = check(make_site(files, CONFIG))
    assert (code, output.splitlines()[:2]) == (
        1,
        [
            "entries/2026-01-03/beta.yaml:6:9: error[E205]: 'summary': cross-reference to an "
            "unknown paper 'alpa'",
            "    hint: did you mean 'alpha'?",
        ],
    )


def test_a_paper_of_a_draft_issue_is_refused_unless_drafts_are_built(
    make_site: SiteFactory,
) -> None:
    files = dict(FILES)
    files["entries/2026-01-10/_issue.yaml"] += "draft: true\n"
    root = make_site(files, CONFIG)
    code, output = check(root)
    assert code == 1
    assert output.splitlines()[:2] == [
        "entries/2026-01-03/alpha.yaml:5:26: error[E205]: 'summary': cross-reference to "
        "'gamma', a paper in a draft issue, which is not built",
        "    hint: publish its issue (draft: false), or build with --drafts",
    ]
    # The draft's own reference to a published paper is no problem.
    assert "2026-01-10/_issue.yaml" not in output
    assert check(root, "--drafts") == (0, "3 papers in 2 issues: no problems found\n")


def test_an_unreadable_entry_still_holds_its_id(make_site: SiteFactory) -> None:
    files = dict(FILES)
    files["entries/2026-01-03/beta.yaml"] = "title: [unclosed\n"
    code, output = check(make_site(files, CONFIG))
    assert code == 1
    assert "E205" not in output


# ---------------------------------------------------------------- digest new


def test_an_imported_abstract_holds_no_cross_reference() -> None:
    abstract = "We study [[0, 1]] kernels, [[x]] and [[y|z]] tokens, and \\[[w]]."
    metadata = Metadata(Source("arxiv", "2401.12345"), "A title", abstract=abstract)
    draft = paper_text(metadata, ["theory"], SiteConfig())
    check_draft(draft, "paper", SiteConfig(), "2026-01-03")
    data, _, _ = parse_yaml(draft.text)
    summary = data["summary"].strip()
    assert cross_references(summary) == ()
    assert analyse(summary).plain == abstract.replace("\\[", "[")


# ---------------------------------------------------------------- rebuilds


def test_renaming_a_named_paper_renders_the_pages_that_name_it(make_site: SiteFactory) -> None:
    """The second issue's intro names alpha, of the first issue: its page, the home page
    (which shows the latest intro) and its e-mail show alpha's new title."""
    root = make_site(FILES, CONFIG)
    assert build.run(root, cache=True).ok
    alpha = root / "entries/2026-01-03/alpha.yaml"
    alpha.write_text(alpha.read_text().replace("Alpha: a paper", "Alpha, renamed"))
    assert build.run(root, cache=True).ok
    assert '<a href="../papers/alpha/" data-xref="alpha">Alpha, renamed</a>' in read(
        root, "2026-01-10/index.html"
    )
    assert '<a href="./papers/alpha/" data-xref="alpha">Alpha, renamed</a>' in read(
        root, "index.html"
    )
    assert "go back to Alpha, renamed [2]" in read(root, "2026-01-10/email.txt")


def test_reference_digest_follows_named_papers_only(make_site: SiteFactory) -> None:
    files = dict(FILES)
    before = xrefs.reference_digest(library_of(make_site(files, CONFIG)))
    files["entries/2026-01-03/alpha.yaml"] = files["entries/2026-01-03/alpha.yaml"].replace(
        "Alpha: a paper", "Alpha renamed"
    )
    assert xrefs.reference_digest(library_of(make_site(files, CONFIG))) != before
    files = dict(FILES)
    files["entries/2026-01-10/delta.yaml"] = paper_yaml(title='"Delta, named by nobody"')
    assert xrefs.reference_digest(library_of(make_site(files, CONFIG))) == before
