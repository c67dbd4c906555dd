"""Email edition: email-safe HTML (inline styles, absolute links) and plain text per issue."""

from __future__ import annotations

import itertools
import re
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digest import email_text, permalinks, reader_outputs
from digest.content import load_content
from digest.markdown import render_markdown
from digest.organise import Library, organise
from digest.template_set import load_templates

from .conftest import MINIMAL_ISSUE, SiteFactory, examples, paper_yaml, rendered_files
from .test_plain_prose import prose_like

BASE = "https://digest-demo.github.io/diffusion"


class Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def library_of(root: Path) -> Library:
    content = load_content(root)
    assert content.config is not None
    assert not content.report.errors, content.report.errors
    return organise(content.config, content.issues, content.papers)


def email_pages(root: Path) -> dict[str, str]:
    library = library_of(root)
    templates, problems = load_templates(library.config, root)
    assert templates is not None, problems
    return rendered_files(reader_outputs.email_jobs, library, templates)


@pytest.fixture(scope="module")
def example(example_root: Path) -> dict[str, str]:
    return email_pages(example_root)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


class Contents(HTMLParser):
    """The text of each list item that links to a fragment ("#..."), by its target, and
    the text of every element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []
        self.headings: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the elements we are in
        self._texts: dict[int, list[str]] = {}  # depth -> text so far, for li and id holders
        self._target: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self._open.append((tag, found.get("id")))
        if tag == "li" or found.get("id"):
            self._texts[len(self._open)] = []
        href = found.get("href") or ""
        if tag == "li":
            self._target = None
        if tag == "a" and href.startswith("#") and "li" in (name for name, _ in self._open):
            self._target = href

    def handle_data(self, data: str) -> None:
        for texts in self._texts.values():
            texts.append(data)

    def handle_endtag(self, tag: str) -> None:
        depth = len(self._open)
        name, element_id = self._open.pop()
        text = " ".join("".join(self._texts.pop(depth, [])).split())
        if name == "li" and self._target is not None:
            self.items.append((self._target, text))
            self._target = None
        if element_id:
            self.headings[element_id] = text


def contents_of(html: str) -> Contents:
    parser = Contents()
    parser.feed(html)
    return parser


def test_email_html_has_no_style_or_script_and_no_relative_url(example: dict[str, str]) -> None:
    html = example["2026-02-28/email.html"]
    tags = elements(html)
    names = {name for name, _ in tags}
    assert not names & {"style", "script", "link", "table", "img"}
    urls = [attrs[a] for _, attrs in tags for a in ("href", "src") if a in attrs]
    assert len(urls) > 27
    ids = {attrs["id"] for _, attrs in tags if attrs.get("id")}
    for url in urls:
        assert url is not None
        if url.startswith("#"):  # the contents: a heading of the message itself
            assert url[1:] in ids, url
        else:
            assert urlsplit(url).scheme in ("https", "http", "mailto"), url


def test_email_html_is_styled_inline_and_links_every_paper(
    example: dict[str, str], example_root: Path
) -> None:
    html = example["2026-02-28/email.html"]
    tags = elements(html)
    assert all("class" not in attrs for _, attrs in tags)
    first_div = next(attrs for name, attrs in tags if name == "div")
    assert "max-width:640px" in str(first_div["style"])
    for paper_id in library_of(example_root).papers:
        assert f'href="{BASE}/papers/{paper_id}/"' in html
    assert f'href="{BASE}/2026-02-28/"' in html  # "Read on the web"


def two_theme_issue(make_site: SiteFactory) -> dict[str, str]:
    """The e-mail edition of an issue with papers in two themes, a contribution group and
    an outlook."""
    issue = MINIMAL_ISSUE + "outlook: |\n  What comes next.\n"
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": issue,
            "entries/2026-02-28/a.yaml": paper_yaml(themes="[safety]"),
            "entries/2026-02-28/b.yaml": paper_yaml(
                title='"Another Paper"', themes="[safety, acceleration]", contribution="technique"
            ),
        },
        f'base_url = "{BASE}"\n',
    )
    return email_pages(root)


def test_both_editions_open_with_the_contents(make_site: SiteFactory) -> None:
    """A theme's count is of the papers shown in full in its section: the paper under two
    themes is shown in safety, its first, and only named under acceleration."""
    pages = two_theme_issue(make_site)
    text = pages["2026-02-28/email.txt"]
    contents = (
        "In this issue\n"
        "  - Acceleration\n"
        "  - Safety (2 papers)\n"
        "  - Under the hood\n"
        "  - Impact & the road ahead\n\n"
    )
    assert f"Read it on the web: {BASE}/2026-02-28/\n\n{contents}A short introduction." in text
    html = contents_of(pages["2026-02-28/email.html"])
    assert html.items == [
        ("#theme-acceleration", "Acceleration"),
        ("#theme-safety", "Safety (2 papers)"),
        ("#under-the-hood", "Under the hood"),
        ("#outlook", "Impact & the road ahead"),
    ]
    for target, text in html.items:  # each links to its section's heading
        assert html.headings[target[1:]] == text.split(" (")[0]


def test_each_paper_is_shown_once_as_on_the_issue_page(make_site: SiteFactory) -> None:
    pages = two_theme_issue(make_site)
    text = pages["2026-02-28/email.txt"]
    assert text.count("* Another Paper\n") == 1
    acceleration = text[text.index("Acceleration\n----") : text.index("Safety\n------")]
    assert acceleration.strip().endswith("* Also in this issue: Another Paper, under Safety")
    html = pages["2026-02-28/email.html"]
    assert html.count('<div id="paper-b" ') == 1
    also = html[html.index('id="theme-acceleration"') : html.index('id="theme-safety"')]
    assert '<a href="#paper-b" style="color:#0b4f8a;">Another Paper</a>, under Safety' in also


def test_under_the_hood_reads_as_on_the_issue_page(make_site: SiteFactory) -> None:
    """Label, code as a short address then the paper, the one-liner without the label
    repeated, and where techniques and datasets come from; the issue's own intro."""
    issue = MINIMAL_ISSUE + "under_the_hood: |\n  What *this* issue builds.\n"
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": issue,
            "entries/2026-02-28/colors.yaml": paper_yaml(
                title='"Rethinking Purifiers"',
                label="ColoredImageNet",
                affiliations="[National Taiwan University]",
                contribution="[architecture, dataset]",
                arxiv='"2602.01234"',
                links="\n  code: https://github.com/a/colors",
                summary="|\n  ColoredImageNet: colour-shifted images. More.",
            ),
        },
        f'base_url = "{BASE}"\n',
    )
    pages = email_pages(root)
    text = pages["2026-02-28/email.txt"]
    assert (
        "What this issue builds.\n\n"
        "Architectures\n"
        "  - ColoredImageNet (https://github.com/a/colors,\n"
        "    https://arxiv.org/abs/2602.01234): Colour-shifted images.\n\n"
        "Datasets & benchmarks\n"
        "  - ColoredImageNet (https://github.com/a/colors,\n"
        "    https://arxiv.org/abs/2602.01234): Colour-shifted images.\n"
        "    Rethinking Purifiers — Ada Lovelace, National Taiwan University\n"
    ) in text
    html = pages["2026-02-28/email.html"]
    assert "<p>What <em>this</em> issue builds.</p>" in html
    line = (
        f'<a href="{BASE}/papers/colors/" style="color:#0b4f8a; font-weight:bold;">'
        'ColoredImageNet</a> (<a href="https://github.com/a/colors" style="color:#0b4f8a;">'
        'github.com/a/colors</a>, <a href="https://arxiv.org/abs/2602.01234" '
        'style="color:#0b4f8a;">paper</a>): Colour-shifted images.'
    )
    assert html.count(line) == 2
    assert (
        "<cite>Rethinking Purifiers</cite> &mdash; Ada Lovelace, National Taiwan University" in html
    )


def test_the_contents_lists_only_the_parts_an_issue_has(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-05/a.yaml": paper_yaml(),
        },
        f'base_url = "{BASE}"\n',
    )
    pages = email_pages(root)
    assert "In this issue\n  - Acceleration (1 paper)\n\nA short" in pages["2026-01-05/email.txt"]
    html = contents_of(pages["2026-01-05/email.html"])
    assert html.items == [("#theme-acceleration", "Acceleration (1 paper)")]


def test_the_contents_of_the_example_issue_reach_every_section(example: dict[str, str]) -> None:
    html = contents_of(example["2026-02-28/email.html"])
    assert [text for _, text in html.items][-3:] == [
        "Applications (7 papers)",
        "Under the hood",
        "Impact & the road ahead",
    ]
    assert len(html.items) == 8
    assert all(target[1:] in html.headings for target, _ in html.items)


def test_dates_read_as_on_the_site(example: dict[str, str]) -> None:
    # "Feb. 28, 2026" wherever the editions show a date; ISO dates only inside addresses.
    text = re.sub(r"https?://\S+", "", example["2026-02-28/email.txt"])
    html = re.sub(r'(href|src)="[^"]*"', "", example["2026-02-28/email.html"])
    for shown in (text, html):
        assert "Feb. 28, 2026" in shown
        assert not re.search(r"\d{4}-\d\d-\d\d|February|28 Feb", shown)


def test_markdown_links_are_made_absolute(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE.replace(
                "A short introduction.", "See [the paper](../papers/a/) and [top](#x)."
            ),
            "entries/2026-01-05/a.yaml": paper_yaml(),
        },
        f'base_url = "{BASE}"\n',
    )
    html = email_pages(root)["2026-01-05/email.html"]
    assert f'<a href="{BASE}/papers/a/">the paper</a>' in html
    assert f'<a href="{BASE}/2026-01-05/#x">top</a>' in html


LINK_TARGETS = st.sampled_from(
    [
        "../papers/a/",
        "#x",
        "https://arxiv.org/abs/2401.12340",
        "http://example.org/a?b=1&c=2",
        "/root/path",
        "mailto:editor@example.org",
        "<with space/>",
        "a%20b",
        'q"uote',
        "",
    ]
)
LINK_TEXT = st.text(alphabet="ab <>&\"='", max_size=12)


@settings(max_examples=examples(200))
@given(st.lists(st.tuples(LINK_TEXT, st.sampled_from(["[", "![", "<"]), LINK_TARGETS), max_size=6))
def test_every_link_markdown_renders_is_made_absolute(
    pieces: list[tuple[str, str, str]],
) -> None:
    # What an HTML parser reads as a link's target, before and after: every href and src
    # is resolved against the page, and nothing else changes (text that looks like an
    # attribute, such as href="x", is escaped by markdown-it and must stay as it is).
    parts = []
    for text, kind, target in pieces:
        if kind == "<":
            parts.append(f"{text} <https://example.org/{text.strip('<>')}>")
        else:
            parts.append(f'{text} href="x" {kind}{text.strip("[]")}]({target})')
    html = render_markdown(" ".join(parts)).html
    page = f"{BASE}/2026-01-05/"
    before, after = elements(html), elements(permalinks.absolutize(html, page))
    assert [name for name, _ in after] == [name for name, _ in before]
    for (_, old), (_, new) in zip(before, after, strict=True):
        assert new.keys() == old.keys()
        for name, value in old.items():
            expected = urljoin(page, value or "") if name in ("href", "src") else value
            assert new[name] == expected


def test_plain_text_edition(example: dict[str, str], example_root: Path) -> None:
    text = example["2026-02-28/email.txt"]
    library = library_of(example_root)
    assert text.startswith(library.issues[0].issue.title[:40])
    assert "\n=====" in text
    assert "Latest 27 papers on diffusion models: Feb. 28, 2026" in text
    assert f"Read it on the web: {BASE}/2026-02-28/" in text
    assert "  Gabriel Raya et al. — Sony AI and Tilburg University\n" in text  # as on the pages
    for paper_id, entry in library.papers.items():
        assert f"On the site: {BASE}/papers/{paper_id}/" in text
        assert entry.paper.title.split()[0] in text
    assert "<" not in text.replace("<-", "")
    assert max(len(line) for line in text.splitlines() if "://" not in line) <= email_text.WIDTH


def test_text_blocks_keep_paragraphs_and_list_items() -> None:
    markdown = "First *para*\ncontinues.\n\n- one [link](https://x.org)\n- two\n  wraps"
    assert email_text.text_blocks(markdown) == (
        "First para continues.\n\n- one link [1]\n- two wraps\n\n[1] https://x.org"
    )


def test_plain_text_keeps_link_and_image_targets_as_numbered_references(
    make_site: SiteFactory,
) -> None:
    summary = (
        "See the [project page](https://lesa.github.io/) and the [data](https://zenodo.org/r/1)"
        " on Zenodo. See ![fig](figures/speed.png).\n\n"
        "- a [list item](https://github.com/a/b) too\n"
        "- and <https://auto.example/> shown as it is, [again](https://lesa.github.io/)"
    )
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE.replace(
            "A short introduction.", "A short [introduction](../about/)."
        ),
        "entries/2026-02-28/lesa.yaml": paper_yaml(
            summary="|\n" + textwrap.indent(summary, "  "), links="{code: https://github.com/a/b}"
        ),
    }
    root = make_site(files, config=f'base_url = "{BASE}"')
    text = email_pages(root)["2026-02-28/email.txt"]
    assert (
        "A short introduction [1].\n\n"
        f"[1] {BASE}/about/\n\n"
        "Acceleration\n------------\n\n"
        "* A Paper About Things\n"
        "  Ada Lovelace\n\n"
        "  See the project page [2] and the data [3] on Zenodo. See fig [4].\n\n"
        "  - a list item [5] too\n"
        "  - and https://auto.example/ shown as it is, again [2]\n\n"
        "  [2] https://lesa.github.io/\n"
        "  [3] https://zenodo.org/r/1\n"
        f"  [4] {BASE}/2026-02-28/figures/speed.png\n"
        "  [5] https://github.com/a/b\n\n"
        "  Code: https://github.com/a/b\n"
    ) in text


LONG_ITEM = (
    "a list item long enough to need a second line, and a third one too, because it goes on "
    "and on about what the paper does"
)


def test_list_items_hang_under_their_text() -> None:
    text = email_text.text_blocks(f"Intro.\n\n- {LONG_ITEM}\n- short", "  ")
    assert text == (
        "  Intro.\n\n"
        "  - a list item long enough to need a second line, and a third one too,\n"
        "    because it goes on and on about what the paper does\n"
        "  - short"
    )


def test_ordered_items_keep_their_numbers_and_hang_under_their_text() -> None:
    # Markdown numbers a list on from its first number, whatever the later items say.
    text = email_text.text_blocks(f"9. {LONG_ITEM} [link](https://x.org)\n9. short\n9. third")
    assert text == (
        "9. a list item long enough to need a second line, and a third one too,\n"
        "   because it goes on and on about what the paper does link [1]\n"
        "10. short\n"
        "11. third\n\n"
        "[1] https://x.org"
    )
    assert email_text.text_blocks("1) one\n2) two") == "1) one\n2) two"


def test_paper_titles_and_one_liners_hang_under_their_text(make_site: SiteFactory) -> None:
    title = "A Paper With a Title So Long That It Cannot Possibly Fit on One Line of Text"
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(
                title=f'"{title}"', contribution="technique", tagline='"Does things, quickly."'
            ),
        },
        f'base_url = "{BASE}"\n',
    )
    text = email_pages(root)["2026-02-28/email.txt"]
    assert (
        "* A Paper With a Title So Long That It Cannot Possibly Fit on One Line\n"
        "  of Text\n"
        "  Ada Lovelace\n"
    ) in text
    assert (
        "Techniques & training strategies\n"
        "  - A Paper With a Title So Long That It Cannot Possibly Fit on One Line\n"
        "    of Text: Does things, quickly.\n"
    ) in text


def test_every_line_of_the_example_hangs_within_the_width(example: dict[str, str]) -> None:
    lines = example["2026-02-28/email.txt"].splitlines()
    assert max(len(line) for line in lines if "://" not in line) <= email_text.WIDTH
    # A line that goes on a paper's title or a list item starts where its text does.
    for before, line in itertools.pairwise(lines):
        if before.startswith(("* ", "  - ")) and line and not line.startswith(("*", "  -")):
            marker = len(before) - len(before.lstrip("* -"))
            assert line[:marker].isspace() and line[marker] != " ", (before, line)


def test_a_reference_number_never_starts_a_line() -> None:
    words = " ".join(["word"] * 13)  # 64 characters, so "[1]" falls past column 72
    text = email_text.text_blocks(f"{words} [target](https://x.org) and more.")
    assert text == f"{words}\ntarget [1] and more.\n\n[1] https://x.org"
    prose = f"{words} [a](https://x.org) b [c](https://y.org)"
    assert email_text.text_blocks(prose, "  ") == email_text.blocks_as_text(prose, "  ")


def test_no_email_without_base_url(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-01-05/_issue.yaml": MINIMAL_ISSUE, "entries/2026-01-05/a.yaml": paper_yaml()}
    )
    assert email_pages(root) == {}


@pytest.mark.browser
def test_email_html_passes_the_nu_html_checker(example: dict[str, str], tmp_path: Path) -> None:
    from .browser_support import run_vnu

    path = tmp_path / "email.html"
    path.write_text(example["2026-02-28/email.html"], encoding="utf-8")
    assert [str(m) for m in run_vnu([path])] == []


# (first line's indent, the other lines'): a paragraph's, a list item's with its text
# hanging under its bullet or number, and hangs wider and narrower than the first line.
INDENTS = st.sampled_from(
    [
        ("", ""),
        ("  ", "  "),
        ("- ", "  "),
        ("  - ", "    "),
        ("12. ", "    "),
        ("", "      "),
        ("      ", "  "),
    ]
)


@given(st.text(alphabet="ab -\u2014\u00a0\t\n.", max_size=90), INDENTS)
def test_wrap_matches_textwrap_fill(text: str, indents: tuple[str, str]) -> None:
    assert email_text._wrap(text, *indents) == fill(text, *indents)


def fill(text: str, indent: str, hang: str | None = None) -> str:
    later = indent if hang is None else hang
    return textwrap.fill(text, email_text.WIDTH, initial_indent=indent, subsequent_indent=later)


# Words as in summaries (hyphenated, with digits, punctuation, non-ASCII, em and en dashes),
# a few runs of hyphens and letters, and words too long for a line.
WORDS = st.one_of(
    st.text(alphabet="abcXYZ09-.,!?'\"é—\u2013_", min_size=1, max_size=14),
    # A link's text glued to its reference number, as the plain-text edition writes it.
    st.tuples(st.text(alphabet="ab-", min_size=1, max_size=8), st.integers(1, 99)).map(
        lambda pair: f"{pair[0]}\u00a4[{pair[1]}]"
    ),
    st.text(alphabet="a-", min_size=1, max_size=8),
    st.text(alphabet="abc-", min_size=60, max_size=90),
)


@settings(max_examples=examples(400))
@given(st.lists(WORDS, max_size=60), INDENTS)
def test_wrap_of_single_spaced_words_matches_textwrap_fill(
    words: list[str], indents: tuple[str, str]
) -> None:
    text = " ".join(words)
    assert email_text._wrap(text, *indents) == fill(text, *indents)


@settings(max_examples=examples(400))
@given(
    st.lists(
        st.tuples(
            st.one_of(WORDS, st.text(max_size=10)),
            st.sampled_from([" ", "  ", "\t", "\n", " \n ", "\u00a0", "\u2003"]),
        )
    ),
    st.sampled_from(["", " "]),
    INDENTS,
)
def test_wrap_of_any_spacing_matches_textwrap_fill(
    pieces: list[tuple[str, str]], lead: str, indents: tuple[str, str]
) -> None:
    text = lead + "".join(word + space for word, space in pieces)
    assert email_text._wrap(text, *indents) == fill(text, *indents)


def test_wrap_fills_a_hyphenated_paragraph_without_textwrap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = (
        "Here we propose a training-free, plug-and-play sampler for text-to-image diffusion that "
        "reaches state-of-the-art FID in few-step generation with a 12x speed-up over DDIM, "
        "and ships as a drop-in replacement."
    )
    indents = [("", ""), ("  ", "  "), ("  - ", "    ")]
    expected = {pair: fill(text, *pair) for pair in indents}
    assert any(line.endswith("-") for line in expected["  ", "  "].splitlines())  # in a word

    def no_textwrap(*args: object, **kwargs: object) -> str:
        raise AssertionError("textwrap.fill was called")

    monkeypatch.setattr(textwrap, "fill", no_textwrap)
    assert {pair: email_text._wrap(text, *pair) for pair in indents} == expected


@settings(max_examples=examples(1000), deadline=None)
@given(st.one_of(prose_like(), prose_like(other_syntax=False)), st.sampled_from(["", "  "]))
def test_plain_prose_becomes_the_same_text_from_its_one_parse(text: str, indent: str) -> None:
    # text_blocks takes a plain-prose text's paragraphs from its one parse instead of
    # parsing each paragraph again; the result must be the general path's.
    assert email_text.text_blocks(text, indent) == email_text.blocks_as_text(text, indent)
