"""The GitHub workflows parse, keep their promises, and run digest commands that really work."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.version import Version
from typer.testing import CliRunner

from digest.cli import app

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    # YAML 1.1 reads the key `on` as True; GitHub reads it as "on".
    data["on"] = data.pop(True)
    return data


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_site_workflow_checks_pull_requests_and_deploys_main() -> None:
    site = load("site.yml")
    assert set(site["on"]) >= {"pull_request", "push"}
    assert site["on"]["push"]["branches"] == ["main"]
    assert site["permissions"] == {"contents": "read"}
    check, build, deploy = site["jobs"]["check"], site["jobs"]["build"], site["jobs"]["deploy"]
    assert check["if"] == "github.event_name == 'pull_request'"
    assert "digest check --format github" in runs(check)
    assert build["if"] == "github.event_name != 'pull_request'"
    assert uses(build)[-2:] == ["actions/configure-pages", "actions/upload-pages-artifact"]
    assert build["steps"][-1]["with"]["path"] == "site"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert uses(deploy) == ["actions/deploy-pages"]
    for job in (build, deploy):
        assert job["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_ci_workflow_runs_the_gate_on_every_python_and_windows() -> None:
    ci = load("ci.yml")
    linux, windows = ci["jobs"]["linux"], ci["jobs"]["windows"]
    assert linux["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert linux["container"]["image"] == "python:${{ matrix.python }}-bookworm"
    assert "bash .ci/run" in runs(linux)
    assert windows["runs-on"] == "windows-latest"
    assert "python -m pytest -q" in runs(windows)


def test_ci_workflow_tests_the_lower_bounds_that_pyproject_allows() -> None:
    """The lower-bounds job installs each dependency at exactly the release its bound names,
    so a bound that the code has outgrown fails there rather than on a user's machine."""
    job = load("ci.yml")["jobs"]["lower-bounds"]
    assert 'python -m pip install -c .ci/lower-bounds.txt -e ".[dev]"' in runs(job)
    assert any(command.startswith("python -m pytest") for command in runs(job))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    bounds = {}
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        found = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?>=([^,]+)(?:,.*)?", requirement)
        if found:
            bounds[found[1].lower()] = Version(found[2])
    pinned = {}
    for line in (REPO / ".ci" / "lower-bounds.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pinned[name.lower()] = Version(version)
    # The linters and the browser driver run only in .ci/run, on today's releases.
    assert pinned == {
        name: version
        for name, version in bounds.items()
        if name not in {"ruff", "mypy", "playwright"}
    }


SITE_COMMANDS = sorted(
    {line for job in load("site.yml")["jobs"].values() for line in runs(job)}
    - {'python -m pip install "$DIGEST_PACKAGE"'}
)


def test_the_site_workflow_runs_only_digest_commands_after_installing() -> None:
    assert SITE_COMMANDS
    assert all(command.startswith("digest ") for command in SITE_COMMANDS)


@pytest.mark.parametrize("command", SITE_COMMANDS)
def test_every_digest_command_in_the_site_workflow_works_on_the_example(
    command: str, example_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = shlex.split(command)[1:]
    if "--out" in args:
        args[args.index("--out") + 1] = str(tmp_path / "site")
    monkeypatch.chdir(example_root)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    if args[0] == "build":
        assert (tmp_path / "site" / "index.html").is_file()
