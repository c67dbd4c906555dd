"""Property tests: whatever an editor's file turns into, `digest check` answers with
diagnostics and exit 0 or 1, never a traceback; and whatever passes the check builds
into feeds, OPML, a sitemap and BibTeX that parse."""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
from bibtexparser.entrypoint import parse_string
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from digest.build import run
from digest.cli import app
from digest.values import character_problem

from .conftest import MINIMAL_ISSUE, examples
from .test_citations import balanced

VALID_ENTRY = """\
title: "LESA: Learnable Stage-Aware Predictors for Diffusion Model Acceleration"
short: LESA
authors: [Peiliang Cai]
et_al: true
affiliations: [Shanghai Jiao Tong University]
themes: [acceleration]
contribution: architecture
tagline: "Stage-specific predictors for faster sampling."
links:
  code: https://github.com/a/b
arxiv: 2401.12340
published: 2026-02-20
tags: [caching]
summary: |
  Learns **stage-aware** predictors.
"""

WEIRD_VALUES = st.sampled_from(
    [
        "",
        "~",
        "[]",
        "{}",
        "[a, [b]]",
        "{x: 1}",
        "yes",
        "12",
        "2401.12340",
        "'quoted'",
        "&a x",
        "*a",
        "!!binary aGk=",
        "|",
        ">-",
        "- a",
        ": :",
        '"unterminated',
        "2026-02-30",
        "javascript:alert(1)",
        "\t",
        "\x00",
    ]
)


@st.composite
def mutated_entries(draw: st.DrawFn) -> bytes:
    lines = VALID_ENTRY.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        action = draw(
            st.sampled_from(["delete", "retype", "garbage", "truncate", "duplicate", "indent"])
        )
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        if action == "delete":
            del lines[at]
        elif action == "retype":
            key = lines[at].split(":", 1)[0]
            lines[at] = f"{key}: {draw(WEIRD_VALUES)}\n"
        elif action == "garbage":
            lines.insert(at, draw(st.binary(max_size=40)).decode("latin-1"))
        elif action == "truncate":
            text = "".join(lines)
            lines = [text[: draw(st.integers(0, len(text)))]]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        else:
            lines[at] = " " * draw(st.integers(1, 5)) + lines[at]
    text = "".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_entries())
def test_mutated_entries_never_crash_check(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        issue = root / "entries" / "2026-02-28"
        issue.mkdir(parents=True)
        (issue / "_issue.yaml").write_text(MINIMAL_ISSUE)
        (issue / "lesa.yaml").write_bytes(content)
        result = CliRunner().invoke(app, ["check", "--root", str(root)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    last = result.output.splitlines()[-1]
    assert "issue:" in last or "issues:" in last


def quoted(text: str) -> str:
    """`text` as a double-quoted string that YAML and TOML read alike: every character but
    printable ASCII escaped as \\uXXXX or \\UXXXXXXXX."""
    out = []
    for character in text:
        code = ord(character)
        if character in '"\\':
            out.append("\\" + character)
        elif 0x20 <= code < 0x7F:
            out.append(character)
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


# Code points of every category: control characters, surrogates, noncharacters, private
# use, format, combining and unassigned ones, every kind of space.
ANY_CHARACTER = st.characters(exclude_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, min_size=1, max_size=12)
# The same, less what no text may hold and what makes a one-line field fail anyway.
FORBIDDEN = "".join(
    chr(code)
    for first, last in [(0, 8), (0xB, 0xC), (0xE, 0x1F), (0x7F, 0x9F), (0xD800, 0xDFFF)]
    + [(0xFDD0, 0xFDEF)]
    + [(plane | 0xFFFE, plane | 0xFFFF) for plane in range(0, 0x110000, 0x10000)]
    for code in range(first, last + 1)
)
ALLOWED_CHARACTER = st.characters(exclude_categories=(), exclude_characters=FORBIDDEN + "\r\n")
ALLOWED_TEXT = st.one_of(
    st.text(ALLOWED_CHARACTER, min_size=1, max_size=12).filter(str.strip),
    st.sampled_from(
        [
            "A & B <c> 'q' \"r\"",
            "]]> --> <!-- &amp; &#0;",
            "{x} } {",
            "%$#_~^\\ @misc{",
            "[link](https://x.example/a}b) ![image](i.png)",
        ]
    ),
)
ALLOWED_WORD = st.text(  # for the end of a URL or a DOI: no spaces of any kind
    st.characters(exclude_categories=("Zs", "Zl", "Zp"), exclude_characters=FORBIDDEN + "\t\n\r"),
    min_size=1,
)
SLOTS = [
    *(("issue", name) for name in ("title", "subject", "intro", "outlook", "themes")),
    *(("paper", name) for name in ("title", "short", "tagline", "summary", "links", "doi")),
    *(("paper", name) for name in ("authors", "affiliations", "tags")),
    ("config", "title"),
    ("config", "description"),
]


@st.composite
def any_site(draw: st.DrawFn) -> tuple[dict[str, str], str | None]:
    """A content root's files whose every text field holds characters of every category
    allowed, but one (or none) that holds any characters at all; and that one's text."""
    raw_slot = draw(st.one_of(st.none(), st.sampled_from(SLOTS)))
    raw_text: str | None = None
    values: dict[tuple[str, str], str] = {}
    for slot in SLOTS:
        if slot == raw_slot:
            raw_text = text = draw(ANY_TEXT)
        else:
            text = draw(ALLOWED_WORD if slot[1] in ("links", "doi") else ALLOWED_TEXT)
        values[slot] = text
    issue = {name: quoted(values["issue", name]) for name in ("title", "subject")}
    issue |= {name: quoted(values["issue", name]) for name in ("intro", "outlook")}
    issue["themes"] = f"{{acceleration: {quoted(values['issue', 'themes'])}}}"
    paper = {n: quoted(values["paper", n]) for n in ("title", "short", "tagline", "summary")}
    for name in ("authors", "affiliations", "tags"):
        paper[name] = f"[{quoted(values['paper', name])}]"
    paper["themes"] = "[acceleration, safety]"
    paper["links"] = f"{{code: {quoted('https://x.example/' + values['paper', 'links'])}}}"
    paper["doi"] = quoted("10.1000/" + values["paper", "doi"])
    config = "".join(
        f"{name} = {quoted(values['config', name])}\n" for name in ("title", "description")
    )
    files = {
        "pyproject.toml": f'[tool.digest]\nbase_url = "https://x.example/d"\n{config}',
        "entries/2026-02-28/_issue.yaml": "".join(f"{k}: {v}\n" for k, v in issue.items()),
        "entries/2026-02-28/any.yaml": "".join(f"{k}: {v}\n" for k, v in paper.items()),
    }
    return files, raw_text


@settings(max_examples=examples(100), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_site())
def test_whatever_passes_check_builds_into_xml_and_bibtex_that_parse(
    site_files: tuple[dict[str, str], str | None],
) -> None:
    files, raw_text = site_files
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name, text in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        result = run(root, root / "site")
        event("passes check" if not result.report.errors else "fails check")
        if raw_text is not None and character_problem(raw_text) is not None:
            assert result.report.errors  # in every field, such a character is an error
        if result.report.errors:
            assert not result.ok
            return
        assert result.ok
        site = root / "site"
        xml_files = [*site.rglob("*.xml"), site / "feeds.opml"]
        assert len(xml_files) >= 7  # sitemap, OPML, the site's feeds and four topics'
        for path in xml_files:
            ET.fromstring(path.read_bytes())  # raises on anything not well-formed
        for path in site.rglob("feed.xml"):
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        bib_files = list(site.rglob("*.bib"))
        assert bib_files
        for path in bib_files:
            bibliography = parse_string(path.read_text(encoding="utf-8"))
            assert bibliography.failed_blocks == []
            assert len(bibliography.entries) == 1
            for entry in bibliography.entries:
                assert all(balanced(field.value) for field in entry.fields)
