"""Store: what one build leaves for the next, in one SQLite file, `.digest-cache/store.sqlite`.

Three kinds of record:

- **stamps**: each input file (entries, the config, templates) as last read: size, mtime,
  ctime and content digest. `Store.stamp` reuses a digest only when size and both times
  are the recorded ones and the times are older than the record by more than a clock
  tick (git's "racy" rule): an edit that puts the old mtime back still changes the ctime.
- **objects**: key → bytes, each with a CRC-32 checked on every read. Keys name exactly
  what made the value (digest.hashing's `combine` of digests), so a value is never out
  of date: checked entries, rendered pieces, compiled templates.
- **outputs**: each file of the site as the last build left it: the key of what made
  it, its content digest, size and mtime. A page whose key is unchanged and whose file
  is still that size and mtime is not rendered again.

Objects are written as they are made, a few megabytes at a time, each process through
its own connection: an object is named by what made it, so one written by a build that
fails later is never wrong, only unused, and a build of 100,000 papers does not hold
every piece it made in memory. The stamps, outputs and settings that say what the site
is are committed at the end of a build in one transaction (a build killed while
committing leaves them as they were); objects no key of that build used are pruned
then. There is no write-ahead log: nothing of the store is memory-mapped, so a damaged
file can only fail to read, never crash the process. A store that is
damaged, from another version of digest, or locked by another build means a build
from scratch with a one-line notice, never a wrong site: a damaged or foreign file is
replaced, a locked one left alone (this build keeps its records in memory). The folder
is digest's own: a `.digest-cache` that is a link or a file is never read or written
through.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import stat as stat_module
import sys
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

from digest.files import printable, read_regular
from digest.hashing import digest_bytes, tool_fingerprint

CACHE_DIR = ".digest-cache"
STORE_FILE = "store.sqlite"
FORMAT = "1"
QUERY_KEYS = 500  # keys asked for in one query (SQLite allows a few hundred at least)
FLUSH_BYTES = 8 << 20  # objects made are written out once they add up to this much
RACY_NS = 2_000_000_000  # an mtime this close to its record is hashed again next time
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS stamps(
    name TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT);
CREATE TABLE IF NOT EXISTS objects(key TEXT PRIMARY KEY, data BLOB NOT NULL, crc INTEGER);
CREATE TABLE IF NOT EXISTS outputs(
    url TEXT PRIMARY KEY, key TEXT, digest TEXT, size INTEGER, mtime_ns INTEGER);
"""


class Stamp(NamedTuple):
    """A file as last seen: size and times (to skip hashing it again) and its digest."""

    size: int
    mtime_ns: int
    digest: str
    ctime_ns: int = 0


class Output(NamedTuple):
    """A file of the site as the last build left it, and the key of what made it."""

    key: str
    digest: str
    size: int
    mtime_ns: int


class StoreProblem(Exception):
    """The store file cannot be used: damaged, foreign, locked or not digest's own."""


class Store:
    """One process's view of the store: records read at open, changes kept until `commit`.

    `Store(None)` keeps everything in memory (no cache, or one that could not be used);
    `digest serve` keeps one open between rebuilds, with the values it decoded."""

    def __init__(self, path: Path | None):
        self.path = path
        self.stamps: dict[str, Stamp] = {}
        self.outputs: dict[str, Output] = {}
        self.recorded_ns = 0  # when `stamps` were taken
        self.meta: dict[str, str] = {}
        self.added: dict[str, bytes] = {}  # objects made and not written out yet
        self._added_bytes = 0
        self.written: set[str] = set()  # objects this process wrote out since the last commit
        self.used: set[str] = set()  # keys asked for since the last commit
        self.decoded: dict[str, Any] = {}  # values decoded, kept when remembering
        self.known: set[str] = set()  # the keys of the objects in the file, as it is written
        self.remember = False  # keep the objects read and values decoded (`digest serve`)
        self._read: dict[str, bytes] = {}  # the objects read, when remembering
        self._connection: sqlite3.Connection | None = None
        self._owner = os.getpid()
        if path is not None:
            self._load()

    # -- opening

    def _connect(self) -> sqlite3.Connection:
        """This process's connection (a forked worker opens its own, read-only)."""
        assert self.path is not None
        if self._connection is None or self._owner != os.getpid():
            self._owner = os.getpid()
            self._connection = sqlite3.connect(
                self.path, timeout=0.5, isolation_level=None, check_same_thread=False
            )
        return self._connection

    def _load(self) -> None:
        assert self.path is not None
        try:
            db = self._connect()
            db.executescript(SCHEMA)
            self.meta = dict(db.execute("SELECT name, value FROM meta"))
            if self.meta.get("format") != FORMAT or self.meta.get("tool") != tool_fingerprint():
                self._clear(db)
                return
            self.recorded_ns = int(self.meta.get("recorded_ns", "0"))
            self.stamps = {
                row[0]: Stamp(row[1], row[2], row[4], row[3])
                for row in db.execute("SELECT name, size, mtime_ns, ctime_ns, digest FROM stamps")
            }
            self.outputs = {
                row[0]: Output(*row[1:])
                for row in db.execute("SELECT url, key, digest, size, mtime_ns FROM outputs")
            }
            # Asking only for objects that are there saves a query (and its file locks)
            # for every piece a first build makes.
            self.known = {key for (key,) in db.execute("SELECT key FROM objects")}
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise StoreProblem(str(exc)) from exc

    def _clear(self, db: sqlite3.Connection) -> None:
        """Another version of digest (or none) wrote this store: start it afresh."""
        with _transaction(db):
            for table in ("meta", "stamps", "objects", "outputs"):
                db.execute(f"DELETE FROM {table}")
        self.meta, self.stamps, self.outputs = {}, {}, {}

    # -- input stamps

    def stamp(
        self, name: str, path: str | Path, limit: int | None = None
    ) -> tuple[Stamp, bytes | None]:
        """The stamp of the file `path` (recorded as `name`), and its bytes when they had
        to be read to know it. Only regular files are read (digest.files' `read_regular`):
        anything else raises OSError, as a file that cannot be read does. A file larger
        than `limit` is not read: its stamp has the digest of no bytes."""
        known = self.stamps.get(name)
        if known is not None:
            found = os.stat(path)
            if (
                known.size == found.st_size
                and known.mtime_ns == found.st_mtime_ns
                and known.ctime_ns == found.st_ctime_ns
                and self.recorded_ns - max(found.st_mtime_ns, found.st_ctime_ns) > RACY_NS
            ):
                return known, None
        found, data = read_regular(path, limit)
        return Stamp(found.st_size, found.st_mtime_ns, digest_bytes(data), found.st_ctime_ns), data

    # -- objects

    def get(self, key: str) -> bytes | None:
        """The object called `key`, or None (also when its checksum is wrong)."""
        return self.get_many([key]).get(key)

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        """The objects of `keys` that there are (with good checksums), read in a few
        queries rather than one per key."""
        found = {key: self.added[key] for key in keys if key in self.added}
        found.update((key, self._read[key]) for key in keys if key in self._read)
        self.used.update(keys)
        wanted = [k for k in keys if k not in found and k in self.known]
        if self.path is None or not wanted:
            return found
        try:
            db = self._connect()
            for start in range(0, len(wanted), QUERY_KEYS):
                chunk = wanted[start : start + QUERY_KEYS]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, data, crc FROM objects WHERE key IN ({marks})"
                for key, data, crc in db.execute(query, chunk):
                    if zlib.crc32(data) == crc:
                        found[key] = data
        except sqlite3.Error:
            return found
        if self.remember:
            self._read.update((key, found[key]) for key in wanted if key in found)
        return found

    def values(self, keys: list[str]) -> dict[str, Any]:
        """`value` of each of `keys` that has one."""
        found = {key: self.decoded[key] for key in keys if key in self.decoded}
        self.used.update(found)
        for key, data in self.get_many([key for key in keys if key not in found]).items():
            try:
                found[key] = pickle.loads(data)
            except Exception:  # noqa: BLE001 - a value that does not read back is no value
                continue
            if self.remember:
                self.decoded[key] = found[key]
        return found

    def put(self, key: str, data: bytes) -> None:
        self.used.add(key)
        self.added[key] = data
        self._added_bytes += len(data)
        if self._added_bytes >= FLUSH_BYTES:
            self.flush()

    def keep_known(self, keys: Iterable[str]) -> None:
        """Keep these objects without reading them (those the store holds): what a page
        kept as it is was made from is still wanted after the next edit."""
        self.used.update(key for key in keys if key in self.known)

    def hold(self, key: str, data: bytes) -> None:
        """Keep the object `key`, whose bytes the caller has without reading them from
        here: written only when the store does not hold it yet."""
        if key in self.known or key in self.added:
            self.used.add(key)
        else:
            self.put(key, data)

    def flush(self) -> None:
        """Write out the objects made so far. When the file is busy (another process is
        writing) they wait for the next flush or the commit."""
        if self.path is None or not self.added:
            return
        try:
            with _transaction(self._connect()) as db:
                _insert_objects(db, self.added)
        except sqlite3.Error:
            return
        self.written |= self.added.keys()
        self.known |= self.added.keys()
        if self.remember:
            self._read.update(self.added)
        self.added, self._added_bytes = {}, 0

    def adopt(self, written: set[str], added: dict[str, bytes], used: set[str]) -> None:
        """Take in what a worker process wrote out, made and did not write, and used."""
        self.written |= written
        self.known |= written
        self.added.update(added)
        self._added_bytes += sum(map(len, added.values()))
        self.used |= used

    def value(self, key: str) -> Any:
        """The object `key` unpickled (None when there is none or it does not unpickle)."""
        return self.values([key]).get(key)

    def keep(self, key: str, value: Any) -> None:
        """Store `value` (any picklable value) as the object `key`."""
        if self.remember:
            self.decoded[key] = value
        self.put(key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    # -- outputs

    def intact(self, out: Path) -> bool:
        """Whether every file the last build recorded is at `out` as it was left."""
        if not self.outputs:
            return False
        folder = str(out)
        for url, output in self.outputs.items():
            try:
                found = os.stat(f"{folder}/{url}")
            except OSError:
                return False
            if found.st_size != output.size or found.st_mtime_ns != output.mtime_ns:
                return False
        return True

    def close(self) -> None:
        if self._connection is not None and self._owner == os.getpid():
            with suppress(sqlite3.Error):
                self._connection.close()
        self._connection = None

    # -- committing

    def commit(
        self,
        stamps: Mapping[str, Stamp],
        recorded_ns: int,
        outputs: Mapping[str, Output] | None = None,
        meta: Mapping[str, str] | None = None,
        *,
        prune: bool = False,
    ) -> None:
        """Record this run: the inputs' `stamps` (taken at `recorded_ns`), the site's
        `outputs` when it wrote one, and the objects it made; with `prune` (a build),
        objects this run did not use are removed. Failing to write means no cache next
        time, never a failed command."""
        new_meta = {**self.meta, **(meta or {}), "recorded_ns": str(recorded_ns)}
        if self.path is not None:
            with suppress(sqlite3.Error, OSError):
                self._write(stamps, new_meta, outputs, prune)
        self.stamps, self.recorded_ns, self.meta = dict(stamps), recorded_ns, new_meta
        if outputs is not None:
            self.outputs = dict(outputs)
        self.known |= self.added.keys()
        if self.remember:
            self._read.update(self.added)
        if prune:
            self.known &= self.used
            self.decoded = {k: v for k, v in self.decoded.items() if k in self.used}
            self._read = {k: v for k, v in self._read.items() if k in self.used}
        self.added, self._added_bytes, self.written, self.used = {}, 0, set(), set()

    def _write(
        self,
        stamps: Mapping[str, Stamp],
        meta: Mapping[str, str],
        outputs: Mapping[str, Output] | None,
        prune: bool,
    ) -> None:
        with _transaction(self._connect()) as db:
            meta = {**meta, "format": FORMAT, "tool": tool_fingerprint()}
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            _replace_rows(db, "stamps", "name", self.stamps, stamps, _stamp_row)
            if outputs is not None:
                _replace_rows(db, "outputs", "url", self.outputs, outputs, _output_row)
            _insert_objects(db, self.added)
            if prune:  # after an edit, a few: the objects of what the edit replaced
                unused = self.known - self.used
                db.executemany("DELETE FROM objects WHERE key = ?", ((key,) for key in unused))


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction on `db`: committed when the block ends, rolled back when it
    raises (or is interrupted), so the file holds all of it or none."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            db.execute("ROLLBACK")
        raise


def _insert_objects(db: sqlite3.Connection, objects: Mapping[str, bytes]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO objects VALUES (?, ?, ?)",
        ((key, data, zlib.crc32(data)) for key, data in objects.items()),
    )


def _stamp_row(name: str, stamp: Stamp) -> tuple[Any, ...]:
    return (name, stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.digest)


def _output_row(url: str, output: Output) -> tuple[Any, ...]:
    return (url, *output)


def _replace_rows(
    db: sqlite3.Connection,
    table: str,
    column: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    row: Any,
) -> None:
    """Make `table` hold `after`, given that it holds `before`: only changed rows are written."""
    gone = [(name,) for name in before if name not in after]
    db.executemany(f"DELETE FROM {table} WHERE {column} = ?", gone)
    changed = [row(name, value) for name, value in after.items() if before.get(name) != value]
    if changed:
        marks = ", ".join("?" * len(changed[0]))
        db.executemany(f"INSERT OR REPLACE INTO {table} VALUES ({marks})", changed)


_NOTICED: set[str] = set()  # what this process already said about a store


def notice(folder: Path, why: str) -> None:
    """Say once per process, in one line on stderr, why a command runs without its store."""
    if why not in _NOTICED:
        _NOTICED.add(why)
        sys.stderr.write(f"notice: {printable(str(folder))}: {why}\n")


def folder_problem(folder: Path) -> str | None:
    """Why the cache folder `folder` may not be used, or None when it is a real folder
    or none yet (writing makes one): a link, wherever it leads, or a file is never read
    or written through."""
    try:
        found = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat_module.S_ISDIR(found.st_mode):
        return None
    return "a link" if stat_module.S_ISLNK(found.st_mode) else "not a folder"


def open_store(root: Path, *, enabled: bool = True) -> Store:
    """The content root's store; an in-memory one when it is off or cannot be used
    (then with a notice: a damaged or foreign file is replaced, a locked one left)."""
    if not enabled:
        return Store(None)
    folder = root / CACHE_DIR
    problem = folder_problem(folder)
    if problem is not None:
        notice(folder, f"{CACHE_DIR} is {problem}: running without the cache (remove it)")
        return Store(None)
    path = folder / STORE_FILE
    try:
        folder.mkdir(exist_ok=True)
        if os.path.lexists(path) and not stat_module.S_ISREG(os.lstat(path).st_mode):
            notice(path, "not a regular file: running without the cache (remove it)")
            return Store(None)
        return Store(path)
    except StoreProblem as exc:
        if "locked" in str(exc):
            notice(path, "in use by another build: this one runs without the cache")
            return Store(None)
        notice(path, f"unreadable ({exc}): building from scratch, and starting it afresh")
        return _fresh(path)
    except OSError:
        return Store(None)


def _fresh(path: Path) -> Store:
    """A new, empty store file in place of a damaged one."""
    try:
        for leftover in (path, Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)
        return Store(path)
    except (StoreProblem, OSError):
        return Store(None)
