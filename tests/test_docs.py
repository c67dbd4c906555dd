"""Docs tests: every command has help and is documented in the README."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from digest.cli import app

from .conftest import REPO

COMMANDS = sorted(
    c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
)
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_the_cli_has_the_designed_commands() -> None:
    assert COMMANDS == ["build", "check", "new", "schema", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help_and_is_in_the_readme(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert f"Usage: digest {command}" in result.output
    assert re.search(rf"`digest {command}\b", README), f"`digest {command}` is not in the README"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_of_a_command_is_in_the_readme(command: str) -> None:
    """Each long option a command takes appears in the README, so none is undocumented."""
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    options = set(re.findall(r"(--[a-z][a-z-]+)", result.output)) - {"--help"}
    missing = sorted(o for o in options if o not in README)
    assert not missing, f"digest {command}: {missing} not in the README"


def test_the_readme_gives_the_two_commands() -> None:
    assert "pip install -e '.[dev]' && digest build" in README
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = ci.strip().splitlines()[-1]
    assert test_command in README, "the README's test command is what .ci/run runs"
