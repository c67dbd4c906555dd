"""Entry results: each entry file's checked result, from the store or checked now.

Loading and validating an entry depends on nothing but its bytes, its path and the
configuration, so the store (digest.store) keeps each `FileResult` under exactly that
key. A file is stamped first (read and hashed only when its size or times changed) and
checked only when no result is stored for what it holds now. The stamp is of the very
bytes that are checked, so an edit made while a build runs is seen by the next one.

Many files to check are shared out over worker processes (digest.pool). The
cross-file checks (duplicate ids, missing `_issue.yaml`, the same paper twice) run on
every result every time, in digest.validate: they are cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from digest.hashing import combine
from digest.load import MAX_FILE_BYTES
from digest.models import PackedPaper, Paper, SiteConfig
from digest.pool import map_forked, worker_count
from digest.store import Stamp, Store
from digest.validate import FileResult, check_file

ENTRY_PREFIX = "entry:"  # an entry file's input name: "entry:<path from the content root>"
MIN_PARALLEL = 1_000  # files to check before a second process pays for its start-up

Job = tuple[str, str, str]  # (issue folder, path, display path), from digest.load
Work = tuple[Job, bytes | None]  # a file to check, with its bytes when already read


def check_entries(
    jobs: Sequence[Job], root: Path, config: SiteConfig, store: Store
) -> tuple[list[FileResult], dict[str, Stamp]]:
    """The result of every file in order, and the stamps of those that could be read."""
    settings = combine("entries", config.model_dump_json())
    results: list[FileResult | None] = [None] * len(jobs)
    stamps: dict[str, Stamp] = {}
    keys: list[str] = []  # each file's key, "" for one that cannot be read
    read: list[bytes | None] = []
    for job in jobs:
        name = ENTRY_PREFIX + job[2]
        try:
            stamp, data = store.stamp(name, job[1], MAX_FILE_BYTES)
        except OSError:  # the check says why it cannot be read
            keys.append("")
            read.append(None)
            continue
        stamps[name] = stamp
        keys.append(combine(settings, job[2], str(stamp.size), stamp.digest))
        read.append(data if data and stamp.size <= MAX_FILE_BYTES else None)
    stored = store.values([key for key in keys if key])
    todo: list[tuple[int, str]] = []  # (index, key) of the files to check now
    work: list[Work] = []
    for index, (job, key, data) in enumerate(zip(jobs, keys, read, strict=True)):
        found = stored.get(key)
        if isinstance(found, FileResult):
            results[index] = found
        else:
            todo.append((index, key))
            work.append((job, data))
    workers = worker_count(len(work), MIN_PARALLEL)
    shares = map_forked(lambda share: _check_share(share, root, config), work, workers)
    for number, share in enumerate(shares):
        for (index, key), result in zip(todo[number::workers], share, strict=True):
            if key:
                result = result._replace(digest=key)
                store.keep(key, _packed(result))
            results[index] = result
    return [result for result in results if result is not None], stamps


def _check_share(work: Sequence[Work], root: Path, config: SiteConfig) -> list[FileResult]:
    return [check_file(job[1], root, job[0], config, data) for job, data in work]


def _packed(result: FileResult) -> FileResult:
    """The result as it is stored: its paper packed (digest.models' `PackedPaper`), so a
    rebuild unpacks only the models it shows."""
    value = result.value
    if not isinstance(value, Paper):
        return result
    return result._replace(value=PackedPaper.of(value))
