"""How long `digest serve` takes from an entry being saved to its rebuilt page being on disk.

The server is started on the corpus (its first build is not timed). Each run appends a
sentence to one paper's summary, as an editor saving it would, and polls that paper's
page every 5 ms until it holds the sentence. The server's wait for a burst of saves to
settle is part of what is timed: it is part of what an editor waits for.

    python -m benchmarks.serve_latency ROOT [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

POLL = 0.005  # how often the page is looked at
TIMEOUT = 120.0  # for the first build, and for each rebuild
SETTLE = 1.0  # before each save: the server is back to waiting, its spare made


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(condition: object, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(POLL)
    return False


def _holds(page: Path, text: str) -> bool:
    try:
        return text in page.read_text(encoding="utf-8")
    except OSError:
        return False


def measure(root: Path, command: list[str], runs: int) -> list[float]:
    """Seconds from saving an entry to its page holding the change, `runs` times."""
    entries = sorted(p for p in root.glob("entries/*/*.yaml") if not p.name.startswith("_"))
    entry = entries[len(entries) // 2]
    page = root / "site" / "papers" / entry.stem / "index.html"
    port = _free_port()
    log = (root / "serve-latency.log").open("w", encoding="utf-8")
    server = subprocess.Popen(
        [*command, "serve", "--root", str(root), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    seconds: list[float] = []
    try:
        if not _wait_for(lambda: _holds(root / "serve-latency.log", "built "), TIMEOUT):
            raise RuntimeError("digest serve did not finish its first build")
        time.sleep(SETTLE)
        for run in range(runs):
            sentence = f"Saved while serving, run {run} at {time.time_ns()}."  # never there yet
            text = entry.read_text(encoding="utf-8")
            started = time.perf_counter()
            entry.write_text(f"{text}  {sentence}\n", encoding="utf-8")
            if not _wait_for(lambda s=sentence: _holds(page, s), TIMEOUT):
                raise RuntimeError(f"the page never showed run {run}'s edit")
            seconds.append(time.perf_counter() - started)
            time.sleep(SETTLE)
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_latency")
    parser.add_argument("root", type=Path, help="a built or unbuilt digest content root")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    command = [sys.executable, "-c", "from digest.cli import main; main()"]
    found = measure(args.root, command, args.runs)
    print(f"save → page on disk: median {statistics.median(found):.3f} s", end="")
    print(f" (runs: {', '.join(f'{s:.3f}' for s in found)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
