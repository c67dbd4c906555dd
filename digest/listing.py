"""Listing: where a build's input files are, without reading them.

A build lists the entries folder once, to stamp every file (digest.cache) and then to
load the ones that changed (digest.load), and looks up its template folders to stamp
them and then to load the templates (digest.render). A no-change build stops after the
stamps, so this lives apart from the loader, the configuration's model and the
renderer: such a build imports none of them (nor PyYAML or Jinja).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

CONFIG_FILE = "pyproject.toml"  # in the content root, with the site's `[tool.digest]`
ENTRIES = "entries"  # the default entries folder


def is_content_root(root: Path) -> bool:
    """Whether `root` holds a digest: an `entries/` folder, or a pyproject.toml with a
    `[tool.digest]` table (which may name another entries folder). A pyproject.toml that
    cannot be read counts, so that the build reports what is wrong with it."""
    if (root / ENTRIES).is_dir():
        return True
    try:
        text = (root / CONFIG_FILE).read_bytes().decode("utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError):
        return (root / CONFIG_FILE).exists()
    import tomllib  # only here: a folder with entries/ needs no parse

    try:
        tool = tomllib.loads(text).get("tool")
    except tomllib.TOMLDecodeError:
        return True
    return isinstance(tool, dict) and "digest" in tool


def entry_paths(entries_dir: Path) -> list[tuple[str, str]]:
    """(issue folder name, YAML file path) pairs under entries/, sorted; stray files included.

    Paths are plain strings (building 10,000 `Path`s costs more than the scan itself).
    """
    found: list[tuple[str, str]] = []
    try:
        folders = sorted(os.scandir(entries_dir), key=lambda e: e.name)
    except OSError:
        return found
    for folder in folders:
        if folder.name.startswith("."):
            continue
        if folder.is_dir():
            for item in sorted(os.scandir(folder.path), key=lambda e: e.name):
                if item.name.endswith((".yaml", ".yml")) and item.is_file():
                    found.append((folder.name, item.path))
        elif folder.name.endswith((".yaml", ".yml")):
            found.append(("", folder.path))
    return found


def entry_files(entries_dir: Path) -> list[tuple[str, Path]]:
    """(issue folder name, YAML file) pairs under entries/, sorted; stray files included."""
    return [(folder, Path(path)) for folder, path in entry_paths(entries_dir)]


def theme_dir() -> Path:
    """The default theme: the repository's templates/, installed as `digest.templates`."""
    spec = importlib.util.find_spec("digest.templates")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise RuntimeError("digest's default theme (digest.templates) is not installed")
    return Path(locations[0])


def template_folders(templates: str, root: Path) -> tuple[Path, ...]:
    """Where templates are looked up, first match wins: the content root's folder
    `templates` (the configured one), then the default theme."""
    return tuple(dict.fromkeys(p.resolve() for p in (root / templates, theme_dir()) if p.is_dir()))
