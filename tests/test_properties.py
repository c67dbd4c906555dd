"""Property tests: whatever an editor's file turns into, `digest check` answers with
diagnostics and exit 0 or 1, never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from digest.cli import app

from .conftest import MINIMAL_ISSUE, examples

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
