"""A build is all or nothing, even when a signal stops it (issue #23)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest import build, swap
from digest.manifest import MANIFEST, read_manifest
from digest.render import RenderedPage
from digest.write import write_site

from .conftest import MINIMAL_ISSUE, REPO, examples, paper_yaml

BASE = (REPO / "templates" / "base.html").read_text(encoding="utf-8")
COMMAND = [sys.executable, "-c", "from digest.cli import main; main()", "build", "--root"]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file's bytes and every folder (as None)."""
    return {
        p.relative_to(folder).as_posix(): None if p.is_dir() else p.read_bytes()
        for p in sorted(folder.rglob("*"))
    }


def leftovers(root: Path) -> list[str]:
    """What stopped builds may leave beside `site/`: the spare is no leftover."""
    return sorted(
        name
        for name in os.listdir(root)
        if name.startswith((".site-tmp-", ".site-old-", ".site.digest-old"))
    )


def look(root: Path, version: str) -> None:
    """Give every page of the site at `root` a different look."""
    (root / "templates").mkdir(exist_ok=True)
    text = BASE.replace("</body>", f"<!-- look {version} --></body>", 1)
    assert text != BASE
    (root / "templates" / "base.html").write_text(text, encoding="utf-8")


def content_root(folder: Path, papers: int) -> Path:
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.digest]\nbase_url = "https://example.org/d"\n')
    for number in range(papers):
        issue = folder / "entries" / f"2026-0{1 + number % 3}-0{1 + number % 7}"
        issue.mkdir(parents=True, exist_ok=True)
        (issue / "_issue.yaml").write_text(MINIMAL_ISSUE)
        (issue / f"paper-{number}.yaml").write_text(paper_yaml(title=f'"Paper {number}"'))
    return folder


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Two content roots whose `site/` holds look A: one with a spare beside it (look B,
    the build before), one without; and the bytes of look A's and look C's sites."""
    base = tmp_path_factory.mktemp("kill")
    spare = content_root(base / "with-spare", 120)
    for version in ("B", "A"):
        look(spare, version)
        assert build.run(spare, cache=True).ok
    assert read_manifest(swap.spare_path(spare / "site")) is not None
    plain = base / "no-spare"
    shutil.copytree(spare, plain, symlinks=True)
    shutil.rmtree(plain / ".site.digest-spare")
    old = tree(spare / "site")
    look(plain, "C")
    assert build.run(plain, base / "new", cache=False).ok
    look(plain, "A")
    return {"roots": [spare, plain], "old": old, "new": tree(base / "new"), "base": base}


def _stop_at_random(root: Path, rng: random.Random, seconds: float) -> None:
    """Run `digest build` on `root` and stop it with a random signal at a random moment:
    any time in its run, or soon after its new folder appears or its spare starts
    changing (then the stop falls in the write or the swap)."""
    process = subprocess.Popen(
        [*COMMAND, str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    chosen = rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
    if rng.random() < 0.5:
        time.sleep(rng.uniform(0, seconds))
    else:
        spare = swap.spare_path(root / "site") / MANIFEST
        had_spare, ends = spare.exists(), time.monotonic() + seconds
        while time.monotonic() < ends and process.poll() is None:
            if leftovers(root) or (had_spare and not spare.exists()):
                break
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.5))  # the write takes some 0.3 s here
    process.send_signal(chosen)
    process.wait(timeout=60)


@pytest.mark.slow
def test_a_stopped_build_leaves_the_old_site_or_the_new_one(
    sites: dict[str, object], tmp_path: Path
) -> None:
    roots, old, new = sites["roots"], sites["old"], sites["new"]
    assert isinstance(roots, list) and old != new
    rng = random.Random(23)
    started = time.monotonic()
    subprocess.run([*COMMAND, str(roots[0])], check=True, capture_output=True)
    seconds = time.monotonic() - started  # a no-change build: the start-up at least
    outcomes = set()
    for run in range(examples(30)):
        root = tmp_path / f"run-{run}"
        shutil.copytree(roots[run % 2], root, symlinks=True)
        look(root, "C")
        _stop_at_random(root, rng, 1.5 + 4 * seconds)
        now = tree(root / "site")
        assert now in (old, new), f"run {run}: a mix of the old site and the new one"
        outcomes.add(now == new)
        assert build.run(root, cache=True).ok
        assert tree(root / "site") == new
        assert leftovers(root) == []
        shutil.rmtree(root)
    assert outcomes  # (which of the two each run left depends on the machine's speed)


def test_a_swap_stopped_between_its_two_renames_is_put_back(tmp_path: Path) -> None:
    """Where there is no atomic exchange, the site is renamed aside, then the new one in."""
    out = tmp_path / "site"
    assert write_site([RenderedPage("index.html", "old")], out).ok
    before = tree(out)
    out.rename(swap.old_path(out))  # stopped right after the first rename
    stage = tmp_path / ".site-tmp-abcd1234"
    stage.mkdir()
    (stage / "index.html").write_text("half")  # no manifest: not known complete
    swap.recover(out)
    assert tree(out) == before
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_a_missing_site_comes_back_from_a_complete_new_one(tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert write_site([RenderedPage("index.html", "new")], tmp_path / "made").ok
    (tmp_path / "made").rename(tmp_path / ".site-tmp-q1w2e3r4")
    (tmp_path / ".site-old-zzzz").mkdir()  # left by an earlier version of digest: nothing in it
    swap.recover(out)
    assert (out / "index.html").read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["site"]


def test_a_stage_being_written_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "site"
    stage = tmp_path / ".site-tmp-inuse000"
    stage.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from digest import swap; import sys, pathlib, time;"
            f"swap.hold(pathlib.Path({str(stage)!r})); print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
        swap.recover(out)
        assert stage.is_dir()
    finally:
        holder.kill()
        holder.wait()
    swap.recover(out)
    assert not stage.exists()


def test_the_swap_falls_back_to_two_renames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(swap, "_exchanged", lambda new, out: False)
    out = tmp_path / "site"
    assert write_site([RenderedPage("index.html", "1")], out).ok
    assert write_site([RenderedPage("index.html", "2")], out).ok
    assert (out / "index.html").read_text() == "2"
    spare = swap.spare_path(out)
    assert (spare / "index.html").read_text() == "1"  # the previous site, kept as the spare
    assert sorted(os.listdir(tmp_path)) == [spare.name, "site"]
