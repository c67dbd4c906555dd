from __future__ import annotations

from datetime import date
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from digest.models import DEFAULT_THEMES, Paper, SiteConfig
from digest.schema import json_schema
from digest.yaml_nodes import parse_yaml


def paper(**fields: object) -> Paper:
    base: dict[str, object] = {"title": "T", "themes": ["theory"], "summary": "S"}
    base.update(fields)
    return Paper.model_validate(base)


@pytest.mark.parametrize(
    "arxiv",
    [
        "2401.12345",
        "2401.12345v2",
        "0704.0001",
        "hep-th/9901001",
        "math.AG/0601001v3",
        "cs/0101001",
    ],
)
def test_valid_arxiv_ids(arxiv: str) -> None:
    assert paper(arxiv=arxiv).arxiv == arxiv


@pytest.mark.parametrize(
    "arxiv", ["2401.1234.5", "2413.12345", "24.12345", "hep-th/99", "2401.12345v0"]
)
def test_invalid_arxiv_ids(arxiv: str) -> None:
    with pytest.raises(ValidationError, match="is not an arXiv id"):
        paper(arxiv=arxiv)


@pytest.mark.parametrize(
    ("arxiv", "reason"),
    [
        ("2401.1234", "ids from 1501 (January 2015) on have 5 digits after the dot"),
        ("1501.0001v2", "ids from 1501 (January 2015) on have 5 digits after the dot"),
        ("1412.69800", "ids from 0704 to 1412 have 4 digits after the dot"),
        (
            "0703.1234",
            "new-style ids start at 0704 (April 2007); older ones look like hep-th/0601001",
        ),
        (
            "hep-th/0801001",
            "old-style ids ran from 9108 to 0703; newer ones look like 2401.12345",
        ),
    ],
)
def test_an_arxiv_number_must_fit_its_month(arxiv: str, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        paper(arxiv=arxiv)
    assert caught.value.errors()[0]["msg"] == f"'{arxiv}' is not an arXiv id: {reason}"
    assert paper(arxiv="1412.6980").arxiv == "1412.6980"  # 4 digits up to 1412
    assert paper(arxiv="1501.00001v3").arxiv == "1501.00001v3"  # 5 digits from 1501


@pytest.mark.parametrize("doi", ["10.1000/xyz123", "10.1145/3292500.3330701"])
def test_valid_dois(doi: str) -> None:
    assert paper(doi=doi).doi == doi


def test_invalid_doi() -> None:
    with pytest.raises(ValidationError, match="is not a DOI"):
        paper(doi="11.1000/x")


def test_paper_link_defaults_to_arxiv_then_doi() -> None:
    assert paper().paper_url is None
    assert paper(doi="10.1000/x").paper_url == "https://doi.org/10.1000/x"
    # what an address cannot hold as it is, percent-encoded (the resolver decodes it)
    odd = paper(doi="10.1002/(SICI)1097-4636<35:4>#1?%").paper_url
    assert odd == "https://doi.org/10.1002/(SICI)1097-4636%3C35:4%3E%231%3F%25"
    assert (
        paper(doi="10.1000/x", arxiv="2401.12345").paper_url == "https://arxiv.org/abs/2401.12345"
    )
    explicit = paper(arxiv="2401.12345", links={"paper": "https://openreview.net/forum?id=1"})
    assert explicit.paper_url == "https://openreview.net/forum?id=1"


def test_strings_from_yaml_become_types() -> None:
    parsed = paper(et_al="true", published="2026-02-20", authors=None)
    assert parsed.et_al is True
    assert parsed.published == date(2026, 2, 20)
    assert parsed.authors == []


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://a.b/c", "//a.b/c", "https://", "https://a b.c/"]
)
def test_links_must_be_absolute_http(url: str) -> None:
    with pytest.raises(ValidationError, match="not an absolute http"):
        paper(links={"code": url})


@pytest.mark.parametrize("url", ["https://a.b:99999/c", "https://a.b:http/c"])
def test_a_link_port_must_be_a_port(url: str) -> None:
    with pytest.raises(ValidationError, match="port outside 0-65535"):
        paper(links={"code": url})


def test_models_are_frozen_and_strict() -> None:
    parsed = paper()
    with pytest.raises(ValidationError):
        parsed.title = "changed"
    with pytest.raises(ValidationError, match="Extra inputs"):
        paper(colour="red")


def test_default_config_has_exactly_the_four_default_themes() -> None:
    config = SiteConfig()
    assert config.theme_slugs == ["acceleration", "safety", "medical", "theory"]
    assert config.themes == DEFAULT_THEMES
    assert config.entries == "entries" and config.out == "site" and config.templates == "templates"


def test_base_url_loses_its_trailing_slash() -> None:
    assert (
        SiteConfig(base_url="https://a.github.io/digest/").base_url == "https://a.github.io/digest"
    )


@pytest.mark.parametrize(
    "character",
    ["\x00", "\x1b", "\x7f", "\x85", "\x9f", "\ud800", "\ufdd0", "\ufffe", "\U0010ffff"],
)
def test_a_forbidden_character_is_refused_in_every_text(character: str) -> None:
    values = {
        "title": f"A {character}",
        "authors": [f"Ann {character}"],
        "links": {"code": f"https://x.example/{character}"},
        "doi": f"10.1000/{character}",
        "summary": f"{character} first",  # before whitespace is stripped
    }
    with pytest.raises(ValidationError) as caught:
        paper(**values)
    errors = {(e["loc"], e["type"], e["ctx"]["offset"]) for e in caught.value.errors()}
    assert errors == {
        (("title",), "forbidden_character", 2),
        (("authors", 0), "forbidden_character", 4),
        (("links", "code"), "forbidden_character", 18),
        (("doi",), "forbidden_character", 8),
        (("summary",), "forbidden_character", 0),
    }
    with pytest.raises(ValidationError, match="is not allowed"):
        SiteConfig(title=f"Lab {character}")


def test_tabs_and_line_breaks_stay_allowed_where_lines_are() -> None:
    assert paper(summary="One\tline\r\nand another\n").summary == "One\tline\r\nand another"
    with pytest.raises(ValidationError, match="must be a single line"):
        paper(title="One\rtwo")


def test_contribution_is_one_kind_or_a_list_of_them() -> None:
    assert paper(contribution="dataset").contributions == ("dataset",)
    assert paper(contribution=["architecture", "dataset"]).contributions == (
        "architecture",
        "dataset",
    )
    assert paper().contributions == ()
    for wrong in ("datset", ["architecture", "datset"], [], ["dataset", "dataset"]):
        with pytest.raises(ValidationError):
            paper(contribution=wrong)


def test_the_schema_accepts_labels_listed_contributions_and_an_under_the_hood_text() -> None:
    """Every entry of the article fixture, which uses them all, is valid for editors too."""
    root = Path(__file__).parent / "fixtures" / "sites" / "article"
    schemas = {kind: json_schema(kind, SiteConfig()) for kind in ("paper", "issue")}
    files = sorted((root / "entries").glob("*/*.yaml"))
    for path in files:
        data, _, _ = parse_yaml(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "et_al" in data:  # a YAML boolean to editors' tools
            data["et_al"] = data["et_al"] == "true"
        jsonschema.validate(data, schemas["issue" if path.name == "_issue.yaml" else "paper"])
    base = {"title": "T", "themes": ["theory"], "summary": "S"}
    jsonschema.validate({**base, "label": "L", "contribution": ["dataset"]}, schemas["paper"])
    for wrong in ("datset", ["datset"], [], ["dataset", "dataset"]):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**base, "contribution": wrong}, schemas["paper"])
