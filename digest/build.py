"""Build: runs the pipeline stages in order and gathers every diagnostic into one report.

`load_content` runs config → load → validate (what `digest check` needs); `run` goes on
with organise → render → write for `digest build`. Nothing is written unless every
earlier stage succeeded, and the write itself swaps the new site in atomically.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from digest.cache import open_cache
from digest.config import load_config
from digest.diagnostics import Report
from digest.load import load_entries
from digest.models import IssueEntry, PaperEntry, SiteConfig
from digest.organise import organise
from digest.parallel import render_pages
from digest.permalinks import missing_base_url
from digest.readers import READER_BUILDERS
from digest.render import PAGE_BUILDERS, PageBuilder, load_templates
from digest.validate import validate_all
from digest.write import write_site


@dataclass
class Content:
    """Everything `digest check` knows: the config, the valid entries and the report."""

    root: Path
    config: SiteConfig | None
    papers: list[PaperEntry] = field(default_factory=list)
    issues: list[IssueEntry] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def load_content(root: Path) -> Content:
    """Config, load and validate: every problem in every file, in one report."""
    config, config_problems = load_config(root)
    content = Content(root, config)
    content.report.extend(config_problems)
    if config is None:
        return content
    content.report.levels = config.checks
    loaded = load_entries(root / config.entries, root)
    content.report.extend(loaded.diagnostics)
    validated = validate_all(loaded.entries, loaded.files, config)
    content.report.extend(validated.diagnostics)
    content.papers, content.issues = validated.papers, validated.issues
    return content


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
    `READER_BUILDERS`). Without `base_url` the build warns (W120) and skips the pages
    that need absolute URLs. With `cache`, the build reuses what the last good one left in
    `.digest-cache/` (digest.cache) and its output is byte-identical to a clean build.
    """
    content = load_content(root)
    config = content.config
    if config is None:
        return BuildResult(content, out)
    target = out if out is not None else root / config.out
    result = BuildResult(content, target)
    if config.base_url is None:
        content.report.extend([missing_base_url(root)])
    if content.report.failed(strict):
        return result
    library = organise(config, content.issues, content.papers, include_drafts=drafts)
    templates, problems = load_templates(config, root)
    content.report.extend(problems)
    if templates is None:
        return result
    loaded = len(content.report.diagnostics)
    previous = None  # the cache, when asked for and the page set is the default one
    if cache and builders is None:
        options = f"drafts={drafts} strict={strict} epoch={os.environ.get('SOURCE_DATE_EPOCH')}"
        previous = open_cache(root, config, target, templates.folders, options)
        state = previous.unchanged()
        if state is not None:  # same inputs, options and tool; the site as it was left
            content.report.extend(state.diagnostics)
            result.pages, result.files, result.ok = state.pages, state.files, True
            return result
    chosen = builders if builders is not None else [*PAGE_BUILDERS, *READER_BUILDERS]
    markdown = previous.markdown if previous else None
    seconds = previous.previous.seconds if previous else {}
    pages, problems, seconds = render_pages(library, templates, chosen, markdown, seconds)
    content.report.extend(problems)
    if content.report.failed(strict):
        return result
    protected = [root, root / config.entries, root / config.templates, root / "pyproject.toml"]
    reuse = previous.reuse if previous else None
    in_place = previous.intact() if previous else False
    written = write_site(pages, templates.asset_files(), target, protected, reuse, in_place)
    content.report.extend(written.diagnostics)
    result.pages = len(pages) if written.ok else 0
    result.files = written.written
    result.ok = written.ok
    if previous is not None and written.ok:
        previous.save(result.pages, result.files, content.report.diagnostics[loaded:], seconds)
    return result
