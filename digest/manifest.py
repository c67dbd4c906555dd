"""Manifest: the record, inside the output folder, of every file digest wrote there,
and the guard that lets digest replace or delete only those.

`.digest-manifest` is UTF-8 text: a first line naming the format, a comment, then the
path of every file of the site (relative, with "/", sorted), one a line. It does not
list itself. A build writes it last, so a folder holding one is a complete site.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from digest.diagnostics import Diagnostic, error
from digest.wording import plural

MANIFEST = ".digest-manifest"
_HEADER = "digest-manifest 1\n"
_COMMENT = "# Every file digest wrote into this folder. digest replaces the folder only while\n"
_COMMENT += "# it holds nothing else. Do not edit: add files to templates/assets/ instead.\n"
DESKTOP_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})  # a file browser's

# The paths of every file a digest site may hold, whatever its content and settings, for
# a folder written before digest kept a manifest (see `guard`).
_SITE_FILE = re.compile(
    r"""(?x)(?:
    (index\.html|404\.html|robots\.txt|sitemap\.xml|feed\.xml|feed\.json|feeds\.opml
     |bibliography\.bib)
    |\d{4}-\d{2}-\d{2}/(index\.html|email\.html|email\.txt|digest-\d{4}-\d{2}-\d{2}\.bib)
    |papers/[a-z0-9-]+/index\.html
    |topics/index\.html
    |topics/[a-z0-9-]+/(index\.html|feed\.xml|feed\.json|page/\d+/index\.html)
    |search/index\.(html|json)
    |assets/[^/].*
    )\Z"""
)


def manifest_text(urls: Iterable[str]) -> bytes:
    return (_HEADER + _COMMENT + "".join(f"{url}\n" for url in sorted(urls))).encode("utf-8")


def read_manifest(folder: Path | str) -> set[str] | None:
    """The files the manifest in `folder` lists; None when it has none (or not one of ours)."""
    try:
        with open(f"{folder}/{MANIFEST}", encoding="utf-8", newline="\n") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(_HEADER) or not text.endswith("\n"):
        return None
    return {line for line in text.split("\n")[1:-1] if line and not line.startswith("#")}


def _desktop(url: str) -> bool:
    return url.rpartition("/")[2] in DESKTOP_FILES


def list_folder(folder: str, prefix: str = "") -> list[str]:
    """Every file under `folder` (anything that is not a folder: links included, never
    followed), and every empty folder as "name/"."""
    found: list[str] = []
    with os.scandir(folder) as items:
        entries = list(items)
    for item in entries:
        name = f"{prefix}{item.name}"
        if item.is_dir(follow_symlinks=False):
            inside = list_folder(item.path, f"{name}/")
            found += inside or [f"{name}/"]
        else:
            found.append(name)
    return found


@dataclass
class Guarded:
    """What `guard` found: a refusal, or the folder's files digest did not list but may
    delete (a file browser's `.DS_Store`), and whether it had a manifest."""

    refusal: Diagnostic | None = None
    extras: list[str] = field(default_factory=list)
    manifest: bool = False


def guard(out: Path, protected: Iterable[Path]) -> Guarded:
    """May a build replace the folder `out`?

    Not when `out` is a file, contains one of the `protected` paths (the content root,
    its entries and templates), or holds anything its manifest does not list, apart from
    a file browser's files (`.DS_Store`). A folder without a manifest may be replaced
    when it is empty, or (once: the new site has a manifest) when every file in it has
    the path of a file digest writes, as a site built before digest kept a manifest
    does."""
    target = out.resolve()
    if target.exists() and not target.is_dir():
        found = error(str(out), 1, 1, "E405", f"the output path {out} exists and is not a folder")
        return Guarded(found)
    for path in protected:
        keep = path.resolve()
        if keep == target or target in keep.parents:
            message = f"refusing to replace {out}: it contains {path}"
            hint = "choose an output folder of its own, such as site/"
            return Guarded(error(str(out), 1, 1, "E405", message, hint))
    listed = read_manifest(target)
    try:
        files = [url for url in list_folder(str(target)) if url != MANIFEST]
    except OSError:  # no folder yet (or none to read: writing it will say so)
        return Guarded()
    if listed is not None:
        foreign = [url for url in files if url not in listed and not _desktop(url)]
    else:
        foreign = [url for url in files if not _SITE_FILE.match(url) and not _desktop(url)]
    if not foreign:
        extras = [url for url in files if listed is not None and url not in listed]
        return Guarded(None, extras, listed is not None)
    foreign.sort()
    first, more = foreign[0], len(foreign) - 1
    others = f" (and {plural(more, 'more file')})" if more else ""
    why = "its .digest-manifest does not list it" if listed is not None else "no .digest-manifest"
    return Guarded(
        error(
            f"{out}/{first}",
            1,
            1,
            "E405",
            f"refusing to replace {out}: it holds {first}{others}, which digest did not write",
            f"{why}: move it out of {out}, or choose an output folder of its own, such as site/",
        )
    )
