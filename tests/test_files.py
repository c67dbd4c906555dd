"""The content root's files: listing entries, reading one file, walking a folder, and
writing a file atomically."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from digest import files
from digest.files import theme_dir, walk_files, write_atomically

from .conftest import REPO
from .test_load import POSIX

# ------------------------------------------------------------------ listing and reading


def test_default_theme_is_the_repository_templates_folder() -> None:
    spec = importlib.util.find_spec("digest.templates")
    assert spec is not None
    assert theme_dir() == REPO / "templates"
    assert (theme_dir() / "base.html").is_file()
    assert (theme_dir() / "assets" / "style.css").is_file()


def test_a_content_root_has_entries_or_a_digest_table(tmp_path: Path) -> None:
    assert not files.is_content_root(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert not files.is_content_root(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.digest]\nentries = "papers"\n')
    assert files.is_content_root(tmp_path)
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "entries").mkdir()
    assert files.is_content_root(tmp_path)


@POSIX
def test_entry_paths_lists_yaml_files_and_refuses_what_must_not_be_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    issue = root / "entries" / "2026-01-02"
    (issue / "nested").mkdir(parents=True)
    for name in ("_issue.yaml", "b.yml", "a.yaml", "notes.txt"):
        (issue / name).write_text("")
    (issue / "nested" / "x.yaml").write_text("")
    (root / "entries" / "stray.yaml").write_text("")
    (tmp_path / "outside.yaml").write_text("")
    (issue / "out.yaml").symlink_to(tmp_path / "outside.yaml")
    listed = files.entry_paths(root / "entries")
    assert [(folder, Path(path).name) for folder, path in listed] == [
        ("2026-01-02", "_issue.yaml"),
        ("2026-01-02", "a.yaml"),
        ("2026-01-02", "b.yml"),
        ("", "stray.yaml"),
    ]
    assert [(r.folder, Path(r.path).name, r.reason) for r in listed.refused] == [
        ("2026-01-02", "x.yaml", files.NESTED),
        ("2026-01-02", "out.yaml", files.OUTSIDE),
    ]


@POSIX
def test_only_regular_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"id: a\n")
    assert files.read_regular(tmp_path / "a.yaml")[1] == b"id: a\n"
    assert files.read_regular(tmp_path / "a.yaml", limit=2)[1] == b""  # too large: not read
    os.mkfifo(tmp_path / "pipe.yaml")  # opened without waiting for a writer, then refused
    with pytest.raises(files.NotRegularFile, match="a pipe"):
        files.read_regular(tmp_path / "pipe.yaml")
    with pytest.raises(files.NotRegularFile, match="a folder"):
        files.read_regular(tmp_path)
    (tmp_path / "link.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises(OSError):  # noqa: PT011 - ELOOP, as the platform words it
        files.read_regular(tmp_path / "link.yaml", follow=False)


# ------------------------------------------------------------------ walking a folder


def test_walking_follows_linked_folders_but_not_round_a_loop(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "deep").mkdir(parents=True)
    (shared / "deep" / "b.css").write_text("b")
    folder = tmp_path / "templates"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.html").write_text("a")
    (folder / "theme").symlink_to(shared)  # followed: a theme kept elsewhere
    (folder / "sub" / "up").symlink_to(folder)  # a loop back to the top
    (shared / "deep" / "back").symlink_to(shared)  # a loop inside the linked folder
    (folder / "self").symlink_to(folder / "self")  # a link that cannot be followed
    (folder / "gone").symlink_to(tmp_path / "missing")
    os.mkfifo(folder / "pipe")  # left out: reading it would wait for a writer
    names = [name for name, _ in walk_files(folder)]
    assert names == ["a.html", "gone", "theme/deep/b.css"]


def test_walking_skips_named_folders_and_on_request_hidden_names(tmp_path: Path) -> None:
    for name in ("a.html", ".swap", ".git/config", "__pycache__/x.pyc", "sub/.b", "sub/c"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    walked = dict(walk_files(tmp_path, "t/", skip=frozenset({"__pycache__"})))
    assert list(walked) == ["t/.git/config", "t/.swap", "t/a.html", "t/sub/.b", "t/sub/c"]
    assert walked["t/sub/c"] == str(tmp_path / "sub" / "c")
    assert [name for name, _ in walk_files(tmp_path, hidden=False)] == [
        "__pycache__/x.pyc",
        "a.html",
        "sub/c",
    ]
    assert list(walk_files(tmp_path / "missing")) == []


# ------------------------------------------------------------------ writing one file


def test_atomic_write_replaces_whole_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "entry.yaml"
    target.write_text("old\n")
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "bad \udc80 surrogate")
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["entry.yaml"]


def test_atomic_write_takes_bytes_and_text_in_parts(tmp_path: Path) -> None:
    target = tmp_path / "state"
    write_atomically(target, b"header\n\n", b"payload")
    assert target.read_bytes() == b"header\n\npayload"
    write_atomically(target, "caf\u00e9 ", b"\x00")
    assert target.read_bytes() == b"caf\xc3\xa9 \x00"
    write_atomically(target)
    assert target.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state"]
