"""A deterministic synthetic corpus, written three ways: digest, Pelican and Hugo.

    python -m benchmarks.generate OUT --papers 10000 [--seed 0] [--per-issue 40]

writes OUT/digest (a content root: pyproject.toml + entries/<date>/<id>.yaml + _issue.yaml),
OUT/pelican (content/*.md + pelicanconf.py, tag and category pages on) and OUT/hugo
(content/posts/*.md + hugo.toml + a minimal layouts/ with list, single and taxonomy
pages). The same seed gives byte-identical files. Sizes follow a real digest: titles of
6-16 words, 1-12 authors, 1-3 affiliations, 2-6 tags from a pool of a few hundred,
summaries of 1-3 Markdown paragraphs with some emphasis and links; about 40% of papers
link to code. Papers are spread over weekly issues and every configured theme.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FIRST_ISSUE = date(2020, 1, 4)


def _words(text: str) -> tuple[str, ...]:
    """A vocabulary written as comma-separated text."""
    return tuple(" ".join(word.split()) for word in text.split(",") if word.strip())


THEMES: tuple[tuple[str, str, str], ...] = (
    ("acceleration", "Acceleration", "Faster sampling, training and inference."),
    ("safety", "Safety", "Concept erasure, privacy, watermarks and robustness."),
    ("medical", "Medical", "Diffusion models for medical imaging and health."),
    ("theory", "Theory", "Convergence, geometry, memorisation and collapse."),
    ("data", "Synthetic data", "Generating training data and distilling datasets."),
    ("applications", "Applications", "Driving, motion, speech, molecules and more."),
)
THEME_WEIGHTS = (30, 15, 12, 10, 8, 25)
CONTRIBUTIONS = ("architecture", "technique", "dataset", "benchmark", None)

ADJECTIVES = _words(
    """
    adaptive, training-free, efficient, robust, scalable, latent, discrete, conditional,
    guided, consistent, private, sparse, hierarchical, implicit, stochastic, causal,
    geometric, few-step, multimodal, self-supervised, lightweight, calibrated, stable,
    faithful, controllable, unified, spectral
    """
)
NOUNS = _words(
    """
    diffusion, sampling, denoising, guidance, distillation, caching, score matching, flow
    matching, transformers, attention, noise schedules, watermarks, unlearning,
    segmentation, reconstruction, generation, editing, alignment, priors, trajectories,
    solvers, tokenizers, autoencoders, adapters, benchmarks, evaluation, memorisation,
    purification, inpainting, super-resolution
    """
)
DOMAINS = _words(
    """
    text-to-image models, video generation, medical imaging, speech enhancement, molecule
    design, protein structures, autonomous driving, motion synthesis, 3D scenes, point
    clouds, time series, language models, MRI reconstruction, remote sensing, weather
    forecasting, robot policies, audio synthesis, CT scans
    """
)
VERBS = _words(
    """
    reduces, improves, stabilises, accelerates, matches, outperforms, extends, revisits,
    simplifies, generalises, bounds, explains, measures, removes
    """
)
OBJECTS = _words(
    """
    the number of function evaluations, sample quality, training cost, memory use, the gap
    to autoregressive models, prior work on standard benchmarks, FID on ImageNet, the
    variance of the estimator, the cost of guidance, robustness to distribution shift, the
    privacy budget, the error of the ODE solver, alignment with the prompt
    """
)
FIRST_NAMES = _words(
    """
    Ada, Bowen, Chen, Dana, Elif, Farid, Grace, Hiro, Ines, Jonas, Kai, Lena, Mateo, Nadia,
    Omar, Priya, Quentin, Rosa, Sven, Tara, Umar, Vera, Wei, Ximena, Yusuf, Zoe, Amara,
    Björn, Chiara, Dmitri, Eun-ji, Fatima, Gustavo, Hana, Ivan, Julia, Kofi, Li, Maya, Nils
    """
)
SURNAMES = _words(
    """
    Cui, Gonzalez, Müller, Okafor, Tanaka, Rossi, Nguyen, Kowalski, Silva, Haddad,
    Johansson, Patel, Kim, Dubois, Novak, Andersen, Mehta, Zhang, Ivanova, Costa, Fischer,
    Yilmaz, Park, Larsen, Moreau, Santos, Wang, Li, Schmidt, Ahmed, Brown, Garcia, Singh,
    Sato, Lopez, Chen
    """
)
AFFILIATIONS = _words(
    """
    Alibaba Group, Technical University of Denmark, Tsinghua University, ETH Zurich,
    University of Oxford, MIT, Stanford University, Seoul National University, University of
    Tokyo, Max Planck Institute for Intelligent Systems, INRIA, University of Toronto,
    Carnegie Mellon University, Peking University, EPFL, University of Cambridge, Google
    DeepMind, Meta AI, NVIDIA, Microsoft Research, KAIST, National University of Singapore,
    University of Amsterdam, TU Munich, Imperial College London, UC Berkeley, Shanghai AI
    Laboratory, Sony AI
    """
)
CODE_HOSTS = ("github.com", "gitlab.com", "codeberg.org")
LABS = _words(
    """
    argsss, visionlab, medgen, diffusers-lab, fastsample, safegen, theorylab, speechx,
    molgen, drivesim, motionai, scorelab, flowlab, pixelworks
    """
)
TAG_WORDS = _words(
    """
    caching, distillation, guidance, sampling, privacy, watermarking, unlearning, mri, ct,
    segmentation, video, audio, speech, molecules, proteins, driving, motion, theory,
    convergence, memorisation, benchmark, dataset, lora, quantisation, pruning, attention,
    transformer, unet, latent, discrete, flow-matching, consistency, solver, schedule,
    robustness, evaluation, 3d
    """
)
TAGS = tuple(sorted({f"{a}-{b}" for a in TAG_WORDS[:18] for b in TAG_WORDS[18:]} | set(TAG_WORDS)))


@dataclass(frozen=True)
class FakePaper:
    id: str
    issue: date
    title: str
    short: str
    authors: tuple[str, ...]
    et_al: bool
    affiliations: tuple[str, ...]
    themes: tuple[str, ...]
    contribution: str | None
    tagline: str
    arxiv: str
    code: str | None
    tags: tuple[str, ...]
    summary: str  # Markdown


@dataclass(frozen=True)
class FakeIssue:
    date: date
    title: str
    intro: str
    themes: dict[str, str]
    outlook: str


def _sentence(rng: random.Random) -> str:
    words = [
        rng.choice(("The method", "This work", "The authors", "A new model", "The approach")),
        rng.choice(VERBS),
        rng.choice(OBJECTS),
        rng.choice(("on", "for", "in", "across")),
        rng.choice(DOMAINS),
    ]
    extra = rng.randint(0, 3)
    for _ in range(extra):
        words += [
            rng.choice(("using", "with", "without", "through")),
            rng.choice(ADJECTIVES),
            rng.choice(NOUNS),
        ]
    sentence = " ".join(words)
    if rng.random() < 0.2:
        term = rng.choice(NOUNS)
        sentence = sentence.replace(term, f"*{term}*", 1) if term in sentence else sentence
    if rng.random() < 0.1:
        sentence += f", reaching a **{rng.randint(2, 40)}x** speed-up"
    return sentence + "."


def _paragraph(rng: random.Random, sentences: tuple[int, int]) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(*sentences)))


def _wrap(text: str, width: int = 88) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return lines


def _markdown(paragraphs: list[str]) -> str:
    return "\n\n".join("\n".join(_wrap(p)) for p in paragraphs)


def _paper(rng: random.Random, index: int, issue: date) -> FakePaper:
    adjective, noun, domain = rng.choice(ADJECTIVES), rng.choice(NOUNS), rng.choice(DOMAINS)
    title_words = [adjective.capitalize(), noun, "for", domain]
    while len(" ".join(title_words).split()) < rng.randint(6, 16):
        title_words += [
            rng.choice(("with", "via", "beyond", "and", "under")),
            rng.choice(ADJECTIVES),
            rng.choice(NOUNS),
        ]
    title = " ".join(title_words)
    short = "".join(w[0].upper() for w in title.replace("-", " ").split()[:5]) + str(index % 97)
    slug = f"{adjective}-{noun}".replace(" ", "-")
    paper_id = f"p{index:06d}-{slug}"
    authors = tuple(
        f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        for _ in range(min(12, max(1, int(rng.expovariate(1 / 4)) + 1)))
    )
    affiliations = tuple(sorted(set(rng.sample(AFFILIATIONS, rng.randint(1, 3)))))
    theme_count = 1 if rng.random() < 0.75 else 2
    themes: list[str] = []
    while len(themes) < theme_count:
        slug_choice = rng.choices([t[0] for t in THEMES], weights=THEME_WEIGHTS)[0]
        if slug_choice not in themes:
            themes.append(slug_choice)
    arxiv = f"{issue:%y%m}.{index:05d}"
    code = None
    if rng.random() < 0.4:
        code = f"https://{rng.choice(CODE_HOSTS)}/{rng.choice(LABS)}/{paper_id}"
    paragraphs = [
        _paragraph(rng, (2, 4)) for _ in range(rng.choices((1, 2, 3), weights=(3, 5, 2))[0])
    ]
    if rng.random() < 0.3:
        paragraphs[-1] += (
            f" See the [project page](https://{rng.choice(LABS)}.github.io/{paper_id}/)."
        )
    if code and rng.random() < 0.5:
        paragraphs[-1] += f" Code is [on {code.split('/')[2]}]({code})."
    return FakePaper(
        id=paper_id,
        issue=issue,
        title=title,
        short=short,
        authors=authors,
        et_al=len(authors) >= 8 and rng.random() < 0.5,
        affiliations=affiliations,
        themes=tuple(themes),
        contribution=rng.choice(CONTRIBUTIONS),
        tagline=_sentence(rng),
        arxiv=arxiv,
        code=code,
        tags=tuple(sorted(rng.sample(TAGS, rng.randint(2, 6)))),
        summary=_markdown(paragraphs),
    )


def make_corpus(
    papers: int, seed: int = 0, per_issue: int = 40
) -> tuple[list[FakeIssue], list[FakePaper]]:
    """The corpus as values: `papers` papers over ceil(papers / per_issue) weekly issues."""
    rng = random.Random(seed)
    issue_count = max(1, -(-papers // per_issue))
    issues: list[FakeIssue] = []
    corpus: list[FakePaper] = []
    for number in range(issue_count):
        day = FIRST_ISSUE + timedelta(weeks=number)
        issues.append(
            FakeIssue(
                date=day,
                title=f"Week {number + 1}: {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}",
                intro=_markdown([_paragraph(rng, (3, 5)), _paragraph(rng, (2, 4))]),
                themes={slug: _markdown([_paragraph(rng, (3, 6))]) for slug, _, _ in THEMES},
                outlook=_markdown([_paragraph(rng, (3, 5))]),
            )
        )
    for index in range(papers):
        corpus.append(_paper(rng, index, issues[index * issue_count // papers].date))
    return issues, corpus


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _block(text: str, indent: str = "  ") -> str:
    return "|\n" + "\n".join(f"{indent}{line}" if line else "" for line in text.split("\n"))


def _flow(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(item) for item in items) + "]"


def paper_yaml(paper: FakePaper) -> str:
    lines = [
        f"title: {_q(paper.title)}",
        f"short: {_q(paper.short)}",
        f"authors: {_flow(paper.authors)}",
    ]
    if paper.et_al:
        lines.append("et_al: true")
    lines += [f"affiliations: {_flow(paper.affiliations)}", f"themes: {_flow(paper.themes)}"]
    if paper.contribution:
        lines.append(f"contribution: {paper.contribution}")
    lines.append(f"tagline: {_q(paper.tagline)}")
    if paper.code:
        lines += ["links:", f"  code: {paper.code}"]
    lines += [
        f'arxiv: "{paper.arxiv}"',
        f"tags: {_flow(paper.tags)}",
        f"summary: {_block(paper.summary)}",
    ]
    return "\n".join(lines) + "\n"


def issue_yaml(issue: FakeIssue, used_themes: set[str]) -> str:
    lines = [
        f"title: {_q(issue.title)}",
        "subject: diffusion models",
        f"intro: {_block(issue.intro)}",
    ]
    themes = [(slug, text) for slug, text in issue.themes.items() if slug in used_themes]
    if themes:
        lines.append("themes:")
        lines += [f"  {slug}: {_block(text, '    ')}" for slug, text in themes]
    lines.append(f"outlook: {_block(issue.outlook)}")
    return "\n".join(lines) + "\n"


DIGEST_CONFIG = """\
[project]
name = "digest-benchmark-corpus"
version = "0"

[tool.digest]
title = "Benchmark digest"
description = "A synthetic corpus for timing digest against Pelican and Hugo."
base_url = "https://digest.invalid"
themes = [
{themes}
]
"""


def write_digest(root: Path, issues: list[FakeIssue], papers: list[FakePaper]) -> None:
    themes = ",\n".join(
        f"    {{ slug = {_q(slug)}, title = {_q(title)}, description = {_q(text)} }}"
        for slug, title, text in THEMES
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(DIGEST_CONFIG.format(themes=themes), encoding="utf-8")
    by_issue: dict[date, list[FakePaper]] = {}
    for paper in papers:
        by_issue.setdefault(paper.issue, []).append(paper)
    for issue in issues:
        folder = root / "entries" / issue.date.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        members = by_issue.get(issue.date, [])
        used = {slug for paper in members for slug in paper.themes}
        (folder / "_issue.yaml").write_text(issue_yaml(issue, used), encoding="utf-8")
        for paper in members:
            (folder / f"{paper.id}.yaml").write_text(paper_yaml(paper), encoding="utf-8")


def _body(paper: FakePaper) -> str:
    """The page body Pelican and Hugo render: the same Markdown digest renders."""
    links = [f"- [Paper](https://arxiv.org/abs/{paper.arxiv})"]
    if paper.code:
        links.append(f"- [Code]({paper.code})")
    authors = ", ".join(paper.authors) + (" et al." if paper.et_al else "")
    return (
        f"*{paper.tagline}*\n\n{authors} ({'; '.join(paper.affiliations)})\n\n"
        f"{paper.summary}\n\n" + "\n".join(links) + "\n"
    )


PELICAN_CONFIG = """\
AUTHOR = "Benchmark"
SITENAME = "Benchmark digest"
SITEURL = "https://digest.invalid"
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"
RELATIVE_URLS = True
DEFAULT_PAGINATION = False
# Tag, category and author pages are on by default; say so explicitly.
TAG_SAVE_AS = "tag/{slug}.html"
CATEGORY_SAVE_AS = "category/{slug}.html"
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
# Pelican's own incremental mechanism: cache parsed content between runs.
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache"
"""


def write_pelican(root: Path, papers: list[FakePaper]) -> None:
    content = root / "content"
    content.mkdir(parents=True, exist_ok=True)
    (root / "pelicanconf.py").write_text(PELICAN_CONFIG, encoding="utf-8")
    for paper in papers:
        head = [
            f"Title: {paper.title}",
            f"Date: {paper.issue.isoformat()}",
            f"Slug: {paper.id}",
            f"Category: {paper.themes[0]}",
            f"Tags: {', '.join(paper.tags)}",
            f"Authors: {', '.join(paper.authors)}",
            f"Summary: {paper.tagline}",
        ]
        (content / f"{paper.id}.md").write_text(
            "\n".join(head) + "\n\n" + _body(paper), encoding="utf-8"
        )


HUGO_CONFIG = """\
baseURL = "https://digest.invalid/"
title = "Benchmark digest"
languageCode = "en"
relativeURLs = true
disableKinds = ["robotsTXT"]

[taxonomies]
tag = "tags"
category = "categories"
"""

HUGO_LAYOUTS = {
    "baseof.html": (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>{{ .Title }} · {{ site.Title }}</title></head>\n"
        '<body><header><a href="{{ "/" | relURL }}">{{ site.Title }}</a></header>\n'
        '<main>{{ block "main" . }}{{ end }}</main></body></html>\n'
    ),
    "single.html": (
        '{{ define "main" }}<article><h1>{{ .Title }}</h1>\n'
        '<p>{{ .Date.Format "2006-01-02" }}</p>\n{{ .Content }}\n'
        '<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">'
        "{{ .LinkTitle }}</a></li>{{ end }}</ul></article>{{ end }}\n"
    ),
    "list.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1>\n{{ .Content }}\n<ul>\n'
        '{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> '
        "{{ .Params.summary }}</li>\n{{ end }}</ul>{{ end }}\n"
    ),
    "taxonomy.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1>\n<ul>\n'
        '{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">'
        "{{ .Page.LinkTitle }}</a> ({{ .Count }})</li>\n{{ end }}</ul>{{ end }}\n"
    ),
    "term.html": (
        '{{ define "main" }}<h1>{{ .Title }}</h1>\n<ul>\n'
        '{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>\n'
        "{{ end }}</ul>{{ end }}\n"
    ),
}


def write_hugo(root: Path, papers: list[FakePaper]) -> None:
    posts = root / "content" / "posts"
    posts.mkdir(parents=True, exist_ok=True)
    layouts = root / "layouts" / "_default"
    layouts.mkdir(parents=True, exist_ok=True)
    (root / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        (layouts / name).write_text(text, encoding="utf-8")
    for paper in papers:
        front = [
            "---",
            f"title: {_q(paper.title)}",
            f"date: {paper.issue.isoformat()}",
            f"slug: {paper.id}",
            f"categories: {_flow(paper.themes)}",
            f"tags: {_flow(paper.tags)}",
            f"authors: {_flow(paper.authors)}",
            f"summary: {_q(paper.tagline)}",
            "---",
        ]
        (posts / f"{paper.id}.md").write_text(
            "\n".join(front) + "\n\n" + _body(paper), encoding="utf-8"
        )


def generate(out: Path, papers: int, seed: int = 0, per_issue: int = 40) -> dict[str, Path]:
    """Write the corpus under `out` (replacing what was there); returns the three roots."""
    issues, corpus = make_corpus(papers, seed, per_issue)
    roots = {"digest": out / "digest", "pelican": out / "pelican", "hugo": out / "hugo"}
    for root in roots.values():
        if root.exists():
            shutil.rmtree(root)
    write_digest(roots["digest"], issues, corpus)
    write_pelican(roots["pelican"], corpus)
    write_hugo(roots["hugo"], corpus)
    return roots


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="folder to write digest/, pelican/ and hugo/ into")
    parser.add_argument("--papers", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-issue", type=int, default=40)
    args = parser.parse_args(argv)
    roots = generate(args.out, args.papers, args.seed, args.per_issue)
    for name, root in roots.items():
        print(f"{name}: {root}")


if __name__ == "__main__":
    main()
