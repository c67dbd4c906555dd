"""Cache: what one build leaves for the next, so a rebuild only does what a change needs.

A successful `digest build` records, under the content root's `.digest-cache/`:

- `state`: the content hash of every input (each entry file, the config, every template
  and asset of the content root's templates/ and of the default theme), a fingerprint
  of the tool itself (its version and the size and mtime of each of its modules), the
  build options, and the size, mtime and hash of every file it wrote;
- `markdown`: the HTML of every Markdown field it rendered, keyed by the text and the
  heading level (rendering Markdown is the most expensive step of a build).

The next build uses them three ways:

1. Nothing changed (same inputs, options and tool, and the output folder exactly as it
   was left): rendering and writing are skipped altogether.
2. Markdown whose text did not change is not parsed again.
3. A page or asset whose bytes did not change is hard-linked from the previous site into
   the new one instead of being written, so its mtime (and inode) stay as they were.

Everything is regenerated from the inputs except those three shortcuts, each keyed by
exactly what determines its result, so an incremental build is byte-identical to a
clean one (tests/test_incremental.py checks this on random edit sequences).

Each cache file starts with a header (magic, format, the tool fingerprint) and a
BLAKE2 checksum of its payload. A file that is truncated, corrupt, from another version
of the tool or otherwise unreadable is ignored, never trusted: the build just does the
work. Hashing an input is skipped only when its size and mtime match the recorded ones
and the mtime is older than the record by more than a clock tick (git's "racy" rule).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.config import CONFIG_FILE
from digest.diagnostics import Diagnostic
from digest.load import entry_files
from digest.models import SiteConfig

CACHE_DIR = ".digest-cache"
STATE_FILE = "state"
MARKDOWN_FILE = "markdown"
MAGIC = b"digest-cache\n"
FORMAT = 1
RACY_SECONDS = 2.0  # an mtime this close to when it was recorded is re-hashed next time
SKIP = frozenset({"__pycache__", ".git"})


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def tool_fingerprint() -> str:
    """Changes whenever digest itself may render differently: version, Python, sources."""
    package = Path(__file__).resolve().parent
    try:
        version = importlib.metadata.version("digest")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a checkout
        version = "unknown"
    parts = [version, sys.version, str(FORMAT)]
    for path in sorted(package.glob("*.py")):
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return _digest("\n".join(parts).encode())


# ------------------------------------------------------------------ cache files


def _read(path: Path, fingerprint: str) -> Any:
    """The payload of one cache file, or None when it is missing, stale or corrupt."""
    try:
        data = path.read_bytes()
        header, _, rest = data.partition(b"\n\n")
        magic, form, tool, checksum = header.split(b"\n")
        payload = rest
        if magic + b"\n" != MAGIC or form != str(FORMAT).encode() or tool != fingerprint.encode():
            return None
        if _digest(payload).encode() != checksum:
            return None
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - any failure to read the cache means "no cache"
        return None


def _write(path: Path, fingerprint: str, value: Any) -> None:
    """Write atomically (temporary file + rename), so a crash never leaves half a file."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    header = MAGIC + f"{FORMAT}\n{fingerprint}\n{_digest(payload)}\n\n".encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(header)
            stream.write(payload)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


# ------------------------------------------------------------------ stamps


@dataclass(frozen=True)
class Stamp:
    """A file as last seen: size and mtime (to skip re-hashing) and the content hash."""

    size: int
    mtime_ns: int
    digest: str


def stamp_files(
    paths: Iterable[tuple[str, Path]], previous: dict[str, Stamp], now_ns: int
) -> dict[str, Stamp]:
    """Stamp each (name, path); reuse a recorded hash only when it cannot be out of date."""
    found: dict[str, Stamp] = {}
    racy = int(RACY_SECONDS * 1e9)
    for name, path in paths:
        try:
            stat = path.stat()
            known = previous.get(name)
            if (
                known is not None
                and known.size == stat.st_size
                and known.mtime_ns == stat.st_mtime_ns
                and now_ns - stat.st_mtime_ns > racy
            ):
                found[name] = known
            else:
                found[name] = Stamp(stat.st_size, stat.st_mtime_ns, _digest(path.read_bytes()))
        except OSError:
            found[name] = Stamp(-1, 0, "unreadable")
    return found


def _walk(
    folder: Path, prefix: str = "", skip: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Path]]:
    """(relative posix name, path) of every file under `folder`, sorted; `skip` names folders."""
    try:
        items = sorted(os.scandir(folder), key=lambda item: item.name)
    except OSError:
        return
    for item in items:
        name = f"{prefix}{item.name}"
        if item.is_dir(follow_symlinks=True):
            if item.name not in skip:
                yield from _walk(Path(item.path), name + "/", skip)
        else:
            yield name, Path(item.path)


def build_inputs(
    config_file: Path, entry_files: Iterable[Path], template_folders: Iterable[Path], root: Path
) -> list[tuple[str, Path]]:
    """Every file a build reads, each under a name that says what it is."""
    found = [("config", config_file)]
    for path in entry_files:
        name = path.relative_to(root) if path.is_relative_to(root) else path
        found.append((f"entry:{name.as_posix()}", path))
    for number, folder in enumerate(template_folders):
        found += [(f"templates{number}:{name}", path) for name, path in _walk(folder, skip=SKIP)]
    return found


class MarkdownStore:
    """Markdown HTML from the last build, and the part of it this build used (kept next time)."""

    def __init__(self, previous: dict[tuple[str, int], str]):
        self.previous = previous
        self.used: dict[tuple[str, int], str] = {}

    def get(self, key: tuple[str, int]) -> str | None:
        return self.previous.get(key)

    def put(self, key: tuple[str, int], html: str) -> None:
        self.used[key] = html


# ------------------------------------------------------------------ the build's view


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


class BuildCache:
    """One build's use of the cache: open before rendering, `save` after a good write."""

    def __init__(self, root: Path, out: Path, inputs: Iterable[tuple[str, Path]], options: str):
        self.root = root
        self.out = out
        self.folder = root / CACHE_DIR
        self.fingerprint = tool_fingerprint()
        loaded = _read(self.folder / STATE_FILE, self.fingerprint)
        self.previous = loaded if isinstance(loaded, State) else State()
        self.now_ns = time.time_ns()
        self.inputs = stamp_files(inputs, self.previous.inputs, self.now_ns)
        summary = [self.fingerprint, options, str(out.resolve())]
        summary += [f"{name}\0{stamp.digest}" for name, stamp in sorted(self.inputs.items())]
        self.key = _digest("\n".join(summary).encode())
        self._markdown: MarkdownStore | None = None
        self._intact: bool | None = None
        self.written: dict[str, str] = {}  # url → content hash, for every file of this build

    # -- 1. nothing changed

    def unchanged(self) -> State | None:
        """The previous build's state when it stands exactly as a new build would leave it."""
        if not self.previous.key or self.previous.key != self.key or not self.intact():
            return None
        return self.previous

    def intact(self) -> bool:
        """True when the output folder holds exactly the files the last build left there."""
        if self._intact is None:
            self._intact = self._check_outputs()
        return self._intact

    def _check_outputs(self) -> bool:
        recorded = self.previous.outputs
        if not recorded or not self.out.is_dir():
            return False
        now = dict(_walk(self.out))
        if now.keys() != recorded.keys():
            return False
        for url, stamp in recorded.items():
            try:
                stat = now[url].stat()
            except OSError:
                return False
            if stat.st_size != stamp.size or stat.st_mtime_ns != stamp.mtime_ns:
                return False
        return True

    # -- 2. Markdown

    @property
    def markdown(self) -> MarkdownStore:
        """(text, top heading) → HTML, from the last build; records what this one uses."""
        if self._markdown is None:
            loaded = _read(self.folder / MARKDOWN_FILE, self.fingerprint)
            self._markdown = MarkdownStore(loaded if isinstance(loaded, dict) else {})
        return self._markdown

    # -- 3. unchanged output files

    def reuse(self, url: str, data: bytes) -> Path | None:
        """The previous site's file for `url` when it holds exactly `data`, else None."""
        digest = _digest(data)
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
    ) -> None:
        """Record this build (call only after the new site is in place)."""
        outputs: dict[str, Stamp] = {}
        for url, path in _walk(self.out):
            digest = self.written.get(url)
            try:
                stat = path.stat()
            except OSError:
                continue
            if digest is None:  # not written by this build: hash it
                digest = _digest(path.read_bytes())
            outputs[url] = Stamp(stat.st_size, stat.st_mtime_ns, digest)
        state = State(
            self.key, self.inputs, outputs, pages, files, list(diagnostics), dict(seconds or {})
        )
        _write(self.folder / STATE_FILE, self.fingerprint, state)
        if self._markdown is not None:  # only what this build used: the file never grows stale
            _write(self.folder / MARKDOWN_FILE, self.fingerprint, self._markdown.used)


def open_cache(
    root: Path, config: SiteConfig, out: Path, template_folders: Iterable[Path], options: str
) -> BuildCache:
    """The cache for one build of `root` into `out`, its inputs stamped."""
    files = [path for _, path in entry_files(root / config.entries)]
    inputs = build_inputs(root / CONFIG_FILE, files, template_folders, root)
    return BuildCache(root, out, inputs, options)
