"""The plain-prose renderer gives exactly markdown-it-py's result, or declines."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmarks.generate import make_corpus
from digest.markdown import parse_fully
from digest.plain_prose import render_prose

from .conftest import examples

# Pieces that prose is made of, and pieces of every other syntax next to them, so
# generated texts sit on the edges of the subset.
WORDS = ["diffusion", "Model", "3D", "x", "é", "naïve", "DPCache", "2026", "e.g.", "it's"]
MARKS = [" ", "  ", "\n", "\n\n", "\n \n", ".", ",", ";", ":", "!", "?", "(", ")", '"', "'"]
SYNTAX = [
    "*", "**", "***", "_", "__", "`", "\\", "[", "]", "](", "![", "<", ">", "&", "&amp;",
    "~", "~~", "|", "#", "# ", "-", "- ", "+ ", "* ", "1. ", "2) ", "=", "===", "---",
    "\t", "\u00a0", "    ", "\r\n", "\x00", "\x01", "\x0b", "\x1c", "\x7f", "<b>",
]  # fmt: skip
URLS = [
    "https://example.org",
    "https://example.org/a/b?x=1#top",
    "http://lab.github.io/p-1/",
    "https://Example.org/",
    "HTTPS://example.org",
    "javascript:alert(1)",
    "https://example.org/a b",
    "https://example.org/(x)",
    "/relative",
    "mailto:a@b.org",
]


@st.composite
def prose_like(draw: st.DrawFn, other_syntax: bool = True) -> str:
    kinds = ["word", "word", "mark", "em", "link"] + (["syntax"] if other_syntax else [])
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(kinds))
        if kind == "word":
            parts.append(draw(st.sampled_from(WORDS)))
        elif kind == "mark":
            parts.append(draw(st.sampled_from(MARKS)))
        elif kind == "syntax":
            parts.append(draw(st.sampled_from(SYNTAX)))
        elif kind == "em":
            delimiter = draw(st.sampled_from(["*", "**"]))
            inner = draw(st.sampled_from([" ", "\n"])).join(
                draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
            )
            parts.append(f"{delimiter}{inner}{delimiter}")
        else:
            text = draw(
                st.sampled_from(["project page", "code", " x ", "a (b)", '"q"', "on\ngithub"])
            )
            parts.append(f"[{text}]({draw(st.sampled_from(URLS))})")
    return "".join(parts)


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(prose_like(), prose_like(other_syntax=False)))
@example(
    "The method *denoises* faster, reaching a **12x** speed-up.\nSee [code](https://github.com/a/b)."
)
@example("*x*\n\n**y**.")
@example("1. Not a list item")
@example("[a](https://x.org)[b](https://y.org)")
def test_plain_prose_matches_markdown_it_or_declines(text: str) -> None:
    prose = render_prose(text)
    if prose is None:
        return
    html, links, plain, paragraphs = prose
    reference = parse_fully(text)
    assert html == reference.html
    assert tuple(links) == reference.links
    assert plain == reference.plain
    assert reference.top is None
    blocks = [block for block in re.split(r"\n\s*\n", text.strip()) if block]
    # Each paragraph's words and links, as the e-mail edition shows them.
    assert paragraphs == [parse_fully(block).words for block in blocks]


def test_generated_summaries_take_the_fast_path() -> None:
    # Guards the point of the module: the prose of the benchmark corpus (emphasis, strong
    # text, project and code links) is all rendered without markdown-it-py.
    issues, papers = make_corpus(200)
    texts = [paper.summary for paper in papers]
    texts += [text for issue in issues for text in (issue.intro, issue.outlook)]
    texts += [text for issue in issues for text in issue.themes.values()]
    declined = [text for text in texts if render_prose(text) is None]
    assert declined == []


@pytest.mark.parametrize(
    "text",
    [
        "- a list",
        "# Heading",
        "Setext\n===",
        "code `x`",
        "two  \nlines",
        "    indented",
        "a | b\n--|--\n1 | 2",
        "snake_case",
        "[ref]: https://example.org",
        "![image](https://example.org/a.png)",
    ],
)
def test_other_syntax_is_left_to_markdown_it(text: str) -> None:
    assert render_prose(text) is None
