from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from pathlib import Path

import pytest

from digest.build import run
from digest.config import load_config
from digest.files import theme_dir
from digest.template_set import load_templates
from digest.views import page_root

from .conftest import MINIMAL_ISSUE, REPO, SiteFactory, paper_yaml
from .test_load import POSIX, run_digest


@pytest.mark.parametrize(
    ("url", "root"),
    [("index.html", "./"), ("2026-02-28/index.html", "../"), ("papers/x/index.html", "../../")],
)
def test_page_root(url: str, root: str) -> None:
    assert page_root(url) == root


def test_every_theme_file_is_packaged_into_the_wheel() -> None:
    """pyproject's package-data globs cover every file of templates/, so the wheel has them."""
    settings = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert settings["package-dir"]["digest.templates"] == "templates"
    assert "digest.templates" in settings["packages"]
    patterns = settings["package-data"]["digest.templates"]
    files = [
        p.relative_to(theme_dir()).as_posix()
        for p in theme_dir().rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
    ]
    assert files
    unpackaged = [
        f for f in files if not any(fnmatch.fnmatchcase(f, pattern) for pattern in patterns)
    ]
    assert unpackaged == []


def _site(make_site: SiteFactory, templates: dict[str, str]) -> Path:
    files: dict[str, str | bytes] = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/a-paper.yaml": paper_yaml(),
    }
    files.update({f"templates/{name}": text for name, text in templates.items()})
    return make_site(files)


def test_a_content_root_template_overrides_the_default_by_name(make_site: SiteFactory) -> None:
    root = _site(
        make_site,
        {
            "home.html": (
                '{% extends "base.html" %}{% block content %}<p>OVERRIDDEN HOME</p>{% endblock %}\n'
            ),
            "partials/_footer.html": "<footer>my footer</footer>\n",
        },
    )
    result = run(root, root / "site")
    assert result.ok, result.report.diagnostics
    home = (root / "site" / "index.html").read_text()
    assert "OVERRIDDEN HOME" in home
    assert "<footer>my footer</footer>" in home
    paper = (root / "site" / "papers" / "a-paper" / "index.html").read_text()
    assert "A Paper About Things" in paper  # still the default paper.html
    assert "<footer>my footer</footer>" in paper


def test_syntax_errors_in_templates_are_diagnostics_with_their_line(make_site: SiteFactory) -> None:
    root = _site(
        make_site, {"issue.html": "{% extends 'base.html' %}\n{% block content %}\n{% if %}\n"}
    )
    config, _ = load_config(root)
    assert config is not None
    templates, problems = load_templates(config, root)
    assert templates is None
    assert [(d.path, d.line, d.code) for d in problems] == [("templates/issue.html", 3, "E401")]


def test_runtime_errors_are_reported_once_per_template_line(make_site: SiteFactory) -> None:
    root = _site(
        make_site,
        {
            "paper.html": (
                "{% extends 'base.html' %}\n{% block content %}\n{{ nope }}\n{% endblock %}\n"
            )
        },
    )
    result = run(root, root / "site")
    assert not result.ok
    [problem] = result.report.errors
    assert (problem.path, problem.line, problem.code) == ("templates/paper.html", 3, "E402")
    assert problem.message == (
        "template error: 'nope' is undefined (rendering papers/a-paper/index.html)"
    )
    assert not (root / "site").exists()


def test_a_topic_template_can_lay_out_its_cards_itself(make_site: SiteFactory) -> None:
    topic = (
        "{% extends 'base.html' %}\n{% block content %}\n"
        "{% for group in issues %}{% for card in group.cards %}"
        "<li>{{ card.paper.title }} by {{ card.paper.authors }}</li>\n"
        "{% endfor %}{% endfor %}\n{% endblock %}\n"
    )
    root = _site(make_site, {"topic.html": topic})
    result = run(root, root / "site", cache=True)
    assert result.ok, result.report.diagnostics
    page = (root / "site/topics/acceleration/index.html").read_text()
    assert "<li>A Paper About Things by Ada Lovelace</li>" in page


def test_a_paper_on_two_topics_is_drawn_once(make_site: SiteFactory, cards: list[str]) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/both.yaml": paper_yaml(themes="[acceleration, safety]"),
            "entries/2026-02-28/one.yaml": paper_yaml(title='"Only fast"'),
        }
    )
    result = run(root, root / "site")  # no page cache: the memo of one build alone
    assert result.ok, result.report.diagnostics
    assert sorted(cards) == ["both", "one"]
    card = re.compile(r'<article class="paper paper-compact"[^>]*>.*?</article>', re.S)
    fast = card.findall((root / "site/topics/acceleration/index.html").read_text())
    safe = card.findall((root / "site/topics/safety/index.html").read_text())
    assert len(fast) == 2 and safe == [c for c in fast if "papers/both/" in c]


def test_an_error_in_the_card_macro_is_reported_at_its_line(make_site: SiteFactory) -> None:
    macros = (REPO / "templates/macros/papers.html").read_text()
    broken = macros.replace('<p class="one-liner">{{ paper.one_liner }}</p>', "{{ paper.nope }}")
    assert broken != macros
    root = _site(make_site, {"macros/papers.html": broken})
    result = run(root, root / "site", cache=True)
    assert not result.ok
    line = broken.splitlines().index("  {{ paper.nope }}") + 1
    [problem] = result.report.errors
    assert (problem.path, problem.line, problem.code) == (
        "templates/macros/papers.html",
        line,
        "E402",
    )
    assert "rendering topics/acceleration/index.html" in problem.message


# ------------------------------------------------------------------ the file system


def _errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": error[" in line]


@POSIX
def test_a_template_that_is_a_pipe_or_links_to_one_stops_the_build_without_hanging(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = _site(make_site, {})
    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(root / "pipe")
    (root / "templates" / "partials").mkdir(parents=True)
    (root / "templates" / "outside.html").symlink_to(tmp_path / "pipe")
    (root / "templates" / "partials" / "_footer.html").symlink_to(root / "pipe")
    os.mkfifo(root / "templates" / "home.html")
    done = run_digest("build", "--root", str(root), timeout=30)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert _errors(done.stdout) == [
        "templates/home.html:1:1: error[E401]: template cannot be read: it is a pipe (FIFO), "
        "not a regular file",
        f"templates/outside.html:1:1: error[E010]: it is a link to {tmp_path / 'pipe'}, "
        "outside the content root: not read",
        "templates/partials/_footer.html:1:1: error[E401]: template cannot be read: it is a "
        "pipe (FIFO), not a regular file",
    ]
    assert not (root / "site").exists()


@POSIX
def test_assets_are_regular_files_of_the_content_root(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = _site(make_site, {"assets/own.css": "p {}\n"})
    (root / "shared").mkdir()
    (root / "shared" / "logo.svg").write_text("<svg/>")
    os.mkfifo(root / "shared" / "pipe")
    assets = root / "templates" / "assets"
    (assets / "logo.svg").symlink_to(root / "shared" / "logo.svg")  # in the root: copied
    (assets / "zero.txt").symlink_to("/dev/zero")
    (assets / "env.txt").symlink_to("/proc/self/environ")
    (assets / "pipe.txt").symlink_to(root / "shared" / "pipe")
    done = run_digest("build", "--root", str(root), timeout=30)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert _errors(done.stdout) == [
        "templates/assets/env.txt:1:1: error[E010]: it is a link to /proc/self/environ, "
        "outside the content root: not read",
        "templates/assets/pipe.txt:1:1: error[E407]: cannot copy the asset assets/pipe.txt: "
        "it is a pipe (FIFO), not a regular file",
        "templates/assets/zero.txt:1:1: error[E010]: it is a link to /dev/zero, outside the "
        "content root: not read",
    ]
    assert not (root / "site").exists()
    for name in ("env.txt", "pipe.txt", "zero.txt"):
        (assets / name).unlink()
    done = run_digest("build", "--root", str(root), timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "site" / "assets" / "logo.svg").read_text() == "<svg/>"


@POSIX
def test_a_templates_folder_that_links_out_of_the_root_is_not_read(
    make_site: SiteFactory, tmp_path: Path
) -> None:
    root = _site(make_site, {})
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "home.html").write_text("{{ secret }}")
    (root / "templates").symlink_to(tmp_path / "theirs")
    config, _ = load_config(root)
    assert config is not None
    templates, problems = load_templates(config, root)
    assert templates is None
    assert [(d.path, d.code, d.message) for d in problems] == [
        (
            "templates",
            "E010",
            f"the templates folder is a link to {tmp_path / 'theirs'}, outside the content "
            "root: not read",
        )
    ]
