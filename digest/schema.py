"""Schema: JSON Schema of paper and issue files, so editors get completion and inline errors.

Generated from the pydantic models, with the configured theme slugs as an enum so an
editor's YAML tooling offers them and flags unknown ones as it types.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from digest.models import Issue, Paper, SiteConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(kind: Literal["paper", "issue"], config: SiteConfig) -> dict[str, Any]:
    model = Paper if kind == "paper" else Issue
    document: dict[str, Any] = {"$schema": SCHEMA_DIALECT, **model.model_json_schema()}
    slugs = config.theme_slugs
    properties = document["properties"]
    if kind == "paper":
        properties["themes"]["items"] = {"enum": slugs}
    else:
        properties["themes"]["propertyNames"] = {"enum": slugs}
    return document


def schema_text(kind: Literal["paper", "issue"], config: SiteConfig) -> str:
    """The schema as `digest schema` prints it and `digest init` saves it: indented JSON."""
    return json.dumps(json_schema(kind, config), indent=2, ensure_ascii=False) + "\n"
