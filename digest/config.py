"""Config: `[tool.digest]` in the content root's pyproject.toml → `SiteConfig`.

No file, or no table, means every default. Errors carry the line of the offending key
(tomllib gives no positions for values, so we find the key's line in the text).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from digest.diagnostics import (
    WARNING_CODES,
    Diagnostic,
    character_position,
    did_you_mean,
    error,
)
from digest.files import CONFIG_FILE
from digest.models import SiteConfig
from digest.values import CHARACTER_HINT


def _key_line(text: str, key: str) -> tuple[int, int]:
    """Line and column of `key = ...` inside [tool.digest], else of the table header."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == "[tool.digest]"), None)
    if start is None:
        return 1, 1
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if line.lstrip().startswith("["):
            if re.match(rf"\s*\[\[?tool\.digest\.{re.escape(key)}\]", line):
                return number + 1, 1
            if not line.lstrip().startswith("[tool.digest."):
                break
        match = re.match(rf"(\s*){re.escape(key)}\s*=", line)
        if match:
            return number + 1, len(match.group(1)) + 1
    return start + 1, 1


def _check_line(text: str, code: str) -> tuple[int, int]:
    """Line and column of `code` as a key of [tool.digest.checks] (a table of its own or
    the inline `checks = { ... }`), else of `checks` itself."""
    lines = text.splitlines()
    key = rf"""(["']?){re.escape(code)}\1\s*="""
    table = None  # the table the current line is in
    for number, line in enumerate(lines):
        header = re.match(r"\s*\[\s*([^\]\s]+)\s*\]", line)
        if header:
            table = header.group(1)
            continue
        if table == "tool.digest.checks":
            match = re.match(rf"\s*{key}", line)
        elif table == "tool.digest" and re.match(r"\s*checks\s*=", line):
            match = re.search(rf"[{{,]\s*{key}", line)
        else:
            continue
        if match:
            return number + 1, match.start(1) + 1
    return _key_line(text, "checks")


def _assignment_line(text: str) -> tuple[int, int]:
    """Line and column of `tool = ...`, `tool.digest = ...` or `digest = ...` (a value
    where the table should be), else 1:1."""
    for number, line in enumerate(text.splitlines()):
        match = re.match(r"(\s*)(tool(\s*\.\s*digest)?|digest)\s*=", line)
        if match:
            return number + 1, len(match.group(1)) + 1
    return 1, 1


def _character_in_value(
    text: str, key_at: tuple[int, int], location: list[str], details: ErrorDetails
) -> tuple[int, int] | None:
    """Where the character of a "forbidden_character" error is written, in a one-line
    `key = "value"` (or 'value') at `key_at`; None elsewhere (in a table of themes)."""
    line, col = key_at
    lines = text.splitlines()
    if len(location) != 1 or not isinstance(details["input"], str) or line > len(lines):
        return None
    value = re.match(rf"{re.escape(location[0])}\s*=\s*", lines[line - 1][col - 1 :])
    if value is None:
        return None
    offset = details.get("ctx", {}).get("offset", 0)
    return character_position(lines, line, col + value.end(), details["input"], offset)


def load_config(root: Path) -> tuple[SiteConfig | None, list[Diagnostic]]:
    """Read the site's settings; None with diagnostics when they are invalid."""
    path = root / CONFIG_FILE
    shown = CONFIG_FILE
    if not path.is_file():
        return SiteConfig(), []
    try:
        text = path.read_bytes().decode("utf-8")
        document = tomllib.loads(text)
    except OSError as exc:
        return None, [error(shown, 1, 1, "E301", f"cannot read pyproject.toml: {exc.strerror}")]
    except UnicodeDecodeError:
        return None, [error(shown, 1, 1, "E301", "pyproject.toml is not valid UTF-8")]
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11's message ends in "(at line L, column C)"; later versions also set attributes.
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        return None, [error(shown, line, col, "E301", f"TOML syntax error: {message}")]
    tool = document.get("tool", {})
    table = tool.get("digest", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        name = "[tool.digest]" if isinstance(tool, dict) else "[tool]"
        return None, [error(shown, *_assignment_line(text), "E302", f"{name} must be a table")]
    try:
        return _placed(root, text, SiteConfig.model_validate(table))
    except ValidationError as exc:
        found = []
        for details in exc.errors(include_url=False):
            location = [str(part) for part in details["loc"]]
            key = location[0] if location else "digest"
            if key == "checks" and len(location) > 1:
                found.append(_check_problem(shown, text, location[1], details))
                continue
            name = ".".join(location)
            if details["type"] == "extra_forbidden":
                message = f"unknown setting '{name}' in [tool.digest]"
            elif details["type"] == "missing":
                message = f"setting '{name}' is required"
            else:
                message = f"setting '{name}': {details['msg'][0].lower()}{details['msg'][1:]}"
            hint = None
            if details["type"] == "extra_forbidden":
                fields = (
                    SiteConfig.model_fields
                    if len(location) == 1
                    else ("slug", "title", "description")
                )
                hint = did_you_mean(location[-1], fields)
            position = _key_line(text, key)
            if details["type"] == "forbidden_character":
                position = _character_in_value(text, position, location, details) or position
                hint = CHARACTER_HINT
            found.append(error(shown, *position, "E302", message, hint))
        return None, found


def misplaced_output(
    root: Path, config: SiteConfig, out: Path | None = None, text: str = ""
) -> Diagnostic | None:
    """E405 when the output folder (`out`, else the configured `out`) is the entries or
    templates folder or lies anywhere inside one: each build would read its own output
    (copying the site into itself, a little bigger every time)."""
    target = (out if out is not None else root / config.out).resolve()
    for setting, name in (("entries", config.entries), ("templates", config.templates)):
        folder = (root / name).resolve()
        if target != folder and folder not in target.parents:
            continue
        shown = str(out) if out is not None else config.out
        message = f"refusing to write the site into {shown}: it is inside the {setting} folder"
        hint = f"choose an output folder outside {name}/, such as site/"
        if out is not None:
            return error(str(out), 1, 1, "E405", message, hint)
        return error(CONFIG_FILE, *_key_line(text, "out"), "E405", message, hint)
    return None


def _placed(
    root: Path, text: str, config: SiteConfig
) -> tuple[SiteConfig | None, list[Diagnostic]]:
    """The configuration, unless its `out` is refused (`misplaced_output`)."""
    problem = misplaced_output(root, config, text=text)
    return (None, [problem]) if problem else (config, [])


def _check_problem(shown: str, text: str, code: str, details: ErrorDetails) -> Diagnostic:
    """A bad key or level in [tool.digest.checks], at the line of its code."""
    hint = None
    if details["type"] == "unknown_check":
        known = ", ".join(WARNING_CODES)
        hint = did_you_mean(code, WARNING_CODES) or f"the checks with a level: {known}"
        message = f"unknown check '{code}' in [tool.digest.checks]"
    elif details["type"] == "literal_error":
        message = f"setting 'checks.{code}': must be 'error', 'warning' or 'ignore'"
        if isinstance(details["input"], str):
            hint = did_you_mean(details["input"], ("error", "warning", "ignore"))
    else:
        message = f"setting 'checks.{code}': {details['msg']}"
    return error(shown, *_check_line(text, code), "E302", message, hint)
