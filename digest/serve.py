"""Serve: build, serve the site on localhost, rebuild on change, reload open pages.

`digest serve` builds the site (as `digest build` does, into the configured `out`),
serves that folder (digest.serve_http, on the standard library's threading HTTP server),
and polls the content root's entries, templates and pyproject.toml for changes. After
each rebuild open pages reload themselves: the build generation moves on and the pages'
event stream tells them. A failed build prints its diagnostics in the terminal and turns
every page into an error page listing them, while the last good site stays on disk;
fixing the files rebuilds and the pages come back.

Watching is polling (`os.scandir` mtimes and sizes, twice a second): portable, with no
compiled dependency, and a full scan of 10,000 entries costs a few milliseconds.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from types import TracebackType

from digest import build
from digest.config import load_config
from digest.diagnostics import render
from digest.files import printable, walk_files
from digest.serve_http import Echo, SiteState, make_server
from digest.store import open_store

POLL_SECONDS = 0.5


# ------------------------------------------------------------------ watching


def snapshot(paths: list[Path]) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file under `paths`: folders are walked as a build walks
    them (digest.files' `walk_files`: linked folders followed, pipes left out), with
    dot-files (an editor's swap file) skipped."""
    found: dict[str, tuple[int, int]] = {}
    for path in paths:
        inside = walk_files(path, hidden=False) if path.is_dir() else [("", str(path))]
        for _, file in inside:
            try:
                stat = os.stat(file)
            except OSError:  # gone since, or a link that leads nowhere
                continue
            found[file] = (stat.st_mtime_ns, stat.st_size)
    return found


def watched_paths(root: Path) -> list[Path]:
    """What a change to means a rebuild: the config, the entries and the templates."""
    config, _ = load_config(root)
    if config is None:  # a broken config: still watch the default places
        return [root / "pyproject.toml", root / "entries", root / "templates"]
    return [root / "pyproject.toml", root / config.entries, root / config.templates]


# ------------------------------------------------------------------ the server


class DevServer:
    """Builds `root`, serves its output on host:port, rebuilds and reloads on change.

    Use as a context manager (tests) or call `serve_forever()` (the CLI). Port 0 picks a
    free port; `port` holds the real one after `start()`.
    """

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        drafts: bool = False,
        echo: Echo = print,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.root = root
        self.drafts = drafts
        self.echo = echo
        self.poll = poll
        self.state = SiteState(out=root / "site")
        self.httpd = make_server(host, port, self.state, echo)
        self.threads: list[threading.Thread] = []
        self.builds = 0  # finished builds, good or bad
        # Open between rebuilds: the checked entries and pieces it decoded stay in memory.
        self.store = open_store(root, enabled=True)
        self.store.remember = True

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        host = str(self.httpd.server_address[0])
        return f"http://{host}:{self.port}/"

    def rebuild(self) -> bool:
        """Build once; on failure print the problems and show them in the browser."""
        started = time.perf_counter()
        with self.state.building:
            result = build.run(self.root, drafts=self.drafts, store=self.store)
        seconds = time.perf_counter() - started
        diagnostics = result.report.sorted()
        if result.out is not None:
            self.state.out = result.out
        if diagnostics:
            self.echo(render(diagnostics, "text"))
        if result.ok:
            self.echo(f"built {result.pages} pages in {seconds:.2f} s")
            error = None
        else:
            error = render(diagnostics, "text") or "the build failed"
            self.echo("build failed: serving the last good site; fix the files above and save")
        with self.state.changed:
            self.state.error = error
            self.state.generation += 1
            self.state.changed.notify_all()
        self.builds += 1
        return result.ok

    def _watch(self, paths: list[Path], seen: dict[str, tuple[int, int]]) -> None:
        """Poll until stopped; rebuild once a change has settled."""
        while not self.state.stopping:
            time.sleep(self.poll)
            current = snapshot(paths)
            if current == seen:
                continue
            # Let a burst of saves settle (editors often write several files at once).
            while not self.state.stopping:
                time.sleep(self.poll / 2)
                settled = snapshot(paths)
                if settled == current:
                    break
                current = settled
            if self.state.stopping:
                return
            changed = {
                printable(Path(name).name) for name, _ in set(current.items()) ^ set(seen.items())
            }
            names = sorted(changed)
            self.echo(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
            seen = current  # taken before the build: a save during the build builds again
            try:
                self.rebuild()
            except Exception as exc:  # noqa: BLE001 - a bug in a build must not stop serving
                self.echo(f"internal error while building (please report it): {exc!r}")
                with self.state.changed:
                    self.state.error = f"internal error while building: {exc!r}"
                    self.state.generation += 1
                    self.state.changed.notify_all()
            moved = watched_paths(self.root)  # the config may name other folders now
            if moved != paths:
                paths, seen = moved, snapshot(moved)

    def start(self) -> None:
        """First build, then serve and watch in background threads."""
        paths = watched_paths(self.root)
        seen = snapshot(paths)  # before the build, so no save after this point is missed
        self.rebuild()
        serving = threading.Thread(
            target=self.httpd.serve_forever, args=(0.1,), name="digest-serve", daemon=True
        )
        watching = threading.Thread(
            target=self._watch, args=(paths, seen), name="digest-watch", daemon=True
        )
        for thread in (serving, watching):
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        with self.state.changed:
            self.state.stopping = True
            self.state.changed.notify_all()
        if self.threads:  # shutdown() waits for serve_forever, so only once it runs
            self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Build, serve and watch until Ctrl-C; then stop cleanly (no traceback)."""
        try:
            self.start()
            self.echo(f"serving {self.state.out} at {self.url} (Ctrl-C to stop)")
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            self.echo("stopping")
        finally:
            self.stop()

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
