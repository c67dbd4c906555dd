"""Content: config → load → validate, what `digest check` needs and `digest build` starts with.

Every problem in every file lands in one report. Each entry file's result comes from
the store when the file did not change (digest.entry_results).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from digest.config import load_config
from digest.cross_checks import combine, excuse_drafts
from digest.diagnostics import Diagnostic, Report
from digest.entry_results import check_entries
from digest.load import scan_entries
from digest.models import IssueEntry, PaperEntry, SiteConfig
from digest.permalinks import missing_base_url
from digest.store import Stamp, Store, open_store


@dataclass
class Content:
    """Everything `digest check` knows: the config, the valid entries and the report, and
    the stamps of the entry files they were read from."""

    root: Path
    config: SiteConfig | None
    papers: list[PaperEntry] = field(default_factory=list)
    issues: list[IssueEntry] = field(default_factory=list)
    report: Report = field(default_factory=Report)
    stamps: dict[str, Stamp] = field(default_factory=dict)


def load_content(
    root: Path, *, cache: bool = False, drafts: bool = False, store: Store | None = None
) -> Content:
    """Config, load and validate: every problem in every file, in one report.

    Without `drafts`, the errors of a draft issue (its `_issue.yaml` and its papers) are
    reported as warnings: the build leaves drafts out, so they do not stop it (unless
    under --strict). With `drafts`, they are errors like any other. With `cache`, the
    content root's store is used and the results recorded in it; `store` is one the
    caller opened (a build, `digest serve`) and commits itself.
    """
    config, config_problems = load_config(root)
    content = Content(root, config)
    content.report.extend(config_problems)
    if config is None:
        return content
    content.report.levels = config.checks
    if config.base_url is None:  # a warning of `digest check` as of `digest build`
        content.report.extend([missing_base_url(root)])
    own = store is None
    if store is None:
        store = open_store(root, enabled=cache)
    taken = time.time_ns()  # before any stamp: an edit from now on is seen next time
    scanned = scan_entries(root / config.entries, root)
    jobs = [item for item in scanned.items if not isinstance(item, Diagnostic)]
    results, content.stamps = check_entries(jobs, root, config, store)
    if own:  # `digest check`: the site's outputs and every object are kept
        store.commit(content.stamps, taken)
        store.close()
    checked = iter(results)
    merged = [item if isinstance(item, Diagnostic) else next(checked) for item in scanned.items]
    unloaded = [
        item if isinstance(item, Diagnostic) else item.diagnostics[0]
        for item in merged
        if isinstance(item, Diagnostic) or not item.loaded
    ]
    validated = combine(
        [item for item in merged if not isinstance(item, Diagnostic)],
        scanned.files,
        include_drafts=drafts,
    )
    found = unloaded + validated.diagnostics
    if not drafts:
        found = excuse_drafts(found, scanned.files, validated.drafts)
    content.report.extend(found)
    content.papers, content.issues = validated.papers, validated.issues
    return content
