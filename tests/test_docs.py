"""Docs tests: every command and option is documented, the README stays a front door,
and every relative link in the docs leads to a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app

from .conftest import REPO

COMMANDS = sorted(
    c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
)
README = (REPO / "README.md").read_text(encoding="utf-8")
COMMANDS_DOC = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
DOCS = sorted((REPO / "docs").glob("*.md"))
LINKED_DOCS = [REPO / "README.md", *DOCS]
README_LIMIT = 15_000

# `--long-option` or `-x` as a help page lists them (not a hyphen inside a word or date).
OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]+|-[a-zA-Z])(?![\w-])")


def help_text(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_cli_has_the_designed_commands() -> None:
    assert COMMANDS == ["build", "check", "harvest", "init", "new", "schema", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_command_has_help_and_is_documented(command: str) -> None:
    assert f"Usage: digest {command}" in help_text(command)
    assert re.search(rf"`digest {command}\b", COMMANDS_DOC), (
        f"`digest {command}` is not in docs/commands.md"
    )


def command_section(command: str) -> str:
    """The part of docs/commands.md about one command (from its `## `digest CMD`` heading
    to the next heading of that level), or, for "", the part before the first command."""
    sections = re.split(r"^## ", COMMANDS_DOC, flags=re.MULTILINE)
    if not command:
        return sections[0]
    found = [s for s in sections[1:] if s.startswith(f"`digest {command}`")]
    assert found, f"docs/commands.md has no section '## `digest {command}`'"
    return found[0]


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_option_of_a_command_is_documented(command: str) -> None:
    """Each option a command's help lists appears in that command's section of
    docs/commands.md, so none is undocumented (the top level's, such as --version and
    -h, in the part before the first command)."""
    universal = {"--help"} if not command else {"--help", "-h"}  # -h: in the intro
    options = set(OPTION.findall(help_text(*filter(None, [command])))) - universal
    section = command_section(command)
    missing = sorted(o for o in options if not re.search(rf"(?<![\w-]){o}(?![\w-])", section))
    assert not missing, f"digest {command}: {missing} not in docs/commands.md"


def test_the_readme_gives_the_two_commands() -> None:
    assert "pip install -e '.[dev]' && digest build" in README
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_command = ci.strip().splitlines()[-1]
    assert test_command in README, "the README's test command is what .ci/run runs"


def test_the_readme_is_a_front_door_not_a_manual() -> None:
    assert len(README) <= README_LIMIT, f"README.md has {len(README):,} characters"


def without_code(markdown: str) -> str:
    """The text outside fenced code blocks, indented code blocks and code spans, where a
    bracket is not a link."""
    markdown = re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    markdown = re.sub(r"^(?: {4}|\t).*$", "", markdown, flags=re.MULTILINE)
    return re.sub(r"(`+).+?\1", "", markdown, flags=re.DOTALL)


def relative_links(markdown: str) -> list[str]:
    """The targets of inline links and images (`[text](target)`, `![alt](target)`) and
    of reference definitions (`[name]: target`) that point into the repository."""
    text = without_code(markdown)
    targets = re.findall(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)", text)
    targets += re.findall(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", text, flags=re.MULTILINE)
    return [t for t in targets if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#|//", t)]


def test_relative_links_are_found_and_code_is_skipped() -> None:
    sample = (
        'See [a](docs/a.md#part) and ![b](images/b.png "title"), [c](https://x.org),'
        " [d](#here), `[e](not/a/link.md)`.\n\n[f]: ../f.md\n\n```\n[g](nor/this.md)\n```\n"
    )
    assert relative_links(sample) == ["docs/a.md#part", "images/b.png", "../f.md"]


@pytest.mark.parametrize("doc", LINKED_DOCS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_leads_to_a_file(doc: Path) -> None:
    broken = []
    for target in relative_links(doc.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path and not (doc.parent / path).exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(REPO)}: no file for {broken}"


def test_the_readme_shows_a_built_issue_page() -> None:
    assert "](docs/images/issue-page.png)" in README
    assert (REPO / "docs" / "images" / "issue-page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_readme_links_every_doc() -> None:
    missing = [p.name for p in DOCS if f"](docs/{p.name})" not in README]
    assert not missing, f"the README does not link {missing}"


def test_every_diagnostic_code_is_documented() -> None:
    """Each code the package can report has its row in docs/diagnostics.md."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "digest").glob("*.py"))
    codes = set(re.findall(r"\"([EW][0-9]{3})\"", source))
    assert codes, "no diagnostic codes found in digest/"
    documented = (REPO / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    missing = sorted(c for c in codes if not re.search(rf"^\| {c} \|", documented, re.MULTILINE))
    assert not missing, f"docs/diagnostics.md has no row for {missing}"


def test_every_module_is_in_the_architecture_notes() -> None:
    notes = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = sorted(p.name for p in (REPO / "digest").glob("*.py") if p.name != "__init__.py")
    missing = [m for m in modules if f"`{m}`" not in notes]
    assert not missing, f"docs/architecture.md does not describe {missing}"


# Docs describe the software as it is, never how it was made.
NARRATIVE = re.compile(
    r"this session|in this run|\brun \d+ (?:with|used|had)|with the code of|we (?:changed|now)",
    re.IGNORECASE,
)


def test_the_docs_describe_the_software_not_its_making() -> None:
    files = [*LINKED_DOCS, *sorted((REPO / "benchmarks").rglob("*.md"))]
    found = [
        f"{path.relative_to(REPO)}: {match.group(0)!r}"
        for path in files
        for match in NARRATIVE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert not found, found
