"""The `digest` command line: parses arguments, calls the pipeline, prints, picks the exit code.

Exit codes: 0 ok, 1 content errors (or warnings under --strict), 2 usage errors.
"""

from __future__ import annotations

import os
import sys
from contextlib import nullcontext, suppress
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from digest import __version__
from digest.build import run as run_build
from digest.cli_options import (
    DraftsOption,
    Format,
    FormatOption,
    Kind,
    OutOption,
    RootOption,
    StrictOption,
    config_or_exit,
    network_of,
    report,
    root_or_exit,
)
from digest.content import load_content
from digest.diagnostics import did_you_mean
from digest.wording import plural

# The network tools, the scaffolder and the server (httpx, http.server) are imported by
# the commands that use them, so `digest check` and `digest build` start faster.

app = typer.Typer(
    name="digest",
    help="Build a research-digest site from one YAML file per paper.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"digest {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


@app.command()
def check(
    ctx: typer.Context,
    root: RootOption = Path("."),
    strict: StrictOption = False,
    output_format: FormatOption = Format.text,
    links: Annotated[
        bool,
        typer.Option("--links", help="Also ask each host whether the entries' URLs work."),
    ] = False,
    drafts: Annotated[
        bool,
        typer.Option(
            "--drafts", help="Check draft issues as `build --drafts` does: problems are errors."
        ),
    ] = False,
) -> None:
    """Validate every entry and issue; print every problem at its path:line:col.

    It reports what `digest build` reports, warnings included (W120: no base_url).

    A draft issue's problems are warnings; --strict fails on them; --drafts makes them errors.
    """
    root_or_exit(root)
    content = load_content(root, cache=True, drafts=drafts)
    if links and content.config is not None:
        from digest import link_report as links_module

        network = network_of(ctx)
        extra = {"sleep": network.link_sleep} if network.link_sleep else {}
        checked = (content.papers, content.issues)
        found = links_module.check_links(
            root, content.config, network.link_transport, checked=checked, **extra
        )
        content.report.extend(found)
    raise typer.Exit(report(content, output_format, strict))


@app.command()
def new(
    ctx: typer.Context,
    issue: Annotated[
        str,
        typer.Option("--issue", metavar="YYYY-MM-DD", help="The issue's date (its folder)."),
    ],
    paper_id: Annotated[
        str | None,
        typer.Argument(
            metavar="ID",
            help="The paper's id (its file name); with --from it defaults to one from the title.",
        ),
    ] = None,
    sources: Annotated[
        list[str] | None,
        typer.Option(
            "--from",
            metavar="arxiv:ID|doi:DOI",
            help="Prefill from the arXiv API or Crossref; repeat to import several papers.",
        ),
    ] = None,
    source_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            exists=True,
            dir_okay=False,
            help="A file with one 'SOURCE' or 'ID SOURCE' per line, each with any "
            "'theme=SLUG' ('#' starts a comment): what `digest harvest` writes.",
        ),
    ] = None,
    themes: Annotated[
        list[str] | None,
        typer.Option(
            "--theme", metavar="SLUG", help="A theme of the new entries; repeat for several."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing entry of the same id.")
    ] = False,
    root: RootOption = Path("."),
) -> None:
    """Scaffold a paper entry (and its issue's _issue.yaml when the issue is new)."""
    from digest.importer import open_importer
    from digest.new_entries import create_entries
    from digest.source_list import requests_from
    from digest.values import read_date

    root_or_exit(root)
    config = config_or_exit(root)
    try:
        day = read_date(issue)
    except ValueError as exc:
        raise typer.BadParameter(f"'{issue}' {exc}", param_hint="--issue") from None
    slugs = config.theme_slugs
    for slug in themes or []:
        if slug not in slugs:
            hint = did_you_mean(slug, slugs) or f"configured: {', '.join(slugs)}"
            raise typer.BadParameter(f"unknown theme '{slug}'; {hint}", param_hint="--theme")
    try:
        requests = requests_from(paper_id, sources or [], source_file, slugs)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    network = network_of(ctx)
    importer = None
    if any(request.source for request in requests):
        transport, limiter = network.import_transport, network.arxiv_limiter
        importer = open_importer(root, config, os.environ, transport, limiter)
    with importer or nullcontext():
        outcome = create_entries(root, config, day, requests, themes or [], force, importer)
    for problem in outcome.errors:
        typer.echo(f"error: {problem}", err=True)
    if outcome.errors:
        typer.echo("nothing written", err=True)
        raise typer.Exit(1)
    for shown, draft in outcome.written:
        typer.echo(f"wrote {shown}")
        todo = draft.todo if draft else ("title, subject and intro; draft: false to publish",)
        for item in todo:
            typer.echo(f"    to do: {item}")


@app.command()
def harvest(
    ctx: typer.Context,
    query: Annotated[
        str,
        typer.Option(
            "--query",
            metavar="QUERY",
            help="An arXiv API search_query, e.g. 'cat:cs.CV AND abs:diffusion'.",
        ),
    ],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="YYYY-MM-DD",
            help="First submission day (default: the newest issue's date).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="YYYY-MM-DD", help="Last submission day (default: today)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--max", min=1, max=2000, help="List at most this many candidates.")
    ] = 100,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", dir_okay=False, help="Write the list to this file (default: standard output)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the --out file.")] = False,
    root: RootOption = Path("."),
) -> None:
    """List new arXiv papers, ranked by the site's themes, for `digest new --from-file`."""
    from digest import harvest as harvesting
    from digest.files import write_atomically
    from digest.importer import open_importer
    from digest.metadata import ImportFailure
    from digest.values import read_date

    root_or_exit(root)
    config = config_or_exit(root)
    if not query.strip():
        raise typer.BadParameter("give an arXiv search, e.g. 'cat:cs.CV'", param_hint="--query")
    days: list[date | None] = []
    for name, value in (("--since", since), ("--until", until)):
        try:
            days.append(read_date(value) if value is not None else None)
        except ValueError as exc:
            raise typer.BadParameter(f"'{value}' {exc}", param_hint=name) from None
    filed = harvesting.filed_papers(root, config)
    end = days[1] or date.today()
    start = days[0] or filed.newest_issue or end
    if start > end:
        raise typer.BadParameter(
            f"the window would start on {start}, after its end ({end}); give --since and --until",
            param_hint="--since",
        )
    if out is not None and out.exists() and not force:
        typer.echo(f"error: {out} exists; use --force to replace it", err=True)
        raise typer.Exit(1)
    network = network_of(ctx)
    transport, limiter = network.import_transport, network.arxiv_limiter
    model = harvesting.theme_model(config, filed)
    try:
        with open_importer(root, config, os.environ, transport, limiter) as importer:
            result = harvesting.harvest(importer, query, start, end, limit, filed, model)
    except ImportFailure as failure:
        typer.echo(f"error: {failure}\nnothing written", err=True)
        raise typer.Exit(1) from None
    text = harvesting.triage_text(result)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            write_atomically(out, text)
        except OSError as exc:
            typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
            raise typer.Exit(1) from None
    where = f" into {out}" if out is not None else ""
    typer.echo(
        f"listed {plural(len(result.candidates), 'candidate')}{where}; "
        f"{harvesting.already_line(result.already)}",
        err=True,
    )


@app.command()
def build(
    root: RootOption = Path("."),
    out: OutOption = None,
    drafts: DraftsOption = False,
    strict: StrictOption = False,
    output_format: FormatOption = Format.text,
) -> None:
    """Check everything, then render the site into a temporary folder and swap it in.

    Issues marked `draft: true` are built only with --drafts, where their problems are errors.

    Without it, their problems are warnings that never stop the build (unless --strict).
    """
    root_or_exit(root)
    result = run_build(root, out, drafts=drafts, strict=strict, cache=True)
    code = report(result.content, output_format, strict)
    if result.ok and output_format is not Format.json and result.out is not None:
        typer.echo(f"built {plural(result.pages, 'page')} into {_shown(result.out)}/")
    raise typer.Exit(code if result.ok or code else 1)


def _shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it, else as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


@app.command()
def schema(
    kind: Annotated[Kind, typer.Argument(help="Which file kind: paper or issue.")] = Kind.paper,
    root: RootOption = Path("."),
) -> None:
    """Print the JSON Schema of paper or issue files, for editors' YAML tooling.

    Outside a content root it uses the default settings, and so the default themes.
    """
    config = config_or_exit(root)
    from digest import schema as schema_module

    typer.echo(schema_module.schema_text(kind.value, config), nl=False)


@app.command()
def serve(
    root: RootOption = Path("."),
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")
    ] = 8000,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; keep 127.0.0.1 unless you mean it.")
    ] = "127.0.0.1",
    drafts: DraftsOption = False,
) -> None:
    """Build, serve the site locally, rebuild on every change and reload open pages."""
    from digest.serve import DevServer

    root_or_exit(root)
    try:
        server = DevServer(root, host, port, drafts=drafts, echo=typer.echo)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    server.serve_forever()


@app.command()
def init(
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="The new digest's folder; created when missing.",
            file_okay=False,
        ),
    ] = Path("."),
    title: Annotated[
        str | None, typer.Option("--title", help="The site's name (default: Research digest).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="The absolute http(s) address the site will be served from "
            "(default: a placeholder to replace before publishing).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace those of its files that exist already.")
    ] = False,
) -> None:
    """Start a new digest that builds and passes `digest check --strict` at once."""
    from digest import starter

    package, today = starter.installed_package(), date.today()
    try:
        files = starter.starter_files(title, base_url, today, package)
    except starter.InvalidOption as exc:
        raise typer.BadParameter(exc.message, param_hint=exc.option) from None
    here = folder.resolve() == Path.cwd().resolve()
    shown = _shown(folder)
    where = "here" if here else f"in {shown}/"
    existing = [] if force else starter.existing_files(folder, files)
    if existing:
        typer.echo(
            f"error: nothing written: these exist {where} already (--force replaces them):",
            err=True,
        )
        for path in existing:
            typer.echo(path, err=True)
        raise typer.Exit(1)
    try:
        starter.write_files(folder, files)
    except OSError as exc:
        typer.echo(f"error: cannot write {exc.filename or shown}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"started a digest {where}:")
    for file in files:
        typer.echo(f"    {file.path}")
    typer.echo(starter.next_steps(None if here else shown, today, base_url, package))


def main() -> None:
    """The console script: runs the command, then ends the process at once.

    Exiting normally frees every object of the build one by one, which after a
    10,000-paper build takes a quarter of a second and shows nothing. Everything the
    command writes is closed by then; the output streams are flushed here. (Tests and
    other in-process callers use `app`, which exits normally.)"""
    try:
        app()
        code: object = 0
    except SystemExit as stop:
        code = stop.code
    if isinstance(code, str):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (`digest check | head`)
            stream.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
