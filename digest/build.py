"""Build: config → load → validate → organise → render → write, one report for it all.

Nothing is written unless every earlier stage succeeded, and the new site is swapped
in whole (digest.write). With the cache, the store (digest.store) holds what the last
build left: a file's checked result is reused while the file is unchanged, and a page
is rendered again only when the key of what it shows changed.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from digest.config import misplaced_output
from digest.content import Content, load_content
from digest.diagnostics import Report
from digest.organise import organise
from digest.pages import PAGE_BUILDERS, PageBuilder
from digest.reader_outputs import READER_BUILDERS
from digest.render import Job, Renderer, run_jobs
from digest.site_record import SiteRecord, site_key, template_stamps
from digest.store import Store, open_store
from digest.template_set import load_templates
from digest.write import discard, new_stage, recover, stage_page, write_site
from digest.xrefs import reference_digest


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
    with collector_paused():
        if store is not None:
            return _build(root, out, drafts, strict, builders, store)
        store = open_store(root, enabled=cache)
        try:
            return _build(root, out, drafts, strict, builders, store)
        finally:
            store.close()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector does not run while a build does: a build makes
    millions of objects that live as long as it does and next to no cycles, and each
    collection would scan them all (5-10% of a build). It runs again after."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


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
    template_files = template_stamps(store, templates)
    stamps = {**content.stamps, **template_files}
    options = (str(drafts), os.environ.get("SOURCE_DATE_EPOCH", ""))
    key = site_key(config, options, template_files, reference_digest(library))
    renderer = Renderer(templates, library, store, key)
    chosen = builders if builders is not None else [*PAGE_BUILDERS, *READER_BUILDERS]
    jobs = [job for builder in chosen for job in builder(renderer.views)]
    jobs += [Job(url, None, "", path.read_bytes) for url, path in templates.assets.items()]
    record = SiteRecord(store, target, key)
    stage = new_stage(target, reusing=record.intact)
    each = partial(stage_page, stage) if stage is not None else None
    pages, problems = run_jobs(jobs, renderer, kept=record.kept, each=each)
    content.report.extend(problems)
    if content.report.failed(strict):
        discard(stage)
        return result
    result.pages, result.files = len(pages) - len(templates.assets), len(pages)
    if stage is None and record.unchanged(pages):
        result.ok = True  # the site on disk is exactly this build's: nothing to write
        store.commit(stamps, taken, store.outputs, {"site": key}, prune=True)
        return result
    protected = [root, root / config.entries, root / config.templates, root / "pyproject.toml"]
    written = write_site(pages, target, protected, record.reusable, stage)
    content.report.extend(written.diagnostics)
    result.ok = written.ok
    if written.ok:
        store.commit(stamps, taken, record.after(pages, written), {"site": key}, prune=True)
    return result
