"""`digest init`: a new digest that passes a strict check and builds at once, never overwrites
an editor's file unasked, and ties its entry files to the schemas of `digest schema`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner, Result

from digest.cli import app
from digest.config import load_config
from digest.models import DEFAULT_THEMES, SiteConfig
from digest.starter import (
    PLACEHOLDER_BASE_URL,
    PLACEHOLDER_PACKAGE,
    StarterFile,
    digest_package,
    settings_text,
    site_config,
    starter_files,
)

runner = CliRunner()
REPOSITORY = Path(__file__).resolve().parent.parent
OLD = 1_000_000_000_000_000_000  # an mtime (ns) no write made during a test can have


def init(*args: str | Path) -> Result:
    return runner.invoke(app, ["init", *map(str, args)])


def digest(*args: str | Path) -> Result:
    return runner.invoke(app, list(map(str, args)))


def expected_paths() -> list[str]:
    issue = f"entries/{date.today().isoformat()}"
    return [
        "pyproject.toml",
        ".gitignore",
        ".github/workflows/site.yml",
        ".vscode/settings.json",
        ".vscode/extensions.json",
        "paper.schema.json",
        "issue.schema.json",
        f"{issue}/_issue.yaml",
        f"{issue}/dpcache.yaml",
    ]


def unboxed(output: str) -> str:
    """A usage error's text without the box and line breaks it is printed in."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", output).split())


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `root` (relative path with "/") → (bytes, mtime in ns)."""
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_a_new_digest_passes_a_strict_check_and_builds(tmp_path: Path) -> None:
    root = tmp_path / "lab" / "digest"  # created, with its parent

    result = init(root)

    assert result.exit_code == 0, result.output
    assert sorted(files(root)) == sorted(expected_paths())
    assert result.stdout.startswith(
        f"started a digest in {root.as_posix()}/:\n"
        + "".join(f"    {p}\n" for p in expected_paths())
    )
    assert f"cd {root.as_posix()}\n" in result.stdout
    assert "digest serve" in result.stdout
    assert f"digest new --issue {date.today().isoformat()} --from arxiv:" in result.stdout
    check = digest("check", "--root", root, "--strict")
    assert check.exit_code == 0, check.output
    build = digest("build", "--root", root)
    assert build.exit_code == 0, build.output
    site = root / "site"
    assert (site / date.today().isoformat() / "index.html").is_file()
    paper = (site / "papers" / "dpcache" / "index.html").read_text(encoding="utf-8")
    assert "Bowen Cui" in paper and "https://github.com/argsss/DPCache" in paper


def test_the_settings_are_valid_toml_with_the_default_themes_written_out(tmp_path: Path) -> None:
    assert init(tmp_path).exit_code == 0

    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text)["tool"]["digest"]
    assert table["themes"] == [theme.model_dump() for theme in DEFAULT_THEMES]
    assert set(table) == {"title", "description", "base_url", "themes"}
    config, problems = load_config(tmp_path)
    assert problems == []
    assert config is not None
    assert config.themes == DEFAULT_THEMES
    assert config.title == SiteConfig().title
    assert config.base_url == PLACEHOLDER_BASE_URL
    # The comment beside the themes says how to refresh the editor's schemas.
    assert "#     digest schema paper > paper.schema.json\n" in text
    assert "#     digest schema issue > issue.schema.json\n" in text


def test_title_and_base_url_land_in_the_settings_and_the_built_site(tmp_path: Path) -> None:
    title, base_url = "Diffusion Weekly — Ω", "https://lab.github.io/weekly"

    result = init(tmp_path, "--title", title, "--base-url", base_url)

    assert result.exit_code == 0, result.output
    assert "base_url in pyproject.toml" not in result.stdout  # nothing left to set
    config, _ = load_config(tmp_path)
    assert config is not None
    assert (config.title, config.base_url) == (title, base_url)
    assert digest("check", "--root", tmp_path, "--strict").exit_code == 0
    assert digest("build", "--root", tmp_path).exit_code == 0
    assert f"<title>{title}</title>" in (tmp_path / "site" / "index.html").read_text("utf-8")
    assert f"{base_url}/" in (tmp_path / "site" / "feed.xml").read_text("utf-8")


@pytest.mark.parametrize(
    "title",
    ['Say "hi" \\ to TOML', "tab\there", "ünïcødé ✓", "nbsp\u00a0and\u2028", "#not a comment"],
)
def test_any_one_line_title_round_trips_through_the_settings(title: str) -> None:
    assert site_config(settings_text(title, None)).title == title.strip()


@pytest.mark.parametrize(
    "base_url",
    ["ftp://example.org/digest", "lab.github.io/weekly", "https://", "/weekly", ""],
)
def test_a_bad_base_url_is_a_usage_error_and_writes_nothing(tmp_path: Path, base_url: str) -> None:
    root = tmp_path / "new"

    result = init(root, "--base-url", base_url)

    assert result.exit_code == 2
    assert f"Invalid value for --base-url: '{base_url}' is not an absolute http(s) URL" in (
        unboxed(result.output)
    )
    assert not root.exists()


@pytest.mark.parametrize("title", ["", "   ", "two\nlines", "del\x7fchar"])
def test_an_empty_or_multi_line_title_is_a_usage_error(tmp_path: Path, title: str) -> None:
    result = init(tmp_path / "new", "--title", title)

    assert result.exit_code == 2
    assert "Invalid value for --title" in unboxed(result.output)
    assert not (tmp_path / "new").exists()


def test_init_twice_changes_nothing_and_lists_every_existing_file(tmp_path: Path) -> None:
    assert init(tmp_path).exit_code == 0
    for path in tmp_path.rglob("*"):
        os.utime(path, ns=(OLD, OLD))
    before = files(tmp_path)

    again = init(tmp_path)

    assert again.exit_code == 1
    assert again.stderr == (
        f"error: nothing written: these exist in {tmp_path.as_posix()}/ already "
        "(--force replaces them):\n" + "".join(f"{path}\n" for path in expected_paths())
    )
    assert again.stdout == ""
    assert files(tmp_path) == before


def test_one_existing_file_stops_every_write(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")
    (tmp_path / ".vscode").write_text("a file where a folder should be\n", encoding="utf-8")

    result = init(tmp_path)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [".gitignore", ".vscode"]
    assert sorted(files(tmp_path)) == [".gitignore", ".vscode"]
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "mine\n"


def test_force_replaces_the_starter_files_and_leaves_others_alone(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    assert init(fresh).exit_code == 0
    root = tmp_path / "mine"
    assert init(root).exit_code == 0
    (root / ".gitignore").write_text("mine\n", encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.digest]\ntitle = 'Mine'\n", encoding="utf-8")
    (root / "notes.md").write_text("my notes\n", encoding="utf-8")

    result = init(root, "--force")

    assert result.exit_code == 0, result.output
    replaced = {path: data for path, (data, _) in files(root).items()}
    assert replaced.pop("notes.md") == b"my notes\n"
    assert replaced == {path: data for path, (data, _) in files(fresh).items()}


def test_a_failed_write_takes_back_the_files_it_created(tmp_path: Path) -> None:
    paper = tmp_path / "entries" / date.today().isoformat() / "dpcache.yaml"
    paper.mkdir(parents=True)  # a folder: no file can replace it

    result = init(tmp_path, "--force")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot write ")
    assert files(tmp_path) == {}


def test_the_editor_settings_tie_each_entry_file_to_its_own_schema(tmp_path: Path) -> None:
    assert init(tmp_path).exit_code == 0
    settings = json.loads((tmp_path / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    associations: dict[str, list[str]] = settings["yaml.schemas"]
    entries = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.glob("entries/*/*"))
    issue = f"entries/{date.today().isoformat()}"

    matched = {
        path: [schema for schema, globs in associations.items() if red_hat_matches(path, globs)]
        for path in entries
    }

    assert matched == {
        f"{issue}/_issue.yaml": ["issue.schema.json"],
        f"{issue}/dpcache.yaml": ["paper.schema.json"],
    }
    for kind, schema_file in [("paper", "paper.schema.json"), ("issue", "issue.schema.json")]:
        saved = (tmp_path / schema_file).read_text(encoding="utf-8")
        assert saved == digest("schema", kind, "--root", tmp_path).stdout
    for path, [schema_file] in matched.items():
        schema = json.loads((tmp_path / schema_file).read_text(encoding="utf-8"))
        jsonschema.validate(yaml.safe_load((tmp_path / path).read_text(encoding="utf-8")), schema)
    extensions = json.loads((tmp_path / ".vscode" / "extensions.json").read_text("utf-8"))
    assert extensions == {"recommendations": ["redhat.vscode-yaml"]}


def red_hat_matches(path: str, globs: list[str]) -> bool:
    """How Red Hat's YAML extension reads one `yaml.schemas` list: globs relative to the
    workspace, `*` within one folder, the last glob that matches decides, "!" excludes."""
    found = False
    for glob in globs:
        parts, names = glob.removeprefix("!").split("/"), path.split("/")
        if len(parts) == len(names) and all(map(fnmatchcase, names, parts)):
            found = not glob.startswith("!")
    return found


def workflow(root: Path) -> dict[str, Any]:
    data = yaml.safe_load((root / ".github" / "workflows" / "site.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as True
    return data


def guard(data: dict[str, Any], job: str) -> str:
    [script] = [
        s["run"] for s in data["jobs"][job]["steps"] if s.get("name", "").startswith("Check that")
    ]
    assert isinstance(script, str)
    return script


def test_the_workflow_is_the_repositorys_with_a_guard_for_the_placeholders(
    tmp_path: Path,
) -> None:
    assert init(tmp_path).exit_code == 0
    starter, ours = workflow(tmp_path), workflow(REPOSITORY)
    assert starter["on"] == ours["on"]
    assert starter["permissions"] == ours["permissions"]
    for name, job in starter["jobs"].items():
        steps = [s for s in job["steps"] if not s.get("name", "").startswith("Check that")]
        assert {**job, "steps": steps} == ours["jobs"][name]
    assert starter["env"]["DIGEST_PACKAGE"] in {PLACEHOLDER_PACKAGE, digest_package(None)}


@pytest.mark.skipif(sys.platform == "win32", reason="the workflow's steps run in Linux's bash")
@pytest.mark.parametrize("job", ["check", "build"])
def test_the_workflow_stops_until_the_placeholders_are_filled_in(tmp_path: Path, job: str) -> None:
    assert init(tmp_path).exit_code == 0
    script = guard(workflow(tmp_path), job)

    def run(package: str) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ["PATH"], "DIGEST_PACKAGE": package}
        return subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )

    real = "digest @ git+https://github.com/lab/digest@v0.1.0"
    assert "set DIGEST_PACKAGE" in run(PLACEHOLDER_PACKAGE).stdout
    assert "set base_url" in run(real).stdout
    assert run(real).returncode == 1
    settings = tmp_path / "pyproject.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace(PLACEHOLDER_BASE_URL, "https://lab.github.io/weekly"), "utf-8")
    assert run(real).returncode == 0


def test_a_given_base_url_leaves_no_placeholder_for_the_workflow_to_find() -> None:
    [settings] = [
        f.text
        for f in starter_files(None, "https://lab.github.io/w", date(2026, 3, 1), "x")
        if f.path == "pyproject.toml"
    ]
    assert not re.search(r'^base_url = "https://OWNER.github.io/REPO"', settings, re.MULTILINE)


@pytest.mark.parametrize(
    ("direct_url", "package"),
    [
        (None, PLACEHOLDER_PACKAGE),
        ("not json", PLACEHOLDER_PACKAGE),
        ('{"url": "file:///home/me/digest", "dir_info": {"editable": true}}', PLACEHOLDER_PACKAGE),
        (
            '{"url": "https://github.com/lab/digest", "vcs_info": {"vcs": "git", '
            '"requested_revision": "v0.1.0", "commit_id": "0123abc"}}',
            "digest @ git+https://github.com/lab/digest@v0.1.0",
        ),
        (
            '{"url": "https://github.com/lab/digest", "vcs_info": {"vcs": "git", '
            '"commit_id": "0123abc"}}',
            "digest @ git+https://github.com/lab/digest@0123abc",
        ),
        (
            '{"url": "https://example.org/digest-0.1.0.tar.gz", "archive_info": {}}',
            "digest @ https://example.org/digest-0.1.0.tar.gz",
        ),
    ],
)
def test_the_workflow_installs_digest_from_where_it_came_when_ci_can_reach_it(
    direct_url: str | None, package: str
) -> None:
    assert digest_package(direct_url) == package
    [site] = [
        f for f in starter_files(None, None, date(2026, 3, 1), package) if f.path.endswith(".yml")
    ]
    assert f"  DIGEST_PACKAGE: {json.dumps(package)}\n" in site.text


def test_the_example_files_are_the_same_every_day_but_for_the_issue_folder() -> None:
    first = starter_files(None, None, date(2026, 3, 1), "p")
    second = starter_files(None, None, date(2027, 1, 31), "p")

    def undated(found: list[StarterFile], day: str) -> list[StarterFile]:
        return [StarterFile(f.path.replace(day, "DAY"), f.text) for f in found]

    assert undated(first, "2026-03-01") == undated(second, "2027-01-31")
