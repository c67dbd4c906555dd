from __future__ import annotations

from pathlib import Path

import pytest

from digest.config import load_config
from digest.values import CHARACTER_HINT


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_no_pyproject_means_defaults(tmp_path: Path) -> None:
    config, problems = load_config(tmp_path)
    assert problems == [] and config is not None
    assert config.theme_slugs == ["acceleration", "safety", "medical", "theory"]


def test_empty_table_means_defaults(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, "[project]\nname = 'x'\n\n[tool.digest]\n"))
    assert problems == [] and config is not None and config.title == "Research digest"


def test_example_site_adds_applications(example_root: Path) -> None:
    config, problems = load_config(example_root)
    assert problems == [] and config is not None
    assert config.theme_slugs[:4] == ["acceleration", "safety", "medical", "theory"]
    assert "applications" in config.theme_slugs


def test_errors_point_at_the_key_line(tmp_path: Path) -> None:
    config, problems = load_config(write(tmp_path, "[tool.digest]\ntitle = 'x'\n  out = 3\n"))
    assert config is None
    assert [(p.line, p.col, p.code, p.message) for p in problems] == [
        (3, 3, "E302", "setting 'out': input should be a valid string")
    ]


def test_repeated_theme_slug(tmp_path: Path) -> None:
    text = '[tool.digest]\nthemes = [{slug = "a", title = "A"}, {slug = "a", title = "B"}]\n'
    _, problems = load_config(write(tmp_path, text))
    assert [p.message for p in problems] == ["setting 'themes': theme 'a' is listed twice"]


def test_non_utf8_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.digest]\ntitle = '\xff'\n")
    _, problems = load_config(tmp_path)
    assert [(p.path, p.code) for p in problems] == [("pyproject.toml", "E301")]


def test_check_levels_apply_to_warnings_only(tmp_path: Path) -> None:
    text = '[tool.digest]\ntitle = "x"\n\n[tool.digest.checks]\nW101 = "ignore"\nE101 = "warning"\n'
    config, problems = load_config(write(tmp_path, text))
    assert config is None
    assert [(p.line, p.col, p.message) for p in problems] == [
        (
            6,
            1,
            "setting 'checks.E101': 'E101' cannot be configured: only warnings (W...) have a "
            "level; errors always fail",
        )
    ]
    config, problems = load_config(write(tmp_path, '[tool.digest]\nchecks = { W101 = "ignore" }\n'))
    assert problems == [] and config is not None and config.checks == {"W101": "ignore"}


def test_a_value_where_a_table_belongs_is_an_error_at_its_line(tmp_path: Path) -> None:
    cases = {
        "tool = 3\n": (1, 1, "[tool] must be a table"),
        "[project]\nname = 'x'\n\n[tool]\n  digest = 'x'\n": (
            5,
            3,
            "[tool.digest] must be a table",
        ),
        "x = 1\ntool.digest = [1]\n": (2, 1, "[tool.digest] must be a table"),
    }
    for text, expected in cases.items():
        config, problems = load_config(write(tmp_path, text))
        assert config is None
        assert [(p.line, p.col, p.message) for p in problems] == [expected], text


def test_an_unreadable_config_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "[tool.digest]\n")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)  # root can read any file
    config, problems = load_config(tmp_path)
    assert config is None
    assert [(p.path, p.line, p.col, p.code, p.message) for p in problems] == [
        ("pyproject.toml", 1, 1, "E301", "cannot read pyproject.toml: Permission denied")
    ]


def test_a_folder_setting_with_a_nul_character_is_an_error(tmp_path: Path) -> None:
    for key in ("entries", "templates", "out"):
        config, problems = load_config(write(tmp_path, f'[tool.digest]\n{key} = "a\\u0000b"\n'))
        assert config is None
        assert [(p.line, p.col, p.message) for p in problems] == [
            (2, len(key) + 6, f"setting '{key}': the control character U+0000 is not allowed")
        ]


def test_a_control_character_in_a_setting_is_an_error_at_the_character(tmp_path: Path) -> None:
    text = (
        "[tool.digest]\ntitle = \"Lab\\u0001 digest\"\ndescription = 'News \ufdd0'\n"
        'contact = "a@b.org"\n\n[[tool.digest.themes]]\nslug = "a"\ntitle = "A"\n\n'
        '[[tool.digest.themes]]\nslug = "b"\ntitle = "B\\u001b"\n'
    )
    config, problems = load_config(write(tmp_path, text))
    assert config is None
    assert [(p.line, p.col, p.code, p.message, p.hint) for p in problems] == [
        (
            2, 13, "E302", "setting 'title': the control character U+0001 is not allowed",
            CHARACTER_HINT,
        ),
        (
            3, 21, "E302", "setting 'description': the noncharacter U+FDD0 is not allowed",
            CHARACTER_HINT,
        ),
        (
            6, 1, "E302",
            "setting 'themes.1.title': the control character U+001B is not allowed",
            CHARACTER_HINT,
        ),
    ]  # fmt: skip


def test_an_unknown_check_code_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = (
        '[tool.digest]\ntitle = "x"\n\n[tool.digest.checks]\nW101 = "ignore"\n'
        '  w102 = "error"\n"W999" = "error"\nW103 = "off"\n'
    )
    config, problems = load_config(write(tmp_path, text))
    assert config is None
    assert [(p.path, p.line, p.col, p.code, p.message, p.hint) for p in problems] == [
        (
            "pyproject.toml", 6, 3, "E302", "unknown check 'w102' in [tool.digest.checks]",
            "did you mean 'W102'?",
        ),
        (
            "pyproject.toml", 7, 1, "E302", "unknown check 'W999' in [tool.digest.checks]",
            "the checks with a level: W101, W102, W103, W120, W501, W502",
        ),
        (
            "pyproject.toml", 8, 1, "E302",
            "setting 'checks.W103': must be 'error', 'warning' or 'ignore'", None,
        ),
    ]  # fmt: skip
    inline = '[tool.digest]\nchecks = { W101 = "ignore", W12 = "error" }\n'
    _, problems = load_config(write(tmp_path, inline))
    assert [(p.line, p.col, p.message, p.hint) for p in problems] == [
        (2, 29, "unknown check 'W12' in [tool.digest.checks]", "did you mean 'W120'?")
    ]
