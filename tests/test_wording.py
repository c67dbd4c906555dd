from __future__ import annotations

from datetime import date

import pytest

from digest import wording
from digest.models import CONTRIBUTIONS, Links, Paper


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 2, 28), "Feb. 28, 2026"),
        (date(2026, 5, 1), "May 1, 2026"),
        (date(2025, 9, 30), "Sept. 30, 2025"),
        (date(2024, 3, 9), "March 9, 2024"),
        (date(2024, 7, 4), "July 4, 2024"),
        (date(2024, 12, 31), "Dec. 31, 2024"),
    ],
)
def test_dates_are_formatted_without_the_locale(day: date, text: str) -> None:
    assert wording.format_date(day) == text


@pytest.mark.parametrize(
    ("papers", "issues", "text"),
    [
        (1, 1, "1 paper in 1 issue"),
        (12, 3, "12 papers in 3 issues"),
        (100_000, 2_500, "100,000 papers in 2,500 issues"),
    ],
)
def test_counts_read_as_prose_with_thousands_marked(papers: int, issues: int, text: str) -> None:
    assert wording.papers_in_issues(papers, issues) == text


def test_every_month_has_one_name_and_its_ap_form() -> None:
    assert len(wording.MONTHS) == len(wording.AP_MONTHS) == 12
    for name, short in zip(wording.MONTHS, wording.AP_MONTHS, strict=True):
        assert short == name or (short.endswith(".") and name.startswith(short[:-1]))


@pytest.mark.parametrize(
    ("count", "noun", "text"),
    [(0, "paper", "0 papers"), (1, "paper", "1 paper"), (2, "issue", "2 issues")],
)
def test_plural(count: int, noun: str, text: str) -> None:
    assert wording.plural(count, noun) == text


def test_papers_in_issues() -> None:
    assert wording.papers_in_issues(12, 3) == "12 papers in 3 issues"
    assert wording.papers_in_issues(1, 1) == "1 paper in 1 issue"


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (44, "Latest 44 papers on diffusion models: Feb. 28, 2026"),
        (1, "Latest 1 paper on diffusion models: Feb. 28, 2026"),
    ],
)
def test_dek_line(count: int, text: str) -> None:
    assert wording.issue_dek(count, "diffusion models", date(2026, 2, 28)) == text


def test_page_title() -> None:
    assert wording.page_title("Topics", "Diffusion Digest") == "Topics — Diffusion Digest"


@pytest.mark.parametrize(
    ("names", "line"),
    [([], ""), (["A"], "A"), (["A", "B"], "A and B"), (["A", "B", "C"], "A, B and C")],
)
def test_names_are_joined_as_prose(names: list[str], line: str) -> None:
    assert wording.join_names(names) == line


@pytest.mark.parametrize(
    ("authors", "et_al", "line"),
    [
        (["Bowen Cui"], True, "Bowen Cui et al."),
        (["Bowen Cui"], False, "Bowen Cui"),
        (["A", "B"], False, "A and B"),
        (["A", "B", "C"], False, "A, B and C"),
        (["A", "B", "C", "D"], False, "A et al."),
        ([], False, ""),
    ],
)
def test_author_lines(authors: list[str], et_al: bool, line: str) -> None:
    assert wording.authors_short(authors, et_al) == line


@pytest.mark.parametrize(
    ("authors", "et_al", "line"),
    [
        (["A", "B", "C", "D"], False, "A, B, C, D"),
        (["A", "B"], True, "A, B et al."),
        ([], True, ""),
    ],
)
def test_full_author_lines(authors: list[str], et_al: bool, line: str) -> None:
    assert wording.authors_full(authors, et_al) == line


def test_one_liner_is_the_tagline_else_the_first_sentence() -> None:
    summary = "We plan the trajectory, e.g. at once. It is fast."
    tagged = Paper(title="T", themes=["x"], summary=summary, tagline="Faster sampling.")
    untagged = Paper(title="T", themes=["x"], summary=summary)
    assert wording.one_liner(tagged) == "Faster sampling."
    assert wording.one_liner(untagged) == "We plan the trajectory, e.g. at once."


def test_links_are_labelled_in_one_order() -> None:
    links = Links(
        data="https://d.example/", code="https://c.example/", project="https://p.example/"
    )
    paper = Paper(title="T", themes=["x"], summary="s", arxiv="2602.01234", links=links)
    assert wording.labelled_links(paper) == (
        ("Paper", "https://arxiv.org/abs/2602.01234"),
        ("Code", "https://c.example/"),
        ("Project page", "https://p.example/"),
        ("Data", "https://d.example/"),
    )
    assert wording.labelled_links(Paper(title="T", themes=["x"], summary="s")) == ()


def test_every_contribution_has_a_label_and_one_group() -> None:
    assert set(wording.CONTRIBUTION_LABELS) == set(CONTRIBUTIONS)
    grouped = [kind for group in wording.HOOD_GROUPS for kind in group.kinds]
    assert sorted(grouped) == sorted(CONTRIBUTIONS)
    assert len({group.id for group in wording.HOOD_GROUPS}) == len(wording.HOOD_GROUPS)


def test_issue_page_title_ends_with_the_site_name() -> None:
    title = wording.issue_page_title("Faster Samplers", date(2026, 2, 28), "Diffusion Digest")
    assert title == "Faster Samplers (Feb. 28, 2026) — Diffusion Digest"


@pytest.mark.parametrize(
    ("fields", "label"),
    [
        ({"label": "ColoredImageNet", "short": "Purifiers"}, "ColoredImageNet"),
        ({"short": "DPCache"}, "DPCache"),
        ({}, "DM4CT"),  # the title's part before its colon
        ({"title": "Sharp Convergence Rates"}, "Sharp Convergence Rates"),
        ({"title": ": Only After"}, ": Only After"),
    ],
)
def test_the_hood_label_is_the_label_else_short_else_the_title_before_a_colon(
    fields: dict[str, str], label: str
) -> None:
    base = {"title": "DM4CT: Benchmarking CT", "themes": ["x"], "summary": "s"}
    assert Paper.model_validate({**base, **fields}).hood_label == label


@pytest.mark.parametrize(
    ("summary", "line"),
    [
        ("DM4CT: a benchmark for CT. More.", "A benchmark for CT."),
        ("dm4ct — a benchmark for CT.", "A benchmark for CT."),
        ("DM4CT, a benchmark for CT.", "A benchmark for CT."),
        ("DM4CT compares methods on real scans.", "DM4CT compares methods on real scans."),
        ("DM4CTX: another name.", "DM4CTX: another name."),
        ("A benchmark named DM4CT: for CT.", "A benchmark named DM4CT: for CT."),
    ],
)
def test_the_hood_one_liner_does_not_repeat_the_label(summary: str, line: str) -> None:
    paper = Paper(title="DM4CT: Benchmarking", themes=["x"], summary=summary)
    assert wording.hood_one_liner(paper) == line


def test_the_hood_one_liner_drops_the_label_from_a_tagline_too() -> None:
    paper = Paper(
        title="T", label="ColoredImageNet", themes=["x"], summary="s",
        tagline="ColoredImageNet: colour-shifted images for testing defenses.",
    )  # fmt: skip
    assert wording.hood_one_liner(paper) == "Colour-shifted images for testing defenses."
    assert wording.one_liner(paper).startswith("ColoredImageNet: ")  # elsewhere, as written


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("https://github.com/argsss/DPCache", "github.com/argsss/DPCache"),
        ("http://www.example.org/tool/", "example.org/tool"),
        ("https://zenodo.org/records/1234567?x=1", "zenodo.org/records/1234567?x=1"),
    ],
)
def test_short_links_drop_the_scheme_www_and_a_trailing_slash(url: str, text: str) -> None:
    assert wording.short_link(url) == text


def test_hood_links_put_the_code_first_then_the_paper() -> None:
    links = Links(code="https://github.com/a/b", project="https://p.example/")
    paper = Paper(title="T", themes=["x"], summary="s", arxiv="2602.01234", links=links)
    assert wording.hood_links(paper) == (
        ("github.com/a/b", "https://github.com/a/b"),
        ("paper", "https://arxiv.org/abs/2602.01234"),
    )
    assert wording.hood_links(Paper(title="T", themes=["x"], summary="s")) == ()


@pytest.mark.parametrize(
    ("authors", "et_al", "affiliations", "line"),
    [
        (["Bowen Cui"], True, ["Alibaba Group"], "Bowen Cui et al., Alibaba Group"),
        (["A", "B"], False, ["X", "Y"], "A and B, X and Y"),
        (["A"], False, [], "A"),
        ([], False, ["X"], "X"),
        ([], False, [], ""),
    ],
)
def test_attribution_names_the_authors_then_where_they_work(
    authors: list[str], et_al: bool, affiliations: list[str], line: str
) -> None:
    paper = Paper(
        title="T", themes=["x"], summary="s",
        authors=authors, et_al=et_al, affiliations=affiliations,
    )  # fmt: skip
    assert wording.attribution(paper) == line
