"""The template set: the default theme and a site's overrides, loaded safely and checked
before rendering.

Templates are looked up by name in the content root's own templates/ folder first, then
in the default theme that ships inside the package (the repository's templates/). Every
template is parsed before anything renders, and Jinja syntax or runtime errors become
diagnostics at the template's path and line (`template_line` finds the line of a runtime
error for digest.render).

Templates and assets are read only when they are regular files (a pipe or a device is
an error, never waited on or read without end), and a link among them must lead inside
the content root (or the default theme): one that leads elsewhere is an error (E010),
so that `assets/env.txt -> /proc/self/environ` is never published.

This module builds the Jinja environment (with its fixed filters, `date` and `markdown`);
digest.render renders pages with it. They are the only two modules to import Jinja.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType

import jinja2
import jinja2.bccache
from jinja2.loaders import split_template_path
from markupsafe import Markup

from digest import permalinks
from digest.diagnostics import Diagnostic, error
from digest.files import (
    NotRegularFile,
    bounds_of,
    first_bad_byte,
    link_target,
    not_regular,
    printable,
    read_regular,
    real,
    template_folders,
    theme_dir,
    undecodable,
    walk_files,
    within,
)
from digest.markdown import html_at
from digest.models import SiteConfig
from digest.store import Store
from digest.wording import format_date

TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")


def _date_filter(value: date) -> str:
    return format_date(value)


def _markdown_filter(value: str, top_heading: int = 1) -> Markup:
    return Markup(html_at(value, top_heading))


@dataclass
class Templates:
    """A Jinja environment over the override folder and the default theme, all parsed."""

    env: jinja2.Environment
    folders: tuple[Path, ...]  # looked up in this order
    root: Path
    assets: dict[str, Path]  # `asset_files` of the folders, by output url
    bounds: tuple[str, ...] = ()  # where links among them may lead (see `_bounds`)

    def display(self, filename: str | None, name: str) -> str:
        if not filename:
            return name
        path = Path(filename)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def source_of(self, name: str) -> str:
        for folder in self.folders:
            if (folder / name).is_file():
                return self.display(str(folder / name), name)
        return name

    def shown(self, path: str | Path) -> str:
        """Where a file of the template folders is, as diagnostics show it: its folder from
        the content root, then its own name (a link is named, not what it leads to)."""
        path = Path(path)
        return printable(f"{self.display(str(path.parent), path.name)}/{path.name}")

    def unreadable_assets(self) -> list[Diagnostic]:
        """An error at each asset that cannot be copied, reported where it is before
        anything renders: a name that is not UTF-8 (E011), a link that leads outside the
        content root (E010), or anything but a regular file (E407: a link to nowhere or
        a loop, a pipe, a device)."""
        problems = []
        for url, path in self.assets.items():
            problem = self._refusal(url, path)
            if problem is not None:
                problems.append(problem)
        return problems

    def _refusal(self, url: str, path: Path) -> Diagnostic | None:
        shown = self.shown(path)
        if undecodable(url):
            byte = first_bad_byte(path.name)
            return error(
                shown, 1, 1, "E011", f"the file name is not valid UTF-8 (byte 0x{byte:02x})"
            )
        outside = self.outside(path)
        if outside is not None:
            return outside
        try:
            mode = os.stat(path).st_mode
        except OSError:
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return error(
                shown,
                1,
                1,
                "E407",
                f"cannot copy the asset {url}: it is a link to {target}, which is not a file",
                hint="restore the file it points to, or remove the link",
            )
        if stat.S_ISREG(mode):
            return None
        return error(
            shown,
            1,
            1,
            "E407",
            f"cannot copy the asset {url}: {not_regular(mode)}",
            hint="only regular files are copied; remove it",
        )

    def outside(self, path: str | Path) -> Diagnostic | None:
        """E010 when `path` is a link that leads outside the bounds, else None."""
        if not self.bounds or not os.path.islink(path):
            return None
        target = real(path)
        if within(target, self.bounds):
            return None
        return error(
            self.shown(path),
            1,
            1,
            "E010",
            f"it is a link to {printable(link_target(path))}, outside the content root: not read",
            hint="copy what it points to into the content root instead of linking to it",
        )


class UnreadableTemplate(jinja2.TemplateError):
    """A template file that is not read: not a regular file, or a link leading out of
    the content root. `problem` is the diagnostic to report."""

    def __init__(self, problem: Diagnostic) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Folder(jinja2.FileSystemLoader):
    """Jinja's loader of one template folder that reads only regular files, never
    through a link out of bounds (`Templates.outside`), and never blocks on a pipe."""

    def __init__(self, folder: Path, templates: Templates) -> None:
        super().__init__(str(folder))
        self.folder = str(folder)
        self.templates = templates

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        filename = posixpath.join(self.folder, *split_template_path(template))
        try:
            os.stat(filename)
        except OSError:
            raise jinja2.TemplateNotFound(template) from None
        outside = self.templates.outside(filename)
        if outside is not None:
            raise UnreadableTemplate(outside)
        try:
            found, data = read_regular(filename)
        except NotRegularFile as exc:
            message = f"template cannot be read: {exc.strerror}"
            raise UnreadableTemplate(
                error(self.templates.shown(filename), 1, 1, "E401", message)
            ) from None
        except OSError:
            raise jinja2.TemplateNotFound(template) from None
        # As `open(..., encoding="utf-8")` reads it: universal newlines.
        contents = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
        mtime = found.st_mtime

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, os.path.normpath(filename), uptodate


def _bounds(config: SiteConfig, root: Path) -> tuple[str, ...] | None:
    """Where links among the templates may lead: into the content root (or into the
    templates folder, when the configuration names one outside the root) and into the
    default theme. None when the templates folder is itself a link out of the root."""
    inside = bounds_of(root / config.templates, root)
    if inside is None:
        return None
    return (*inside, real(theme_dir()))


def asset_files(folders: Sequence[Path]) -> dict[str, Path]:
    """Static files under assets/, by output url; an override replaces a file by name."""
    found: dict[str, Path] = {}
    for folder in reversed(folders):
        for name, path in walk_files(folder / permalinks.ASSETS, f"{permalinks.ASSETS}/"):
            found[name] = Path(path)
    return dict(sorted(found.items()))


COMPILED_IN_MEMORY = 256  # templates; a template's compiled code is a few tens of KB

# Compiled templates by bucket key, oldest first. Compiled code does not depend on the
# site: the environment's settings are the same for every build, and a bucket's key
# names the template's file.
_compiled: dict[str, bytes] = {}


class _CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled before: in memory for the life of the process (each rebuild
    of `digest serve`, and each build of a program that builds several sites, compiles
    a template once), and in the store (digest.store) between builds. Jinja checks each
    against its source; one that does not load is compiled again."""

    def __init__(self, store: Store | None):
        self.store = store

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        key = f"jinja:{bucket.key}"
        data = _compiled.get(key)
        if self.store is not None:
            if data is None:
                data = self.store.get(key)
            else:
                self.store.hold(key, data)
        if data is not None:
            try:
                bucket.bytecode_from_string(data)
            except Exception:  # noqa: BLE001 - a damaged one is compiled afresh
                bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        key = f"jinja:{bucket.key}"
        data = bucket.bytecode_to_string()
        _compiled.pop(key, None)
        _compiled[key] = data
        while len(_compiled) > COMPILED_IN_MEMORY:
            del _compiled[next(iter(_compiled))]  # the one compiled longest ago
        if self.store is not None:
            self.store.put(key, data)


def load_templates(
    config: SiteConfig, root: Path, store: Store | None = None
) -> tuple[Templates | None, list[Diagnostic]]:
    """Build the environment, parse every template and find the assets; None when a
    template fails to parse or an asset cannot be copied.

    Compiled templates are kept in memory and, with `store`, there between builds
    (compiling them is a tenth of a second of every build)."""
    bounds = _bounds(config, root)
    if bounds is None:
        folder = root / config.templates
        problem = error(
            printable(config.templates),
            1,
            1,
            "E010",
            f"the templates folder is a link to {printable(link_target(folder))}, outside the "
            "content root: not read",
            hint="copy the templates into the content root, or name their folder in "
            "'templates' in [tool.digest]",
        )
        return None, [problem]
    folders = template_folders(config.templates, root)
    env = jinja2.Environment(
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        bytecode_cache=_CompiledTemplates(store),
    )
    env.filters = {"date": _date_filter, "markdown": _markdown_filter}
    env.globals = {}
    templates = Templates(env, folders, root, asset_files(folders), bounds)
    env.loader = jinja2.ChoiceLoader([_Folder(f, templates) for f in folders])
    problems: list[Diagnostic] = templates.unreadable_assets()
    names = [
        n
        for n in env.list_templates()
        if n.endswith(TEMPLATE_SUFFIXES) and not n.startswith(f"{permalinks.ASSETS}/")
    ]
    for name in names:
        if undecodable(name):
            byte = first_bad_byte(name)
            message = f"the file name is not valid UTF-8 (byte 0x{byte:02x})"
            problems.append(error(printable(templates.source_of(name)), 1, 1, "E011", message))
            continue
        try:
            env.get_template(name)
        except UnreadableTemplate as exc:
            problems.append(exc.problem)
        except jinja2.TemplateSyntaxError as exc:
            path = templates.display(exc.filename, name)
            problems.append(
                error(path, exc.lineno or 1, 1, "E401", f"template syntax error: {exc.message}")
            )
        except UnicodeDecodeError:
            problems.append(
                error(templates.source_of(name), 1, 1, "E401", "template is not valid UTF-8")
            )
    return (None if problems else templates), problems


def template_line(templates: Templates, tb: TracebackType | None, name: str) -> tuple[str, int]:
    """The innermost template frame of a runtime error: (path, line)."""
    where = (templates.source_of(name), 1)
    folders = [str(f) for f in templates.folders]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(tuple(folders)):
            where = (templates.display(filename, name), tb.tb_lineno)
        tb = tb.tb_next
    return where
