"""Files: the content root's files, how to list and read them, and how to write one.

A build lists the entries folder once (digest.load), stamps each file as it reads it
(digest.store), and walks its template folders to stamp them and to load the templates
(digest.template_set).

Every folder walk goes through `walk_files` (templates, assets, the output folder, what
`digest serve` watches) and every file digest writes in place (a cache file, an entry,
a starter file) through `write_atomically`.

The file system cannot hang, leak or crash a build:

- every input is read with `read_regular`: opened without blocking and read only when
  the opened file is a regular file, so a pipe (even one swapped in after a check) or a
  device such as /dev/zero is refused instead of read;
- the listing refuses what must not be read (`Listed.refused`): a link that leads
  outside the content root (`outside`), a name that is not UTF-8, YAML files in a folder
  inside an issue folder; the loader reports each one at its path;
- a walk leaves out pipes and devices, and follows a linked folder unless it leads back
  to a folder being walked;
- names are shown with `printable`: the bytes of a name that is not UTF-8 escaped;
- a file written with `write_atomically` holds its old content or all of the new, never
  half of it.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

CONFIG_FILE = "pyproject.toml"  # in the content root, with the site's `[tool.digest]`
ENTRIES = "entries"  # the default entries folder


def is_content_root(root: Path) -> bool:
    """Whether `root` holds a digest: an `entries/` folder, or a pyproject.toml with a
    `[tool.digest]` table (which may name another entries folder). A pyproject.toml that
    cannot be read counts, so that the build reports what is wrong with it."""
    if (root / ENTRIES).is_dir():
        return True
    try:
        text = read_regular(root / CONFIG_FILE)[1].decode("utf-8")
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


# ------------------------------------------------------------------ reading one file

BINARY = getattr(os, "O_BINARY", 0)  # for os.open: without it, Windows translates line ends
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a pipe waits for a writer without it
NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class NotRegularFile(OSError):
    """A path that is a pipe, a device, a socket or a folder: it is not read."""


def not_regular(mode: int) -> str:
    """What a file of this mode is, when it is not a regular file: 'it is a pipe (FIFO),
    not a regular file'."""
    kinds = (
        (stat.S_ISFIFO, "a pipe (FIFO)"),
        (stat.S_ISCHR, "a device"),
        (stat.S_ISBLK, "a device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
    )
    for test, kind in kinds:
        if test(mode):
            return f"it is {kind}, not a regular file"
    return "it is not a regular file"


def open_regular(path: str | Path, *, follow: bool = True) -> tuple[int, os.stat_result]:
    """An open descriptor of the regular file at `path`, and its stat; `NotRegularFile`
    for anything else. It never blocks: a pipe is opened without waiting for a writer,
    then refused. Without `follow`, a link is refused too (ELOOP)."""
    flags = os.O_RDONLY | BINARY | NONBLOCK | (0 if follow else NOFOLLOW)
    descriptor = os.open(path, flags)
    try:
        found = os.fstat(descriptor)
        if not stat.S_ISREG(found.st_mode):
            raise NotRegularFile(errno.EINVAL, not_regular(found.st_mode), str(path))
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, found


def read_regular(
    path: str | Path, limit: int | None = None, *, follow: bool = True
) -> tuple[os.stat_result, bytes]:
    """The stat and bytes of the regular file at `path` (see `open_regular`). With
    `limit`, a file whose stat says it is larger is not read (its bytes are b"")."""
    descriptor, found = open_regular(path, follow=follow)
    try:
        if limit is not None and found.st_size > limit:
            return found, b""
        chunks = []
        # A chunk larger than the file: one read, then one that finds the end.
        while chunk := os.read(descriptor, max(found.st_size + 1, 1 << 16)):
            chunks.append(chunk)
    finally:
        os.close(descriptor)
    return found, b"".join(chunks)


def printable(text: str) -> str:
    """`text` as it can be printed: the bytes of a name that is not UTF-8 (which Python
    keeps as lone surrogates) escaped, as in 'entries/\\xff.yaml'."""
    if text.isascii() or not undecodable(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def undecodable(name: str) -> bool:
    """Whether a name read from the file system is not valid UTF-8."""
    if name.isascii():
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def first_bad_byte(name: str) -> int:
    """The first byte of a name that is not UTF-8 (see `undecodable`)."""
    raw = name.encode("utf-8", "surrogateescape")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw[exc.start]
    return 0


def real(path: str | Path) -> str:
    return os.path.realpath(path)


def within(resolved: str, bounds: tuple[str, ...]) -> bool:
    """Whether the resolved path `resolved` is one of `bounds` or lies inside one."""
    return any(resolved == b or resolved.startswith(b.rstrip(os.sep) + os.sep) for b in bounds)


def bounds_of(folder: Path, root: Path) -> tuple[str, ...] | None:
    """Where the links in `folder` may lead: inside the content root; or inside the folder
    itself when the configuration names one outside the root. None when `folder` lies in
    the root but is itself a link that leads out of it."""
    base = os.path.abspath(root)
    here = os.path.abspath(folder)
    if not within(here, (base,)):
        return (real(here),)
    resolved_root = real(base)
    return (resolved_root,) if within(real(here), (resolved_root,)) else None


# ------------------------------------------------------------------ walking a folder


def walk_files(
    folder: str | Path,
    prefix: str = "",
    skip: frozenset[str] = frozenset(),
    chain: tuple[str, ...] = (),
    *,
    hidden: bool = True,
) -> Iterator[tuple[str, str]]:
    """(relative posix name, path) of every file under `folder`, sorted; `skip` names
    folders; without `hidden`, names that start with "." (files and folders) are left out.

    Files are regular files and links that lead nowhere (whoever reads them reports
    them); pipes, sockets and devices are left out, as reading one may never end. A
    symlinked folder is followed unless it leads back to a folder being walked (`chain`:
    the folders above, compared only then), so a link loop ends. Paths are plain
    strings: this runs over every output file of a no-change build.
    """
    try:
        items = sorted(os.scandir(folder), key=lambda item: item.name)
    except OSError:
        return
    chain = (*chain, str(folder))
    for item in items:
        if not hidden and item.name.startswith("."):
            continue
        name = f"{prefix}{item.name}"
        try:
            is_dir = item.is_dir()
            if is_dir and item.is_symlink() and _loops(item.path, chain):
                continue
        except OSError:  # a link that cannot be followed (too many levels)
            continue
        if is_dir:
            if item.name not in skip:
                yield from walk_files(item.path, name + "/", skip, chain, hidden=hidden)
        elif item.is_file() or item.is_symlink():  # not a pipe or device: reading may block
            yield name, item.path


def _loops(link: str, chain: tuple[str, ...]) -> bool:
    """True when the folder `link` leads to is one of the folders in `chain`."""
    target = os.stat(link)
    for folder in chain:
        here = os.stat(folder)
        if (here.st_dev, here.st_ino) == (target.st_dev, target.st_ino):
            return True
    return False


# ------------------------------------------------------------------ writing one file


def write_atomically(path: Path, *parts: str | bytes) -> None:
    """Write `parts` one after the other (text as UTF-8) to a temporary file beside
    `path`, then move it into place in one step.

    A reader (or a crash) never sees half a file: `path` holds either its old content or
    all of the new. Several parts spare joining a large payload to its header.
    """
    temporary = stage(path, *parts)
    try:
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def stage(path: Path, *parts: str | bytes) -> Path:
    """A temporary file beside `path` holding `parts` (see `write_atomically`), to be
    moved into place with `os.replace` (nothing is left behind if it cannot be written)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            for part in parts:
                stream.write(part.encode("utf-8") if isinstance(part, str) else part)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return Path(temporary)


# ------------------------------------------------------------------ the entries folder

OUTSIDE = "outside"  # a link that leads outside the content root
UNDECODABLE = "undecodable"  # a name that is not UTF-8
NESTED = "nested"  # a YAML file in a folder inside an issue folder


class Refused(NamedTuple):
    """A file or folder under entries/ that is not read, and why (`OUTSIDE`, ...)."""

    folder: str  # its issue folder ("" for one directly in entries/)
    path: str
    reason: str
    target: str = ""  # where an `OUTSIDE` link leads


class Listed(list[tuple[str, str]]):
    """`entry_paths`' answer: the (issue folder, path) pairs of the files to read, and
    `refused`: those not to read (a link out of the root, a name that is not UTF-8, a
    YAML file in a sub-folder of an issue folder), for the loader to report."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[Refused] = []


def link_target(link: str | Path) -> str:
    """Where a link leads, as written in it (the resolved path when it cannot be read)."""
    try:
        return os.readlink(link)
    except OSError:
        return real(link)


def _is_yaml(name: str) -> bool:
    return name.endswith((".yaml", ".yml"))


def entry_paths(entries_dir: Path, root: Path | None = None) -> Listed:
    """(issue folder name, YAML file path) pairs under entries/, sorted; stray files
    (directly in entries/) included, with the folder "". Links must lead inside the
    content root `root` (by default the entries folder's parent); what is not to be
    read is in `refused`.

    Paths are plain strings (building 10,000 `Path`s costs more than the scan itself).
    """
    found = Listed()
    try:
        folders = sorted(os.scandir(entries_dir), key=lambda e: e.name)
    except OSError:
        return found
    bounds = bounds_of(entries_dir, entries_dir.parent if root is None else root)
    if bounds is None:
        found.refused.append(Refused("", str(entries_dir), OUTSIDE, link_target(entries_dir)))
        return found
    refused = found.refused
    for folder in folders:
        name = folder.name
        if name.startswith("."):
            continue
        is_dir = folder.is_dir()
        if not is_dir and not _is_yaml(name):
            continue
        if undecodable(name):
            refused.append(Refused("", folder.path, UNDECODABLE))
            continue
        if folder.is_symlink() and not within(real(folder.path), bounds):
            refused.append(Refused("", folder.path, OUTSIDE, link_target(folder.path)))
            continue
        if not is_dir:
            found.append(("", folder.path))
            continue
        try:
            items = sorted(os.scandir(folder.path), key=lambda e: e.name)
        except OSError:
            continue
        for item in items:
            if item.is_dir():
                if not item.name.startswith(".") and not item.is_symlink():
                    refused += _nested(name, item.path)
                continue
            if not _is_yaml(item.name):
                continue
            if undecodable(item.name):
                refused.append(Refused(name, item.path, UNDECODABLE))
            elif item.is_symlink() and not within(real(item.path), bounds):
                refused.append(Refused(name, item.path, OUTSIDE, link_target(item.path)))
            else:  # a pipe or a device too: reading it reports it, without blocking
                found.append((name, item.path))
    return found


def _nested(folder: str, path: str) -> list[Refused]:
    """The YAML files in the sub-folder `path` of the issue folder `folder`, and in its
    own sub-folders (links to folders are not followed)."""
    found: list[Refused] = []
    try:
        items = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError:
        return found
    for item in items:
        if item.name.startswith("."):
            continue
        if item.is_dir(follow_symlinks=False):
            found += _nested(folder, item.path)
        elif _is_yaml(item.name):
            found.append(Refused(folder, item.path, NESTED))
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
