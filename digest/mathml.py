"""Math: the TeX of a Markdown field's `$…$` and `$$…$$` as MathML, made at build time,
and where in the field a formula that cannot be converted is written.

latex2mathml (pure Python, no JavaScript, no fonts) turns TeX into a tree of MathML
elements, which browsers draw on their own. Its own string output is not used: it
un-escapes the text it writes, so `\\text{<script>}` would come out as a live tag, and it
keeps attributes such as `href` that TeX can set. This module writes the tree itself
instead, every text escaped and only presentation attributes kept, so a formula is as
safe as any other text of an entry.

latex2mathml accepts some TeX it cannot render without a word: an unknown command
(`\\foo` is shown as the letters "\\foo"), an unknown environment (dropped), a brace that
is never closed, a fraction without its denominator. `convert` finds those too, and
reports them with the exceptions the converter raises, as a `problem` in words.

digest.markdown finds the formulas (mdit-py-plugins' dollarmath makes them tokens);
`problems_in` gives the offset of each one that cannot be converted, for `digest check`
to report at its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from typing import TYPE_CHECKING

from digest.plain_prose import escape_html

if TYPE_CHECKING:  # latex2mathml and markdown-it-py are imported when a text holds math
    from xml.etree.ElementTree import Element

    from markdown_it.token import Token

# Written on every <math>, though HTML does not need it: feed readers' sanitisers (feedparser's
# among them) keep MathML only in its namespace.
MATHML_NAMESPACE = "http://www.w3.org/1998/Math/MathML"

# MathML Core's elements, plus MathML 3's `menclose` (\fbox, \cancel) and `mfenced`, which
# browsers draw as rows. Anything else (`mglyph` would load an image) is written as a row.
_ELEMENTS = frozenset({
    "maction", "annotation", "annotation-xml", "menclose", "merror", "mfenced", "mfrac", "mi",
    "mmultiscripts", "mn", "mo", "mover", "mpadded", "mphantom", "mprescripts", "mroot", "mrow",
    "ms", "mspace", "msqrt", "mstyle", "msub", "msubsup", "msup", "mtable", "mtd", "mtext", "mtr",
    "munder", "munderover", "none", "semantics",
})  # fmt: skip
# Presentation attributes only: no href, src, style, class, id or event handler.
_ATTRIBUTES = frozenset({
    "accent", "accentunder", "align", "columnalign", "columnlines", "columnspacing", "columnspan",
    "depth", "dir", "displaystyle", "equalcolumns", "equalrows", "fence", "form", "frame",
    "framespacing", "height", "largeop", "linebreak", "linethickness", "lspace", "mathbackground",
    "mathcolor", "mathsize", "mathvariant", "maxsize", "minsize", "movablelimits", "notation",
    "rowalign", "rowlines", "rowspacing", "rowspan", "rspace", "scriptlevel", "separator",
    "stretchy", "symmetric", "voffset", "width",
})  # fmt: skip
# Token elements hold text only: the converter nests a row in one for \mathop{E} or
# \mathbin{x}, which HTML does not allow, so such a token is written with its text.
_TOKENS = frozenset({"mi", "mn", "mo", "ms", "mtext"})
# Elements whose children are their arguments, and what a missing one is called.
_ARGUMENTS = {
    "mfrac": (2, "a fraction"),
    "mroot": (2, "a root"),
    "msub": (2, "a subscript"),
    "msup": (2, "a superscript"),
    "msubsup": (3, "a subscript or superscript"),
    "munder": (2, "an under-script"),
    "mover": (2, "an accent or over-script"),
    "munderover": (3, "a limit"),
}
# What each of latex2mathml's exceptions means, by the exception's name: the classes have
# no common base, and a few come and go between releases.
_EXCEPTIONS = {
    "NumeratorNotFoundError": "a fraction without its numerator",
    "DenominatorNotFoundError": "a fraction without its denominator",
    "ExtraLeftOrMissingRightError": "a \\left without its \\right, or a \\right too many",
    "MissingSuperScriptOrSubscriptError": "a ^ or _ with nothing after it",
    "DoubleSubscriptsError": "two subscripts in a row: group them, as in x_{ij}",
    "DoubleSuperscriptsError": "two superscripts in a row: group them, as in x^{ab}",
    "NoAvailableTokensError": "a command without its argument",
    "InvalidStyleForGenfracError": "\\genfrac with a style that is not 0 to 3",
    "MissingEndError": "a \\begin without its \\end",
    "InvalidAlignmentError": "a column alignment other than l, c or r",
    "InvalidWidthError": "a width that is not a TeX length",
    "LimitsMustFollowMathOperatorError": "\\limits after something that is not an operator",
}
_COMMAND_IN_TEXT = re.compile(r"\\[A-Za-z]+")
_ENVIRONMENT = re.compile(r"\\begin\s*\{([^{}]*)\}")
_LONE_AMPERSAND = re.compile(r"&(?!#x[0-9A-Fa-f]+;)")


@dataclass(frozen=True)
class Converted:
    """One formula: its MathML, or why it has none (`problem`, in words)."""

    mathml: str | None
    problem: str | None = None


def _brace_problem(tex: str) -> str | None:
    """An unbalanced brace: latex2mathml closes an open group at the end by itself and
    shows a stray `}` as a character."""
    depth = 0
    escaped = False
    for character in tex:
        if escaped:
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "{":
            depth += 1
        elif character == "}":
            if depth == 0:
                return "a '}' that closes nothing"
            depth -= 1
    return "a '{' that is never closed" if depth else None


def _environment_problem(tex: str) -> str | None:
    """An environment latex2mathml does not know, whose \\begin and \\end it drops."""
    from latex2mathml.commands import CONVERSION_MAP

    for name in _ENVIRONMENT.findall(tex):
        if f"\\{name.strip()}" not in CONVERSION_MAP:
            return f"the environment '{name.strip()}', which latex2mathml does not know"
    return None


def _tree_problem(math: Element) -> str | None:
    """What the converter let through in its tree: unknown commands (kept as their
    letters), a bare `&` outside a table, an element short of an argument."""
    for element in math.iter():
        text = element.text or ""
        command = _COMMAND_IN_TEXT.search(text)
        if command is not None:
            return f"the command '{command.group()}', which latex2mathml does not know"
        if _LONE_AMPERSAND.search(text):
            return "an '&' outside a table such as \\begin{cases} (write \\& for the sign)"
        count, name = _ARGUMENTS.get(str(element.tag), (0, ""))
        if len(element) < count:
            return f"{name} with an argument missing"
    return None


def _attributes(element: Element) -> str:
    return "".join(
        f' {name}="{escape_html(unescape(value))}"'
        for name, value in element.attrib.items()
        if name in _ATTRIBUTES
    )


def _write(element: Element, out: list[str]) -> None:
    """Append `element` as HTML: the converter's texts hold character references
    (`&#x003B1;`) beside raw text, so each is read as HTML, then escaped once."""
    tag = str(element.tag)
    if tag not in _ELEMENTS:
        tag = "mrow"
    out.append(f"<{tag}{_attributes(element)}>")
    if tag in _TOKENS:
        out.append("".join(escape_html(unescape(text)) for text in element.itertext()))
    else:
        if element.text:
            out.append(escape_html(unescape(element.text)))
        for child in element:
            _write(child, out)
    out.append(f"</{tag}>")
    if element.tail:
        out.append(escape_html(unescape(element.tail)))


@lru_cache(maxsize=4096)
def convert(tex: str, display: bool) -> Converted:
    """`tex` as a `<math>` element (block-level when `display`), or its problem."""
    problem = _brace_problem(tex) or _environment_problem(tex)
    if problem is not None:
        return Converted(None, problem)
    from latex2mathml.converter import convert_to_element

    try:
        math = convert_to_element(tex, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - its exceptions share no base; some are built-in
        return Converted(None, _EXCEPTIONS.get(type(exc).__name__, "TeX latex2mathml cannot read"))
    problem = _tree_problem(math)
    if problem is not None:
        return Converted(None, problem)
    mode = ' display="block"' if display else ""
    out = [f'<math xmlns="{MATHML_NAMESPACE}"{mode}>']
    for child in math:
        _write(child, out)
    out.append("</math>")
    return Converted("".join(out))


# ---------------------------------------------------------------- formulas in a text

# The token types of math, and the dollars each is written between.
MATH_MARKUP = {"math_inline": "$", "math_inline_double": "$$", "math_block": "$$"}


def math_source(token: Token) -> str:
    """A math token as written, with its dollars: what the plain text shows."""
    markup = MATH_MARKUP[token.type]
    return f"{markup}{token.content.strip()}{markup}"


@dataclass(frozen=True)
class MathProblem:
    """A formula of a text that cannot be made MathML, and why."""

    offset: int  # where its first dollar is written in the text
    source: str  # the formula with its dollars (`math_source`)
    problem: str


def _problem(token: Token) -> str | None:
    """Why a math token's TeX cannot be converted (None when it can, or is no math)."""
    if token.type not in MATH_MARKUP:
        return None
    return convert(token.content.strip(), token.type != "math_inline").problem


def problems_in(text: str, tokens: Sequence[Token]) -> tuple[MathProblem, ...]:
    """Each formula of `text` (parsed into `tokens`) that cannot be converted, at the
    offset of its first dollar.

    Tokens know their block's first line, not their column: a formula is looked for
    from there on, after the code spans and formulas before it in the block (so that
    `` `$x$` `` shown as code is not taken for it). Failing that, the block's start."""
    found: list[MathProblem] = []
    starts: list[int] = []  # where each line of `text` starts, once a problem needs them
    for token in tokens:
        inner = [token] if token.type == "math_block" else []
        if token.type == "inline" and token.children:
            inner = [c for c in token.children if c.type in MATH_MARKUP or c.type == "code_inline"]
        if not any(_problem(child) for child in inner):
            continue
        if not starts:
            starts = [0, *(at + 1 for at, c in enumerate(text) if c == "\n")]
        block = starts[min(token.map[0], len(starts) - 1)] if token.map else 0
        cursor = block
        for child in inner:
            markup = MATH_MARKUP.get(child.type, "")
            needle = markup + child.content.split("\n", 1)[0]
            at = text.find(needle, cursor)
            if at >= 0:
                cursor = at + len(needle)
            problem = _problem(child)
            if problem is not None:
                found.append(MathProblem(block if at < 0 else at, math_source(child), problem))
    return tuple(found)
