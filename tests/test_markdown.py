from __future__ import annotations

import pytest

from digest import markdown
from digest.markdown import analyse, first_sentence, is_safe_link, linked_text, render_markdown


def test_raw_html_is_escaped_not_passed_through() -> None:
    html = render_markdown("Hi <script>alert(1)</script> <img src=x onerror=alert(1)>").html
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.parametrize(
    "target",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<b>hi</b>",
        "file:///etc/passwd",
    ],
)
def test_unsafe_link_schemes_stay_plain_text(target: str) -> None:
    rendered = render_markdown(f"[click]({target})")
    assert "<a " not in rendered.html
    assert rendered.links == ()


@pytest.mark.parametrize(
    "target",
    ["https://arxiv.org/abs/2602.00001", "http://a.org", "mailto:ed@a.org", "../papers/x/", "#top"],
)
def test_safe_links_survive_and_are_collected(target: str) -> None:
    rendered = render_markdown(f"[click]({target})")
    assert rendered.html == f'<p><a href="{target}">click</a></p>\n'
    assert rendered.links == (target,)


def test_is_safe_link_ignores_control_characters_like_browsers_do() -> None:
    assert not is_safe_link("\x01javascript:alert(1)")
    assert not is_safe_link("jav\nascript:alert(1)")
    assert is_safe_link("papers/dpcache/")
    assert is_safe_link("/assets/x.png")
    assert not is_safe_link("weird:thing")


def test_remote_images_become_links_so_no_other_host_is_loaded() -> None:
    rendered = render_markdown("![a chart](https://example.net/chart.png) ![local](chart.png)")
    assert '<a href="https://example.net/chart.png">a chart</a>' in rendered.html
    assert '<img src="chart.png" alt="local">' in rendered.html
    assert rendered.links == ("https://example.net/chart.png", "chart.png")


def test_headings_shift_below_the_page_heading() -> None:
    text = "# Results\n\n## Details\n\n###### Deepest\n"
    assert render_markdown(text).html.startswith("<h1>Results</h1>")
    shifted = render_markdown(text, top_heading=4).html
    assert "<h4>Results</h4>" in shifted
    assert "<h5>Details</h5>" in shifted
    assert "<h6>Deepest</h6>" in shifted
    # The shallowest heading of the field maps to the top level, whatever it was written as.
    assert render_markdown("## Results\n\n### More\n", top_heading=4).html == (
        "<h4>Results</h4>\n<h5>More</h5>\n"
    )


def test_tables_and_strikethrough_are_enabled() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~").html
    assert "<table>" in html
    assert "<s>old</s>" in html


def test_plain_text_drops_markup() -> None:
    text = "It is *fast*,\n`cheap` and [good](https://a.org)."
    assert analyse(text).plain == linked_text(text).words == "It is fast, cheap and good."


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ("LESA is fast. It is also small.", "LESA is fast."),
        ("It halves steps, e.g. from 50 to 25. Then more.", "It halves steps, e.g. from 50 to 25."),
        ("Work by A. Turing et al. Shows things. More.", "Work by A. Turing et al. Shows things."),
        ("Does it work? Yes.", "Does it work?"),
        ("Version 2.5 is out. Next.", "Version 2.5 is out."),
        ("No full stop at all", "No full stop at all"),
        ("*Bold* start.\n\nSecond paragraph.", "Bold start."),
    ],
)
def test_first_sentence(summary: str, expected: str) -> None:
    assert first_sentence(summary) == expected


@pytest.mark.parametrize(
    "text",
    [
        "# A\n\n## B\n\n###### C\n",
        "### Only\n\ntext `<h2>` and <h3>\n",
        "No heading.",
        "## x\n# y\n",
    ],
)
@pytest.mark.parametrize("top", [1, 2, 3, 4, 6])
def test_shifting_rendered_headings_equals_rendering_shifted_tokens(text: str, top: int) -> None:
    parser = markdown._parser()
    tokens = parser.parse(text)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{max(1, min(6, int(token.tag[1]) + top - min(levels)))}"
    assert markdown.html_at(text, top) == parser.renderer.render(tokens, parser.options, {})
