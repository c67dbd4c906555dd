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
