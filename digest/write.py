"""Write: `RenderedPage` values + static assets → the output folder, atomically.

Everything is written into a fresh temporary folder beside the output (same parent, so
the final rename never crosses a file system), then swapped into place: the old site is
renamed away, the new one renamed in, the old one deleted. Any failure before the swap
removes the temporary folder and leaves the previous site exactly as it was.

Output is deterministic: pages and assets are written in sorted order, text as UTF-8
with "\\n" line ends, and nothing records the time of the build.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from digest.cache import BINARY, Stamp, content_digest
from digest.diagnostics import Diagnostic, error
from digest.permalinks import site_name
from digest.render import RenderedPage


@dataclass(frozen=True)
class WriteResult:
    written: int  # files written: pages plus assets
    diagnostics: list[Diagnostic]
    in_place: bool = False  # only changed files were replaced; the others were not touched

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def unsafe_url(url: str) -> str | None:
    """Why `url` may not name a file inside the output folder, or None when it may."""
    if not url or url.endswith("/"):
        return "it does not name a file"
    if "\\" in url or "\x00" in url or ":" in url:
        return "it contains a backslash, a colon or a NUL character"
    if url.startswith("/"):
        return "it is an absolute path"
    parts = url.split("/")  # each test below is one pass in C: this runs for every page
    if "" in parts or "." in parts or ".." in parts:
        return "it contains an empty, '.' or '..' segment"
    return None


def _check(pages: Iterable[RenderedPage], assets: Mapping[str, Path]) -> list[Diagnostic]:
    problems = []
    seen: set[str] = set()
    for url in [page.url for page in pages] + list(assets):
        reason = unsafe_url(url)
        if reason:
            problems.append(error(url, 1, 1, "E404", f"refusing to write '{url}': {reason}"))
        elif url.casefold() in seen:
            problems.append(error(url, 1, 1, "E403", f"two files would be written to {url}"))
        seen.add(url.casefold())
    return problems


def _guard_output(
    out: Path, protected: Iterable[Path], ours: Iterable[str] = ()
) -> Diagnostic | None:
    """The output folder is replaced whole: refuse one that holds the content itself, or
    anything at its top level that a site digest built does not have (`out =
    "~/Documents"` by mistake). `ours`: the urls this build writes and those the last
    one wrote, whatever their names."""
    target = out.resolve()
    if target.exists() and not target.is_dir():
        return error(str(out), 1, 1, "E405", f"the output path {out} exists and is not a folder")
    for path in protected:
        keep = path.resolve()
        if keep == target or target in keep.parents:
            return error(
                str(out),
                1,
                1,
                "E405",
                f"refusing to replace {out}: it contains {path}",
                "choose an output folder of its own, such as site/",
            )
    try:
        names = os.listdir(target)
    except OSError:  # no folder yet (or none to read: writing it will say so)
        return None
    strangers = [name for name in names if not site_name(name)]
    if strangers:  # rare: a site's own names are known without listing its urls
        made = {url.split("/", 1)[0] for url in ours}
        strangers = sorted(name for name in strangers if name not in made)
    if not strangers:
        return None
    more = len(strangers) - 3
    shown = ", ".join(strangers[:3]) + (f" and {more} more" if more > 0 else "")
    return error(
        str(out),
        1,
        1,
        "E405",
        f"refusing to replace {out}: it holds {shown}, which digest did not make",
        "move them out of it, or choose an output folder of its own, such as site/",
    )


def new_stage(out: Path, reusing: bool = True) -> Path | None:
    """A fresh folder beside `out` to render a whole new site into, page by page, or None
    when `out` already exists and `reusing` (its unchanged files are then reused; see
    `write_site`). A build that knows nothing of the site at `out` (no cache, or one
    from another version of digest) reuses nothing and stages as a first build does."""
    if reusing and out.exists():
        return None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}-tmp-", dir=out.parent))
        os.chmod(stage, 0o755)  # mkdtemp makes it private; a served site is world-readable
    except OSError:
        return None
    return stage


def stage_page(stage: Path, page: RenderedPage) -> RenderedPage:
    """Write `page` into `stage` now and return it `staged` (no content kept in memory).

    A page whose url is unsafe (or that cannot be written) comes back as it was, so
    `write_site` reports or writes it as usual."""
    if page.kept or page.staged or unsafe_url(page.url):
        return page
    data = page.content.encode("utf-8") if isinstance(page.content, str) else page.content
    path = f"{stage}/{page.url}"  # plain strings: pathlib's objects cost a first build 0.1 s
    try:
        _make_folder(path.rpartition("/")[0])
        modified_ns = _write_new(path, data)
    except OSError:
        return page
    stamp = Stamp(len(data), modified_ns, content_digest(data))
    return RenderedPage(page.url, b"", staged=True, stamp=stamp)


def _make_folder(folder: str) -> None:
    """`folder` and any folder above it that is missing (most pages have a folder of
    their own, whose parent exists)."""
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass  # a file there instead makes the write fail: the page is then written later
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def _write_new(path: str | Path, data: bytes) -> int:
    """Write `data` as the file `path`; its modification time, in ns (the build's record
    of its output then needs no second look at the file: digest.cache)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | BINARY, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
        return os.fstat(descriptor).st_mtime_ns
    finally:
        os.close(descriptor)


def discard(stage: Path | None) -> None:
    """Remove a stage whose build failed; the previous site is untouched."""
    if stage is not None:
        shutil.rmtree(stage, ignore_errors=True)


Reuse = Callable[[str, bytes], Path | None]
"""(url, new bytes) → a file of the previous site holding exactly those bytes, or None."""


def _put(path: Path, url: str, data: bytes, reuse: Reuse | None) -> None:
    """Write `data`, or hard-link the identical file of the previous site (keeps its mtime)."""
    kept = reuse(url, data) if reuse is not None else None
    if kept is not None:
        try:
            os.link(kept, path)
            return
        except OSError:  # no hard links here (or the file just went away): write it
            pass
    path.write_bytes(data)


def _fill(
    folder: Path,
    pages: list[RenderedPage],
    assets: Mapping[str, Path],
    reuse: Reuse | None = None,
    previous: Path | None = None,
) -> int:
    """Write everything into `folder`; a kept page is linked (or copied) from `previous`."""
    written = 0
    for page in sorted(pages, key=lambda p: p.url):
        if page.staged:  # already written into `folder` while rendering
            written += 1
            continue
        path = folder / page.url
        path.parent.mkdir(parents=True, exist_ok=True)
        if page.kept:
            if previous is None:
                raise OSError(f"no previous site to keep {page.url} from")
            try:
                os.link(previous / page.url, path)
            except OSError:
                shutil.copyfile(previous / page.url, path)
            written += 1
            continue
        data = page.content.encode("utf-8") if isinstance(page.content, str) else page.content
        _put(path, page.url, data, reuse)
        written += 1
    for url in sorted(assets):
        path = folder / url
        path.parent.mkdir(parents=True, exist_ok=True)
        _put(path, url, assets[url].read_bytes(), reuse)
        written += 1
    return written


def _update(
    out: Path,
    pages: list[RenderedPage],
    assets: Mapping[str, Path],
    reuse: Reuse,
    present: Collection[str],
) -> int:
    """Change only what changed in `out`, which holds the files `present`: new and
    different files, and removed ones.

    Changed files are first written to a staging folder, then each is renamed into place
    with the file it replaces moved aside; any failure puts every moved file back (and
    raises), so the site is either fully updated or exactly as it was.
    """
    produced: dict[str, bytes] = {}
    kept = {page.url for page in pages if page.kept}  # already in `out`, as they should be
    for page in pages:
        if not page.kept:
            produced[page.url] = (
                page.content.encode("utf-8") if isinstance(page.content, str) else page.content
            )
    for url in assets:
        produced[url] = assets[url].read_bytes()
    changed = sorted(url for url, data in produced.items() if reuse(url, data) is None)
    removed = sorted(set(present) - produced.keys() - kept)
    if not changed and not removed:
        return len(produced) + len(kept)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}-tmp-", dir=out.parent))
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    moved: list[tuple[str, bool, bool]] = []  # (url, old file moved aside, new file placed)
    try:
        for url in changed:
            (stage / url).parent.mkdir(parents=True, exist_ok=True)
            (stage / url).write_bytes(produced[url])
        for url in changed + removed:
            target = out / url
            had = target.is_file()
            if had:
                (aside / url).parent.mkdir(parents=True, exist_ok=True)
                target.rename(aside / url)
            moved.append((url, had, False))
            if url in produced:
                target.parent.mkdir(parents=True, exist_ok=True)
                (stage / url).rename(target)
                moved[-1] = (url, had, True)
    except OSError:
        for url, had, placed in reversed(moved):
            if placed:
                (out / url).unlink(missing_ok=True)
            if had:
                (aside / url).rename(out / url)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(aside, ignore_errors=True)
    for url in removed:  # a clean build has no folder that only removed files were in
        folder = (out / url).parent
        while folder != out and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    return len(produced) + len(kept)


def _swap(new: Path, out: Path) -> None:
    """Put `new` where `out` is; the old folder is removed only after the new one is in."""
    if not out.exists():
        new.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        new.rename(out)
    except OSError:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_site(
    pages: list[RenderedPage],
    assets: Mapping[str, Path],
    out: Path,
    protected: Iterable[Path] = (),
    reuse: Reuse | None = None,
    present: Collection[str] | None = None,
    stage: Path | None = None,
) -> WriteResult:
    """Write every page and asset into a temporary folder, then swap it in as `out`.

    `assets` maps output urls (e.g. "assets/style.css") to source files. `protected`
    lists paths the output may not contain (the content root, its entries/). `reuse`
    (from digest.cache) names files of the previous site to hard-link instead of writing.
    With `present` (the files of `out`, when the cache found it exactly as the last build
    left it) only the files that differ are replaced, each atomically, all or none (see
    `_update`). A `kept` page (digest.page_cache) is the file `out` already holds for its
    url. `stage` (from `new_stage`) is the temporary folder `staged` pages were already
    written into; it is used (or, on any problem, removed) instead of a new one.
    """
    problems = _check(pages, assets)
    ours = itertools.chain((page.url for page in pages), assets, present or ())
    guard = _guard_output(out, protected, ours)
    if guard:
        problems.append(guard)
    if problems:
        discard(stage)
        return WriteResult(0, problems)
    if present is not None and reuse is not None and out.is_dir() and stage is None:
        try:
            return WriteResult(_update(out, pages, assets, reuse, present), [], in_place=True)
        except OSError:
            pass  # every change was rolled back: write the whole site the safe way below
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        temporary = stage or Path(tempfile.mkdtemp(prefix=f".{out.name}-tmp-", dir=out.parent))
    except OSError as exc:
        return WriteResult(0, [error(str(out), 1, 1, "E406", f"cannot write the site: {exc}")])
    try:
        os.chmod(temporary, 0o755)  # mkdtemp makes it private; a served site is world-readable
        previous = out if out.is_dir() else None
        written = _fill(temporary, pages, assets, reuse, previous)
        _swap(temporary, out)
    except OSError as exc:
        shutil.rmtree(temporary, ignore_errors=True)
        return WriteResult(0, [error(str(out), 1, 1, "E406", f"cannot write the site: {exc}")])
    return WriteResult(written, [])
