from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from digest import __version__
from digest.cli import app
from digest.yaml_nodes import parse_yaml

from .conftest import MINIMAL_ISSUE, SiteFactory, paper_yaml

runner = CliRunner()
BASE_URL = 'base_url = "https://digest.example.org"\n'


def test_the_example_site_passes_a_strict_check(example_root: Path) -> None:
    # The showcase has no warning to excuse; W101/W102 are shown by fixtures/sites/warnings.
    result = runner.invoke(app, ["check", "--root", str(example_root), "--strict"])
    assert (result.exit_code, result.output) == (0, "27 papers in 1 issue: no problems found\n")


def test_clean_site_exits_zero(make_site: SiteFactory) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
        },
        BASE_URL,
    )
    result = runner.invoke(app, ["check", "--root", str(root), "--strict"])
    assert (result.exit_code, result.output) == (0, "1 paper in 1 issue: no problems found\n")


def broken_site(make_site: SiteFactory) -> Path:
    return make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(themes="[acceleraton]"),
            "entries/2026-02-28/b.yaml": paper_yaml(authors=None),
        },
        BASE_URL,
    )


def test_text_format(make_site: SiteFactory) -> None:
    result = runner.invoke(app, ["check", "--root", str(broken_site(make_site))])
    assert result.exit_code == 1
    assert result.output == (
        "entries/2026-02-28/a.yaml:3:10: error[E105]: unknown theme 'acceleraton'\n"
        "    hint: did you mean 'acceleration'?\n"
        "entries/2026-02-28/b.yaml:1:1: warning[W101]: no authors listed\n"
        "    hint: add 'authors: [First Author]' and 'et_al: true' when the list is incomplete\n"
        "1 paper in 1 issue: 1 error, 1 warning in 2 files\n"
    )


def test_json_format(make_site: SiteFactory) -> None:
    result = runner.invoke(
        app, ["check", "--root", str(broken_site(make_site)), "--format", "json"]
    )
    assert result.exit_code == 1
    document = json.loads(result.output)
    assert (document["errors"], document["warnings"]) == (1, 1)
    assert [(d["path"], d["line"], d["col"], d["code"]) for d in document["diagnostics"]] == [
        ("entries/2026-02-28/a.yaml", 3, 10, "E105"),
        ("entries/2026-02-28/b.yaml", 1, 1, "W101"),
    ]


def test_github_format(make_site: SiteFactory) -> None:
    result = runner.invoke(
        app, ["check", "--root", str(broken_site(make_site)), "--format", "github"]
    )
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        "::error file=entries/2026-02-28/a.yaml,line=3,col=10,title=E105::"
        "unknown theme 'acceleraton'%0Ahint: did you mean 'acceleration'?"
    )
    assert lines[1].startswith("::warning file=entries/2026-02-28/b.yaml,line=1,col=1,title=W101::")


@pytest.mark.parametrize(
    "arguments",
    [
        ["check", "--format", "xml"],
        ["check", "--root", "/no/such/folder"],
        ["check", "--bogus"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(arguments: list[str]) -> None:
    assert runner.invoke(app, arguments).exit_code == 2


def test_schema_validates_every_example_entry(example_root: Path) -> None:
    schemas = {}
    for kind in ("paper", "issue"):
        result = runner.invoke(app, ["schema", kind, "--root", str(example_root)])
        assert result.exit_code == 0, result.output
        schemas[kind] = json.loads(result.output)
        jsonschema.Draft202012Validator.check_schema(schemas[kind])
    files = sorted((example_root / "entries").glob("*/*.yaml"))
    assert len(files) > 20
    for path in files:
        data, _, _ = parse_yaml(path.read_text(encoding="utf-8"))
        kind = "issue" if path.name == "_issue.yaml" else "paper"
        jsonschema.validate(_typed(data), schemas[kind])


def _typed(value: object) -> object:
    """What YAML tooling sees: plain scalars typed the YAML way (the schema targets editors)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if value in ("true", "false"):
        return value == "true"
    return value


def test_schema_offers_the_configured_themes_and_rejects_others(example_root: Path) -> None:
    schema = json.loads(runner.invoke(app, ["schema", "paper", "--root", str(example_root)]).output)
    assert "applications" in schema["properties"]["themes"]["items"]["enum"]
    bad = {"title": "T", "themes": ["nonsense"], "summary": "S"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**bad, "themes": ["theory"], "colour": "red"}, schema)


def test_schema_with_broken_config_exits_1(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.digest]\ntitel = 'x'\n")
    result = runner.invoke(app, ["schema", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("pyproject.toml:2:1: error[E302]: unknown setting 'titel'")


def test_every_command_has_help() -> None:
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_configured_check_levels_change_the_outcome(make_site: SiteFactory) -> None:
    files = {
        "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
        "entries/2026-02-28/b.yaml": paper_yaml(authors=None),
    }
    ignored = make_site(files, config=BASE_URL + '[tool.digest.checks]\nW101 = "ignore"\n')
    result = runner.invoke(app, ["check", "--root", str(ignored), "--strict"])
    assert (result.exit_code, result.output) == (0, "1 paper in 1 issue: no problems found\n")
    raised = make_site(files, config='[tool.digest.checks]\nW101 = "error"\n')
    result = runner.invoke(app, ["check", "--root", str(raised)])
    assert result.exit_code == 1
    assert "b.yaml:1:1: error[W101]: no authors listed" in result.output


def test_the_console_script_keeps_exit_codes_and_output(make_site: SiteFactory) -> None:
    # `main` ends the process with os._exit after flushing; what it printed and its exit
    # code must be exactly what the command decided, also into a pipe.
    import subprocess
    import sys

    good = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    command = [sys.executable, "-c", "from digest.cli import main; main()"]
    ok = subprocess.run([*command, "build", "--root", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith(f"pages into {good / 'site'}/")
    (good / "entries/2026-02-28/a.yaml").write_text(paper_yaml(themes="[nope]"))
    bad = subprocess.run([*command, "check", "--root", str(good)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert "a.yaml:" in bad.stdout and "unknown theme 'nope'" in bad.stdout
    usage = subprocess.run([*command, "build", "--nope"], capture_output=True, text=True)
    assert usage.returncode == 2


# ---------------------------------------------------------------- what a user expects


def test_version_prints_the_version_and_exits_0() -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.output) == (0, f"digest {__version__}\n")


def test_h_is_help_on_the_app_and_every_command() -> None:
    assert runner.invoke(app, ["-h"]).output == runner.invoke(app, ["--help"]).output
    for command in app.registered_commands:
        name = command.name or (command.callback.__name__ if command.callback else "")
        short, long = runner.invoke(app, [name, "-h"]), runner.invoke(app, [name, "--help"])
        assert (short.exit_code, short.output) == (0, long.output), name
        assert f"Usage: digest {name}" in short.output


NOT_A_ROOT = (
    "error: {root} is not a digest content root: no pyproject.toml with [tool.digest] and no "
    "entries/ folder\n"
    "    hint: run it in your digest's folder, pass --root DIR, or start one with `digest init`\n"
)


@pytest.mark.parametrize(
    "arguments",
    [["build"], ["check"], ["check", "--links"], ["new", "x", "--issue", "2026-03-07"], ["serve"]],
)
def test_a_folder_without_a_digest_is_a_usage_error(
    arguments: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Python project's pyproject.toml is not a digest's, and nothing is written.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    monkeypatch.chdir(tmp_path)
    for where in ([], ["--root", str(tmp_path)]):
        result = runner.invoke(app, [*arguments, *where])
        assert (result.exit_code, result.stdout) == (2, "")
        assert result.stderr == NOT_A_ROOT.format(root=tmp_path.resolve().as_posix())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pyproject.toml"]


def test_a_folder_with_entries_or_a_digest_table_is_a_root(tmp_path: Path) -> None:
    (tmp_path / "entries").mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert runner.invoke(app, ["check", "--root", str(tmp_path)]).exit_code == 0
    (tmp_path / "entries").rmdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n\n[tool.digest]\n')
    assert runner.invoke(app, ["check", "--root", str(tmp_path)]).exit_code == 0


def test_schema_works_outside_a_root_with_the_default_themes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--root", str(tmp_path)])
    assert result.exit_code == 0
    themes = json.loads(result.output)["properties"]["themes"]["items"]["enum"]
    assert themes == ["acceleration", "safety", "medical", "theory"]


def _w120_run(command: str, root: Path, strict: bool) -> tuple[int, list[str]]:
    flags = ["--strict"] if strict else []
    result = runner.invoke(app, [command, "--root", str(root), *flags])
    problems = [line for line in result.output.splitlines() if "[W" in line or "hint:" in line]
    return result.exit_code, problems


@pytest.mark.parametrize(
    ("config", "lines"),
    [
        (
            '[project]\nname = "x"\n\n  [tool.digest]  # the site\ntitle = "T"\n',
            [
                "pyproject.toml:4:3: {level}[W120]: base_url is not set: feeds, sitemap, "
                "canonical links and the email edition are skipped",
                '    hint: add base_url = "https://<where the site is served>" to [tool.digest]',
            ],
        ),
        (
            None,
            [
                "pyproject.toml:1:1: {level}[W120]: base_url is not set: feeds, sitemap, "
                "canonical links and the email edition are skipped",
                "    hint: there is no pyproject.toml: create one with a [tool.digest] table "
                'holding base_url = "https://<where the site is served>"',
            ],
        ),
    ],
    ids=["table", "no-pyproject"],
)
def test_check_and_build_report_the_same_warnings_w120_included(
    config: str | None, lines: list[str], make_site: SiteFactory
) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(),
            "entries/2026-02-28/b.yaml": paper_yaml(authors=None),
        }
    )
    if config is None:
        (root / "pyproject.toml").unlink()
    else:
        (root / "pyproject.toml").write_text(config)
    w101 = [
        "entries/2026-02-28/b.yaml:1:1: {level}[W101]: no authors listed",
        "    hint: add 'authors: [First Author]' and 'et_al: true' when the list is incomplete",
    ]
    for strict, level, code in ((False, "warning", 0), (True, "error", 1)):
        expected = [line.format(level=level) for line in w101 + lines]
        assert _w120_run("check", root, strict) == (code, expected)
        assert _w120_run("build", root, strict) == (code, expected)
