from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest import write
from digest.hashing import digest_bytes
from digest.manifest import MANIFEST, manifest_text, read_manifest
from digest.render import RenderedPage
from digest.store import Stamp
from digest.write import unsafe_url, write_site


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _leftovers(parent: Path, out: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p != out)


def test_writes_pages_and_assets(tmp_path: Path) -> None:
    out = tmp_path / "public" / "site"
    pages = [
        RenderedPage("index.html", "<p>home</p>\n"),
        RenderedPage("a/b/index.html", b"\x00bytes"),
        RenderedPage("assets/style.css", b"body {}\n"),
    ]
    result = write_site(pages, out)
    assert result.ok
    assert result.written == 3
    assert _tree(out) == {
        ".digest-manifest": manifest_text(["a/b/index.html", "assets/style.css", "index.html"]),
        "a/b/index.html": b"\x00bytes",
        "assets/style.css": b"body {}\n",
        "index.html": b"<p>home</p>\n",
    }
    assert read_manifest(out) == {"a/b/index.html", "assets/style.css", "index.html"}
    assert _leftovers(out.parent, out) == []


def test_replaces_the_old_site_whole(tmp_path: Path) -> None:
    out = tmp_path / "site"
    (out / "2026-01-03").mkdir(parents=True)  # an issue since removed
    (out / "2026-01-03" / "index.html").write_text("stale")
    (out / "feed.xml").write_text("stale")  # made only while base_url was set
    (out / ".DS_Store").write_bytes(b"\0")  # left by a file browser
    result = write_site([RenderedPage("index.html", "new")], out)
    assert result.ok  # no manifest, but every file is one a digest site has: accepted once
    assert _tree(out) == {MANIFEST: manifest_text(["index.html"]), "index.html": b"new"}
    assert _leftovers(tmp_path, out) == []


def test_refuses_to_replace_a_folder_holding_what_digest_did_not_make(tmp_path: Path) -> None:
    out = tmp_path / "documents"
    (out / "papers").mkdir(parents=True)
    for name in ("notes.txt", "index.html", "thesis.pdf", "talk.key", "cv.tex"):
        (out / name).write_text(name)
    before = _tree(out)
    result = write_site([RenderedPage("index.html", "new")], out)
    assert [(d.path, d.code, d.message) for d in result.diagnostics] == [
        (
            f"{out}/cv.tex",
            "E405",
            f"refusing to replace {out}: it holds cv.tex (and 4 more files), "
            "which digest did not write",
        )
    ]
    assert _tree(out) == before and (out / "papers").is_dir()
    assert _leftovers(tmp_path, out) == []
    # What this build writes is not the site's own for that: only what the manifest lists.
    pages = [RenderedPage(name, "new") for name in ("cv.tex", "index.html", "notes.txt")]
    assert not write_site(pages, out).ok
    assert _tree(out) == before
    (out / "papers").rmdir()
    (out / MANIFEST).write_bytes(manifest_text(["cv.tex", "talk.key", "thesis.pdf"]))
    assert [d.path for d in write_site(pages, out).diagnostics] == [f"{out}/index.html"]
    (out / MANIFEST).write_bytes(manifest_text(["cv.tex", "index.html", "notes.txt", "talk.key"]))
    (out / "thesis.pdf").unlink()
    assert write_site(pages, out).ok
    assert _tree(out) == {
        MANIFEST: manifest_text(["cv.tex", "index.html", "notes.txt"]),
        "cv.tex": b"new",
        "index.html": b"new",
        "notes.txt": b"new",
    }


def test_research_folder_files_at_any_depth_are_never_deleted(tmp_path: Path) -> None:
    """Issue #23: `out = "research"` holding a thesis, notes and a hand-written page."""
    out = tmp_path / "research"
    (out / "papers").mkdir(parents=True)
    (out / "2024-05-01").mkdir()
    (out / "papers" / "thesis.pdf").write_bytes(b"%PDF-1.7 thesis")
    (out / "2024-05-01" / "notes.txt").write_text("notes")
    (out / "index.html").write_text("<p>my own page</p>")
    before = _tree(out)
    pages = [RenderedPage("index.html", "site"), RenderedPage("papers/a/index.html", "a")]
    result = write_site(pages, out)
    assert [(d.path, d.line, d.col, d.code, d.message) for d in result.diagnostics] == [
        (
            f"{out}/2024-05-01/notes.txt",
            1,
            1,
            "E405",
            f"refusing to replace {out}: it holds 2024-05-01/notes.txt (and 1 more file), "
            "which digest did not write",
        )
    ]
    assert _tree(out) == before
    assert _leftovers(tmp_path, out) == []
    # With a manifest, only what it lists may go: the hand-written index.html is named.
    (out / MANIFEST).write_bytes(manifest_text(["2024-05-01/notes.txt", "papers/thesis.pdf"]))
    result = write_site(pages, out)
    assert [d.path for d in result.diagnostics] == [f"{out}/index.html"]
    assert _tree(out) == {**before, MANIFEST: (out / MANIFEST).read_bytes()}


def test_a_manifest_lists_what_was_written_and_is_honoured_next_time(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = [RenderedPage("index.html", "1"), RenderedPage("papers/a/index.html", "a")]
    assert write_site(first, out).ok
    assert read_manifest(out) == {"index.html", "papers/a/index.html"}
    (out / "papers" / "a" / "notes.txt").write_text("mine")  # added by hand
    second = [RenderedPage("index.html", "2")]
    result = write_site(second, out)
    assert [d.path for d in result.diagnostics] == [f"{out}/papers/a/notes.txt"]
    (out / "papers" / "a" / "notes.txt").unlink()
    (out / ".DS_Store").write_bytes(b"\0")  # a file browser's: no part of the site
    assert write_site(second, out).ok
    assert _tree(out) == {MANIFEST: manifest_text(["index.html"]), "index.html": b"2"}
    assert not (out / "papers").exists()


@pytest.mark.parametrize(
    "url",
    [
        "../escape.html",
        "/etc/passwd",
        "a/../../b.html",
        "a//b.html",
        "a\\b.html",
        "",
        "dir/",
        "./x.html",
        "c:x",
    ],
)
def test_refuses_urls_that_escape_or_do_not_name_a_file(tmp_path: Path, url: str) -> None:
    assert unsafe_url(url) is not None
    out = tmp_path / "site"
    result = write_site([RenderedPage("index.html", "ok"), RenderedPage(url, "evil")], out)
    assert not result.ok
    assert [d.code for d in result.diagnostics] == ["E404"]
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_refuses_two_files_at_one_url(tmp_path: Path) -> None:
    out = tmp_path / "site"
    result = write_site([RenderedPage("Index.html", "a"), RenderedPage("index.html", "b")], out)
    assert [d.code for d in result.diagnostics] == ["E403"]
    assert not out.exists()


def test_a_failure_half_way_leaves_the_previous_site_untouched(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("previous")
    # The last page's folder is the path of a page written before it: no folder there.
    pages = [RenderedPage(f"p{i}/index.html", "new") for i in range(5)]
    pages.append(RenderedPage("p4/index.html/more.html", "new"))
    result = write_site(pages, out)
    assert not result.ok
    assert result.diagnostics[0].code == "E406"
    assert _tree(out) == {"index.html": b"previous"}
    assert _leftovers(tmp_path, out) == []


def test_refuses_an_output_folder_that_holds_the_content(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "entries").mkdir(parents=True)
    (root / "entries" / "keep.yaml").write_text("title: x\n")
    result = write_site([RenderedPage("index.html", "x")], root, protected=[root / "entries"])
    assert [d.code for d in result.diagnostics] == ["E405"]
    assert (root / "entries" / "keep.yaml").read_text() == "title: x\n"


def test_refuses_an_output_path_that_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.write_text("not a folder")
    result = write_site([RenderedPage("index.html", "x")], out)
    assert [d.code for d in result.diagnostics] == ["E405"]
    assert out.read_text() == "not a folder"


def test_a_first_build_writes_pages_into_the_stage_as_they_come(tmp_path: Path) -> None:
    out = tmp_path / "site"
    stage = write.new_stage(out)
    assert stage is not None and stage.parent == tmp_path
    page = write.stage_page(stage, RenderedPage("papers/a/index.html", "<p>é</p>"))
    assert page.staged and page.content == b""
    data = "<p>é</p>".encode()
    assert (stage / "papers/a/index.html").read_bytes() == data
    unsafe = write.stage_page(stage, RenderedPage("../escape.html", "x"))
    assert not unsafe.staged and not (tmp_path / "escape.html").exists()
    deep = write.stage_page(stage, RenderedPage("topics/a/b/index.html", "deep"))
    assert deep.staged and (stage / "topics/a/b/index.html").read_text() == "deep"
    (stage / "blocked").write_text("a file where a folder goes")
    blocked = write.stage_page(stage, RenderedPage("blocked/index.html", "x"))
    assert not blocked.staged and blocked.content == "x"  # left for write_site to report
    (stage / "blocked").unlink()
    shutil.rmtree(stage / "topics")
    result = write.write_site([page, RenderedPage("robots.txt", "ok\n")], out, stage=stage)
    assert result.ok and result.written == 2
    assert (out / "papers/a/index.html").read_bytes() == "<p>é</p>".encode()
    assert (out / "robots.txt").read_text() == "ok\n"
    written = (out / "papers/a/index.html").stat()  # the stamp taken as it was written
    assert page.stamp == Stamp(written.st_size, written.st_mtime_ns, digest_bytes(data))
    assert not stage.exists()
    assert write.new_stage(out) is None  # the folder exists: its files get reused instead
    again = write.new_stage(out, reusing=False)  # unless nothing of it is known to reuse
    assert again is not None and again.parent == tmp_path and again != out
    write.discard(again)


def test_a_failed_first_build_leaves_no_stage(tmp_path: Path) -> None:
    out = tmp_path / "site"
    stage = write.new_stage(out)
    assert stage is not None
    staged = write.stage_page(stage, RenderedPage("a.html", "a"))
    result = write.write_site([staged, RenderedPage("a.html", "again")], out, stage=stage)
    assert not result.ok
    assert not stage.exists() and not out.exists()
