"""Markup: one markdown-it-py parser for every Markdown field; HTML plus the links it finds.

Content is untrusted text, so the parser is the CommonMark preset with raw HTML turned
off (`<script>` is shown as text, not run) and a link check that keeps only http(s),
mailto and relative targets: `[x](javascript:alert(1))` stays visible as plain text.
Tables and strikethrough are on because editors reach for them in summaries.

Math is TeX between dollars (mdit-py-plugins' dollarmath): `$…$` inline, `$$…$$` on its
own lines or inside a paragraph for a display formula, each made MathML by
digest.mathml. A dollar with a digit or a space on its inner side opens or closes
nothing, so "$5 and $10" stays text. TeX the converter cannot handle is shown as written
and listed with its offset in the text (`Analysed.math_problems`), for `digest check`
to report at its line and column; the plain text keeps the TeX with its dollars.

A cross-reference, `[[id]]` or `[[id|text]]`, names another paper by its id. Its HTML
is made once for every page that shows the text, so it is a placeholder here,
`<a data-xref="ID">TEXT</a>` (TEXT empty for `[[id]]`), which digest.xrefs makes a link
for the place that shows it. Each is listed with its offset in the text
(`Analysed.references`), for the entry checks to report an unknown id at its `[[`. In a
code span or a formula, and after a backslash (`\\[[id]]`), `[[` is text; being a link, a
cross-reference cannot sit in another link's text (`[a [[id]]](url)` is no link, as
CommonMark has it for a link in a link). The plain text holds the cross-reference's
text, or its id for `[[id]]`.

Headings inside a field are shifted to fit the page around them (`top_heading`): a
summary's shallowest heading (`# Results` or `## Results`) becomes an `<h4>` under a
paper's `<h3>`, so pages keep one `<h1>` and an unbroken heading order.

Plain prose (paragraphs with emphasis and links, most fields) is rendered by
digest.plain_prose without a full parse; its HTML is what markdown-it-py would make.
Each distinct text is parsed once (`analyse`, memoised by text): the HTML with headings
as written, the links, the plain text and the first sentence all come from that one
parse, and a heading level is applied afterwards by renaming the `<hN>` tags. Pages,
feeds, the search index and the e-mail edition all go through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from digest.mathml import MATH_MARKUP, MathProblem, convert, math_source, problems_in
from digest.plain_prose import Linked, escape_html, linked, render_prose
from digest.xref_syntax import (
    CrossReference,
    cross_reference_rule,
    cross_reference_words,
    references,
    render_cross_reference,
)

if TYPE_CHECKING:  # markdown-it-py is imported when a text needs it (see `_parser`)
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
# A sentence may end inside closing quotes or brackets (straight or typographic).
_CLOSERS = "\"')\\]\u201d\u2019"
_OPENERS = "\"'(\\[\u201c\u2018"
_SENTENCE_END = re.compile(rf"(?<=[.!?])[{_CLOSERS}]*\s+(?=[{_OPENERS}]?[A-Z0-9])")
CACHED_TEXTS = 1 << 19  # distinct Markdown texts kept parsed
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "Fig.", "Eq.", "approx.")


def is_safe_link(url: str) -> bool:
    """True for http(s), mailto and scheme-less (relative) targets; False for the rest.

    Browsers ignore tabs, newlines and leading control characters in a URL, so
    `java\\tscript:` is judged with them removed.
    """
    cleaned = _CONTROL.sub("", url)
    if not cleaned:
        return True
    if cleaned.startswith(("/", "#", "?", ".")):
        return True
    scheme = urlsplit(cleaned).scheme.lower()
    if not scheme:
        return ":" not in cleaned.split("/", 1)[0]
    return scheme in SAFE_SCHEMES


@dataclass(frozen=True)
class Rendered:
    """One Markdown field as HTML, plus every link and image target it kept, in order."""

    html: str
    links: tuple[str, ...]


def _is_remote(url: str) -> bool:
    return url.startswith("//") or bool(urlsplit(url).scheme)


def _render_image(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Local images stay images; a remote one becomes a link, so no page loads another host."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if not _is_remote(src):
        return renderer.image(tokens, idx, options, env)
    alt = renderer.renderInlineAsText(token.children or [], options, env) or src
    return f'<a href="{escape_html(src)}">{escape_html(alt)}</a>'


def _render_math(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A formula as MathML; TeX that cannot be converted stays as written (the entry
    checks report it, so a built page holds none). Display math sits in a box that
    scrolls sideways on a narrow screen, focusable so a keyboard can scroll it too."""
    token = tokens[idx]
    display = token.type != "math_inline"
    converted = convert(token.content.strip(), display)
    if converted.mathml is None:
        shown = escape_html(math_source(token))
        return f"<p>{shown}</p>\n" if token.type == "math_block" else shown
    if not display:
        return converted.mathml
    if token.type == "math_block":
        return f'<div class="math-display" tabindex="0">{converted.mathml}</div>\n'
    return f'<span class="math-display" tabindex="0">{converted.mathml}</span>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    """The parser, made (and markdown-it-py imported) the first time a text is not plain
    prose: a rebuild after an edit often never needs it."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    parser = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False}).enable(
        ["table", "strikethrough"]
    )
    # No digit or space inside the dollars, so prices are not math; no labels, whose
    # anchors would clash where several cards share a page; no blank line in a formula,
    # which TeX does not allow either.
    parser.use(
        dollarmath_plugin,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    parser.validateLink = is_safe_link  # type: ignore[method-assign]
    parser.inline.ruler.before("link", "xref", cross_reference_rule)
    parser.add_render_rule("xref", render_cross_reference)
    parser.add_render_rule("image", _render_image)
    for kind in MATH_MARKUP:
        parser.add_render_rule(kind, _render_math)
    return parser


def _links(tokens: Sequence[Token]) -> list[str]:
    found: list[str] = []
    for token in tokens:
        if token.type == "link_open":
            found.append(str(token.attrGet("href") or ""))
        elif token.type == "image":
            found.append(str(token.attrGet("src") or ""))
        if token.children:
            found.extend(_links(token.children))
    return found


@dataclass(frozen=True)
class Analysed:
    """Everything the build needs from one Markdown text, from a single parse."""

    html: str  # headings as written
    top: int | None  # the shallowest heading level, None when there is no heading
    links: tuple[str, ...]
    plain: str  # the words without markup, on one line
    first: str  # the first sentence of `plain`
    paragraphs: tuple[Linked, ...] | None = None  # each paragraph's words, for plain prose
    words: Linked | None = None  # for other texts: the words with links (`linked_text`)
    math_problems: tuple[MathProblem, ...] = ()
    references: tuple[CrossReference, ...] = ()  # its `[[id]]`s, in order


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def _plain(tokens: Sequence[Token]) -> str:
    words: list[str] = []
    for token in tokens:
        if token.type == "math_block":
            words.append(math_source(token) + " ")
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
            elif child.type in MATH_MARKUP:
                words.append(math_source(child))
            elif child.type == "xref":
                words.append(cross_reference_words(child))
        words.append(" ")
    return " ".join("".join(words).split())


def _linked(tokens: Sequence[Token]) -> Linked:
    """The words of `tokens` on one line (`_plain`'s, plus images' descriptions), with
    where each link's and image's text sits among them."""
    raw: list[str] = []
    length = 0
    spans: list[tuple[int, int, str]] = []
    opened: list[tuple[int, str]] = []
    for token in tokens:
        if token.type == "math_block":
            piece = math_source(token) + " "
            raw.append(piece)
            length += len(piece)
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            piece = ""
            if child.type in ("text", "code_inline"):
                piece = child.content
            elif child.type in ("softbreak", "hardbreak"):
                piece = " "
            elif child.type in MATH_MARKUP:
                piece = math_source(child)
            elif child.type == "xref":
                piece = cross_reference_words(child)
            elif child.type == "link_open":
                opened.append((length, str(child.attrGet("href") or "")))
            elif child.type == "link_close" and opened:
                start, target = opened.pop()
                spans.append((start, length, target))
            elif child.type == "image":
                piece = "".join(c.content for c in child.children or [] if c.type == "text")
                spans.append((length, length + len(piece), str(child.attrGet("src") or "")))
            raw.append(piece)
            length += len(piece)
        raw.append(" ")
        length += 1
    spans.sort(key=lambda span: span[1])  # in the order their texts end
    return linked("".join(raw), spans)


def plain_first_sentence(plain: str) -> str:
    """The first sentence of plain text (see `first_sentence`)."""
    start = 0
    for match in _SENTENCE_END.finditer(plain):
        head = plain[: match.start()]
        if head.endswith(_ABBREVIATIONS) or re.search(r"\b[A-Z]\.$", head):
            continue
        if match.start() > start:
            return head.rstrip()
    return plain


_MEMO: dict[str, Analysed] = {}


def _analyse(text: str) -> Analysed:
    prose = render_prose(text)
    if prose is None:
        return parse_fully(text)
    plain = prose.plain
    return Analysed(
        prose.html,
        None,
        tuple(prose.links),
        plain,
        plain_first_sentence(plain),
        tuple(prose.paragraphs),
    )


def parse_fully(text: str) -> Analysed:
    """`text` parsed by markdown-it-py, even when it is plain prose (for tests to compare)."""
    parser = _parser()
    tokens = parser.parse(text)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    html = parser.renderer.render(tokens, parser.options, {})
    plain = _plain(tokens)
    top = min(levels) if levels else None
    words = _linked(tokens)
    if words.words == plain:
        words = Linked(plain, words.links)  # one string kept, not two equal ones
    return Analysed(
        html,
        top,
        tuple(_links(tokens)),
        plain,
        plain_first_sentence(plain),
        None,
        words,
        problems_in(text, tokens),
        references(text, tokens),
    )


def analyse(text: str) -> Analysed:
    """Parse `text` once: HTML, links, plain text and first sentence (memoised by text).

    Every Markdown field of a build goes through here, so each distinct text is parsed
    once however many pages, feeds and indexes show it. The memo is bounded: past
    `CACHED_TEXTS` texts (several times the fields of a 100,000-paper site) it starts
    afresh.
    """
    found = _MEMO.get(text)
    if found is None:
        if len(_MEMO) >= CACHED_TEXTS:
            _MEMO.clear()
        found = _MEMO[text] = _analyse(text)
    return found


def analyse_all(texts: Iterable[str]) -> None:
    """`analyse` each of `texts` now: processes forked afterwards share the results
    instead of each parsing, and keeping, most of them again."""
    for text in texts:
        analyse(text)


def html_at(text: str, top_heading: int = 1) -> str:
    """The HTML of `text` with its shallowest heading made `<h{top_heading}>`.

    Shifting the tags of the rendered HTML gives exactly what rendering shifted tokens
    gives: with raw HTML off, the only `<hN>` tags in the output are the headings'.
    """
    found = analyse(text)
    if found.top is None:
        return found.html
    shift = max(1, min(6, top_heading)) - found.top
    if shift == 0:
        return found.html
    return _HEADING_TAG.sub(
        lambda m: f"<{m.group(1)}h{max(1, min(6, int(m.group(2)) + shift))}>", found.html
    )


def render_markdown(text: str, top_heading: int = 1) -> Rendered:
    """Markdown → HTML; the field's shallowest heading becomes `<h{top_heading}>`."""
    return Rendered(html_at(text, top_heading), analyse(text).links)


def linked_text(text: str) -> Linked:
    """The words of a Markdown field on one line, with its links' and images' targets
    (see `Linked`): the plain text of the e-mail edition."""
    found = analyse(text)
    if found.words is not None:
        return found.words
    words: list[str] = []
    spans: list[tuple[int, int, str]] = []
    length = 0
    for paragraph in found.paragraphs or ():
        if not paragraph.words:
            continue
        if words:
            length += 1
        spans += [(start + length, end + length, url) for start, end, url in paragraph.links]
        words.append(paragraph.words)
        length += len(paragraph.words)
    return Linked(" ".join(words), tuple(spans))


def cross_references(text: str) -> tuple[CrossReference, ...]:
    """The `[[id]]` and `[[id|text]]` of a Markdown field, in order, each at its offset."""
    return analyse(text).references


def math_problems(text: str) -> tuple[MathProblem, ...]:
    """The formulas of a Markdown field that cannot be made MathML, for the entry checks."""
    return analyse(text).math_problems


def first_sentence(text: str) -> str:
    """The first sentence of a Markdown field as plain text, for one-line listings.

    A sentence ends at `.`, `!` or `?` followed by a space and a capital or digit;
    common abbreviations ("e.g.", "et al.") do not end one.
    """
    return analyse(text).first
