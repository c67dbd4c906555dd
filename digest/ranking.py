"""Ranking: which of the site's themes a new paper fits, by a bag-of-words model.

`digest harvest` suggests a theme for each candidate from the site's own material, with
no network and no trained model. Each theme is one document: its title, its description,
and the titles and tags of the papers already filed under it. Words are folded (case and
diacritics), stop words dropped and a plural `s` trimmed; each word is weighted by how
often it occurs (1 + log of the count) times how few themes use it (log((N + 1) /
(themes using it + 1)), so a word every theme shares weighs nothing). A paper (its title
counted twice, then its abstract) is weighted the same way, and its score for a theme is
the cosine of the two weight vectors: 0 for no shared word, 1 for the same proportions.

The best theme is suggested when its score reaches `THRESHOLD`; the words that gave it
the most are reported too, so an editor can see why.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

THRESHOLD = 0.05  # the least score for which a theme is suggested

# Common English words, and words every paper of a research digest uses.
_STOP_WORDS = """
    a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his how
    i if in into is it its itself just me more most my myself no nor not now of off on
    once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves via using use used uses across within without
    however thus therefore may might must shall while whereas yet still upon per among
    paper papers propose proposed proposes present presents show shows shown demonstrate
    demonstrates approach approaches method methods new novel work results result based
    existing recent recently state art further first second one two three well many much
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    """The words of `text` as the model counts them: case and diacritics folded, split at
    anything but letters and digits, stop words, single letters and numbers dropped, and a
    final plural `s` trimmed (`models` → `model`, but `loss`, `focus`, `analysis` stay)."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    found = []
    for word in re.findall(r"[^\W_]+", folded):
        if len(word) < 2 or word.isdigit() or word in STOP_WORDS:
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        found.append(word)
    return found


@dataclass(frozen=True)
class ThemeText:
    """What the model knows of one theme."""

    slug: str
    title: str
    description: str
    papers: tuple[str, ...] = ()  # the titles and tags of the papers filed under it


@dataclass(frozen=True)
class Suggestion:
    """A paper's best theme (None when no theme reaches the threshold), its score, the
    words that gave the most to it, and every theme's score, best first."""

    theme: str | None
    score: float
    terms: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]


def _weights(
    counts: Mapping[str, int], idf: Mapping[str, float], unseen: float
) -> dict[str, float]:
    return {w: (1 + math.log(n)) * idf.get(w, unseen) for w, n in counts.items()}


def _norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(v * v for v in vector.values()))


class ThemeModel:
    """TF-IDF vectors of the themes; `suggest` scores a paper against each."""

    def __init__(self, themes: Sequence[ThemeText]) -> None:
        documents = [Counter(words(" ".join([t.title, t.description, *t.papers]))) for t in themes]
        count = len(themes)
        used = Counter(word for document in documents for word in document)
        self.idf = {word: math.log((count + 1) / (n + 1)) for word, n in used.items()}
        self.unseen = math.log(count + 1)  # a word no theme uses: as rare as can be
        self.slugs = [t.slug for t in themes]
        self.vectors = [_weights(d, self.idf, self.unseen) for d in documents]
        self.norms = [_norm(v) for v in self.vectors]

    def suggest(self, title: str, abstract: str, threshold: float = THRESHOLD) -> Suggestion:
        """The paper's best theme, its score and why; every theme's score."""
        paper = _weights(Counter(words(f"{title} {title} {abstract}")), self.idf, self.unseen)
        norm = _norm(paper)
        scored: list[tuple[float, int, str]] = []
        for index, (slug, vector, theme_norm) in enumerate(
            zip(self.slugs, self.vectors, self.norms, strict=True)
        ):
            dot = sum(weight * vector.get(word, 0.0) for word, weight in paper.items())
            cosine = dot / (norm * theme_norm) if norm and theme_norm else 0.0
            scored.append((cosine, -index, slug))
        scored.sort(reverse=True)
        scores = tuple((slug, round(score, 3)) for score, _, slug in scored)
        if not scored or scored[0][0] < threshold:
            return Suggestion(None, scores[0][1] if scores else 0.0, (), scores)
        best = self.vectors[self.slugs.index(scored[0][2])]
        shared = sorted(
            ((weight * best[w], w) for w, weight in paper.items() if best.get(w, 0.0) > 0),
            key=lambda pair: (-pair[0], pair[1]),
        )
        return Suggestion(scored[0][2], scores[0][1], tuple(w for _, w in shared[:3]), scores)


def theme_texts(
    themes: Iterable[tuple[str, str, str]], papers: Iterable[tuple[str, Sequence[str], str]]
) -> list[ThemeText]:
    """The model's view of the site: `themes` as (slug, title, description), `papers`
    as (title, themes, tags joined by spaces); a paper counts under each of its themes."""
    filed: dict[str, list[str]] = {}
    for title, slugs, tags in papers:
        for slug in slugs:
            filed.setdefault(slug, []).append(f"{title} {tags}")
    return [
        ThemeText(slug, title, description, tuple(filed.get(slug, ())))
        for slug, title, description in themes
    ]
