"""Shared fixtures, from small to large: a site factory for inline cases, then the example site.

Options:
  --browser        also run the tests marked `browser` (real headless Chromium, vnu, axe); CI does.
  --hypothesis-profile=ci
                   run property tests at their full example count, and the tests marked
                   `slow` (whole-program runs repeated many times); CI does.
  --update-golden  rewrite tests/golden/ from the current output instead of comparing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from digest.organise import Library
from digest.render import Job, Renderer, run_jobs
from digest.template_set import Templates
from digest.views import Views

REPO = Path(__file__).resolve().parent.parent

# Property tests run a tenth of their examples in plain `pytest`, so that it stays quick
# to run while working; `.ci/run` selects the "ci" profile (`--hypothesis-profile=ci`),
# which runs each test's full count.
settings.register_profile("ci", max_examples=100)
settings.register_profile("dev", max_examples=10)
settings.load_profile("dev")


def examples(full: int) -> int:
    """A property test's example count: `full` under the "ci" profile, a tenth under "dev"."""
    profile_examples: int = settings().max_examples
    return max(1, full * profile_examples // 100)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--browser", action="store_true", help="run the real-browser tests too")
    parser.addoption("--update-golden", action="store_true", help="rewrite the golden files")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skips = {}
    if not config.getoption("--browser"):
        skips["browser"] = pytest.mark.skip(reason="browser test: run with --browser (CI does)")
    if config.getoption("--hypothesis-profile") != "ci":
        reason = "slow test: run with --hypothesis-profile=ci (CI does)"
        skips["slow"] = pytest.mark.skip(reason=reason)
    for item in items:
        for marker, skip in skips.items():
            if marker in item.keywords:
                item.add_marker(skip)


MINIMAL_ISSUE = """\
title: "A test issue"
subject: diffusion models
intro: |
  A short introduction.
"""


def paper_yaml(**fields: str | None) -> str:
    """A valid paper entry; keyword arguments replace or add top-level lines verbatim."""
    lines: dict[str, str | None] = {
        "title": '"A Paper About Things"',
        "authors": "[Ada Lovelace]",
        "themes": "[acceleration]",
        "summary": "|\n  It does things, quickly.",
    }
    lines.update(fields)
    return "".join(f"{key}: {value}\n" for key, value in lines.items() if value is not None)


SiteFactory = Callable[..., Path]


def first_arguments(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Any]:
    """From now on, `owner.name` still runs, and the first argument of each call is
    recorded in the list returned, in order."""
    seen: list[Any] = []
    real = getattr(owner, name)

    def recording(first: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recording)
    return seen


@pytest.fixture
def make_site(tmp_path: Path) -> SiteFactory:
    """Write a content root: `files` maps paths under the root to their text.

    `config` is the body of [tool.digest]; by default the four default themes apply.
    """

    def factory(files: dict[str, str | bytes], config: str = "") -> Path:
        root = tmp_path / "site-root"
        root.mkdir(exist_ok=True)
        (root / "pyproject.toml").write_text(f"[tool.digest]\n{textwrap.dedent(config)}")
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        return root

    return factory


@pytest.fixture(scope="session")
def example_root() -> Path:
    """The repository itself is the example site's content root."""
    return REPO


def rendered_files(
    builder: Callable[[Views], Iterable[Job]], library: Library, templates: Templates
) -> dict[str, str]:
    """The files one job builder (digest.pages, digest.reader_outputs) makes, by url."""
    renderer = Renderer(templates, library)
    pages, problems = run_jobs(builder(renderer.views), renderer)
    assert problems == []
    return {
        page.url: page.content.decode() if isinstance(page.content, bytes) else page.content
        for page in pages
    }


@pytest.fixture
def cards(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The id of every paper whose listing card is rendered (not kept), in order."""
    ids: list[str] = []
    original = Renderer.card

    def spy(self: Renderer, paper: Any) -> str:
        ids.append(paper.id)
        return original(self, paper)

    monkeypatch.setattr(Renderer, "card", spy)
    return ids
