"""Watch: which files a change to means a rebuild, and their changes as they happen.

`digest serve` rebuilds when the configuration, an entry or a template changes. The
operating system tells of changes (inotify, FSEvents or ReadDirectoryChangesW, through
watchfiles), so a save is seen within milliseconds, whatever the size of the site, and
nothing is read while nothing changes. Saves that come in a burst (an editor writing
several files, or a file and its backup) are reported together once `QUIET_MS` passed
without another. Where a file system sends no events (some network shares and
container mounts), `WATCHFILES_FORCE_POLLING=1` makes watchfiles poll instead; so does
a system that has no more watches to give (Linux's `fs.inotify.max_user_watches`).

An editor that saves by writing a new file and renaming it over the old one replaces
the file a watch was set on; the configuration file is watched alone, so it is watched
again after every change to it, and a change to it is reported once the new watch is
set. A watched folder that does not exist yet (templates/) is looked for every
`RECHECK_MS`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import watchfiles

from digest.config import load_config

QUIET_MS = 50  # a burst of saves has ended once none came for this long
RECHECK_MS = 500  # how often missing folders are looked for again


def watched_paths(root: Path) -> list[Path]:
    """What a change to means a rebuild: the config, the entries and the templates."""
    config, _ = load_config(root)
    if config is None:  # a broken config: still watch the default places
        return [root / "pyproject.toml", root / "entries", root / "templates"]
    return [root / "pyproject.toml", root / config.entries, root / config.templates]


def _outside_dot_files(root: Path) -> Callable[[watchfiles.Change, str], bool]:
    """A filter that drops dot-files (an editor's swap or backup file) and anything in a
    dot-folder under `root`: a build reads none of them."""
    top = str(root).rstrip(os.sep) + os.sep

    def wanted(_: watchfiles.Change, path: str) -> bool:
        inside = path[len(top) :] if path.startswith(top) else path
        return not any(part.startswith(".") for part in inside.split(os.sep))

    return wanted


def _changed(batch: set[tuple[watchfiles.Change, str]]) -> set[str]:
    """The paths of a burst of changes, but a file made and removed within it (the
    temporary file an editor writes and renames over the one it saves)."""
    added = {path for change, path in batch if change == watchfiles.Change.added}
    return {path for _, path in batch if path not in added or os.path.lexists(path)}


class _Stop:
    """The stop signal watchfiles asks about while it waits for changes: its first
    question also tells that the watch is set, so no change after it is missed."""

    def __init__(self, stop: threading.Event, ready: threading.Event) -> None:
        self.stop = stop
        self.ready = ready

    def is_set(self) -> bool:
        self.ready.set()
        return self.stop.is_set()


def changes(root: Path, stop: threading.Event, ready: threading.Event) -> Iterator[list[str]]:
    """The changed files under `root`'s watched paths, one sorted list per burst of
    saves, until `stop` is set. `ready` is set once the watch is in place: every change
    after that is reported."""
    pending: list[str] = []  # seen by a watch given up, reported once the next is set
    polling: bool | None = None  # watchfiles' choice, until the system has no more watches
    while not stop.is_set():
        paths = watched_paths(root)
        present = [path for path in paths if path.exists()]
        watching = watchfiles.watch(
            *present,
            watch_filter=_outside_dot_files(root),
            step=QUIET_MS,
            stop_event=_Stop(stop, ready),
            rust_timeout=RECHECK_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
            force_polling=polling,
        )
        try:
            for batch in watching:
                seen = _changed(batch)
                now = [path for path in paths if path.exists()]
                if str(paths[0]) in seen or now != present:
                    # Watch what the config names now, and the config's new file, first.
                    appeared = {str(path) for path in set(now) ^ set(present)}
                    pending = sorted({*pending, *seen, *appeared})
                    break
                if seen or pending:
                    changed, pending = sorted({*pending, *seen}), []
                    yield changed
        except FileNotFoundError:  # a watched folder went away meanwhile: watch anew
            stop.wait(RECHECK_MS / 1000)
        except OSError:  # no more watches to be had (inotify's limit): look instead
            polling = True
        finally:
            watching.close()
