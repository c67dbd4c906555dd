"""Build: config → load → validate → organise → render → write, one report for it all.

Nothing is written unless every earlier stage succeeded, and the new site is swapped
in whole (digest.write). With the cache, the store (digest.store) holds what the last
build left: a file's checked result is reused while the file is unchanged, and a page
is rendered again only when the key of what it shows changed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from digest.config import misplaced_output
from digest.content import Content, load_content
from digest.diagnostics import Report
from digest.files import walk_files
from digest.hashing import combine, digest_bytes, tool_fingerprint
from digest.manifest import MANIFEST
from digest.organise import organise
from digest.pages import PAGE_BUILDERS, PageBuilder
from digest.reader_outputs import READER_BUILDERS
from digest.render import Job, RenderedPage, Renderer, run_jobs
from digest.store import Output, Stamp, Store, open_store
from digest.template_set import Templates, load_templates
from digest.write import WriteResult, discard, new_stage, recover, stage_page, write_site
from digest.xrefs import reference_digest

SKIP = frozenset({"__pycache__", ".git"})  # never templates


@dataclass
class BuildResult:
    """What `digest build` did: the content it read, every problem, and what it wrote."""

    content: Content
    out: Path | None  # None when the configuration could not be read
    pages: int = 0  # pages rendered or kept (assets not counted)
    files: int = 0  # files in the site: pages plus assets
    ok: bool = False

    @property
    def report(self) -> Report:
        return self.content.report


def run(
    root: Path,
    out: Path | None = None,
    *,
    drafts: bool = False,
    strict: bool = False,
    builders: Sequence[PageBuilder] | None = None,
    cache: bool = False,
    store: Store | None = None,
) -> BuildResult:
    """Build the site of the content root `root` into `out` (default: the configured `out`).

    Every diagnostic lands in `result.report`; the site is written only when there are
    no errors (and, under `strict`, no warnings). `builders` replaces the default jobs
    (digest.pages' and digest.reader_outputs'). Without `drafts`, the errors of draft
    issues are warnings. With `cache`, the content root's store is used; `store` is one
    the caller keeps open (`digest serve`). Either way the site is byte-identical.
    """
    if store is not None:
        return _build(root, out, drafts, strict, builders, store)
    store = open_store(root, enabled=cache)
    try:
        return _build(root, out, drafts, strict, builders, store)
    finally:
        store.close()


def _build(
    root: Path,
    out: Path | None,
    drafts: bool,
    strict: bool,
    builders: Sequence[PageBuilder] | None,
    store: Store,
) -> BuildResult:
    """`run`, with the store open."""
    taken = time.time_ns()  # before any input is stamped: a later edit is seen next time
    content = load_content(root, drafts=drafts, store=store)
    config = content.config
    if config is None:
        return BuildResult(content, out)
    target = out if out is not None else root / config.out
    result = BuildResult(content, target)
    if out is not None:  # the configured `out` was checked with the configuration
        content.report.extend(filter(None, [misplaced_output(root, config, out)]))
    if content.report.failed(strict):
        return result
    recover(target)  # a site a stopped build left missing is back, its leftovers gone
    library = organise(config, content.issues, content.papers, include_drafts=drafts)
    templates, problems = load_templates(config, root, store)
    content.report.extend(problems)
    if templates is None:
        return result
    template_files = _template_stamps(store, templates)
    stamps = {**content.stamps, **template_files}
    # What every page depends on: the tool, the settings, the options, each template,
    # and the names and issues of the papers cross-references name (digest.xrefs).
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    files = (f"{name}:{stamp.digest}" for name, stamp in sorted(template_files.items()))
    named = reference_digest(library)
    site_key = combine(
        tool_fingerprint(), config.model_dump_json(), str(drafts), epoch, named, *files
    )
    renderer = Renderer(templates, library, store, site_key)
    chosen = builders if builders is not None else [*PAGE_BUILDERS, *READER_BUILDERS]
    jobs = [job for builder in chosen for job in builder(renderer.views)]
    jobs += [Job(url, None, "", path.read_bytes) for url, path in templates.assets.items()]
    intact = store.intact(target)
    same_site = intact and store.meta.get("site") == site_key
    stage = new_stage(target, reusing=intact)
    pages, problems = run_jobs(
        jobs,
        renderer,
        kept=partial(_kept, store.outputs) if same_site else lambda url, key: False,
        each=partial(stage_page, stage) if stage is not None else None,
    )
    content.report.extend(problems)
    if content.report.failed(strict):
        discard(stage)
        return result
    result.pages, result.files = len(pages) - len(templates.assets), len(pages)
    if stage is None and {p.url for p in pages if p.kept} == set(store.outputs) - {MANIFEST}:
        result.ok = True  # the site on disk is exactly this build's: nothing to write
        store.commit(stamps, taken, store.outputs, {"site": site_key}, prune=True)
        return result
    protected = [root, root / config.entries, root / config.templates, root / "pyproject.toml"]
    reuse = partial(_reusable, store.outputs, target) if intact else None
    written = write_site(pages, {}, target, protected, reuse, None, stage)
    content.report.extend(written.diagnostics)
    result.ok = written.ok
    if written.ok:
        outputs = _outputs(pages, written, store, target)
        store.commit(stamps, taken, outputs, {"site": site_key}, prune=True)
    return result


def _template_stamps(store: Store, templates: Templates) -> dict[str, Stamp]:
    """Every file of the template folders (assets included), each named by its folder's
    place in the lookup order and its path in it."""
    found: dict[str, Stamp] = {}
    for number, folder in enumerate(templates.folders):
        for name, path in walk_files(folder, skip=SKIP):
            input_name = f"templates{number}:{name}"
            try:
                found[input_name] = store.stamp(input_name, path)[0]
            except OSError:  # reported where the template or asset is read
                found[input_name] = Stamp(-1, 0, "unreadable")
    return found


def _kept(outputs: dict[str, Output], url: str, key: str) -> bool:
    known = outputs.get(url)
    return known is not None and known.key == key


def _reusable(outputs: dict[str, Output], out: Path, url: str, data: bytes) -> Path | None:
    """The current site's file for `url` when it holds exactly `data` (the site is intact)."""
    known = outputs.get(url)
    if known is None or known.size != len(data) or known.digest != digest_bytes(data):
        return None
    return out / url


def _outputs(
    pages: list[RenderedPage], written: WriteResult, store: Store, out: Path
) -> dict[str, Output]:
    """What the site at `out` now holds, file by file, for the next build."""
    found: dict[str, Output] = {}
    sizes = dict(written.stamps)
    for page in pages:
        if page.kept:
            digest = store.outputs[page.url].digest
        elif page.stamp is not None:
            digest = page.stamp.digest
            sizes.setdefault(page.url, (page.stamp.size, page.stamp.mtime_ns))
        else:
            data = page.content if isinstance(page.content, bytes) else page.content.encode()
            digest = digest_bytes(data)
        found[page.url] = Output(page.key, digest, *_size_and_time(sizes, out, page.url))
    found[MANIFEST] = Output("", written.manifest_digest, *_size_and_time(sizes, out, MANIFEST))
    return found


def _size_and_time(known: dict[str, tuple[int, int]], out: Path, url: str) -> tuple[int, int]:
    if url in known:
        return known[url]
    try:
        found = os.stat(out / url)
    except OSError:
        return (-1, 0)  # gone already: the next build finds the site changed
    return (found.st_size, found.st_mtime_ns)
