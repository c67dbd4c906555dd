"""Golden files: built pages compared byte for byte with tests/golden/.

- `small`: every page the default site map (`digest.pages.PAGE_BUILDERS`) builds for
  the fixture site tests/fixtures/sites/small (drafts on), except the static assets;
  missing, extra and differing files are all reported.
- `article`: every page and e-mail edition of tests/fixtures/sites/article, whose newest
  issue uses every part of the digest page (a paper under two themes, one with two
  contributions, a `label`, math, its own "Under the hood" intro).
- `example`: the example site's home, digest, topic, paper and 404 pages.

`pytest --update-golden` rewrites them from the current output; review the diff in git.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from digest.build import run
from digest.pages import PAGE_BUILDERS
from digest.reader_outputs import email_jobs

from .conftest import REPO

GOLDEN = REPO / "tests" / "golden"
EXAMPLE_PAGES = (
    "index.html",
    "2026-02-28/index.html",
    "topics/acceleration/index.html",
    "papers/dpcache/index.html",
    "404.html",
)


def _files(folder: Path) -> dict[str, Path]:
    return {
        p.relative_to(folder).as_posix(): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).as_posix().startswith("assets/")
    }


def compare(built: dict[str, Path], golden_dir: Path, update: bool) -> list[str]:
    """Differences between `built` (url → file) and the golden folder, as readable text."""
    if update:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for url, path in built.items():
            target = golden_dir / url
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
        return []
    golden = _files(golden_dir) if golden_dir.is_dir() else {}
    problems = [f"missing from the build: {url}" for url in sorted(golden.keys() - built.keys())]
    problems += [f"not in the golden files: {url}" for url in sorted(built.keys() - golden.keys())]
    for url in sorted(golden.keys() & built.keys()):
        expected = golden[url].read_text(encoding="utf-8").splitlines(keepends=True)
        actual = built[url].read_text(encoding="utf-8").splitlines(keepends=True)
        if expected != actual:
            diff = difflib.unified_diff(expected, actual, f"golden/{url}", f"built/{url}")
            problems.append("".join(diff))
    return problems


def test_small_site_matches_its_golden_files(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "site"
    small = REPO / "tests" / "fixtures" / "sites" / "small"
    result = run(small, out, drafts=True, builders=list(PAGE_BUILDERS))
    assert result.ok, result.report.errors
    update = bool(request.config.getoption("--update-golden"))
    problems = compare(_files(out), GOLDEN / "small", update)
    assert not problems, "\n".join(problems) + "\n(run pytest --update-golden to accept)"


def test_article_site_matches_its_golden_files(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "site"
    article = REPO / "tests" / "fixtures" / "sites" / "article"
    result = run(article, out, builders=[*PAGE_BUILDERS, email_jobs])
    assert result.ok, result.report.errors
    update = bool(request.config.getoption("--update-golden"))
    problems = compare(_files(out), GOLDEN / "article", update)
    assert not problems, "\n".join(problems) + "\n(run pytest --update-golden to accept)"


def test_example_pages_match_their_golden_files(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    out = tmp_path / "site"
    result = run(REPO, out)
    assert result.ok, result.report.errors
    update = bool(request.config.getoption("--update-golden"))
    built = {url: out / url for url in EXAMPLE_PAGES}
    problems = compare(built, GOLDEN / "example", update)
    assert not problems, "\n".join(problems) + "\n(run pytest --update-golden to accept)"


def test_compare_reports_missing_extra_and_changed_files(tmp_path: Path) -> None:
    golden, built = tmp_path / "golden", tmp_path / "built"
    for folder, files in (
        (golden, {"a.html": "one\ntwo\n", "gone.html": "x"}),
        (built, {"a.html": "one\n2\n", "new.html": "y"}),
    ):
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text)
    problems = compare(_files(built), golden, update=False)
    assert problems[:2] == [
        "missing from the build: gone.html",
        "not in the golden files: new.html",
    ]
    assert "-two\n+2\n" in problems[2]
    assert problems[2].startswith("--- golden/a.html\n+++ built/a.html\n")
