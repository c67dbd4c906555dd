"""Build: runs the pipeline stages in order and gathers every diagnostic into one report.

config → load → validate here; organise → render → write are added by the build
command. Nothing is written unless every earlier stage succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from digest.config import load_config
from digest.diagnostics import Report
from digest.load import load_entries
from digest.models import IssueEntry, PaperEntry, SiteConfig
from digest.validate import validate_all


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
    loaded = load_entries(root / config.entries, root)
    content.report.extend(loaded.diagnostics)
    validated = validate_all(loaded.entries, loaded.files, config)
    content.report.extend(validated.diagnostics)
    content.papers, content.issues = validated.papers, validated.issues
    return content
