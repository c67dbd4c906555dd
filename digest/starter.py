"""Starter: the files of a new digest, as `digest init` writes them.

A new digest builds and passes `digest check --strict` at once. It holds the settings with
the default themes written out (so an editor sees how to change them), a first issue with
one example paper, a .gitignore, the GitHub Pages workflow, and the editor settings that tie
entry files to the JSON Schemas `digest schema` prints (saved beside them).

The fixed files are data files in `starter_files/`; the settings are made here from the
models' defaults, so they cannot drift from what digest assumes. Nothing is overwritten
unless asked: the caller first asks `existing_files`, and `write_files` writes each file
atomically.
"""

from __future__ import annotations

import json
import os
import shlex
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from digest import __version__
from digest.files import CONFIG_FILE, write_atomically
from digest.load import ISSUE_FILE
from digest.models import DEFAULT_THEMES, SiteConfig
from digest.schema import schema_text

FILES = Path(__file__).resolve().parent / "starter_files"
EXAMPLE_PAPER = "dpcache"
DESCRIPTION = "Recent research papers, grouped by theme and summarised by the editors."
WORKFLOW = ".github/workflows/site.yml"
PACKAGE_MARKER = '"@@DIGEST_PACKAGE@@"'
# What the workflow installs when digest was not installed from somewhere CI can reach too;
# the workflow stops with a message while it names this OWNER.
PLACEHOLDER_PACKAGE = f"digest @ git+https://github.com/OWNER/digest@v{__version__}"
# Stands for the site's address until the editor gives it (the workflow will not publish it).
PLACEHOLDER_BASE_URL = "https://OWNER.github.io/REPO"
SCHEMA_FILES = {"paper": "paper.schema.json", "issue": "issue.schema.json"}
# Red Hat's YAML extension for VS Code reads `yaml.schemas`: schema file (relative to the
# workspace folder) → globs; a "!" glob takes a file back out of the ones before it.
EDITOR_EXTENSION = "redhat.vscode-yaml"

_OPTIONS = {"title": "--title", "base_url": "--base-url"}


class InvalidOption(ValueError):
    """An option `digest init` cannot use: the option's name and what is wrong with it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True)
class StarterFile:
    path: str  # relative to the new digest's folder, with "/"
    text: str


def _toml(text: str) -> str:
    """A TOML basic string holding exactly `text` (JSON's escapes are TOML's, but DEL)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def settings_text(title: str | None, base_url: str | None) -> str:
    """The new pyproject.toml: a commented [tool.digest] table with the themes written out."""
    if title is None:
        title = str(SiteConfig.model_fields["title"].default)
    address = f"base_url = {_toml(PLACEHOLDER_BASE_URL if base_url is None else base_url)}"
    if base_url is None:
        address += "  # TODO: replace OWNER and REPO"
    themes = "".join(
        f"    {{ slug = {_toml(theme.slug)}, title = {_toml(theme.title)}, "
        f"description = {_toml(theme.description)} }},\n"
        for theme in DEFAULT_THEMES
    )
    return (
        "# The settings of this digest: digest reads the [tool.digest] table below. Every key\n"
        "# has a default; these are the ones you are most likely to change.\n"
        "\n"
        "[tool.digest]\n"
        "# The site's name, shown on every page and in the feeds.\n"
        f"title = {_toml(title)}\n"
        "# One sentence on what the site covers, used in the feeds and in link previews.\n"
        f"description = {_toml(DESCRIPTION)}\n"
        "# The absolute address the site is served from. Feeds, the sitemap and canonical links\n"
        "# need it. GitHub Pages serves a project's site from https://OWNER.github.io/REPO\n"
        "# (or from your own domain).\n"
        f"{address}\n"
        "\n"
        "# The themes papers are filed under, in the order the site shows them. A paper's\n"
        "# `themes:` names one or more slugs (lowercase letters, digits and hyphens). Rename,\n"
        "# reorder, add or remove themes here; `digest check` then points at every entry that\n"
        "# names one no longer listed. After a change, refresh the schemas your editor takes\n"
        "# the theme names from:\n"
        "#     digest schema paper > paper.schema.json\n"
        "#     digest schema issue > issue.schema.json\n"
        f"themes = [\n{themes}]\n"
    )


def site_config(settings: str) -> SiteConfig:
    """The configuration `settings` (a pyproject.toml) describes; InvalidOption if none."""
    table = tomllib.loads(settings)["tool"]["digest"]
    try:
        return SiteConfig.model_validate(table)
    except ValidationError as exc:
        details = exc.errors(include_url=False)[0]
        key = str(details["loc"][0]) if details["loc"] else ""
        if key not in _OPTIONS:
            raise  # the starter's own settings are wrong: a bug, not a usage error
        message = details["msg"]
        raise InvalidOption(_OPTIONS[key], message[0].lower() + message[1:]) from None


def editor_settings(config: SiteConfig) -> str:
    """`.vscode/settings.json`: paper files and issue files, each to its own schema."""
    entries = config.entries.rstrip("/")
    schemas = {
        SCHEMA_FILES["paper"]: [f"{entries}/*/*.yaml", f"!{entries}/*/{ISSUE_FILE}"],
        SCHEMA_FILES["issue"]: [f"{entries}/*/{ISSUE_FILE}"],
    }
    return json.dumps({"yaml.schemas": schemas}, indent=2) + "\n"


def digest_package(direct_url: str | None) -> str:
    """The requirement the workflow installs: where this digest came from, when that is a
    public address CI can reach too (PEP 610's direct_url.json), else the placeholder."""
    try:
        origin = json.loads(direct_url) if direct_url else None
    except ValueError:
        origin = None
    if not isinstance(origin, dict):
        return PLACEHOLDER_PACKAGE
    url = origin.get("url")
    if not isinstance(url, str) or not url.startswith("https://"):
        return PLACEHOLDER_PACKAGE  # a folder on this machine, or an index CI may not know
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git":
        revision = vcs.get("requested_revision") or vcs.get("commit_id")  # a tag, else the commit
        if isinstance(revision, str):
            return f"digest @ git+{url}@{revision}"
    elif isinstance(origin.get("archive_info"), dict):
        return f"digest @ {url}"
    return PLACEHOLDER_PACKAGE


def installed_package() -> str:
    """`digest_package` of the digest that is running."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        return digest_package(distribution("digest").read_text("direct_url.json"))
    except PackageNotFoundError:
        return PLACEHOLDER_PACKAGE


def starter_files(
    title: str | None, base_url: str | None, today: date, package: str
) -> list[StarterFile]:
    """Every file of a new digest whose first issue is dated `today`; InvalidOption when
    `title` or `base_url` cannot be used."""
    settings = settings_text(title, base_url)
    config = site_config(settings)
    issue = f"{config.entries.rstrip('/')}/{today.isoformat()}"
    workflow = (FILES / "site.yml").read_text(encoding="utf-8")
    return [
        StarterFile(CONFIG_FILE, settings),
        StarterFile(".gitignore", (FILES / "gitignore").read_text(encoding="utf-8")),
        StarterFile(WORKFLOW, workflow.replace(PACKAGE_MARKER, json.dumps(package))),
        StarterFile(".vscode/settings.json", editor_settings(config)),
        StarterFile(
            ".vscode/extensions.json",
            json.dumps({"recommendations": [EDITOR_EXTENSION]}, indent=2) + "\n",
        ),
        StarterFile(SCHEMA_FILES["paper"], schema_text("paper", config)),
        StarterFile(SCHEMA_FILES["issue"], schema_text("issue", config)),
        StarterFile(f"{issue}/{ISSUE_FILE}", (FILES / ISSUE_FILE).read_text(encoding="utf-8")),
        StarterFile(
            f"{issue}/{EXAMPLE_PAPER}.yaml",
            (FILES / f"{EXAMPLE_PAPER}.yaml").read_text(encoding="utf-8"),
        ),
    ]


def existing_files(root: Path, files: list[StarterFile]) -> list[str]:
    """The paths in `root` that are in the way: the files' own (taken by a file, folder or
    link) and any file standing where one of their folders should be."""
    found: list[str] = []
    for file in files:
        parts = file.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            taken = os.path.lexists(root / folder) and not (root / folder).is_dir()
            if taken and folder not in found:
                found.append(folder)
        if os.path.lexists(root / file.path):
            found.append(file.path)
    return found


def write_files(root: Path, files: list[StarterFile]) -> None:
    """Write every file under `root`, each atomically. On an OSError, the files this call
    created are removed again (those it replaced stay replaced) and the error is raised."""
    created: list[Path] = []
    try:
        for file in files:
            path = root / file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            new = not os.path.lexists(path)
            write_atomically(path, file.text)
            if new:
                created.append(path)
    except OSError:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def next_steps(folder: str | None, today: date, base_url: str | None, package: str) -> str:
    """What to do after `digest init`: `folder` is the new digest's folder as named from
    where the user is, None when they are in it."""
    steps = [f"    cd {shlex.quote(folder)}"] if folder else []
    steps += [
        "    digest serve        # preview the site at http://127.0.0.1:8000/",
        f"    digest new --issue {today.isoformat()} --from arxiv:ID"
        "   # add a paper from arXiv (ID such as 2401.12345)",
    ]
    todo = []
    if base_url is None:
        todo.append("set base_url in pyproject.toml to the address Pages gives the site")
    if package == PLACEHOLDER_PACKAGE:
        todo.append(f"set DIGEST_PACKAGE in {WORKFLOW} to where pip finds digest")
    todo.append("push to GitHub, then choose Settings → Pages → Source: GitHub Actions")
    lines = ["", "Next steps:", *steps, "", "To publish with GitHub Pages:"]
    return "\n".join(lines + [f"  - {item}" for item in todo])
