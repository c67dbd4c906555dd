"""Entry cache: each entry file's checked result, kept so the next run checks only what changed.

`digest check` and `digest build` load and validate every entry file. Parsing YAML and
validating the models is most of that work, and it depends on nothing but the file's
bytes, the configuration and the tool itself. So `.digest-cache/entries` keeps, for each
file, its size, mtime and content hash and its `FileResult` (the model value, or the
diagnostics, plus the positions the cross-file checks need). Next time:

- a file whose size, mtime and ctime match, and whose times are older than the record by
  more than a clock tick (git's "racy" rule), reuses its result without being read (the
  ctime catches an edit that put the old mtime back);
- a file whose stat changed is read and hashed; the same bytes reuse the result;
- any other file is loaded and validated again.

In a build, which stamps every input before loading (digest.cache), a file whose
stamped hash is the recorded one reuses its result at once: the file is not looked at
twice. Any other stamped file is checked and recorded under its stamp, without another
stat or hash here. Its record then dates from when the build stamped it.

The records are kept in `SHARDS` files next to the index (digest.cache's `Shards`), so
a run that re-checked one file rewrites one shard, not every record.

The cross-file checks (duplicate ids, missing `_issue.yaml`, the same paper twice) run on
every result every time: they are cheap. The cache's key is the tool fingerprint plus the
whole configuration, so a changed config (a theme removed) re-validates every entry. The
file carries the same header and checksum as the build cache's files (digest.cache): one
that is corrupt, from another version or for another config is ignored, never trusted;
failing to write it (a read-only folder) just means no cache.

Files left to check are split over two processes (fork) when there are many and it is
safe; any failure there and they are checked in this process instead. The results are
the same either way, in the same order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from digest import markdown
from digest.cache import (
    CACHE_DIR,
    ENTRY_PREFIX,
    Shards,
    Stamp,
    can_fork,
    read_payload,
    read_shards,
    read_stamped,
    unchanged_since,
    write_payload,
    write_shards,
)
from digest.files import read_regular
from digest.hashing import combine, digest_bytes, tool_fingerprint
from digest.load import MAX_FILE_BYTES
from digest.models import PackedPaper, Paper, SiteConfig, markdown_texts, tuple_reduce
from digest.validate import FileResult, check_file

ENTRIES_FILE = "entries"
MIN_PARALLEL = 2_000  # files to check before a second process pays for its start-up
OWN_SHARE = 0.53  # of the files to check in two processes, the part this one checks


class Record(NamedTuple):
    stamp: Stamp  # size, times and content hash of the file when it was checked
    result: FileResult

    def __reduce__(self) -> tuple[Any, ...]:
        return tuple_reduce(self)


@dataclass(frozen=True)
class Stored:
    """The payload of the cache file."""

    key: str  # tool fingerprint + configuration
    recorded_ns: int  # when the files were stat'ed
    shards: list[str]  # the checksum of each shard of records (display path → record)


Job = tuple[str, str, str]  # (issue folder, path, display path)
Work = tuple[Job, bytes | None, bool]  # the file, its bytes if read, whether to stamp it
Checked = tuple[Stamp | None, FileResult]  # the stamp `_check_one` took, and the result
Stamps = tuple[Mapping[str, Stamp], int]  # a build's input stamps, and when it took them


class EntryCache:
    """One run's use of the entry cache: `check` every file, then `save`."""

    def __init__(self, root: Path, config: SiteConfig, *, enabled: bool = True):
        self.path = root / CACHE_DIR / ENTRIES_FILE
        self.root = root
        self.config = config
        self.enabled = enabled
        self.fingerprint = tool_fingerprint() if enabled else ""
        self.key = combine(self.fingerprint, config.model_dump_json())
        self.previous: dict[str, Record] = {}
        self.recorded_ns = 0
        self.shards = Shards()
        if enabled:
            stored = read_payload(self.path, self.fingerprint)
            if isinstance(stored, Stored) and stored.key == self.key:
                self.shards = read_shards(
                    self.path, self.fingerprint, getattr(stored, "shards", None)
                )
                self.previous, self.recorded_ns = self.shards.merged(), stored.recorded_ns
        self.now_ns = time.time_ns()
        self.records: dict[str, Record] = {}
        self.checked: list[str] = []  # the records made by checking a file in this run
        self.changed = not self.previous

    def check(
        self, jobs: Sequence[Job], stamps: Stamps | None = None, *, analysing: bool = False
    ) -> list[FileResult]:
        """The result of every file, in order: from the cache where it is still good.

        `stamps` are a build's stamps of its inputs (digest.cache's `BuildCache`), named
        "entry:<display path>", with the time they were taken: a file whose stamped hash
        is the recorded one reuses its result without another stat. With `analysing` (a
        build, which renders next), the process that checks a file also parses its
        Markdown (digest.models' `markdown_texts`), once for all the processes that will
        render it."""
        results: list[FileResult | None] = [None] * len(jobs)
        todo: list[int] = []
        stats: dict[int, tuple[Stamp, bytes | None]] = {}
        stamped, stamped_ns = stamps if stamps is not None and self.enabled else ({}, 0)
        if stamped:  # a record made from a stamp is as old as the stamp
            self.now_ns = min(self.now_ns, stamped_ns)
        for index, (_, path, shown) in enumerate(jobs):
            known = self.previous.get(shown) if self.enabled else None
            stamp = stamped.get(f"{ENTRY_PREFIX}{shown}")
            if known is not None and stamp is not None and stamp.digest == known.stamp.digest:
                results[index] = known.result
                if stamp == known.stamp:  # the same record: saving compares shards by identity
                    self.records[shown] = known
                else:
                    self.records[shown] = Record(stamp, known.result)
                    self.changed = True
                continue
            if stamp is not None and stamp.size >= 0:
                # The build has just stamped (read and hashed) this file: its stamp is the
                # record's, and the file is read once more only to be checked, by
                # whichever process checks it.
                stats[index] = (stamp, None)
                todo.append(index)
                continue
            if known is None:
                # Nothing to compare with: the process that checks the file stamps the
                # bytes it reads (`_check_one`).
                todo.append(index)
                continue
            try:
                stat = os.stat(path)
            except OSError:
                todo.append(index)  # the check reports it as unreadable
                continue
            if unchanged_since(known.stamp, stat, self.recorded_ns):
                results[index] = known.result
                self.records[shown] = known
                continue
            data = None
            digest = ""
            if stat.st_size <= MAX_FILE_BYTES:
                try:  # a regular file only: a pipe swapped in is never waited on
                    now, read = read_regular(path, MAX_FILE_BYTES)
                    data = read if now.st_size <= MAX_FILE_BYTES else None
                except OSError:
                    data = None
                digest = digest_bytes(data) if data is not None else ""
            stamp = Stamp(stat.st_size, stat.st_mtime_ns, digest, stat.st_ctime_ns)
            if digest and known.stamp.digest == digest:
                results[index] = known.result
                self.records[shown] = Record(stamp, known.result)
                self.changed = True
                continue
            stats[index] = (stamp, data)
            todo.append(index)
        work = [(jobs[i], *stats[i]) if i in stats else (jobs[i], None, None) for i in todo]
        checked = self._check_all(
            [(job, data, self.enabled and not stamp) for job, stamp, data in work], analysing
        )
        for index, (job, stamp, _), (taken, result) in zip(todo, work, checked, strict=True):
            results[index] = result
            stamp = stamp or taken
            if stamp is not None and stamp.digest:
                self.records[job[2]] = Record(stamp, result)
                self.checked.append(job[2])
            self.changed = True
        if len(self.records) != len(self.previous):
            self.changed = True
        return [result for result in results if result is not None]

    def _check_all(self, work: list[Work], analysing: bool) -> list[Checked]:
        if len(work) >= MIN_PARALLEL and can_fork():
            try:
                return _check_in_two(work, self.root, self.config, analysing)
            except Exception:  # noqa: BLE001 - any trouble in the worker: check here instead
                pass
        return _check_serially(work, self.root, self.config, analysing)

    def save(self) -> None:
        """Write the records of this run when anything changed since they were last
        saved (never fails a command)."""
        if not self.enabled or not self.changed:
            return
        # Only the records checked in this run hold models. The others were read back
        # with their papers packed and are saved as they are: the shards then know them
        # unchanged by identity.
        records = dict(self.records)
        for shown in self.checked:
            records[shown] = _packed(records[shown])
        shards = write_shards(self.path, self.fingerprint, records, self.shards)
        write_payload(self.path, self.fingerprint, Stored(self.key, self.now_ns, shards))
        self.changed = False


def _packed(record: Record) -> Record:
    """The record as it is stored: its paper packed (digest.models' `PackedPaper`)."""
    value = record.result.value
    if not isinstance(value, Paper):
        return record
    return Record(record.stamp, record.result._replace(value=PackedPaper.of(value)))


def _check_one(work: Work, root: Path, config: SiteConfig) -> Checked:
    """Check one file (its bytes, when already read); with `stamping`, read and stamp it
    first, so the stamp is of exactly the bytes checked."""
    (folder, path, _), data, stamping = work
    stamp = None
    if stamping:
        with suppress(OSError):  # the check reports it as unreadable
            stamp, data = read_stamped(path)
    return stamp, check_file(path, root, folder, config, data)


def _parsed(checked: list[Checked]) -> dict[str, markdown.Analysed]:
    """The checked entries' Markdown, parsed (into this process's memo too)."""
    return markdown.analysed(text for _, found in checked for text in markdown_texts(found.value))


def _check_serially(
    work: list[Work], root: Path, config: SiteConfig, analysing: bool = False
) -> list[Checked]:
    checked = [_check_one(item, root, config) for item in work]
    if analysing:
        _parsed(checked)
    return checked


def _check_half(
    work: list[Work], root: Path, config: SiteConfig, analysing: bool
) -> tuple[list[Checked], dict[str, markdown.Analysed]]:
    """`_check_serially` in a worker, with its entries' Markdown parsed, to hand back."""
    checked = _check_serially(work, root, config)
    return checked, _parsed(checked) if analysing else {}


def _check_in_two(
    work: list[Work], root: Path, config: SiteConfig, analysing: bool
) -> list[Checked]:
    """Check the second part in a forked worker while this process checks the first.

    The worker's Markdown parses come back with its results (0.05 s for 5,000 summaries,
    against 0.17 s to parse them again), so rendering, which forks from this process,
    parses no text twice. Its part is the smaller (`OWN_SHARE`): once it is checked, it
    is still to be pickled, sent and unpickled (20 MB, 0.2 s at 10,000 papers)."""
    import multiprocessing  # only to fork: a rebuild after an edit or two checks in-process

    half = int(len(work) * OWN_SHARE)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        later = pool.apply_async(_check_half, (work[half:], root, config, analysing))
        first = _check_serially(work[:half], root, config, analysing)
        second, parsed = later.get(timeout=600)
    markdown.remember(parsed)
    return first + second
