"""Render: `Library` + Jinja templates → `RenderedPage` values (nothing is written here).

Templates are looked up by name in the content root's own templates/ folder first, then
in the default theme that ships inside the package (the repository's templates/). Every
template is parsed before anything renders, and Jinja syntax or runtime errors become
diagnostics at the template's path and line.

Templates and assets are read only when they are regular files (a pipe or a device is
an error, never waited on or read without end), and a link among them must lead inside
the content root (or the default theme): one that leads elsewhere is an error (E010),
so that `assets/env.txt -> /proc/self/environ` is never published.

What each page shows (its context) comes from digest.pages and digest.views; this
module owns the Jinja environment (the only one to import Jinja), the `Renderer` and the
page builders (each keeps a page whose inputs did not change: digest.page_cache).

More pages are added by appending a `PageBuilder` to `PAGE_BUILDERS` (or passing a list
to `render_site`): a function `(library, renderer) -> Iterable[RenderedPage]`.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import jinja2
import jinja2.bccache
from jinja2.loaders import split_template_path
from markupsafe import Markup

from digest import permalinks
from digest.cache import Stamp
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
from digest.models import PaperEntry, SiteConfig
from digest.organise import IssueView, Library, Topic
from digest.page_cache import PageCache, PageKeys
from digest.pages import (
    home_context,
    issue_context,
    not_found_context,
    paper_context,
    topic_context,
    topics_context,
)
from digest.views import BaseContext, PaperView, Views
from digest.wording import format_date, plural

T = TypeVar("T")
TEMPLATE_SUFFIXES = (".html", ".xml", ".txt")
CARD_MACROS, CARD_MACRO = "macros/papers.html", "compact"  # how a listing shows a paper


@dataclass(frozen=True)
class RenderedPage:
    """One output file: `url` is its path under the site root, e.g. "papers/dpcache/index.html".

    A `kept` page was not rendered: its inputs are those of the file the last build left
    at `url` (digest.page_cache), which stays as it is; its `content` is empty. A `staged`
    page was written as soon as it was rendered into the folder that becomes the new site
    (digest.write.stage_page); its `content` is empty too, `stamp` the written file's.
    """

    url: str
    content: str | bytes
    kept: bool = False
    staged: bool = False
    stamp: Stamp | None = None


# ------------------------------------------------------------------ templates


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


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Templates compiled by an earlier build (Jinja checks each against its source); a
    file that cannot be read or written means compiling again, never a failed build."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged file is compiled afresh
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with suppress(Exception):
            super().dump_bytecode(bucket)


def load_templates(
    config: SiteConfig, root: Path, compiled: Path | None = None
) -> tuple[Templates | None, list[Diagnostic]]:
    """Build the environment, parse every template and find the assets; None when a
    template fails to parse or an asset cannot be copied.

    `compiled` is a folder to keep the compiled templates in between builds (compiling
    them is a tenth of a second of every build)."""
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
        bytecode_cache=_CompiledTemplates(str(compiled)) if compiled is not None else None,
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


RENDER_ERRORS = (
    jinja2.TemplateError,
    TypeError,
    ValueError,
    AttributeError,
    KeyError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def _template_line(templates: Templates, tb: TracebackType | None, name: str) -> tuple[str, int]:
    """The innermost template frame of a runtime error: (path, line)."""
    where = (templates.source_of(name), 1)
    folders = [str(f) for f in templates.folders]
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(tuple(folders)):
            where = (templates.display(filename, name), tb.tb_lineno)
        tb = tb.tb_next
    return where


@dataclass
class Renderer:
    """Renders templates into pages, gathering errors instead of raising them."""

    templates: Templates
    library: Library
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _failures: dict[tuple[str, int, str], list[str]] = field(default_factory=dict)
    cache: PageCache | None = None  # what the last build wrote (digest.page_cache)
    site_key: str = ""  # digest.page_cache.site_fingerprint, with `cache`
    views: Views = field(init=False)
    keys: PageKeys = field(init=False)
    rendered: int = 0  # templates rendered (pages kept are not)
    part: tuple[int, int] = (0, 1)  # (which, of how many) when a builder is split

    def share(self, items: Sequence[T]) -> Sequence[T]:
        """The items a splittable builder makes pages of in this run: all of them, or
        every n-th when parallel rendering split it in n parts (digest.parallel)."""
        which, count = self.part
        return items if count == 1 else items[which::count]

    def __post_init__(self) -> None:
        files = self.cache.files if self.cache is not None else None
        self.keys = PageKeys(self.library, self.site_key, files)
        self.views = Views(self.library, self.cache, self.keys, render_card=self.card)

    def card(self, paper: PaperView) -> str:
        """A paper as a long listing shows it (digest.views' `Card`): the `compact` macro
        of macros/papers.html."""
        macros = self.templates.env.get_template(CARD_MACROS).module
        return str(getattr(macros, CARD_MACRO)(paper))

    def markdown(self, text: str, top_heading: int = 1) -> Markup:
        return self.views.markdown(text, top_heading)

    def kept(self, url: str, template: str, key: Callable[[PageKeys], str]) -> RenderedPage | None:
        """A kept page for `url` when the inputs `key` names are the last build's, else None.

        `template` names what makes the page (a template, or a module for other files)."""
        if self.cache is None:
            return None
        if self.cache.kept(url, f"{template}:{key(self.keys)}"):
            return RenderedPage(url, b"", kept=True)
        return None

    def page(self, url: str, template: str, context: Mapping[str, Any]) -> RenderedPage | None:
        """Render one page; on failure note the error (reported once per template line)."""
        self.rendered += 1
        self.views.page_done()
        try:
            content = self.templates.env.get_template(template).render(context)
            if self.cache is not None:
                self.cache.save_fragments(url)
            return RenderedPage(url, content)
        except jinja2.TemplateSyntaxError as exc:
            where = (self.templates.display(exc.filename, template), exc.lineno or 1)
            message = f"template syntax error: {exc.message}"
        except RENDER_ERRORS as exc:
            where = _template_line(self.templates, exc.__traceback__, template)
            text = exc.message if isinstance(exc, jinja2.TemplateError) else str(exc)
            message = f"template error: {text or type(exc).__name__}"
        self._failures.setdefault((*where, message), []).append(url)
        return None

    def failures(self) -> list[Diagnostic]:
        """One diagnostic per failing template line, naming the first page it broke."""
        found = []
        for (path, line, message), urls in self._failures.items():
            more = f" and {plural(len(urls) - 1, 'other page')}" if len(urls) > 1 else ""
            code = "E401" if message.startswith("template syntax") else "E402"
            found.append(error(path, line, 1, code, f"{message} (rendering {urls[0]}{more})"))
        return found

    def base(self, url: str, title: str, section: str, description: str = "") -> BaseContext:
        return self.views.base(url, title, section, description)


# ------------------------------------------------------------------ page builders


def _overview(keys: PageKeys) -> str:
    return keys.overview()


def of_site(keys: PageKeys) -> str:
    """For a page made from the configuration and templates alone: no key of its own,
    since the page cache checks the site's fingerprint for every page."""
    return ""


def _of_paper(entry: PaperEntry) -> Callable[[PageKeys], str]:
    return lambda keys: keys.paper(entry)


def of_issue(view: IssueView) -> Callable[[PageKeys], str]:
    return lambda keys: keys.issue(view)


def _of_topic(topic: Topic) -> Callable[[PageKeys], str]:
    return lambda keys: keys.topic(topic)


def home_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.page_file(permalinks.HOME)
    yield renderer.kept(url, "home.html", _overview) or renderer.page(
        url, "home.html", home_context(renderer.views)
    )


def issue_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for view in renderer.share(library.issues):
        url = permalinks.page_file(permalinks.issue_path(view.date))
        yield renderer.kept(url, "issue.html", of_issue(view)) or renderer.page(
            url, "issue.html", issue_context(view, renderer.views)
        )


def topic_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.page_file(permalinks.TOPICS)
    yield renderer.kept(url, "topics.html", _overview) or renderer.page(
        url, "topics.html", topics_context(renderer.views)
    )
    for topic in library.topics:
        url = permalinks.page_file(permalinks.topic_path(topic.theme.slug))
        yield renderer.kept(url, "topic.html", _of_topic(topic)) or renderer.page(
            url, "topic.html", topic_context(topic, renderer.views)
        )


def paper_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    for paper_id in renderer.share(sorted(library.papers)):
        entry = library.papers[paper_id]
        url = permalinks.page_file(permalinks.paper_path(paper_id))
        yield renderer.kept(url, "paper.html", _of_paper(entry)) or renderer.page(
            url, "paper.html", paper_context(entry, renderer.views)
        )


def not_found_pages(library: Library, renderer: Renderer) -> Iterable[RenderedPage | None]:
    url = permalinks.NOT_FOUND
    yield renderer.kept(url, "404.html", of_site) or renderer.page(
        url, "404.html", not_found_context(renderer.views)
    )


PageBuilder = Callable[[Library, Renderer], Iterable[RenderedPage | None]]

SPLITTABLE: set[PageBuilder] = {issue_pages, paper_pages}
"""Builders that make their pages from `renderer.share(...)` of a list, one page (or a
fixed few) per item: parallel rendering may run each in parts in different processes."""

PAGE_BUILDERS: list[PageBuilder] = [
    home_pages,
    issue_pages,
    topic_pages,
    paper_pages,
    not_found_pages,
]
"""The default site map. Later stages append builders here (feeds, search, sitemap)."""


def render_site(
    library: Library,
    templates: Templates,
    builders: Iterable[PageBuilder] | None = None,
    *,
    cache: PageCache | None = None,
    site_key: str = "",
    each: Callable[[RenderedPage], RenderedPage] | None = None,
) -> tuple[list[RenderedPage], list[Diagnostic]]:
    """Every page of the site, sorted by url, and every problem met while rendering them.

    A page whose template fails is left out and reported; the others still render, so
    one run shows every broken template. With `cache`, pages whose inputs did not change
    since the last build come back `kept` instead of rendered. `each` is applied to every
    page as it is made (digest.parallel passes one that writes it out at once).
    """
    renderer = Renderer(templates, library, cache=cache, site_key=site_key)
    pages: dict[str, RenderedPage] = {}
    for builder in PAGE_BUILDERS if builders is None else builders:
        for page in builder(library, renderer):
            if page is None:
                continue
            if each is not None:
                page = each(page)
            if page.url in pages:
                renderer.diagnostics.append(
                    error(page.url, 1, 1, "E403", f"two pages would be written to {page.url}")
                )
            pages[page.url] = page
    return [pages[url] for url in sorted(pages)], renderer.diagnostics + renderer.failures()
