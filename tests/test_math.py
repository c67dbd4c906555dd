"""Math in Markdown: `$…$` and `$$…$$` become MathML at build time, in pages, feeds and the
e-mail HTML; the plain text keeps the TeX; TeX that cannot be converted is an error at
the formula's line and column; prices are not math."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

from digest.build import run as build_site
from digest.cli import app
from digest.markdown import analyse, first_sentence, linked_text, parse_fully, render_markdown
from digest.mathml import convert

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

runner = CliRunner()
BASE_URL = 'base_url = "https://example.org/digest"'
MATH = re.compile(r'<math xmlns="http://www.w3.org/1998/Math/MathML"( display="block")?>')


def html(text: str) -> str:
    return render_markdown(text).html


# ---------------------------------------------------------------- rendering


def test_inline_math_becomes_mathml() -> None:
    assert html("A rate of $O(1/T)$ here.") == (
        '<p>A rate of <math xmlns="http://www.w3.org/1998/Math/MathML"><mrow><mi>O</mi>'
        '<mo stretchy="false">(</mo><mn>1</mn><mo>/</mo><mi>T</mi><mo stretchy="false">)</mo>'
        "</mrow></math> here.</p>\n"
    )


def test_display_math_on_its_own_lines_is_a_scrolling_block() -> None:
    rendered = html("Before.\n\n$$\n\\frac{a}{b}\n$$\n\nAfter.")
    assert rendered.startswith(
        '<p>Before.</p>\n<div class="math-display" tabindex="0">'
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow><mfrac>'
    )
    assert rendered.endswith("</math></div>\n<p>After.</p>\n")


def test_display_math_inside_a_paragraph_stays_in_it() -> None:
    # A span, not a div: a <div> inside a <p> is invalid HTML.
    rendered = html("We bound\n$$\nx^2\n$$\nfrom above, and $$y$$ too.")
    assert rendered.startswith('<p>We bound\n<span class="math-display" tabindex="0"><math')
    assert rendered.count('display="block"') == 2
    assert "<div" not in rendered


@pytest.mark.parametrize(
    "text",
    [
        "It costs $5 and $10.",
        "From $5-$10 a run.",
        "US$5 and US$10.",
        "Between $ 3 and 4 $.",
        "Pay \\$x$ now.",
        "Code: `$x$`.",
        "A lone $ sign.",
    ],
)
def test_dollars_that_are_not_math_stay_text(text: str) -> None:
    assert "<math" not in html(text)
    assert analyse(text).math_problems == ()


def test_a_price_beside_a_formula() -> None:
    rendered = html("It costs $5, with $x$ samples.")
    assert rendered.startswith("<p>It costs $5, with <math")
    assert len(MATH.findall(rendered)) == 1


def test_math_in_lists_tables_and_headings() -> None:
    text = "# Bound $T$\n\n- item $a$\n\n| x |\n|---|\n| $b$ |"
    assert len(MATH.findall(html(text))) == 3
    assert "<h1>Bound <math" in html(text)


def test_texts_with_a_dollar_render_as_markdown_it_does() -> None:
    # The plain-prose fast path would write "$x$" as text: it must leave these alone.
    for text in [
        "Rate $O(1/T)$.",
        "Costs $5 and $10.",
        "*Fast*: $\\alpha$ and [a](https://x.org).",
    ]:
        assert analyse(text).html == parse_fully(text).html


# ---------------------------------------------------------------- the MathML is safe


def test_tex_cannot_write_html() -> None:
    rendered = html("$\\text{<script>alert(1)</script>} < \\mathrm{<b>}$")
    assert "<script" not in rendered
    assert "<b>" not in rendered
    assert "<mtext>&lt;script&gt;alert(1)&lt;/script&gt;</mtext>" in rendered


def test_tex_cannot_make_a_link_or_load_anything() -> None:
    rendered = html("$\\href{javascript:alert(1)}{x}$ and $\\style{color:red}{y}$")
    assert "href" not in rendered
    assert "javascript" not in rendered
    assert analyse("$\\href{javascript:alert(1)}{x}$").links == ()


class Tags(HTMLParser):
    """Every start tag with its attribute names."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, set[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name for name, _ in attrs}))


MATHML_ELEMENTS = {
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "mfrac", "msqrt", "mroot",
    "mstyle", "mpadded", "mphantom", "menclose", "msub", "msup", "msubsup", "munder", "mover",
    "munderover", "mtable", "mtr", "mtd",
}  # fmt: skip


@pytest.mark.parametrize(
    "tex",
    [
        "\\mathop{E}_x",
        "\\mathbin{\\circ}",
        "\\operatorname*{argmin}_x f",
        "\\fbox{x} \\not= \\binom{n}{k}",
        "\\begin{array}{c|c}a & b\\\\\\hline c & d\\end{array}",
        "\\overbrace{a+b}^{n} \\xrightarrow{f} \\stackrel{a}{=}",
        "\\color{red}{x} \\href{https://example.org}{y} a\\!b",
    ],
)
def test_only_mathml_elements_and_presentation_attributes_are_written(tex: str) -> None:
    mathml = convert(tex, True).mathml
    assert mathml is not None
    parser = Tags()
    parser.feed(mathml)
    assert {tag for tag, _ in parser.tags} <= MATHML_ELEMENTS
    assert not {name for _, names in parser.tags for name in names} & {"href", "style", "src"}
    # Token elements (mi, mo, ...) hold text only, as HTML requires.
    assert not re.search(r"<(mi|mn|mo|ms|mtext)\b[^>]*>[^<]*<(?!/)", mathml)


def test_characters_are_written_as_themselves() -> None:
    rendered = html("$\\alpha \\le \\mathbb{R}$")
    assert "<mi>\u03b1</mi><mo>\u2264</mo><mi>\u211d</mi>" in rendered  # alpha, <=, double-struck R


# ---------------------------------------------------------------- the plain text keeps TeX


def test_the_plain_text_keeps_the_tex_with_its_dollars() -> None:
    text = "Rate $O(1/\\sqrt{T})$ for $5.\n\n$$\n\\sum_i x_i\n$$\n\nInline $$y$$ too."
    assert (
        linked_text(text).words == "Rate $O(1/\\sqrt{T})$ for $5. $$\\sum_i x_i$$ Inline $$y$$ too."
    )
    assert analyse(text).plain == linked_text(text).words
    assert first_sentence("It reaches $O(1/T)$. Then more.") == "It reaches $O(1/T)$."


# ---------------------------------------------------------------- TeX the converter cannot handle


@pytest.mark.parametrize(
    ("tex", "problem"),
    [
        ("\\foo", "the command '\\foo', which latex2mathml does not know"),
        ("\\arg\\min_x", "the command '\\arg', which latex2mathml does not know"),
        (
            "\\begin{aligned}a\\end{aligned}",
            "the environment 'aligned', which latex2mathml does not know",
        ),
        ("{x", "a '{' that is never closed"),
        ("x}", "a '}' that closes nothing"),
        ("\\frac{1}", "a fraction with an argument missing"),
        ("\\sqrt", "a command without its argument"),
        ("x^", "a ^ or _ with nothing after it"),
        ("\\left( x", "a \\left without its \\right, or a \\right too many"),
        ("a & b", "an '&' outside a table such as \\begin{cases} (write \\& for the sign)"),
    ],
)
def test_tex_the_converter_cannot_handle_has_a_problem(tex: str, problem: str) -> None:
    assert convert(tex, False).mathml is None
    assert convert(tex, False).problem == problem


@pytest.mark.parametrize(
    "tex",
    [
        "\\{x\\} \\& \\$ \\%",
        "\\begin{cases}a & b\\\\c & d\\end{cases}",
        "\\begin{pmatrix}1 & 0\\\\0 & 1\\end{pmatrix}",
        "\\operatorname{softmax}(QK^\\top/\\sqrt{d})",
        "\\mathbb{E}_{x \\sim p}\\left[\\log q(x)\\right]",
    ],
)
def test_tex_the_converter_handles_has_no_problem(tex: str) -> None:
    assert convert(tex, True).problem is None


def test_problems_are_found_at_their_offset_in_the_text() -> None:
    text = "Shown as code: `$\\foo$`, then $\\foo$ and $x$.\n\n$$\n{x\n$$\n\n- item $\\frac{1}$"
    found = analyse(text).math_problems
    assert [(p.offset, p.source) for p in found] == [
        (text.index("$\\foo$ and"), "$\\foo$"),
        (text.index("$$\n{x"), "$${x$$"),
        (text.index("$\\frac"), "$\\frac{1}$"),
    ]


def test_a_formula_that_cannot_be_converted_is_shown_as_written() -> None:
    assert html("See $\\foo$.") == "<p>See $\\foo$.</p>\n"
    assert html("$$\n\\foo\n$$") == "<p>$$\\foo$$</p>\n"


# ---------------------------------------------------------------- digest check reports them


def test_check_reports_each_field_at_the_formulas_first_dollar(make_site: SiteFactory) -> None:
    issue = (
        'title: "Issue"\n'
        "subject: diffusion models\n"
        "intro: |\n"
        "  Fine: $x$ and $5.\n"
        "  Not fine: $\\foo{x}$ and $y^$.\n"
        "themes:\n"
        "  acceleration: |\n"
        "    Prose.\n"
        "\n"
        "    $$\n"
        "    \\frac{1}\n"
        "    $$\n"
        'outlook: "  Two spaces, then $x}$"\n'
    )
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": issue,
            "entries/2026-02-28/literal.yaml": paper_yaml(summary="|\n  A bound of $\\arg x$."),
            "entries/2026-02-28/folded.yaml": paper_yaml(summary=">\n  Folded,\n  with $x^$ here."),
            "entries/2026-02-28/fine.yaml": paper_yaml(summary='"It costs $5 to reach $O(1/T)$."'),
        },
        BASE_URL,
    )
    result = runner.invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 1
    hint = "    hint: fix the TeX, or write \\$ for a dollar sign that is not math\n"
    cannot = "cannot be converted to MathML"
    assert result.output == (
        f"entries/2026-02-28/_issue.yaml:5:13: error[E111]: 'intro': the formula $\\foo{{x}}$ "
        f"{cannot}: the command '\\foo', which latex2mathml does not know "
        "(1 other formula in this text cannot either)\n"
        + hint
        + f"entries/2026-02-28/_issue.yaml:10:5: error[E111]: 'themes.acceleration': the formula "
        f"$$\\frac{{1}}$$ {cannot}: a fraction with an argument missing\n"
        + hint
        + f"entries/2026-02-28/_issue.yaml:13:30: error[E111]: 'outlook': the formula $x}}$ "
        f"{cannot}: a '}}' that closes nothing\n"
        + hint
        + f"entries/2026-02-28/folded.yaml:6:8: error[E111]: 'summary': the formula $x^$ "
        f"{cannot}: a ^ or _ with nothing after it\n"
        + hint
        + f"entries/2026-02-28/literal.yaml:5:14: error[E111]: 'summary': the formula $\\arg x$ "
        f"{cannot}: the command '\\arg', which latex2mathml does not know\n"
        + hint
        + "1 paper in 0 issues: 5 errors, 0 warnings in 3 files\n"
    )


def test_a_long_formula_is_shortened_in_the_message(make_site: SiteFactory) -> None:
    summary = "|\n  $" + "x + " * 30 + "\\foo$"
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/long.yaml": paper_yaml(summary=summary),
        },
        BASE_URL,
    )
    result = runner.invoke(app, ["check", "--root", str(root), "--format", "json"])
    (diagnostic,) = json.loads(result.output)["diagnostics"]
    assert diagnostic["code"] == "E111"
    assert (diagnostic["line"], diagnostic["col"]) == (5, 3)
    shown = re.search(r"the formula (.*) cannot be", diagnostic["message"])
    assert shown is not None
    assert shown.group(1) == "$" + "x + " * 14 + "x …"  # its first 60 characters


# ---------------------------------------------------------------- pages, feeds and e-mail


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("math-site")
    (root / "pyproject.toml").write_text(f"[tool.digest]\n{BASE_URL}\n", encoding="utf-8")
    issue = root / "entries" / "2026-02-28"
    issue.mkdir(parents=True)
    (issue / "_issue.yaml").write_text(
        MINIMAL_ISSUE + "outlook: |\n  Next: $\\beta$.\n", encoding="utf-8"
    )
    summary = "|\n  Reaches $O(1/T)$ for $5.\n\n  $$\n  \\frac{C}{\\sqrt{T}}\n  $$\n"
    (issue / "bound.yaml").write_text(paper_yaml(summary=summary), encoding="utf-8")
    result = build_site(root, root / "site")
    assert result.ok, result.report
    return root / "site"


def test_pages_carry_the_mathml(built: Path) -> None:
    for page in ["2026-02-28/index.html", "papers/bound/index.html"]:
        text = (built / page).read_text(encoding="utf-8")
        assert len(MATH.findall(text)) >= 2, page
        assert '<div class="math-display" tabindex="0">' in text


def test_the_atom_feed_carries_mathml_that_feed_readers_keep(built: Path) -> None:
    # feedparser's sanitiser, like other readers', keeps <math> only with its namespace.
    feed = feedparser.parse((built / "topics" / "acceleration" / "feed.xml").read_bytes())
    (entry,) = feed.entries
    content = entry.content[0].value
    assert "<math" in content
    assert "<mfrac>" in content


def test_the_json_feed_carries_mathml(built: Path) -> None:
    feed = built / "topics" / "acceleration" / "feed.json"
    document = json.loads(feed.read_text(encoding="utf-8"))
    (item,) = document["items"]
    assert len(MATH.findall(item["content_html"])) == 2


def test_the_email_html_has_mathml_and_its_text_the_tex(built: Path) -> None:
    email_html = (built / "2026-02-28" / "email.html").read_text(encoding="utf-8")
    assert len(MATH.findall(email_html)) == 3  # the summary's two, the outlook's one
    email_text = (built / "2026-02-28" / "email.txt").read_text(encoding="utf-8")
    assert "Reaches $O(1/T)$ for $5." in email_text
    assert "$$\\frac{C}{\\sqrt{T}}$$" in email_text
    assert "Next: $\\beta$." in email_text
    assert "<math" not in email_text
