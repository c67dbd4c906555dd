"""What the `digest` commands share: their options, the content-root and configuration
checks that end a command early, the report printer, and the network test seams."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from digest.content import Content
from digest.diagnostics import render
from digest.files import CONFIG_FILE, is_content_root
from digest.wording import papers_in_issues

if TYPE_CHECKING:
    from digest.models import SiteConfig


def root_or_exit(root: Path) -> None:
    """Exit 2 (a usage error) when `root` holds no digest, instead of building an empty site."""
    if not is_content_root(root):
        typer.echo(
            f"error: {root.as_posix()} is not a digest content root: no {CONFIG_FILE} with "
            "[tool.digest] and no entries/ folder\n"
            "    hint: run it in your digest's folder, pass --root DIR, "
            "or start one with `digest init`",
            err=True,
        )
        raise typer.Exit(2)


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


OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Where to write the site (default: the configured `out`, site/ in the root).",
        file_okay=False,
    ),
]
DraftsOption = Annotated[
    bool,
    typer.Option(
        "--drafts",
        help="Also build issues marked `draft: true`; their problems are then errors, "
        "not warnings.",
    ),
]


def report(content: Content, output_format: Format, strict: bool) -> int:
    """Print the diagnostics and the summary; return the exit code."""
    diagnostics = content.report.sorted(strict=strict)
    printed = render(diagnostics, output_format.value)
    if output_format is not Format.json:
        counted = papers_in_issues(len(content.papers), len(content.issues))
        head, _, last = printed.rpartition("\n")
        printed = f"{head}\n{counted}: {last}" if head else f"{counted}: {last}"
    typer.echo(printed)
    return 1 if content.report.failed(strict) else 0


def config_or_exit(root: Path) -> SiteConfig:
    """The site's settings, or their problems printed and exit 1."""
    from digest.config import load_config

    config, problems = load_config(root)
    if config is None:
        typer.echo(render(problems, "text"))
        raise typer.Exit(1)
    return config


@dataclass(frozen=True)
class Network:
    """Test seams of the network commands, passed as `CliRunner().invoke(..., obj=Network())`:
    httpx transports, the arXiv rate limiter and the link checker's sleep."""

    import_transport: Any = None
    arxiv_limiter: Any = None
    link_transport: Any = None
    link_sleep: Any = None


def network_of(ctx: typer.Context) -> Network:
    return ctx.obj if isinstance(ctx.obj, Network) else Network()
