"""pages: the issue page reads as an article (each paper once, "Under the hood" lines,
contents that add up), and every page says where it is (previous and next, its title)."""

from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from digest.build import run

from .conftest import MINIMAL_ISSUE, REPO, SiteFactory, paper_yaml

ARTICLE = REPO / "tests" / "fixtures" / "sites" / "article"
SMALL = REPO / "tests" / "fixtures" / "sites" / "small"
ISSUES = ("2026-02-28", "2026-02-14", "2026-02-07")  # the article site's, newest first


class Page(HTMLParser):
    """One page's <title>, the text of each element with an id, and its links, each with
    the id of the element (section, list item's group) it is in."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.texts: dict[str, str] = {}  # id → the text inside that element
        self.links: list[tuple[str, str, tuple[str, ...]]] = []  # (href, text, ids around)
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of the open elements
        self._link: tuple[str, list[str], tuple[str, ...]] | None = None
        self._in_title = False
        self.feed(html)
        self.close()

    def _ids(self) -> tuple[str, ...]:
        return tuple(found for _, found in self._open if found)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("meta", "link", "br", "img", "input", "mspace"):
            return
        self._open.append((tag, values.get("id")))
        if values.get("id"):
            self.texts[str(values["id"])] = ""
        if tag == "a":
            self._link = (values.get("href") or "", [], self._ids())
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, text, ids = self._link
            self.links.append((href, "".join(text).strip(), ids))
            self._link = None
        while self._open:
            if self._open.pop()[0] == tag:
                break
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._link is not None:
            self._link[1].append(data)
        for _, found in self._open:
            if found:
                self.texts[found] += data

    def text(self, element_id: str) -> str:
        return " ".join(self.texts[element_id].split())

    def links_in(self, element_id: str) -> list[tuple[str, str]]:
        return [(href, text) for href, text, ids in self.links if element_id in ids]


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("article") / "site"
    result = run(ARTICLE, out)
    assert result.ok, result.report.errors
    return out


def page(site: Path, url: str) -> Page:
    return Page((site / url).read_text(encoding="utf-8"))


def papers_of(issue: str) -> set[str]:
    return {p.stem for p in (ARTICLE / "entries" / issue).glob("*.yaml") if p.stem != "_issue"}


# ---------------------------------------------------------------- each paper once


def test_a_paper_with_two_themes_has_one_card_and_one_also_line(article: Path) -> None:
    issue = page(article, "2026-02-28/index.html")
    # fast-and-safe lists safety first: its card is there, acceleration links to it
    assert "paper-fast-and-safe" in issue.texts
    cards_in = {
        section
        for section in ("theme-acceleration", "theme-safety")
        if "Fast and Safe Sampling" in issue.text(section)
        and ("#paper-fast-and-safe", "Fast and Safe Sampling with Concept Filters")
        not in issue.links_in(section)
    }
    assert cards_in == {"theme-safety"}
    also = issue.links_in("theme-acceleration")
    assert ("#paper-fast-and-safe", "Fast and Safe Sampling with Concept Filters") in also
    assert "Also in this issue: Fast and Safe Sampling with Concept Filters, under Safety" in (
        issue.text("theme-acceleration")
    )
    # its topic pages both list it
    for slug in ("acceleration", "safety"):
        topic = page(article, f"topics/{slug}/index.html")
        assert "paper-fast-and-safe" in topic.texts


@pytest.mark.parametrize("issue", ISSUES)
def test_every_paper_of_an_issue_has_exactly_one_card(article: Path, issue: str) -> None:
    html = (article / issue / "index.html").read_text(encoding="utf-8")
    cards = re.findall(r'<article class="paper" id="paper-([a-z0-9-]+)">', html)
    assert sorted(cards) == sorted(papers_of(issue))


@pytest.mark.parametrize("site", [ARTICLE, SMALL, REPO], ids=["article", "small", "example"])
def test_the_contents_counts_add_up_to_the_issue_papers(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run(site, out, drafts=True).ok
    for index in sorted(out.glob("20*/index.html")):
        html = index.read_text(encoding="utf-8")
        start = html.index('<nav class="toc"')
        toc = html[start : html.index("</nav>", start)]
        counts = [int(n) for n in re.findall(r'<span class="count">(\d+)</span>', toc)]
        dek = re.search(r"Latest (\d+) papers?", html)
        assert dek is not None
        assert sum(counts) == int(dek.group(1)) == html.count('<article class="paper" id=')


# ---------------------------------------------------------------- under the hood


def hood_lines(html: str) -> dict[str, list[str]]:
    """Each "Under the hood" group's lines as plain text, by the group's id."""
    found: dict[str, list[str]] = {}
    for group, items in re.findall(
        r'<h3 id="(hood-[a-z]+)">.*?</h3>\s*<ul[^>]*>(.*?)</ul>', html, re.S
    ):
        found[group] = [
            " ".join(re.sub(r"<[^>]+>", "", item).split())
            for item in re.findall(r"<li>(.*?)</li>", items, re.S)
        ]
    return found


def test_under_the_hood_lines_read_as_the_seed(article: Path) -> None:
    html = (article / "2026-02-28" / "index.html").read_text(encoding="utf-8")
    lines = hood_lines(html)
    assert lines["hood-architectures"] == [
        # label, code as a short address then the paper (its link named for screen
        # readers), the tagline; no attribution in this group
        "DPCache (github.com/argsss/DPCache, paper: DPCache): Plans the whole denoising "
        "route at once, so sampling gets faster without training.",
        # a list contribution: in each of its groups
        "OrthoDiffusion: A foundation model for musculoskeletal MRI that learns several "
        "reading tasks at once and needs few labelled scans; its training collection is "
        "released with it.",
    ]
    assert lines["hood-techniques"] == [
        # the title is not the label, so it is named, then who and where
        "FastSafe: FastSafe filters unsafe concepts while it halves the number of sampling "
        "steps. Fast and Safe Sampling with Concept Filters — Ada Lovelace and Mary "
        "Somerville, Analytical Engine Society",
    ]
    datasets = lines["hood-datasets"]
    # sorted by the label shown, case-insensitively: `label`, title before a colon, title
    assert [line.split(" ")[0].rstrip(":") for line in datasets] == [
        "ColoredImageNet",
        "DM4CT",
        "OrthoDiffusion",
    ]
    # the summary starts with the label: it is not said twice
    assert datasets[1].startswith(
        "DM4CT (github.com/DM4CT/DM4CT): A systematic benchmark of diffusion models"
    )
    assert datasets[1].endswith(
        "DM4CT: Benchmarking Diffusion Models for Computed Tomography Reconstruction — "
        "Jiayang Shi et al., Leiden University"
    )


def test_the_labels_of_under_the_hood_lead_to_the_cards(article: Path) -> None:
    issue = page(article, "2026-02-28/index.html")
    links = issue.links_in("under-the-hood")
    targets = [href for href, _ in links if href.startswith("#paper-")]
    assert targets == [
        "#paper-dm4ct",  # the intro's cross-reference, then each line's label
        "#paper-dpcache",
        "#paper-orthodiffusion",
        "#paper-fast-and-safe",
        "#paper-adversarial-purifiers",
        "#paper-dm4ct",
        "#paper-orthodiffusion",
    ]
    assert all(target[1:] in issue.texts for target in targets)


def test_an_issue_may_replace_the_intro_of_under_the_hood(
    article: Path, make_site: SiteFactory
) -> None:
    own = page(article, "2026-02-28/index.html").text("under-the-hood")
    assert "What this issue builds, how it trains, and what it measures with" in own
    assert "one line each; the benchmark is last. Architectures" in own
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(contribution="technique"),
        }
    )
    assert run(root, root / "site").ok
    fixed = page(root / "site", "2026-02-28/index.html").text("under-the-hood")
    assert "The architectures, techniques and benchmarks of this issue, one line each." in fixed


# ---------------------------------------------------------------- finding your place


def test_each_section_links_back_to_the_contents(article: Path) -> None:
    issue = page(article, "2026-02-28/index.html")
    assert "contents" in issue.texts
    parts = ["theme-acceleration", "theme-safety", "theme-medical", "theme-theory"]
    for part in [*parts, "under-the-hood", "outlook"]:
        assert ("#contents", "Contents ↑") in issue.links_in(part), part


def issue_nav(site: Path, issue: str) -> list[tuple[str, str]]:
    html = (site / issue / "index.html").read_text(encoding="utf-8")
    nav = re.search(r'<nav class="issue-nav".*?</nav>', html, re.S)
    return [] if nav is None else [(href, text) for href, text, _ in Page(nav.group(0)).links]


def test_issue_pages_link_the_previous_and_next_issue(article: Path) -> None:
    assert issue_nav(article, "2026-02-28") == [
        ("../2026-02-14/", "Previous issue Feb. 14, 2026: Article Digest, second issue"),
    ]
    assert issue_nav(article, "2026-02-14") == [
        ("../2026-02-07/", "Previous issue Feb. 7, 2026: Article Digest, first issue"),
        (
            "../2026-02-28/",
            "Next issue Feb. 28, 2026: Article Digest: Faster, Safer and Better Measured",
        ),
    ]
    assert issue_nav(article, "2026-02-07") == [
        ("../2026-02-14/", "Next issue Feb. 14, 2026: Article Digest, second issue"),
    ]


def test_a_single_issue_links_no_other(make_site: SiteFactory) -> None:
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    assert run(root, root / "site").ok
    assert issue_nav(root / "site", "2026-02-28") == []


def paper_nav(site: Path, paper: str) -> list[tuple[str, str]]:
    html = (site / "papers" / paper / "index.html").read_text(encoding="utf-8")
    nav = re.search(r'<nav class="paper-nav".*?</nav>', html, re.S)
    return [] if nav is None else [(href, text) for href, text, _ in Page(nav.group(0)).links]


def test_paper_pages_link_the_papers_before_and_after_them_on_the_issue_page(
    article: Path,
) -> None:
    # the cards' order: the sections in the site's theme order, each by title
    order = ["dpcache", "adversarial-purifiers", "fast-and-safe", "dm4ct", "orthodiffusion"]
    order.append("masked-convergence")
    for before, after in itertools.pairwise(order):
        assert paper_nav(article, before)[-1][0] == f"../../papers/{after}/"
        assert paper_nav(article, after)[0][0] == f"../../papers/{before}/"
    # the first and the last have one neighbour; each is named by its short name, or title
    assert [text for _, text in paper_nav(article, "dpcache")] == [
        "Next paper Diffusion or Non-Diffusion Adversarial Defenses: Rethinking the "
        "Relation between Classifier and Adversarial Purifier"
    ]
    assert [text for _, text in paper_nav(article, "dm4ct")] == [
        "Previous paper FastSafe",
        "Next paper OrthoDiffusion: A Generalizable Multi-Task Diffusion Foundation Model "
        "for Musculoskeletal MRI Interpretation",
    ]
    (last,) = paper_nav(article, "masked-convergence")
    assert last[1].startswith("Previous paper OrthoDiffusion")
    assert paper_nav(article, "string-method") == []  # alone in its issue


def test_a_paper_page_leads_back_to_its_card(article: Path) -> None:
    crumbs = page(article, "papers/dm4ct/index.html").links
    assert ("../../2026-02-28/#paper-dm4ct", "Feb. 28, 2026") in [(h, t) for h, t, _ in crumbs]


def test_every_title_ends_with_the_site_name(article: Path) -> None:
    pages = sorted(article.rglob("*.html"))
    kinds = {p.relative_to(article).parts[0] for p in pages}
    assert {"index.html", "2026-02-28", "topics", "papers", "404.html", "search"} <= kinds
    for html in pages:
        title = page(article, html.relative_to(article).as_posix()).title
        assert title == "Article Digest" or title.endswith(" — Article Digest"), html
    issue = page(article, "2026-02-28/index.html").title
    assert (
        issue
        == "Article Digest: Faster, Safer and Better Measured (Feb. 28, 2026) — Article Digest"
    )


def test_an_issue_links_its_email_edition_and_bibtex_when_it_has_them(
    article: Path, make_site: SiteFactory
) -> None:
    def tools(issue: Page) -> list[tuple[str, str]]:
        wanted = ("E-mail edition", "BibTeX of this issue")
        return [(h, t) for h, t in issue.links_in("main") if t in wanted]

    newest = page(article, "2026-02-28/index.html")
    assert tools(newest) == [
        ("../2026-02-28/email.html", "E-mail edition"),
        ("../2026-02-28/digest-2026-02-28.bib", "BibTeX of this issue"),
    ]
    assert (article / "2026-02-28" / "email.html").is_file()
    # its only paper names no authors: no record to cite, no BibTeX link
    assert tools(page(article, "2026-02-14/index.html")) == [
        ("../2026-02-14/email.html", "E-mail edition")
    ]
    # without base_url there is no e-mail edition to link
    root = make_site(
        {"entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE, "entries/2026-02-28/a.yaml": paper_yaml()}
    )
    assert run(root, root / "site").ok
    assert tools(page(root / "site", "2026-02-28/index.html")) == [
        ("../2026-02-28/digest-2026-02-28.bib", "BibTeX of this issue")
    ]
    assert not (root / "site" / "2026-02-28" / "email.html").exists()


def test_dates_read_the_same_on_every_page(article: Path) -> None:
    """ "Feb. 7, 2026" wherever a page shows a date; ISO dates only in attributes."""
    for html in sorted(article.rglob("*.html")):
        body = html.read_text(encoding="utf-8").split("<body", 1)[1]
        text = " ".join(re.sub(r"<[^>]+>", " ", body).split())
        assert not re.search(r"\b2026-0\d-\d\d\b(?![/.])", text.replace("digest-2026", "")), html
        assert not re.search(r"\b(?:February|7 Feb|28 Feb)\b", text), html


def test_the_home_page_lists_every_theme_of_the_latest_issue_with_its_cards(
    make_site: SiteFactory,
) -> None:
    root = make_site(
        {
            "entries/2026-02-28/_issue.yaml": MINIMAL_ISSUE,
            "entries/2026-02-28/a.yaml": paper_yaml(themes="[safety, acceleration]"),
        }
    )
    assert run(root, root / "site").ok
    home = (root / "site" / "index.html").read_text(encoding="utf-8")
    chips = re.findall(r'<li><a href="./2026-02-28/#theme-([a-z]+)">(.*?)</a></li>', home)
    assert chips == [
        ("acceleration", "Acceleration"),
        ("safety", 'Safety <span class="count">1</span>'),
    ]
