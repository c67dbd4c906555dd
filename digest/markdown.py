"""Markup: one markdown-it-py parser for every Markdown field; HTML plus the links it finds.

Content is untrusted text, so the parser is the CommonMark preset with raw HTML turned
off (`<script>` is shown as text, not run) and a link check that keeps only http(s),
mailto and relative targets: `[x](javascript:alert(1))` stays visible as plain text.
Tables and strikethrough are on because editors reach for them in summaries.

Headings inside a field are shifted to fit the page around them (`top_heading`): a
summary's shallowest heading (`# Results` or `## Results`) becomes an `<h4>` under a
paper's `<h3>`, so pages keep one `<h1>` and an unbroken heading order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
# A sentence may end inside closing quotes or brackets (straight or typographic).
_CLOSERS = "\"')\\]\u201d\u2019"
_OPENERS = "\"'(\\[\u201c\u2018"
_SENTENCE_END = re.compile(rf"(?<=[.!?])[{_CLOSERS}]*\s+(?=[{_OPENERS}]?[A-Z0-9])")
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


def _shift_headings(tokens: Sequence[Token], top: int) -> None:
    """Make the field's shallowest heading an `<h{top}>`; deeper ones keep their distance."""
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    if not levels:
        return
    shift = top - min(levels)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{max(1, min(6, int(token.tag[1]) + shift))}"


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
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt)}</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "xhtmlOut": False}).enable(
        ["table", "strikethrough"]
    )
    parser.validateLink = is_safe_link  # type: ignore[method-assign]
    parser.add_render_rule("image", _render_image)
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


def render_markdown(text: str, top_heading: int = 1) -> Rendered:
    """Markdown → HTML; the field's shallowest heading becomes `<h{top_heading}>`."""
    parser = _parser()
    tokens = parser.parse(text)
    _shift_headings(tokens, max(1, min(6, top_heading)))
    html = parser.renderer.render(tokens, parser.options, {})
    return Rendered(html, tuple(_links(tokens)))


def plain_text(text: str) -> str:
    """The words of a Markdown field without markup, on one line."""
    tokens = _parser().parse(text)
    words: list[str] = []
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type in ("text", "code_inline"):
                words.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                words.append(" ")
        words.append(" ")
    return " ".join("".join(words).split())


def first_sentence(text: str) -> str:
    """The first sentence of a Markdown field as plain text, for one-line listings.

    A sentence ends at `.`, `!` or `?` followed by a space and a capital or digit;
    common abbreviations ("e.g.", "et al.") do not end one.
    """
    plain = plain_text(text)
    start = 0
    for match in _SENTENCE_END.finditer(plain):
        head = plain[: match.start()]
        if head.endswith(_ABBREVIATIONS) or re.search(r"\b[A-Z]\.$", head):
            continue
        if match.start() > start:
            return head.rstrip()
    return plain
