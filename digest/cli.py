"""The `digest` command line: parses arguments, calls the pipeline, prints, picks the exit code.

Exit codes: 0 ok, 1 content errors (or warnings under --strict), 2 usage errors.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from digest import schema as schema_module
from digest.build import Content, load_content
from digest.config import load_config
from digest.diagnostics import render

app = typer.Typer(
    name="digest",
    help="Build a research-digest site from one YAML file per paper.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class Kind(StrEnum):
    paper = "paper"
    issue = "issue"


RootOption = Annotated[
    Path,
    typer.Option(
        "--root",
        help="The content root: the folder with pyproject.toml and entries/.",
        exists=True,
        file_okay=False,
        resolve_path=True,
    ),
]
StrictOption = Annotated[
    bool, typer.Option("--strict", help="Treat warnings as errors (exit 1 on any warning).")
]
FormatOption = Annotated[
    Format,
    typer.Option(
        "--format",
        help="How to print problems: text (path:line:col), json, or github (Actions annotations).",
    ),
]


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def report(content: Content, output_format: Format, strict: bool) -> int:
    """Print the diagnostics and the summary; return the exit code."""
    diagnostics = content.report.sorted(strict=strict)
    printed = render(diagnostics, output_format.value)
    if output_format is not Format.json:
        counted = f"{_plural(len(content.papers), 'paper')} in {_plural(len(content.issues), 'issue')}"
        head, _, last = printed.rpartition("\n")
        printed = f"{head}\n{counted}: {last}" if head else f"{counted}: {last}"
    typer.echo(printed)
    return 1 if content.report.failed(strict) else 0


@app.command()
def check(
    root: RootOption = Path("."),
    strict: StrictOption = False,
    output_format: FormatOption = Format.text,
) -> None:
    """Validate every entry and issue; print every problem at its path:line:col."""
    content = load_content(root)
    raise typer.Exit(report(content, output_format, strict))


@app.command()
def schema(
    kind: Annotated[Kind, typer.Argument(help="Which file kind: paper or issue.")] = Kind.paper,
    root: RootOption = Path("."),
) -> None:
    """Print the JSON Schema of paper or issue files, for editors' YAML tooling."""
    config, problems = load_config(root)
    if config is None:
        typer.echo(render(problems, "text"))
        raise typer.Exit(1)
    document = schema_module.json_schema(kind.value, config)
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False))


def main() -> None:
    app()
