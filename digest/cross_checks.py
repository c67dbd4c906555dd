"""Cross checks: what no single entry file can tell, over every file's result.

Duplicate ids, issue folders without `_issue.yaml` or with a name that is no date, the
same paper entered twice (W103), cross-references to papers the build does not publish
(E205). Each problem points at the second occurrence and names the first. The per-file
results come from digest.validate; drafts' problems become warnings here when drafts
are not built.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from digest.diagnostics import Diagnostic, Severity, did_you_mean, error, warning
from digest.load import ISSUE_FILE
from digest.models import Issue, IssueEntry, PaperEntry
from digest.validate import FileResult
from digest.values import read_date

_ID_HINT = "a paper's id is the name of its file without .yaml, e.g. [[dpcache]] for dpcache.yaml"
_DRAFT_HINT = "publish its issue (draft: false), or build with --drafts"


@dataclass
class Validated:
    papers: list[PaperEntry] = field(default_factory=list)
    issues: list[IssueEntry] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    drafts: set[str] = field(default_factory=set)  # folders whose _issue.yaml says draft: true


def _folder_date(folder: str) -> date | None:
    try:
        return read_date(folder)
    except ValueError:
        return None


def combine(
    results: list[FileResult], files: list[tuple[str, str]], include_drafts: bool = True
) -> Validated:
    """The per-file results of every loaded entry plus the checks that span files.

    Results of files that failed to load are skipped here (their load error is reported
    by the loader); `files` still names them, so their folder counts as having an issue.
    Without `include_drafts`, the published issues' papers claim their ids before any
    draft's, so a draft that repeats an id is the one reported (see `excuse_drafts`).
    """
    result = Validated()
    result.drafts = {r.folder for r in results if r.loaded and r.kind == "issue" and r.draft}
    drafts_last = set() if include_drafts else result.drafts
    first_file_in: dict[str, str] = {}
    folders_with_issue: set[str] = set()
    for folder, shown in sorted(files, key=lambda pair: pair[1]):
        first_file_in.setdefault(folder, shown)
        if shown.endswith("/" + ISSUE_FILE):
            folders_with_issue.add(folder)
    for folder, shown in sorted(first_file_in.items()):
        try:
            read_date(folder)
        except ValueError as exc:
            # At the folder's _issue.yaml when it has one, else at its first file.
            issue_file = f"{shown.rsplit('/', 1)[0]}/{ISSUE_FILE}"
            result.diagnostics.append(
                error(
                    issue_file if folder in folders_with_issue else shown,
                    1,
                    1,
                    "E203",
                    f"issue folder '{folder}' {exc}",
                    hint="name each issue folder after its date, e.g. 2026-02-28",
                )
            )
            continue
        if folder not in folders_with_issue:
            result.diagnostics.append(
                error(
                    shown,
                    1,
                    1,
                    "E202",
                    f"issue folder '{folder}' has no {ISSUE_FILE}",
                    hint=f"create {shown.rsplit('/', 1)[0]}/{ISSUE_FILE} "
                    "with title, subject and intro",
                )
            )

    first_id: dict[str, str] = {}
    first_reference: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    loaded = (r for r in results if r.loaded)
    for checked in sorted(loaded, key=lambda r: (r.folder in drafts_last, r.shown)):
        result.diagnostics.extend(checked.diagnostics)
        if checked.folder not in dates:
            dates[checked.folder] = _folder_date(checked.folder)
        issue_date = dates[checked.folder]
        if checked.kind == "paper":
            if checked.stem in first_id:
                result.diagnostics.append(
                    error(
                        checked.shown,
                        1,
                        1,
                        "E201",
                        f"paper id '{checked.stem}' is already used",
                        hint=f"first used by {first_id[checked.stem]}; "
                        "ids are unique across all issues",
                    )
                )
                continue
            first_id[checked.stem] = checked.shown
        value = checked.value
        if value is None or issue_date is None:
            continue
        if isinstance(value, Issue):
            result.issues.append(IssueEntry(issue_date, value, checked.shown, checked.digest))
            continue
        if checked.references:
            result.diagnostics.extend(_repeated_paper(checked, first_reference))
        result.papers.append(
            PaperEntry(checked.stem, issue_date, value, checked.shown, checked.digest)
        )
    result.diagnostics.extend(_unpublished_references(results, files, drafts_last))
    return result


def _unpublished_references(
    results: list[FileResult], files: list[tuple[str, str]], unbuilt: set[str]
) -> list[Diagnostic]:
    """Each cross-reference to a paper the build does not publish: an id no entry file
    has (with a "did you mean"), or, from an issue that is built, a paper of one of the
    `unbuilt` (draft) folders. A file that cannot be read still holds its id."""
    folders_of: dict[str, set[str]] = {}
    for folder, shown in files:
        name = shown.rsplit("/", 1)[-1]
        if name != ISSUE_FILE and name.endswith(".yaml"):
            folders_of.setdefault(name.removesuffix(".yaml"), set()).add(folder)
    found: list[Diagnostic] = []
    for checked in results:
        for reference in checked.cross_references if checked.loaded else ():
            folders = folders_of.get(reference.id)
            where = (checked.shown, reference.line, reference.col, "E205")
            named = f"'{reference.field}': cross-reference to"
            if folders is None:
                hint = did_you_mean(reference.id, folders_of) or _ID_HINT
                found.append(error(*where, f"{named} an unknown paper '{reference.id}'", hint))
            elif checked.folder not in unbuilt and folders <= unbuilt:
                message = f"{named} '{reference.id}', a paper in a draft issue, which is not built"
                found.append(error(*where, message, _DRAFT_HINT))
    return found


def _repeated_paper(checked: FileResult, first_reference: dict[str, str]) -> list[Diagnostic]:
    """The same arXiv id or DOI in two entries is almost always a paper entered twice."""
    found: list[Diagnostic] = []
    for key, reference, line, col in checked.references:
        normalised = reference.lower()
        if key == "arxiv":  # without its version: "2401.12345v2" is "2401.12345"
            head, v, version = normalised.rpartition("v")
            if v and version.isdigit():
                normalised = head
        marker = f"{key}:{normalised}"
        if marker in first_reference:
            found.append(
                warning(
                    checked.shown,
                    line,
                    col,
                    "W103",
                    f"{key} '{reference}' is also in {first_reference[marker]}",
                    hint="is this paper entered twice?",
                )
            )
        else:
            first_reference[marker] = checked.shown
    return found


def excuse_drafts(
    diagnostics: list[Diagnostic], files: list[tuple[str, str]], drafts: set[str]
) -> list[Diagnostic]:
    """The problems of draft issues (their `_issue.yaml` and papers) as warnings: a build
    without --drafts leaves them out, so they must not stop it (they do under --strict).
    A draft is known by its `_issue.yaml` saying `draft: true`, even when the issue has
    other mistakes; one that cannot be read at all is not known to be a draft."""
    if not drafts:
        return diagnostics
    in_drafts = {shown for folder, shown in files if folder in drafts}
    return [
        replace(
            d,
            severity=Severity.WARNING,
            message=f"{d.message} (in a draft issue, which is not built)",
        )
        if d.severity is Severity.ERROR and d.path in in_drafts
        else d
        for d in diagnostics
    ]
