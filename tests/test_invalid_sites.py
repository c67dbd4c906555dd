"""Each tests/fixtures/invalid/<case>/ is a content root with mistakes; `expected.txt` is
the exact output of `digest check` on it. `pytest --update-golden` rewrites them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app

CASES = Path(__file__).parent / "fixtures" / "invalid"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_check_reports_exactly(case: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    # A copy, because `digest check` keeps its entry cache in the content root.
    root = tmp_path / case
    shutil.copytree(CASES / case, root, ignore=shutil.ignore_patterns(".digest-cache"))
    result = CliRunner().invoke(app, ["check", "--root", str(root)])
    expected_file = CASES / case / "expected.txt"
    if request.config.getoption("--update-golden"):
        expected_file.write_text(result.output, encoding="utf-8")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output == expected_file.read_text(encoding="utf-8")
    assert result.exit_code == (1 if " 0 errors" not in result.output else 0)


def test_five_mistakes_in_three_files_are_all_reported_in_one_run(tmp_path: Path) -> None:
    root = tmp_path / "five-in-three"
    shutil.copytree(CASES / "five-in-three", root, ignore=shutil.ignore_patterns(".digest-cache"))
    result = CliRunner().invoke(app, ["check", "--root", str(root)])
    assert result.exit_code == 1
    reported = [line for line in result.output.splitlines() if ": error[" in line]
    assert len(reported) >= 5
    assert len({line.split(":", 1)[0] for line in reported}) == 3


WARNINGS_SITE = Path(__file__).parent / "fixtures" / "sites" / "warnings"
WARNINGS_OUTPUT = (
    "entries/2026-03-07/no-authors.yaml:1:1: {level}[W101]: no authors listed\n"
    "    hint: add 'authors: [First Author]' and 'et_al: true' when the list is incomplete\n"
    "entries/2026-03-07/placeholder-link.yaml:6:9: {level}[W102]: 'links.code' looks like a "
    "placeholder: https://github.com/your-repo/guidance\n"
    "    hint: replace it with the real address, or remove it\n"
    "2 papers in 1 issue: {summary}\n"
)


@pytest.mark.parametrize(
    ("flags", "exit_code", "level", "summary"),
    [
        ([], 0, "warning", "0 errors, 2 warnings in 2 files"),
        (["--strict"], 1, "error", "2 errors, 0 warnings in 2 files"),
    ],
    ids=["default", "strict"],
)
def test_warnings_site_reports_w101_and_w102_exactly(
    flags: list[str], exit_code: int, level: str, summary: str, tmp_path: Path
) -> None:
    # tests/fixtures/sites/warnings: one paper lists no authors (W101), the other keeps a
    # template's placeholder code link (W102). Both are warnings: the site checks clean by
    # default, and only --strict turns them into errors and a failing exit code.
    root = tmp_path / "warnings"
    shutil.copytree(WARNINGS_SITE, root, ignore=shutil.ignore_patterns(".digest-cache"))
    result = CliRunner().invoke(app, ["check", "--root", str(root), *flags])
    expected = WARNINGS_OUTPUT.format(level=level, summary=summary)
    assert (result.exit_code, result.output) == (exit_code, expected)
