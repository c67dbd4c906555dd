"""Serve: build, serve the site on localhost, rebuild on change, reload open pages.

`digest serve` builds the site (as `digest build` does, into the configured `out`),
serves that folder (digest.serve_http, on the standard library's threading HTTP server),
and watches the content root's entries, templates and pyproject.toml (digest.watch). After
each rebuild open pages reload themselves: the build generation moves on and the pages'
event stream tells them. A failed build prints its diagnostics in the terminal and turns
every page into an error page listing them, while the last good site stays on disk;
fixing the files rebuilds and the pages come back.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

from digest import build, watch
from digest.diagnostics import render
from digest.files import printable
from digest.serve_http import Echo, SiteState, make_server
from digest.store import open_store
from digest.wording import plural
from digest.write import make_spare

WATCH_START_SECONDS = 10  # at most, for the watch to be set before the first build


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
    ) -> None:
        self.root = root
        self.drafts = drafts
        self.echo = echo
        self.state = SiteState(out=root / "site")
        self.httpd = make_server(host, port, self.state, echo)
        self.threads: list[threading.Thread] = []
        self.builds = 0  # finished builds, good or bad
        self.stopping = threading.Event()
        self._spare: threading.Thread | None = None  # making the spare (`_start_spare`)
        self._abandon_spare = threading.Event()
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
        self._stop_spare()
        with self.state.building:
            result = build.run(self.root, drafts=self.drafts, store=self.store)
        seconds = time.perf_counter() - started
        if result.ok and result.out is not None:
            self._start_spare(result.out)
        diagnostics = result.report.sorted()
        if result.out is not None:
            self.state.out = result.out
        if diagnostics:
            self.echo(render(diagnostics, "text"))
        if result.ok:
            self.echo(f"built {plural(result.pages, 'page')} in {seconds:.2f} s")
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

    def _start_spare(self, out: Path) -> None:
        """Make the spare in the background while nothing changes (digest.write's
        `make_spare`): the next rebuild then writes only the files that differ. The
        first rebuild after a first build would otherwise link the whole site anew."""
        self._abandon_spare.clear()
        self._spare = threading.Thread(
            target=make_spare, args=(out, self._abandon_spare), name="digest-spare", daemon=True
        )
        self._spare.start()

    def _stop_spare(self) -> None:
        if self._spare is not None:
            self._abandon_spare.set()
            self._spare.join()
            self._spare = None

    def _watch(self, ready: threading.Event) -> None:
        """Rebuild after each burst of saves, until stopped."""
        try:
            for changed in watch.changes(self.root, self.stopping, ready):
                names = sorted({printable(Path(path).name) for path in changed})
                self.echo(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}")
                self._rebuild_after_change()
        except Exception as exc:  # noqa: BLE001 - the site is still served, unwatched
            self.echo(f"internal error while watching (please report it): {exc!r}")
            self.echo("saved changes are no longer seen: restart digest serve")
        finally:
            ready.set()  # the first build need not wait for a watch that failed

    def _rebuild_after_change(self) -> None:
        try:
            self.rebuild()
        except Exception as exc:  # noqa: BLE001 - a bug in a build must not stop serving
            self.echo(f"internal error while building (please report it): {exc!r}")
            with self.state.changed:
                self.state.error = f"internal error while building: {exc!r}"
                self.state.generation += 1
                self.state.changed.notify_all()

    def start(self) -> None:
        """Watch, first build, then serve, in background threads."""
        ready = threading.Event()
        watching = threading.Thread(
            target=self._watch, args=(ready,), name="digest-watch", daemon=True
        )
        watching.start()  # before the build, so no save after it starts is missed
        self.threads.append(watching)
        ready.wait(timeout=WATCH_START_SECONDS)
        self.rebuild()
        serving = threading.Thread(
            target=self.httpd.serve_forever, args=(0.1,), name="digest-serve", daemon=True
        )
        serving.start()
        self.threads.append(serving)

    def stop(self) -> None:
        self.stopping.set()
        with self.state.changed:
            self.state.stopping = True
            self.state.changed.notify_all()
        if any(thread.name == "digest-serve" for thread in self.threads):
            self.httpd.shutdown()  # waits for serve_forever, so only once it runs
        self.httpd.server_close()
        for thread in self.threads:
            thread.join(timeout=5)
        self._stop_spare()

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
