"""The GitHub workflows parse, keep their promises, and run digest commands that really work."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from digest.cli import app

WORKFLOWS = Path(__file__).resolve().parent.parent / ".github" / "workflows"


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
