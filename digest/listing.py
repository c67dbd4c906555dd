"""Listing: where the entry files are, without reading them.

A build lists the entries folder once, to stamp every file (digest.cache) and then to
load the ones that changed (digest.load). A no-change build stops after the stamps, so
this lives apart from the loader and its YAML parser, which such a build never imports.
"""

from __future__ import annotations

import os
from pathlib import Path


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
