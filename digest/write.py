"""Write: `RenderedPage` values (pages and the template assets) → the output folder, atomically.

The new site is made whole in a folder beside the output (same parent, so no rename
crosses a file system), then swapped in with one atomic exchange (digest.swap): a reader
sees the old site or the new one, never a mix, whether the build succeeds, fails or is
stopped by any signal. Any failure before the swap leaves the previous site as it was.

That folder is, when it can be, the spare: the site before the current one, kept beside
it after the last swap (`.site.digest-spare`). Only the files that differ are replaced
in it, and the files the new site shares with the current one are hard links to them,
so a rebuild after a small edit costs what the edit changes, not what the site holds.
Otherwise (a first build, no cache, no spare) the folder is made new: pages are written
as they are rendered (`new_stage`, `stage_page`), unchanged files hard-linked from the
current site (so they keep their mtime), and the previous site becomes the spare.
`digest serve` makes the spare ahead, while nothing changes (`make_spare`).

The manifest (digest.manifest) is written last into the new folder: it marks it complete
and records what digest may replace next time.

Output is deterministic: files are written in sorted order, text as UTF-8
with "\\n" line ends, and nothing records the time of the build.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from digest import swap
from digest.diagnostics import Diagnostic, error
from digest.files import BINARY
from digest.hashing import digest_bytes
from digest.manifest import MANIFEST, Guarded, guard, manifest_text, read_manifest
from digest.render import RenderedPage
from digest.store import Stamp


@dataclass(frozen=True)
class WriteResult:
    written: int  # files written: pages and assets
    diagnostics: list[Diagnostic]
    # (size, mtime_ns) of the files whose stamp the write knows without looking again,
    # the manifest's among them, and the manifest's content hash
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)
    manifest_digest: str = ""

    @property
    def ok(self) -> bool:
        return not self.diagnostics


def unsafe_url(url: str) -> str | None:
    """Why `url` may not name a file inside the output folder, or None when it may."""
    if not url or url.endswith("/"):
        return "it does not name a file"
    if "\\" in url or "\x00" in url or ":" in url:
        return "it contains a backslash, a colon or a NUL character"
    if not url.isprintable():  # a line end would break the manifest, one line per file
        return "it contains a control character"
    if url.startswith("/"):
        return "it is an absolute path"
    parts = url.split("/")  # each test below is one pass in C: this runs for every page
    if "" in parts or "." in parts or ".." in parts:
        return "it contains an empty, '.' or '..' segment"
    if url == MANIFEST:
        return "digest keeps its manifest there"
    return None


def _check(pages: Iterable[RenderedPage]) -> list[Diagnostic]:
    problems = []
    seen: set[str] = set()
    for url in (page.url for page in pages):
        reason = unsafe_url(url)
        if reason:
            problems.append(error(url, 1, 1, "E404", f"refusing to write '{url}': {reason}"))
        elif url.casefold() in seen:
            problems.append(error(url, 1, 1, "E403", f"two files would be written to {url}"))
        seen.add(url.casefold())
    return problems


def recover(out: Path) -> None:
    """Before a build: put back a site a stopped build left missing, remove its leftovers."""
    swap.recover(out)


def new_stage(out: Path, reusing: bool = True) -> Path | None:
    """A fresh folder beside `out` to render a whole new site into, page by page, or None
    when `out` already exists and `reusing` (its unchanged files are then reused; see
    `write_site`). A build that knows nothing of the site at `out` (no cache, or one
    from another version of digest) reuses nothing and stages as a first build does."""
    if reusing and out.exists():
        return None
    try:
        return _fresh(out)
    except OSError:
        return None


def _fresh(out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=swap.stage_prefix(out), dir=out.parent))
    swap.hold(stage)  # no other build takes it for a leftover while this one writes it
    os.chmod(stage, 0o755)  # mkdtemp makes it private; a served site is world-readable
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
    stamp = Stamp(len(data), modified_ns, digest_bytes(data))
    return RenderedPage(page.url, b"", staged=True, key=page.key, stamp=stamp)


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
    of its output then needs no second look at the file: digest.store)."""
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
        swap.release(stage)
        shutil.rmtree(stage, ignore_errors=True)


Reuse = Callable[[str, bytes], Path | None]
"""(url, new bytes) → a file of the previous site holding exactly those bytes, or None."""


def _bytes(page: RenderedPage) -> bytes:
    return page.content.encode("utf-8") if isinstance(page.content, str) else page.content


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
    reuse: Reuse | None = None,
    previous: Path | None = None,
) -> None:
    """Write everything into the new `folder`; a kept page is linked (or copied) from
    `previous`."""
    for page in sorted(pages, key=lambda p: p.url):
        if page.staged:  # already written into `folder` while rendering
            continue
        path = folder / page.url
        path.parent.mkdir(parents=True, exist_ok=True)
        if not page.kept:
            _put(path, page.url, _bytes(page), reuse)
            continue
        if previous is None:
            raise OSError(f"no previous site to keep {page.url} from")
        try:
            os.link(previous / page.url, path)
        except OSError:
            shutil.copy2(previous / page.url, path)  # keeps the mtime the cache knows


def _refresh(
    spare: str,
    listed: Collection[str],
    pages: list[RenderedPage],
    reuse: Reuse,
    out: str,
) -> dict[str, tuple[int, int]]:
    """Make the folder `spare`, which holds the files `listed` (an earlier site), hold
    the new site, touching only what differs; returns the (size, mtime_ns) of each file.

    A file whose bytes are those of the current site's (`out`) must be that very file (a
    hard link): it is left alone when it is, else linked. Other files are written new.
    No file is ever written into: one of the spare's may be a file of the current site.
    """
    same: list[str] = []  # urls whose file in `out` holds the new bytes
    new: dict[str, bytes] = {}
    for page in pages:
        if page.kept:
            same.append(page.url)
            continue
        data = _bytes(page)
        if reuse(page.url, data) is not None:
            same.append(page.url)
        else:
            new[page.url] = data
    emptied: set[str] = set()

    def drop(url: str) -> None:
        path = f"{spare}/{url}"
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError:  # a folder where the new site has a file
            if not os.path.isdir(path) or os.path.islink(path):
                raise
            shutil.rmtree(path)
        emptied.add(url.rpartition("/")[0])

    wanted = {*same, *new}
    for url in listed:
        if url not in wanted:
            drop(url)
    stamps: dict[str, tuple[int, int]] = {}
    linked: list[tuple[str, os.stat_result]] = []
    for url in same:
        source = os.stat(f"{out}/{url}")
        try:
            here = os.lstat(f"{spare}/{url}")
        except OSError:
            here = None
        if here is not None and (here.st_ino, here.st_dev) == (source.st_ino, source.st_dev):
            stamps[url] = (source.st_size, source.st_mtime_ns)
            continue
        if here is not None:
            drop(url)
        linked.append((url, source))
    for url in new:
        if os.path.lexists(f"{spare}/{url}"):
            drop(url)
    for folder in sorted(emptied, key=len, reverse=True):  # a clean build has no empty folder
        while folder:
            try:
                os.rmdir(f"{spare}/{folder}")
            except OSError:
                break
            folder = folder.rpartition("/")[0]
    for url, source in linked:
        path = f"{spare}/{url}"
        _make_folder(path.rpartition("/")[0])
        try:
            os.link(f"{out}/{url}", path)
        except OSError:
            shutil.copy2(f"{out}/{url}", path)
        stamps[url] = (source.st_size, source.st_mtime_ns)
    for url in sorted(new):
        path = f"{spare}/{url}"
        _make_folder(path.rpartition("/")[0])
        stamps[url] = (len(new[url]), _write_new(path, new[url]))
    return stamps


def _spare_files(spare: Path) -> set[str] | None:
    """What the spare holds, from its manifest; None when there is no usable spare."""
    if spare.is_symlink() or not spare.is_dir():
        return None
    return read_manifest(spare)


def write_site(
    pages: list[RenderedPage],
    out: Path,
    protected: Iterable[Path] = (),
    reuse: Reuse | None = None,
    stage: Path | None = None,
) -> WriteResult:
    """Make the new site whole beside `out`, then swap it in as `out`.

    `pages` are every file of the site, the template assets among them. `protected`
    lists paths the output may not contain (the content root, its entries/). `reuse`
    (digest.build) names files of the previous site to hard-link instead of writing;
    with it, the spare is brought up to date instead of writing a whole new folder. A
    `kept` page (digest.render) is the file `out` already holds for its url. `stage`
    (from `new_stage`) is the temporary folder `staged` pages were already written
    into; it is used (or, on any problem, removed) instead of a new one.
    """
    problems = _check(pages)
    guarded = guard(out, protected)
    if guarded.refusal:
        problems.append(guarded.refusal)
    if problems:
        discard(stage)
        return WriteResult(0, problems)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with swap.locked(out):
            return _write(pages, out, reuse, stage, guarded)
    except OSError as exc:
        return WriteResult(0, [error(str(out), 1, 1, "E406", f"cannot write the site: {exc}")])


def _write(
    pages: list[RenderedPage],
    out: Path,
    reuse: Reuse | None,
    stage: Path | None,
    guarded: Guarded,
) -> WriteResult:
    """`write_site` once the output may be replaced, with the folders beside it locked."""
    swap.recover(out, lock=False)  # under this lock: `out` is back, no old site beside it
    spare = swap.spare_path(out)
    stamps: dict[str, tuple[int, int]] = {}
    listed = _spare_files(spare) if stage is None and reuse and guarded.manifest else None
    fresh = stage is None
    try:
        if listed is not None and out.is_dir():
            os.unlink(spare / MANIFEST)  # from here on, the spare is no complete site
            try:
                assert reuse is not None
                stamps = _refresh(str(spare), listed, pages, reuse, str(out))
                stage, fresh = spare, False
            except OSError:
                swap.remove(spare)
        if stage is None:
            stage = _fresh(out)
        if stage != spare:
            _fill(stage, pages, reuse, out if out.is_dir() else None)
        data = manifest_text([page.url for page in pages])
        stamps[MANIFEST] = (len(data), _write_new(stage / MANIFEST, data))  # written last
        if not os.path.lexists(out):
            stage.rename(out)
            swap.release(stage)
            return WriteResult(len(pages), [], stamps, digest_bytes(data))
        swap.exchange(stage, out)  # `stage` now holds the previous site
    except BaseException:
        if stage is not None and (fresh or stage != spare):
            discard(stage)
        raise
    swap.release(stage)
    _keep_as_spare(stage, spare, guarded)
    return WriteResult(len(pages), [], stamps, digest_bytes(data))


def make_spare(out: Path, abandon: threading.Event) -> bool:
    """Make the spare of the site at `out` when it has none, as `digest serve` does while
    nothing changes: a copy of the site in hard links (one per file, no content copied),
    so that the next rebuild replaces only the files that differ instead of linking the
    whole site into a new folder itself. Gives up as soon as `abandon` is set (a save
    came in; the rebuild then makes its folder as usual). True once the spare is there."""
    spare = swap.spare_path(out)
    listed = read_manifest(out)
    if listed is None or _spare_files(spare) is not None:
        return False
    stage: Path | None = None
    try:
        stage = _fresh(out)
        made = _link_all(out, stage, sorted(listed), abandon)
        with swap.locked(out):
            made = made and read_manifest(out) == listed and _spare_files(spare) is None
            if made:  # the site did not change meanwhile: complete the spare
                os.link(out / MANIFEST, stage / MANIFEST)
                swap.remove(spare)  # what a stopped build left of one
                stage.rename(spare)
    except OSError:
        made = False
    if made and stage is not None:
        swap.release(stage)
    else:
        discard(stage)
    return made


def _link_all(out: Path, stage: Path, urls: list[str], abandon: threading.Event) -> bool:
    for url in urls:
        if abandon.is_set():
            return False
        path = f"{stage}/{url}"
        _make_folder(path.rpartition("/")[0])
        os.link(f"{out}/{url}", path)
    return True


def _keep_as_spare(previous: Path, spare: Path, guarded: Guarded) -> None:
    """After the swap: the previous site, now at `previous`, becomes the spare when its
    manifest says what it holds; otherwise it is deleted."""
    with suppress(OSError):
        if guarded.manifest:
            for url in guarded.extras:  # a file browser's .DS_Store: no part of the site
                with suppress(OSError):
                    os.unlink(previous / url)
            if previous != spare:
                swap.remove(spare)
                previous.rename(spare)
            return
    swap.remove(previous)
