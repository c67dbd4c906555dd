"""Build: runs the pipeline stages in order and gathers every diagnostic into one report.

`load_content` runs config → load → validate (what `digest check` needs); `run` goes on
with organise → render → write for `digest build`. Nothing is written unless every
earlier stage succeeded, and the write itself swaps the new site in atomically.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from digest.cache import (
    ENTRY_PREFIX,
    BuildCache,
    Settings,
    Stamp,
    State,
    compiled_templates_folder,
    open_cache,
    recorded_settings,
)
from digest.diagnostics import Diagnostic, Report
from digest.files import template_folders
from digest.hashing import tool_fingerprint

FEW_CHANGES = 3  # changed input files a rebuild renders in one process (see `_build`)

if TYPE_CHECKING:
    from digest.entry_cache import EntryCache, Stamps
    from digest.models import IssueEntry, PaperEntry, SiteConfig
    from digest.render import PageBuilder


@dataclass
class Content:
    """Everything `digest check` knows: the config, the valid entries and the report.

    `counts` is set instead of `papers` and `issues` when a no-change build skipped
    loading the entries altogether (see `run`); `config` is then None too, as when it
    could not be read: such a build takes the settings it needs from the cache.
    """

    root: Path
    config: SiteConfig | None
    papers: list[PaperEntry] = field(default_factory=list)
    issues: list[IssueEntry] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    counts: tuple[int, int] | None = None
    entry_cache: EntryCache | None = None  # its `save` is the caller's, with `defer_save`

    @property
    def paper_count(self) -> int:
        return self.counts[0] if self.counts is not None else len(self.papers)

    @property
    def issue_count(self) -> int:
        return self.counts[1] if self.counts is not None else len(self.issues)


def load_content(
    root: Path,
    *,
    cache: bool = False,
    stamps: Stamps | None = None,
    listing: tuple[Path, list[tuple[str, str]]] | None = None,
    defer_save: bool = False,
    analysing: bool = False,
    drafts: bool = False,
) -> Content:
    """Config, load and validate: every problem in every file, in one report.

    Without `drafts`, the errors of a draft issue (its `_issue.yaml` and its papers) are
    reported as warnings: the build leaves drafts out, so they do not stop it (unless
    under --strict). With `drafts`, they are errors like any other.

    With `cache`, each file's result is reused from `.digest-cache/` when the file did
    not change (digest.entry_cache), known by the build's `stamps` of its inputs when
    there are some; the content and report are the same either way. `listing` is the
    entry files a build stamped, with their folder (digest.cache's `open_cache`): used
    when the configuration names the same folder. With `defer_save`, the results are
    recorded when the caller saves `content.entry_cache`, not before returning. With
    `analysing` (a build), the Markdown of the entries checked is parsed as they are.
    """
    # Loading needs the configuration's model, the YAML parser and the checks: imported
    # only when it happens (a no-change build never loads).
    from digest.config import load_config
    from digest.entry_cache import EntryCache
    from digest.load import scan_entries
    from digest.validate import combine, excuse_drafts

    config, config_problems = load_config(root)
    content = Content(root, config)
    content.report.extend(config_problems)
    if config is None:
        return content
    content.report.levels = config.checks
    if config.base_url is None:  # a warning of `digest check` as of `digest build`
        from digest.permalinks import missing_base_url

        content.report.extend([missing_base_url(root)])
    entries = root / config.entries
    listed = listing[1] if listing is not None and listing[0] == entries else None
    scanned = scan_entries(entries, root, listed)
    jobs = [item for item in scanned.items if not isinstance(item, Diagnostic)]
    with collector_paused():
        entry_cache = content.entry_cache = EntryCache(root, config, enabled=cache)
        checked = iter(entry_cache.check(jobs, stamps, analysing=analysing))
        results = [
            item if isinstance(item, Diagnostic) else next(checked) for item in scanned.items
        ]
        if not defer_save:
            entry_cache.save()
        unloaded = [
            item if isinstance(item, Diagnostic) else item.diagnostics[0]
            for item in results
            if isinstance(item, Diagnostic) or not item.loaded
        ]
        validated = combine(
            [item for item in results if not isinstance(item, Diagnostic)],
            scanned.files,
            include_drafts=drafts,
        )
    found = unloaded + validated.diagnostics
    if not drafts:
        found = excuse_drafts(found, scanned.files, validated.drafts)
    content.report.extend(found)
    content.papers, content.issues = validated.papers, validated.issues
    return content


@contextmanager
def collector_paused() -> Iterator[None]:
    """Within this, Python's cyclic garbage collector does not run.

    A build makes millions of objects that live as long as it does (the library, the
    checked entries) or are plain strings, and next to no garbage cycles (at 10,000
    papers, some 23,000 objects of Jinja's, a few megabytes). Each collection still scans
    every young object, which cost 5-10% of the render; the few cycles are freed by a
    later full collection (in `digest serve`; the CLI simply exits). Nested uses leave
    turning it back on to the outermost."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            _to_oldest_generation()
            gc.enable()


def _to_oldest_generation() -> None:
    """Move every object into the collector's oldest generation without scanning it.

    Objects made while the collector is paused all wait in the youngest generation, and
    the first collection after it would scan them all (0.05 s after a rebuild at 10,000
    papers). Freezing, then unfreezing, moves them where only the rare full collection
    looks. What a caller froze before stays frozen (the caller unfreezes it)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    else:
        gc.freeze()


@dataclass
class BuildResult:
    """What `digest build` did: the content it read, every problem, and what it wrote."""

    content: Content
    out: Path | None  # None when the configuration could not be read
    pages: int = 0  # pages rendered and written (assets not counted)
    files: int = 0  # files written: pages plus assets
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
    builders: list[PageBuilder] | None = None,
    cache: bool = False,
) -> BuildResult:
    """Build the site of the content root `root` into `out` (default: the configured `out`).

    Every diagnostic lands in `result.report`. The site is written only when there are
    no errors (and, under `strict`, no warnings); otherwise the previous site stays.
    `builders` replaces the default page builders (`digest.render.PAGE_BUILDERS` plus
    `READER_BUILDERS`). Without `base_url` the loading warns (W120), as in `digest check`,
    and the build skips the pages that need absolute URLs. Without `drafts`, the errors of
    draft issues are warnings (see `load_content`). With `cache`, the build reuses
    what the last good one left in `.digest-cache/` (digest.cache) and its output is
    byte-identical to a clean build.
    """
    with collector_paused():  # its scans would cost 5-10% of the build
        options = f"drafts={drafts} strict={strict} epoch={os.environ.get('SOURCE_DATE_EPOCH')}"
        # With the cache, the inputs are stamped before they are read (a first build's
        # entries as they are read), so an entry edited while this build runs looks changed
        # to the next one. When nothing changed since the last build, that is all the
        # work: no entry is parsed, no renderer imported, and while the config file is
        # the one the last build read, not even the configuration is validated again.
        stamped: tuple[Settings, BuildCache] | None = None
        if cache and builders is None:
            settings = recorded_settings(root) or _settings(root)
            if settings is not None:
                early_target = out if out is not None else root / settings.out
                folders = template_folders(settings.templates, root)
                opened = open_cache(
                    root, settings, early_target, folders, options, defer_entries=True, early=True
                )
                state = opened.unchanged()
                if state is not None:
                    opened.refresh()
                    return _replayed(root, settings, early_target, state)
                stamped = (settings, opened)
        try:
            with _loaded(root, cache, stamped, drafts) as content:
                return _build(content, out, drafts, strict, builders, cache, stamped, options)
        finally:
            if stamped is not None:
                stamped[1].close()


def _settings(root: Path) -> Settings | None:
    """The settings of the configuration as it reads now (None when it is invalid)."""
    from digest.config import load_config

    config, _ = load_config(root)
    return Settings.of(config) if config is not None else None


@contextmanager
def _loaded(
    root: Path, cache: bool, stamped: tuple[Settings, BuildCache] | None, drafts: bool
) -> Iterator[Content]:
    """The content of a build whose inputs changed, its checked entries recorded on the
    way out: by then the render has usually saved them (a no-op here), beside the pages."""
    stamps = (stamped[1].inputs, stamped[1].now_ns) if stamped else None
    listing = stamped[1].listing if stamped else None
    content = load_content(
        root,
        cache=cache,
        stamps=stamps,
        listing=listing,
        defer_save=True,
        analysing=True,
        drafts=drafts,
    )
    # A first build's entries are stamped as they are read; a rebuild stamped them all
    # when it opened the cache, and has nothing to hand over.
    if stamped and stamped[1].deferred and content.entry_cache:
        records = content.entry_cache.records.items()
        stamped[1].add_stamps({f"{ENTRY_PREFIX}{shown}": record.stamp for shown, record in records})
    try:
        yield content
    finally:
        if content.entry_cache is not None:
            content.entry_cache.save()


def _build(
    content: Content,
    out: Path | None,
    drafts: bool,
    strict: bool,
    builders: list[PageBuilder] | None,
    cache: bool,
    stamped: tuple[Settings, BuildCache] | None,
    options: str,
) -> BuildResult:
    """`run` once the content is loaded: organise, render, write, record."""
    # Rendering needs Jinja, Markdown and the page builders: imported only when it happens.
    from digest.config import misplaced_output
    from digest.manifest import MANIFEST
    from digest.organise import organise
    from digest.page_cache import PageCache, site_fingerprint
    from digest.parallel import render_pages
    from digest.readers import READER_BUILDERS
    from digest.render import PAGE_BUILDERS
    from digest.template_set import load_templates
    from digest.write import discard, new_stage, recover, write_site

    root = content.root
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
    compiled = compiled_templates_folder(root, tool_fingerprint()) if cache else None
    templates, problems = load_templates(config, root, compiled)
    content.report.extend(problems)
    if templates is None:
        return result
    loaded = len(content.report.diagnostics)
    previous = None  # the cache, when asked for and the page set is the default one
    if cache and builders is None:
        settings = Settings.of(config)
        same_folders = stamped and stamped[1].folders == tuple(map(str, templates.folders))
        if stamped and stamped[0] == settings and same_folders:
            previous = stamped[1]  # found changed before loading
        else:  # the config or the template folders changed while loading: stamp them again
            previous = open_cache(root, settings, target, templates.folders, options)
            state = previous.unchanged()
            if state is not None:  # same inputs, options and tool; the site as it was left
                content.report.extend(state.diagnostics)
                result.pages, result.files, result.ok = state.pages, state.files, True
                return result
    chosen = builders if builders is not None else [*PAGE_BUILDERS, *READER_BUILDERS]
    seconds = previous.previous.seconds if previous else {}
    kept, site_key = None, ""  # pages whose inputs did not change (digest.page_cache)
    if previous is not None:
        site_key = site_fingerprint(
            previous.fingerprint, config.model_dump_json(), previous.inputs, options
        )
        outputs = previous.previous.outputs
        on_disk = {url: s.digest for url, s in outputs.items()} if previous.intact() else None
        kept = PageCache(previous.folder, previous.fingerprint, on_disk, previous.inputs, site_key)
    # A first build writes each page as soon as it is rendered, and so does any build
    # with no record of the files at `target` to reuse.
    reusing = previous is not None and bool(previous.previous.outputs)
    stage = new_stage(target, reusing)
    # After an edit or two, most pages are kept and the rest render faster in this
    # process than forking workers and gathering their results would take.
    serial = (
        previous is not None
        and kept is not None
        and kept.on_disk is not None
        and kept.same_site
        and previous.changed_inputs() <= FEW_CHANGES
    )
    beside = content.entry_cache.save if content.entry_cache else None
    pages, problems, seconds = render_pages(
        library, templates, chosen, seconds, kept, site_key, stage, serial=serial, beside=beside
    )
    content.report.extend(problems)
    if content.report.failed(strict):
        discard(stage)
        return result
    protected = [root, root / config.entries, root / config.templates, root / "pyproject.toml"]
    reuse = previous.reuse if previous else None
    present = previous.previous.outputs.keys() if previous and previous.intact() else None
    assets = templates.assets
    written = write_site(pages, assets, target, protected, reuse, present, stage)
    content.report.extend(written.diagnostics)
    result.pages = len(pages) if written.ok else 0
    result.files = written.written
    result.ok = written.ok
    if previous is not None and written.ok:
        outputs = previous.previous.outputs
        previous.written.update({p.url: outputs[p.url].digest for p in pages if p.kept})
        for page in pages:
            if page.stamp is not None:
                previous.written[page.url] = page.stamp.digest
                previous.stamped[page.url] = page.stamp
        previous.written[MANIFEST] = written.manifest_digest
        for url, (size, mtime_ns) in written.stamps.items():  # known without a stat
            if url in previous.written:
                previous.stamped[url] = Stamp(size, mtime_ns, previous.written[url])
        previous.save(
            result.pages,
            result.files,
            content.report.diagnostics[loaded:],
            seconds,
            content.report.diagnostics[:loaded],
            (content.paper_count, content.issue_count),
        )
        if kept is not None:
            kept.save(previous.written)
    return result


def _replayed(root: Path, settings: Settings, target: Path, state: State) -> BuildResult:
    """The last build's result, for a build in which no input, option or output changed."""
    content = Content(root, None, counts=state.counts)
    content.report.levels = dict(settings.checks)
    content.report.extend([*state.loaded, *state.diagnostics])
    return BuildResult(content, target, state.pages, state.files, ok=True)
