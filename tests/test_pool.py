"""Work shared over forked workers gives what one process gives, and a worker that fails
is reported, never silently redone."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from digest import build, pool, render
from digest.pages import PAGE_BUILDERS
from digest.render import Job
from digest.views import Views
from tests.conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml


def test_worker_count_is_one_when_forking_does_not_pay_or_is_not_wanted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv(pool.WORKERS_VARIABLE, raising=False)
    assert pool.worker_count(10, minimum=100) == 1
    monkeypatch.setenv(pool.WORKERS_VARIABLE, "1")
    assert pool.worker_count(1000, minimum=100) == 1
    monkeypatch.setenv(pool.WORKERS_VARIABLE, "2")
    expected = 2 if threading.active_count() == 1 else 1
    assert pool.worker_count(1000, minimum=100) == expected


def test_workers_are_forked_only_as_far_as_copies_of_the_process_fit_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if threading.active_count() > 1:
        pytest.skip("forking is off while other threads run")
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.delenv(pool.WORKERS_VARIABLE, raising=False)
    monkeypatch.setattr(pool, "resident_mb", lambda: 300.0)  # a site of some thousands
    assert pool.worker_count(1000, minimum=100) == pool.MAX_WORKERS
    monkeypatch.setattr(pool, "resident_mb", lambda: 1300.0)  # of 100,000 papers
    assert pool.worker_count(1000, minimum=100) == 1
    monkeypatch.setenv(pool.MEMORY_VARIABLE, "4000")  # a larger budget
    assert pool.worker_count(1000, minimum=100) == 3
    assert 1 < pool.resident_mb() < 100_000  # this process's own, read for real


def squares(share: Sequence[int]) -> list[tuple[int, int]]:
    return [(n, n * n) for n in share]


def test_shares_in_workers_give_what_one_process_gives() -> None:
    items = list(range(101))
    shares = pool.map_forked(squares, items, 3)
    assert sorted(pair for share in shares for pair in share) == squares(items)
    assert [len(share) for share in shares] == [34, 34, 33]


def test_an_error_in_a_worker_is_raised_to_the_caller() -> None:
    parent = os.getpid()

    def fails_in_a_worker(share: Sequence[int]) -> int:
        if os.getpid() != parent:
            raise ValueError("broken in the worker")
        return len(share)

    with pytest.raises(ValueError, match="broken in the worker"):
        pool.map_forked(fails_in_a_worker, list(range(10)), 2)


def test_a_worker_that_dies_fails_the_build_with_e408(
    make_site: SiteFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(
        {
            "entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-01-03/alpha.yaml": paper_yaml(),
        }
    )
    parent = os.getpid()

    def dies_in_a_worker() -> str:
        if os.getpid() != parent:
            os._exit(3)  # as an out-of-memory kill would
        return "fine"

    def many(views: Views) -> Iterator[Job]:
        for number in range(20):
            yield Job(f"many/{number}.txt", None, "", dies_in_a_worker)

    monkeypatch.setattr(render, "worker_count", lambda items, minimum: 2)
    result = build.run(root, root / "out", builders=[*PAGE_BUILDERS, many])
    assert not result.ok
    assert [d.code for d in result.report.errors] == ["E408"]
    assert not (root / "out").exists()


def test_pages_rendered_over_workers_are_those_of_one_process(
    make_site: SiteFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"entries/2026-01-03/_issue.yaml": MINIMAL_ISSUE}
    files |= {f"entries/2026-01-03/p{n}.yaml": paper_yaml(title=f'"Paper {n}"') for n in range(9)}
    root = make_site(files, 'base_url = "https://example.org/d"\n')
    assert build.run(root, tmp_path / "serial").ok
    monkeypatch.setattr(render, "worker_count", lambda items, minimum: 2)
    assert build.run(root, tmp_path / "forked").ok
    serial, forked = tmp_path / "serial", tmp_path / "forked"
    assert {p.relative_to(serial): p.read_bytes() for p in serial.rglob("*") if p.is_file()} == {
        p.relative_to(forked): p.read_bytes() for p in forked.rglob("*") if p.is_file()
    }
