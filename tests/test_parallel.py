"""Parallel rendering gives exactly the pages a serial render gives, or steps aside."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest import parallel
from digest.build import load_content
from digest.organise import Library, organise
from digest.readers import READER_BUILDERS
from digest.render import (
    PAGE_BUILDERS,
    RenderedPage,
    Renderer,
    paper_pages,
    render_site,
)
from digest.template_set import Templates, load_templates


@pytest.fixture(scope="module")
def example(example_root: Path) -> tuple[Library, Templates]:
    content = load_content(example_root)
    assert content.config is not None
    library = organise(content.config, content.issues, content.papers)
    templates, problems = load_templates(content.config, example_root)
    assert templates is not None, problems
    return library, templates


def encoded(page: RenderedPage) -> bytes:
    return page.content.encode("utf-8") if isinstance(page.content, str) else page.content


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_pages_equal_serial_pages(
    example: tuple[Library, Templates], workers: int
) -> None:
    # The paper, issue and email builders run in one part per worker (SPLIT_BUILDERS).
    library, templates = example
    builders = [*PAGE_BUILDERS, *READER_BUILDERS]
    serial, problems = render_site(library, templates, builders)
    assert problems == []
    done = parallel.render(library, templates, builders, workers)
    assert done is not None
    pages, seconds = done
    assert [page.url for page in pages] == [page.url for page in serial]
    assert [encoded(page) for page in pages] == [encoded(page) for page in serial]
    assert set(seconds) == {parallel.builder_name(b) for b in builders}


def test_a_split_builder_makes_its_pages_once_over_all_parts(
    example: tuple[Library, Templates],
) -> None:
    library, templates = example
    renderer = Renderer(templates, library)
    whole = [page.url for page in paper_pages(library, renderer) if page]
    parts = []
    for which in range(3):
        renderer.part = (which, 3)
        parts.append([page.url for page in paper_pages(library, renderer) if page])
    assert all(parts) and sorted(url for part in parts for url in part) == sorted(whole)


def test_a_template_error_sends_the_build_back_to_serial(
    example: tuple[Library, Templates],
) -> None:
    library, templates = example

    def broken(library: Library, renderer: Renderer) -> list[RenderedPage | None]:
        return [renderer.page("broken.html", "no-such-template.html", {})]

    assert parallel.render(library, templates, [*PAGE_BUILDERS, broken], 2) is None
    serial_pages, serial_problems = render_site(library, templates, [*PAGE_BUILDERS, broken])
    pages, problems, _ = parallel.render_pages(library, templates, [*PAGE_BUILDERS, broken])
    assert (pages, problems) == (serial_pages, serial_problems)
    assert [d.code for d in problems] == ["E402"]


def test_duplicate_urls_send_the_build_back_to_serial(example: tuple[Library, Templates]) -> None:
    library, templates = example

    def twice(library: Library, renderer: Renderer) -> list[RenderedPage | None]:
        return [RenderedPage("index.html", "again")]

    assert parallel.render(library, templates, [*PAGE_BUILDERS, twice], 2) is None


def test_small_sites_and_threaded_processes_render_serially(
    example: tuple[Library, Templates],
) -> None:
    library, _ = example
    assert len(library.papers) < parallel.MIN_PAPERS
    assert parallel.workers_for(library) == 1


@pytest.mark.parametrize(
    ("papers", "cores", "setting", "threads", "can_fork", "expected"),
    [
        (10_000, 2, "", 1, True, 2),
        (10_000, 8, "", 1, True, 4),
        (10_000, 8, "3", 1, True, 3),
        (10_000, 2, "1", 1, True, 1),
        (10_000, 2, "lots", 1, True, 2),
        (10_000, 1, "", 1, True, 1),
        (parallel.MIN_PAPERS - 1, 2, "", 1, True, 1),
        (10_000, 2, "", 3, True, 1),
        (10_000, 2, "", 1, False, 1),
    ],
)
def test_worker_count(
    papers: int, cores: int, setting: str, threads: int, can_fork: bool, expected: int
) -> None:
    assert parallel.worker_count(papers, cores, setting, threads, can_fork) == expected
