"""Cache: what one build leaves for the next, so a rebuild only does what a change needs.

A successful `digest build` records, under the content root's `.digest-cache/`:

- `state`: the content hash of every input (each entry file, the config, every template
  and asset of the content root's templates/ and of the default theme), a fingerprint
  of the tool itself (its version and the size and mtime of each of its modules), the
  build options, and the size, mtime and hash of every file it wrote (and the times of
  every output folder, so the next build need not list a folder whose times did not
  change: adding, removing or renaming a file in it would have changed them).

Beside it, digest.entry_cache keeps each entry file's checked result and
digest.page_cache each page's key, per-paper pieces and topic-page cards.

The next build uses the state two ways:

1. Nothing changed (same inputs, options and tool, and the output folder exactly as it
   was left): loading, rendering and writing are skipped altogether.
2. Only the pages whose inputs changed are rendered (digest.page_cache); the
   new site is made whole beside the output (digest.write), and a file whose bytes did
   not change is the previous site's, hard-linked, so its mtime (and inode) stay as
   they were.

Everything else is regenerated from the inputs, each shortcut keyed by exactly what
determines its result, so an incremental build is byte-identical to a clean one
(tests/test_incremental.py checks this on random edit sequences).

Each cache file starts with a header (magic, format, the tool fingerprint) and a
checksum of its payload (`payload_checksum`). A file that is truncated, corrupt, from
another version of the tool or otherwise unreadable is ignored, never trusted: the
build just does the work. Hashing an input is skipped only when its size and mtime
match the recorded ones and the mtime is older than the record by more than a clock
tick (git's "racy" rule).

The cache folder is digest's own: a `.digest-cache` that is a link (wherever it leads)
or not a folder is never read or written through; the command runs without the cache
and says so in one line (`usable_folder`). Cache files are read only when they are
regular files (not links, pipes or devices), and inputs are stamped only when they
are regular files (digest.files' `read_regular`): nothing here can block or read
without end.
"""

from __future__ import annotations

import gc
import os
import pickle
import shutil
import signal
import stat as stat_module
import sys
import threading
import time
import zlib
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from digest.diagnostics import Diagnostic
from digest.files import (
    CONFIG_FILE,
    entry_paths,
    printable,
    read_regular,
    walk_files,
    write_atomically,
)
from digest.hashing import combine, digest_bytes, tool_fingerprint

if TYPE_CHECKING:  # a no-change build never imports the configuration's model (`Settings`)
    from digest.models import SiteConfig

CACHE_DIR = ".digest-cache"
STATE_FILE = "state"
MAGIC = b"digest-cache\n"
FORMAT = 2  # 2: CRC-32 checksums
RACY_SECONDS = 2.0  # an mtime this close to when it was recorded is re-hashed next time
SKIP = frozenset({"__pycache__", ".git"})
SHARDS = 32  # files per sharded store (see `Shards`)
WORKERS_VARIABLE = "DIGEST_WORKERS"  # "1": never fork (digest.parallel, digest.entry_cache, here)
ENTRY_PREFIX = "entry:"  # an entry file's input name: "entry:<path from the content root>"
CONFIG_INPUT = "config"  # the input name of the content root's pyproject.toml
TEMPLATE_PREFIX = "templates"  # a template file's: "templates<folder number>:<its path in it>"


def payload_checksum(payload: bytes | memoryview) -> str:
    """What a cache file's header says of its payload, to catch a damaged or half-written
    file: a CRC-32 and the length. A checksum, not a content key (those are digest.hashing's):
    a build reads and writes some 40 MB of cache at 10,000 papers, and CRC-32 is twice as
    fast as SHA-1."""
    return f"{zlib.crc32(payload):08x}-{len(payload):x}"


def can_fork() -> bool:
    """True when work may go to a forked process: two cores or more, fork available,
    no other thread running (forking a threaded process can deadlock the child), and
    `DIGEST_WORKERS` is not "1"."""
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    if setting == "1" or (os.cpu_count() or 1) < 2:
        return False
    if threading.active_count() > 1:
        return False
    # What offers multiprocessing's "fork" start method, without importing multiprocessing:
    # 6 ms of a 0.25 s no-change build, which forks with os.fork.
    return hasattr(os, "fork")


def compiled_templates_folder(root: Path, fingerprint: str) -> Path | None:
    """Where this version of digest keeps compiled templates (Jinja's bytecode, which
    depends on digest's Jinja settings), made if needed; other versions' folders are
    removed. None when it cannot be made: templates are then compiled every time."""
    folder = root / CACHE_DIR
    mine = folder / f"templates-{fingerprint[:16]}"
    if not usable_folder(folder):
        return None
    try:
        mine.mkdir(parents=True, exist_ok=True)
        if not stat_module.S_ISDIR(os.lstat(mine).st_mode):  # a link: not ours to write in
            return None
        for other in folder.glob("templates-*"):
            if other != mine:
                shutil.rmtree(other, ignore_errors=True)
    except OSError:
        return None
    return mine


# ------------------------------------------------------------------ cache files

_NOTICED: set[str] = set()  # the cache folders already said to be unusable


def usable_folder(folder: Path) -> bool:
    """Whether the cache folder `folder` may be read and written: a real folder, or none
    yet (writing makes one). A link, wherever it leads, or a file means no cache: it is
    never read or written through, and the first time a process finds it so, it says
    so in one line on stderr."""
    try:
        found = os.lstat(folder)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if stat_module.S_ISDIR(found.st_mode):
        return True
    if str(folder) not in _NOTICED:
        _NOTICED.add(str(folder))
        if stat_module.S_ISLNK(found.st_mode):
            try:
                what = f"a link to {printable(os.readlink(folder))}"
            except OSError:
                what = "a link"
        else:
            what = "not a folder"
        sys.stderr.write(
            f"notice: {printable(folder.name)} is {what}: running without the cache "
            "(remove it, and the next build makes the folder)\n"
        )
    return False


def read_payload(path: Path, fingerprint: str, checksum: str | None = None) -> Any:
    """The payload of one cache file, or None when it is missing, stale or corrupt.

    With `checksum`, the file must also be the one whose payload has that checksum (a
    shard named by the file that indexes it: see `read_shards`)."""
    try:
        if not usable_folder(path.parent):
            return None
        data = read_regular(path, follow=False)[1]  # never a link, a pipe or a device
        end = data.index(b"\n\n")
        magic, form, tool, stored = data[:end].split(b"\n")
        # A view, not a slice: slicing would copy the payload (20 MB of entries at
        # 10,000 papers), and the copy's fresh pages cost more than the copying.
        payload = memoryview(data)[end + 2 :]
        if magic + b"\n" != MAGIC or form != str(FORMAT).encode() or tool != fingerprint.encode():
            return None
        if payload_checksum(payload).encode() != stored:
            return None
        if checksum is not None and stored != checksum.encode():
            return None
        collecting = gc.isenabled()
        gc.disable()  # many new objects and no garbage: a collection would only scan them
        try:
            return pickle.loads(payload)
        finally:
            if collecting:
                gc.enable()
    except Exception:  # noqa: BLE001 - any failure to read the cache means "no cache"
        return None


def write_payload(path: Path, fingerprint: str, value: Any) -> str:
    """Write atomically (digest.files' `write_atomically`), so a crash never leaves half a file.

    Returns the payload's checksum, or "" when nothing was written: a folder that cannot
    be written (read-only, full disk) means no cache, never a failed build.
    """
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    checksum = payload_checksum(payload)
    header = MAGIC + f"{FORMAT}\n{fingerprint}\n{checksum}\n\n".encode()
    if not usable_folder(path.parent):
        return ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, header, payload)
    except OSError:
        return ""
    return checksum


# ------------------------------------------------------------------ sharded stores


def shard_path(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def shard_of(key: str, shards: int = SHARDS) -> int:
    # A CRC-32 spreads keys over the shards; it names no content (see digest.hashing).
    return zlib.crc32(key.encode()) % shards


@dataclass
class Shards:
    """A big mapping kept in `SHARDS` files, so a change to one key rewrites one file.

    The file that indexes the store keeps `checksums` (one per shard, "" for none) and
    a shard is read only when its own checksum is the indexed one: a shard left from
    another build, or damaged, reads as empty.
    """

    parts: list[dict[str, Any]] = field(default_factory=list)
    checksums: list[str] = field(default_factory=list)

    def merged(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for part in self.parts:
            found.update(part)
        return found


def read_shards(path: Path, fingerprint: str, checksums: Any) -> Shards:
    """The shards indexed by `checksums` (anything else: no shards)."""
    if not isinstance(checksums, list) or len(checksums) != SHARDS:
        return Shards([{} for _ in range(SHARDS)], [""] * SHARDS)
    parts: list[dict[str, Any]] = []
    good: list[str] = []
    for number, checksum in enumerate(checksums):
        value = read_payload(shard_path(path, number), fingerprint, str(checksum or "-"))
        valid = isinstance(value, dict)
        parts.append(value if valid else {})
        good.append(str(checksum) if valid else "")
    return Shards(parts, good)


def write_shards(
    path: Path, fingerprint: str, value: dict[str, Any], previous: Shards
) -> list[str]:
    """Store `value`, rewriting only the shards that differ from `previous`; returns the
    checksums to index them by ("" for a shard that could not be written).

    Only keys added, removed or given another value are placed in their shard: the rest
    are where they were (most values are the very objects read back, so checking them is
    an identity test)."""
    known = previous.merged()
    missing = object()
    moved = [
        k for k, item in value.items() if (old := known.get(k, missing)) is not item and old != item
    ]
    moved += [key for key in known if key not in value]
    dirty: dict[int, list[str]] = {}
    for key in moved:
        dirty.setdefault(shard_of(key), []).append(key)
    checksums: list[str] = []
    for number in range(SHARDS):
        old_checksum = previous.checksums[number] if number < len(previous.checksums) else ""
        if old_checksum and number not in dirty:
            checksums.append(old_checksum)
            continue
        before = previous.parts[number] if number < len(previous.parts) else {}
        part = {key: value[key] for key in before if key in value}
        part.update((key, value[key]) for key in dirty.get(number, ()) if key in value)
        checksums.append(write_payload(shard_path(path, number), fingerprint, part))
    return checksums


# ------------------------------------------------------------------ stamps


class Stamp(NamedTuple):
    """A file as last seen: size and times (to skip re-hashing) and the content hash.

    `ctime_ns` is there because a program can put an old mtime back (`os.utime`) but
    cannot set the ctime: an edit that restores the mtime is still noticed. A tuple, so
    the 21,000 stamps of a 10,000-paper build's state are saved and read back as plain
    tuples (see `State`).
    """

    size: int
    mtime_ns: int
    digest: str
    ctime_ns: int = 0


def _as_tuples(stamps: dict[str, Stamp]) -> dict[str, tuple[int, int, str, int]]:
    return {name: tuple.__new__(tuple, stamp) for name, stamp in stamps.items()}


def _as_stamps(tuples: dict[str, tuple[int, int, str, int]]) -> dict[str, Stamp]:
    make = tuple.__new__
    return {name: make(Stamp, value) for name, value in tuples.items()}


def unchanged_since(
    known: Stamp, stat: os.stat_result, recorded_ns: int, *, size: bool = True
) -> bool:
    """True when `stat` proves the file still holds what `known` recorded.

    Times within a clock tick of the record may hide a later edit (git's "racy" rule),
    so such files are re-hashed.
    """
    return (
        (known.size == stat.st_size or not size)
        and known.mtime_ns == stat.st_mtime_ns
        and known.ctime_ns == stat.st_ctime_ns
        and recorded_ns - max(stat.st_mtime_ns, stat.st_ctime_ns) > int(RACY_SECONDS * 1e9)
    )


def read_stamped(path: str | Path) -> tuple[Stamp, bytes]:
    """Stat, read and hash one file: its stamp and the very bytes the stamp is of. At
    10,000 entries, plain `os` calls on a descriptor take half the time of `os.stat`
    plus `open()` (which stats, seeks and asks whether the file is a terminal).

    Only a regular file is read: anything else (a pipe, a device) raises OSError
    (digest.files' `read_regular`), as a file that cannot be read does."""
    stat, data = read_regular(path)
    return Stamp(stat.st_size, stat.st_mtime_ns, digest_bytes(data), stat.st_ctime_ns), data


def _stamp(path: str | Path) -> Stamp:
    return read_stamped(path)[0]


def stamp_files(
    paths: Iterable[tuple[str, str | Path]], previous: dict[str, Stamp], recorded_ns: int
) -> dict[str, Stamp]:
    """Stamp each (name, path); reuse a recorded hash only when it cannot be out of date.

    `recorded_ns` is when `previous` was taken: a file whose mtime is within a clock tick
    of it may have changed again since without changing its mtime, so it is re-hashed.
    """
    found: dict[str, Stamp] = {}
    for name, path in paths:
        try:
            known = previous.get(name)
            if known is None:
                found[name] = _stamp(path)
                continue
            stat = os.stat(path)
            found[name] = known if unchanged_since(known, stat, recorded_ns) else _stamp(path)
        except OSError:
            found[name] = Stamp(-1, 0, "unreadable")
    return found


def build_inputs(
    config_file: Path,
    entry_files: Iterable[str | Path],
    template_folders: Iterable[Path],
    root: Path,
) -> list[tuple[str, str | Path]]:
    """Every file a build reads, each under a name that says what it is."""
    found: list[tuple[str, str | Path]] = [(CONFIG_INPUT, config_file)]
    prefix = str(root).rstrip(os.sep) + os.sep
    for path in entry_files:
        text = str(path)
        name = text[len(prefix) :] if text.startswith(prefix) else text
        found.append((f"{ENTRY_PREFIX}{name.replace(os.sep, '/')}", path))
    for number, folder in enumerate(template_folders):
        found += [
            (f"{TEMPLATE_PREFIX}{number}:{printable(name)}", path)
            for name, path in walk_files(folder, skip=SKIP)
        ]
    return found


def refused_inputs(root: Path, refused: Iterable[tuple[str, str, str, str]]) -> dict[str, Stamp]:
    """A stamp for each file the entries' listing refused (digest.files' `Refused`),
    never read: it says why, so that adding, removing or fixing one changes the build's
    key like any edit."""
    prefix = str(root).rstrip(os.sep) + os.sep
    found: dict[str, Stamp] = {}
    for _, path, reason, target in refused:
        name = path[len(prefix) :] if path.startswith(prefix) else path
        shown = printable(name.replace(os.sep, "/"))
        found[f"{ENTRY_PREFIX}{shown}"] = Stamp(-1, 0, f"refused:{reason}:{printable(target)}")
    return found


# ------------------------------------------------------------------ the build's view


@dataclass(frozen=True)
class Settings:
    """What a build takes from the configuration before it knows whether anything changed.

    The state records them with the config file's stamp; while that file is unchanged,
    the next build opens the cache with them (`recorded_settings`) and, when nothing
    else changed either, answers from the cache without importing the configuration's
    model or validating it (0.06 s of such a build's 0.45 s at 10,000 papers)."""

    out: str
    entries: str
    templates: str
    checks: tuple[tuple[str, str], ...] = ()  # [tool.digest.checks], as sorted pairs

    @classmethod
    def of(cls, config: SiteConfig) -> Settings:
        checks = tuple(sorted(config.checks.items()))
        return cls(config.out, config.entries, config.templates, checks)


@dataclass
class State:
    """What the last good build recorded (the `state` file)."""

    key: str = ""  # hash of every input stamp, option and the tool fingerprint
    inputs: dict[str, Stamp] = field(default_factory=dict)
    outputs: dict[str, Stamp] = field(default_factory=dict)  # url → written file
    pages: int = 0
    files: int = 0
    diagnostics: list[Diagnostic] = field(default_factory=list)  # found after loading
    seconds: dict[str, float] = field(default_factory=dict)  # page builder → render time
    recorded_ns: int = 0  # when the input stamps were taken (see `stamp_files`)
    loaded: list[Diagnostic] = field(default_factory=list)  # found while loading the content
    counts: tuple[int, int] = (0, 0)  # papers and issues loaded
    folders: tuple[str, ...] = ()  # the template folders the build read
    dirs: dict[str, tuple[int, int]] = field(default_factory=dict)  # output folder → times
    dirs_ns: int = 0  # when `dirs` was taken
    settings: Settings | None = None  # of the config file as stamped in `inputs`

    # Pickled with the stamps as plain tuples: unpickling a named tuple calls its
    # Python-level __new__, 21,000 times at 10,000 papers.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["inputs"], state["outputs"] = _as_tuples(self.inputs), _as_tuples(self.outputs)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["inputs"], state["outputs"] = (
            _as_stamps(state["inputs"]),
            _as_stamps(state["outputs"]),
        )
        self.__dict__.update(state)


_LAST_STATE: list[tuple[tuple[str, str, int, int, int, int], State]] = []


def read_state(path: Path, fingerprint: str) -> State | None:
    """The `state` file's payload, or None. A build reads it twice (first to see whether
    anything changed at all, then to reuse it), so the last one read is kept while the
    file's identity (inode, size, times) stays the same; nothing changes a `State`."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    ident = (str(path), fingerprint, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if _LAST_STATE and _LAST_STATE[0][0] == ident:
        return _LAST_STATE[0][1]
    loaded = read_payload(path, fingerprint)
    _LAST_STATE.clear()
    if not isinstance(loaded, State):
        return None
    _LAST_STATE.append((ident, loaded))
    return loaded


def recorded_settings(root: Path) -> Settings | None:
    """The settings the last build recorded, when the config file still holds the bytes
    it stamped (stamped again as any input is: by its stat, or else by its hash); else
    None: the configuration must be read and validated."""
    state = read_state(root / CACHE_DIR / STATE_FILE, tool_fingerprint())
    known = state.inputs.get(CONFIG_INPUT) if state is not None else None
    if state is None or state.settings is None or known is None:
        return None
    now = stamp_files([(CONFIG_INPUT, root / CONFIG_FILE)], state.inputs, state.recorded_ns)
    return state.settings if now[CONFIG_INPUT].digest == known.digest else None


class OutputCheck:
    """Whether the output folder holds exactly the files the last build left there.

    The check is a stat of every output file and folder (21,000 at 10,000 papers),
    mostly file-system work, and needs only the last build's `State`. `start` hands it
    to a forked process, when that is safe (`can_fork`), as soon as the state is read:
    it then runs beside the listing and stamping of the inputs (and, when they changed,
    the loading) on the other core. `answer` takes that process's answer, or checks here
    when there is none; `close` stops a process whose answer is not needed.

    A folder whose times are the recorded ones (and older than the record by more than
    a clock tick) still holds the same names, since adding, removing or renaming an
    entry changes them: only the others are listed. Those `listed` (with their times and
    `listed_ns`, when the check began) are recorded again by a no-change build
    (`BuildCache.refresh`), so the next one need not list them.
    """

    def __init__(self, out: Path, previous: State):
        self.out = out
        self.previous = previous
        self.listed: dict[str, tuple[int, int]] = {}  # folder → times, of those it listed
        self.listed_ns = 0
        self._process: tuple[int, int] | None = None  # (process, pipe) of `start`

    def start(self) -> None:
        if self._process is not None or not self.previous.outputs or not can_fork():
            return
        try:
            reader, writer = os.pipe()
        except OSError:
            return
        try:
            process = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            return
        if process == 0:  # the child sends its answer and leaves at once, cleaning nothing
            try:
                found = (self._check(), self.listed, self.listed_ns)
                with os.fdopen(writer, "wb") as stream:
                    stream.write(pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
            finally:
                os._exit(0)
        os.close(writer)
        self._process = (process, reader)

    def answer(self) -> bool:
        found = self._started_answer()
        if found is None:
            return self._check()
        intact, self.listed, self.listed_ns = found
        return intact

    def close(self) -> None:
        if self._process is not None:
            process, reader = self._process
            self._process = None
            with suppress(OSError):
                os.kill(process, signal.SIGKILL)
                os.waitpid(process, 0)
            os.close(reader)

    def _started_answer(self) -> tuple[bool, dict[str, tuple[int, int]], int] | None:
        """The answer of `start`'s process; None when there is none (or it is unreadable)."""
        if self._process is None:
            return None
        process, reader = self._process
        self._process = None
        try:
            with os.fdopen(reader, "rb") as stream:
                sent = stream.read()
            os.waitpid(process, 0)
            intact, listed, listed_ns = pickle.loads(sent)
        except Exception:  # noqa: BLE001 - no usable answer: the caller checks in-process
            return None
        if not isinstance(intact, bool) or not isinstance(listed, dict):
            return None
        return intact, listed, int(listed_ns)

    def _check(self) -> bool:
        recorded = self.previous.outputs
        if not recorded or not self.out.is_dir():
            return False
        if self.previous.dirs:
            return self._check_by_folders()
        now = dict(walk_files(self.out))  # a state without folder times: list everything
        if now.keys() != recorded.keys():
            return False
        for url, stamp in recorded.items():
            try:
                stat = os.stat(now[url])
            except OSError:
                return False
            if stat.st_size != stamp.size or stat.st_mtime_ns != stamp.mtime_ns:
                return False
        return True

    def _check_by_folders(self) -> bool:
        """`_check` without listing every folder whose times are the recorded ones."""
        previous = self.previous
        names: dict[str, set[str]] = {folder: set() for folder in previous.dirs}
        for name in (*previous.outputs, *previous.dirs):
            if name:
                parent, _, base = name.rpartition("/")
                if parent not in names:
                    return False
                names[parent].add(base)
        out = str(self.out)
        started = time.time_ns()
        listed: dict[str, tuple[int, int]] = {}
        for folder, (mtime_ns, ctime_ns) in previous.dirs.items():
            path = f"{out}/{folder}" if folder else out
            try:
                stat = os.stat(path)
            except OSError:
                return False
            stamp = Stamp(0, mtime_ns, "", ctime_ns)
            if not unchanged_since(stamp, stat, previous.dirs_ns, size=False):
                try:
                    if set(os.listdir(path)) != names[folder]:
                        return False
                except OSError:
                    return False
                listed[folder] = (stat.st_mtime_ns, stat.st_ctime_ns)
        for url, stamp in previous.outputs.items():
            try:
                stat = os.stat(f"{out}/{url}")
            except OSError:
                return False
            if stat.st_size != stamp.size or stat.st_mtime_ns != stamp.mtime_ns:
                return False
        self.listed, self.listed_ns = listed, started
        return True


class BuildCache:
    """One build's use of the cache: open before rendering, `save` after a good write."""

    def __init__(
        self,
        root: Path,
        out: Path,
        inputs: Iterable[tuple[str, str | Path]],
        options: str,
        folders: tuple[str, ...] = (),
        previous: State | None = None,
        deferred: str | None = None,
        output_check: OutputCheck | None = None,
        refused: Mapping[str, Stamp] | None = None,
    ):
        """`deferred` is a prefix of input names: with no earlier build recorded, those
        inputs are stamped by whoever reads them and handed over with `add_stamps`.
        `output_check` is one already started on `previous` (see `open_cache`).
        `refused`: the stamps of the entries the listing refused (`refused_inputs`)."""
        self.root = root
        self.out = out
        self.folder = root / CACHE_DIR
        self.folders = folders
        self.fingerprint = tool_fingerprint()
        if previous is None:
            previous = read_state(self.folder / STATE_FILE, self.fingerprint) or State()
        self.previous = previous
        self.now_ns = time.time_ns()
        self.options = options
        # A first build has no use for its entries' stamps before loading them (nothing
        # recorded can be unchanged): the processes that check the entries stamp the very
        # bytes they read (digest.entry_cache), so each entry is read once, and not by
        # this process alone.
        inputs = list(inputs)
        self.deferred: dict[str, str | Path] = {}
        if deferred and not previous.inputs:
            self.deferred = {name: path for name, path in inputs if name.startswith(deferred)}
        pending = [item for item in inputs if item[0] not in self.deferred]
        self.inputs = stamp_files(pending, self.previous.inputs, self.previous.recorded_ns)
        self.inputs.update(refused or {})
        self.key = "" if self.deferred else self._key()
        self._intact: bool | None = None
        self.output_check = output_check or OutputCheck(out, previous)
        self.written: dict[str, str] = {}  # url → content hash, for every file of this build
        self.stamped: dict[str, Stamp] = {}  # url → stamp, of files stamped as they were written
        self.dirs_ns = 0  # when the output folders were stamped (by `save`)
        self.settings: Settings | None = None  # of the config the build used, for `save`
        self.listing: tuple[Path, list[tuple[str, str]]] | None = None  # see `open_cache`

    def _key(self) -> str:
        summary = [self.fingerprint, self.options, str(self.out.resolve())]
        summary += [f"{name}\0{stamp.digest}" for name, stamp in sorted(self.inputs.items())]
        return combine(*summary)

    def add_stamps(self, stamps: Mapping[str, Stamp]) -> None:
        """The stamps of the deferred inputs, by name, taken as they were read; one that
        nobody stamped (it could not be read) is stamped here."""
        unstamped = [(name, path) for name, path in self.deferred.items() if name not in stamps]
        self.inputs.update({name: stamps[name] for name in self.deferred if name in stamps})
        self.inputs.update(stamp_files(unstamped, {}, 0))
        self.deferred = {}
        self.key = self._key()

    # -- 1. nothing changed

    def unchanged(self) -> State | None:
        """The previous build's state when it stands exactly as a new build would leave it."""
        if not self.previous.key or self.previous.key != self.key or not self.intact():
            return None
        return self.previous

    def intact(self) -> bool:
        """True when the output folder holds exactly the files the last build left there."""
        if self._intact is None:
            self._intact = self.output_check.answer()
        return self._intact

    def close(self) -> None:
        """Stop the output check's process if its answer was never needed (a failed build)."""
        self.output_check.close()

    def refresh(self) -> None:
        """After a no-change check, record again what it had to look at closely: the
        folders it listed (their times were within a clock tick of the record, as right
        after the build that wrote them) and the inputs it hashed again. The state is
        the same otherwise; without this, every no-change build after a first build
        would list all 10,000 folders of a big site again."""
        hashed = any(
            self.inputs[name] is not self.previous.inputs.get(name) for name in self.inputs
        )
        listed = self.output_check.listed
        if not listed and not hashed:
            return
        state = replace(
            self.previous,
            inputs=self.inputs,
            recorded_ns=self.now_ns,
            dirs={**self.previous.dirs, **listed},
            dirs_ns=self.output_check.listed_ns if listed else self.previous.dirs_ns,
            settings=self.settings or self.previous.settings,
        )
        write_payload(self.folder / STATE_FILE, self.fingerprint, state)

    def changed_inputs(self) -> int:
        """How many input files were added, removed or changed since the last build."""
        before, now = self.previous.inputs, self.inputs
        changed = sum(1 for name, stamp in now.items() if before.get(name) != stamp)
        return changed + sum(1 for name in before if name not in now)

    # -- 2. unchanged output files

    def reuse(self, url: str, data: bytes) -> Path | None:
        """The previous site's file for `url` when it holds exactly `data`, else None."""
        digest = digest_bytes(data)
        self.written[url] = digest
        known = self.previous.outputs.get(url)
        if known is None or known.digest != digest or known.size != len(data):
            return None
        path = self.out / url
        try:
            stat = path.stat()
        except OSError:
            return None
        if stat.st_size != known.size or stat.st_mtime_ns != known.mtime_ns:
            return None
        return path

    def save(
        self,
        pages: int,
        files: int,
        diagnostics: list[Diagnostic],
        seconds: dict[str, float] | None = None,
        loaded: list[Diagnostic] | None = None,
        counts: tuple[int, int] = (0, 0),
    ) -> None:
        """Record this build (call only after the new site is in place)."""
        outputs, dirs = self._written_outputs()
        state = State(
            self.key,
            self.inputs,
            outputs,
            pages,
            files,
            list(diagnostics),
            dict(seconds or {}),
            self.now_ns,
            list(loaded or []),
            counts,
            self.folders,
            dirs,
            self.dirs_ns,
            self.settings,
        )
        write_payload(self.folder / STATE_FILE, self.fingerprint, state)

    def _written_outputs(self) -> tuple[dict[str, Stamp], dict[str, tuple[int, int]]]:
        """Every file and folder of an output this build wrote whole (into a new folder,
        swapped in): exactly the files in `written`, stamped when they were written or
        else now."""
        outputs: dict[str, Stamp] = {}
        out = str(self.out)
        for url, digest in self.written.items():
            stamp = self.stamped.get(url)
            if stamp is None:
                try:
                    stat = os.stat(f"{out}/{url}")
                except OSError:
                    continue
                stamp = Stamp(stat.st_size, stat.st_mtime_ns, digest)
            outputs[url] = stamp
        self.dirs_ns = time.time_ns()
        return outputs, self._stamp_folders({"", *(_parent(url) for url in outputs)}, {})

    def _stamp_folders(
        self, folders: set[str], dirs: dict[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int]]:
        """`dirs` with `folders` and every folder above them stamped again; a folder that
        is gone (left empty and removed) and its stamp are dropped."""
        out = str(self.out)
        seen: set[str] = set()
        for folder in folders:
            while folder not in seen:
                seen.add(folder)
                try:
                    stat = os.stat(f"{out}/{folder}" if folder else out)
                except OSError:
                    dirs.pop(folder, None)
                else:
                    dirs[folder] = (stat.st_mtime_ns, stat.st_ctime_ns)
                if not folder:
                    break
                folder = _parent(folder)
        return dirs


def _parent(url: str) -> str:
    return url.rpartition("/")[0]


def open_cache(
    root: Path,
    settings: Settings,
    out: Path,
    template_folders: Iterable[Path],
    options: str,
    previous: State | None = None,
    *,
    defer_entries: bool = False,
    early: bool = False,
) -> BuildCache:
    """The cache for one build of `root` into `out`, its inputs stamped; `settings` are
    the configuration's, recorded with the build (`save`).

    Its `listing` is the entry files it lists (digest.files' `entry_paths`) and their
    folder: the build loads exactly those, without listing them again. With
    `defer_entries`, a first build leaves their stamps to the loading (`add_stamps`).
    With `early`, the output check starts (`OutputCheck.start`) before the inputs are
    listed and stamped; the caller then `close`s the cache when done with it."""
    if previous is None:
        previous = read_state(root / CACHE_DIR / STATE_FILE, tool_fingerprint()) or State()
    output_check = OutputCheck(out, previous)
    if early:
        output_check.start()
    folders = list(template_folders)
    entries = root / settings.entries
    listed = entry_paths(entries, root)
    inputs = build_inputs(root / CONFIG_FILE, [path for _, path in listed], folders, root)
    deferred = ENTRY_PREFIX if defer_entries else None
    refused = refused_inputs(root, listed.refused)
    opened = BuildCache(
        root,
        out,
        inputs,
        options,
        tuple(map(str, folders)),
        previous,
        deferred,
        output_check,
        refused,
    )
    opened.listing = (entries, listed)
    opened.settings = settings
    return opened
