from __future__ import annotations

import json

from digest.diagnostics import (
    Report,
    Severity,
    did_you_mean,
    error,
    format_github,
    render,
    summary_line,
    warning,
)

PROBLEMS = [
    warning("entries/b.yaml", 3, 1, "W101", "no authors listed"),
    error("entries/a.yaml", 12, 5, "E101", "missing required field 'summary'", "add it"),
    error("entries/a.yaml", 2, 9, "E105", "unknown theme 'accel'", "did you mean 'acceleration'?"),
]


def test_report_sorts_by_path_line_col_and_dedupes() -> None:
    report = Report()
    report.extend(PROBLEMS + PROBLEMS[:1])
    assert [(d.path, d.line) for d in report.sorted()] == [
        ("entries/a.yaml", 2),
        ("entries/a.yaml", 12),
        ("entries/b.yaml", 3),
    ]


def test_strict_turns_warnings_into_errors() -> None:
    report = Report([PROBLEMS[0]])
    assert not report.failed()
    assert report.failed(strict=True)
    assert all(d.severity is Severity.ERROR for d in report.sorted(strict=True))


def test_text_format_is_compiler_style_with_hints_and_a_summary() -> None:
    assert render(Report(PROBLEMS).sorted(), "text") == (
        "entries/a.yaml:2:9: error[E105]: unknown theme 'accel'\n"
        "    hint: did you mean 'acceleration'?\n"
        "entries/a.yaml:12:5: error[E101]: missing required field 'summary'\n"
        "    hint: add it\n"
        "entries/b.yaml:3:1: warning[W101]: no authors listed\n"
        "2 errors, 1 warning in 2 files"
    )


def test_json_format_is_one_document_with_counts() -> None:
    document = json.loads(render(Report(PROBLEMS).sorted(), "json"))
    assert document["errors"] == 2 and document["warnings"] == 1
    assert document["diagnostics"][0] == {
        "path": "entries/a.yaml",
        "line": 2,
        "col": 9,
        "severity": "error",
        "code": "E105",
        "message": "unknown theme 'accel'",
        "hint": "did you mean 'acceleration'?",
    }


def test_github_format_escapes_properties_and_message() -> None:
    problem = error("entries/a,b.yaml", 1, 2, "E004", "100% broken: yes", "line one\nline two")
    assert format_github([problem]) == (
        "::error file=entries/a%2Cb.yaml,line=1,col=2,title=E004::"
        "100%25 broken: yes%0Ahint: line one%0Aline two"
    )
    assert format_github([PROBLEMS[0]]).startswith("::warning file=entries/b.yaml,line=3,col=1,")


def test_summary_without_problems() -> None:
    assert summary_line([]) == "no problems found"
    assert render([], "text") == "no problems found"


def test_did_you_mean() -> None:
    assert did_you_mean("acceleraton", ["acceleration", "safety"]) == "did you mean 'acceleration'?"
    assert did_you_mean("Safety", ["acceleration", "safety"]) == "did you mean 'safety'?"
    assert did_you_mean("zzz", ["acceleration", "safety"]) is None


def test_configured_levels_raise_lower_or_hide_warnings_but_never_errors() -> None:
    report = Report(PROBLEMS, levels={"W101": "error", "E105": "ignore"})
    assert [d.severity for d in report.sorted()] == [Severity.ERROR] * 3
    hidden = Report(PROBLEMS, levels={"W101": "ignore"})
    assert [d.code for d in hidden.sorted()] == ["E105", "E101"]
    assert not Report([PROBLEMS[0]], levels={"W101": "ignore"}).failed(strict=True)
