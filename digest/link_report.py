"""Link report: the entries' URLs for `digest check --links`, and what to say about them.

URLs come from `links.*` in paper files and from the Markdown links of summaries, issue
intros, theme texts, outlooks and "Under the hood" texts; each occurrence keeps its
`path:line:col`, so a broken link is reported where an editor can fix it. Placeholder
URLs (github.com/your-repo/…) are never requested: `digest check` already flags them in
`links.*`, and this module flags them in Markdown. `links.py` asks the hosts.

The URLs of the entries `digest check` validated are read from their models (which the
entry cache keeps); only a file with a link to report, or one that did not validate, is
composed again for the positions (finding the URLs of 10,000 entries by composing every
file took 2.9 s, most of a repeat run whose answers are cached; 0.6 s from the models).

When no host can be reached at all (no network: every connection refused or every name
unresolved), that is one problem (E502), not one broken link per URL; when some host
answers, each link whose host cannot be reached is broken (E501).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from digest.diagnostics import Diagnostic, error, warning
from digest.http_cache import DiskCache
from digest.links import LinkChecker, Result, Settings, Sleep, open_client
from digest.load import RawEntry, load_file, scan_entries
from digest.markdown import render_markdown
from digest.models import Issue, IssueEntry, Paper, PaperEntry, SiteConfig, markdown_texts
from digest.store import CACHE_DIR
from digest.validate import PLACEHOLDER_URL
from digest.wording import plural

# ---------------------------------------------------------------- where the URLs are


@dataclass(frozen=True)
class Occurrence:
    """One URL written in one place: `field` is e.g. `links.code` or `summary`."""

    url: str
    path: str
    line: int
    col: int
    field: str


def _is_web(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed "[" in the host: such a link is not followed
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _markdown_fields(raw: RawEntry) -> list[tuple[tuple[str, ...], str]]:
    fields: list[tuple[tuple[str, ...], Any]]
    if raw.kind == "paper":
        fields = [(("summary",), raw.data.get("summary"))]
    else:
        fields = [(("intro",), raw.data.get("intro")), (("outlook",), raw.data.get("outlook"))]
        fields.append((("under_the_hood",), raw.data.get("under_the_hood")))
        themes = raw.data.get("themes")
        if isinstance(themes, dict):
            fields += [(("themes", slug), text) for slug, text in themes.items()]
    return [(location, text) for location, text in fields if isinstance(text, str)]


def occurrences(raw: RawEntry) -> list[Occurrence]:
    """Every http(s) URL of one file, at the line and column where it is written."""
    found: list[Occurrence] = []
    links = raw.data.get("links") if raw.kind == "paper" else None
    if isinstance(links, dict):
        for kind, url in links.items():
            if isinstance(url, str) and _is_web(url.strip()):
                position = raw.position_of(("links", kind))
                found.append(
                    Occurrence(
                        url.strip(), raw.display_path, position.line, position.col, f"links.{kind}"
                    )
                )
    fields = _markdown_fields(raw)
    if not fields:
        return found
    try:
        source = raw.path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        source = ""
    starts = [0]  # offset of each line's first character
    for text_line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(text_line))
    for location, text in fields:
        start = raw.position_of(location)
        cursor = starts[min(start.line, len(starts)) - 1] + start.col - 1
        for url in render_markdown(text).links:
            if not _is_web(url):
                continue
            at = source.find(url, cursor)
            line, col = start.line, start.col
            if at >= 0:  # where the URL is written; else the field's own position
                cursor = at + len(url)
                line = bisect.bisect_right(starts, at)
                col = at - starts[line - 1] + 1
            found.append(Occurrence(url, raw.display_path, line, col, ".".join(location)))
    return found


def located(path: str, root: Path, folder: str) -> list[Occurrence]:
    """The URLs of one entry file with their positions (none if it cannot be read)."""
    raw = load_file(Path(path), root, folder)
    return occurrences(raw) if isinstance(raw, RawEntry) else []


def _web_links(value: Paper | Issue) -> list[str]:
    """The http(s) links of a checked entry's Markdown fields."""
    texts = markdown_texts(value)
    return [url for text in texts for url in render_markdown(text).links if _is_web(url)]


def written_urls(
    papers: Iterable[PaperEntry], issues: Iterable[IssueEntry]
) -> dict[str, list[str]]:
    """The http(s) URLs of each checked entry, by display path, read from its model: the
    URLs `occurrences` finds in its file (a model's URLs and texts are the file's, with
    the texts' outer whitespace stripped)."""
    found: dict[str, list[str]] = {}
    for issue_entry in issues:
        found[issue_entry.source] = _web_links(issue_entry.issue)
    for entry in papers:
        paper = entry.paper
        found[entry.source] = [url for _, url in paper.links.items()] + _web_links(paper)
    return found


# ---------------------------------------------------------------- reporting


def diagnostics(found: Sequence[Occurrence], results: dict[str, Result]) -> list[Diagnostic]:
    """One diagnostic per occurrence of a URL that is broken, moved, unknown or a placeholder."""
    out: list[Diagnostic] = []
    for place in found:
        where = (place.path, place.line, place.col)
        if PLACEHOLDER_URL.search(place.url):
            if not place.field.startswith("links."):  # check reports those already (W102)
                message = f"'{place.field}' links to a placeholder: {place.url}"
                out.append(
                    warning(
                        *where, "W102", message, "replace it with the real address, or remove it"
                    )
                )
            continue
        result = results.get(place.url)
        if result is None or result.state == "ok":
            continue
        if result.state == "moved":
            message = f"'{place.field}' permanently redirects to {result.moved_to}"
            out.append(
                warning(*where, "W501", message, f"replace {place.url} with the new address")
            )
        elif result.state == "unknown":
            message = f"could not check '{place.field}': {place.url} ({result.detail})"
            out.append(
                warning(
                    *where, "W502", message, "the host limits requests; run the check again later"
                )
            )
        else:
            message = f"broken link in '{place.field}': {place.url} ({result.detail})"
            out.append(error(*where, "E501", message))
    return out


def offline(entries: str, unchecked: int) -> Diagnostic:
    """E502, once: no host could be reached at all, so no link was checked."""
    return error(
        entries,
        1,
        1,
        "E502",
        f"no network: could not reach any host ({plural(unchecked, 'link')} unchecked)",
        "check the connection (or the proxy settings), then run `digest check --links` again",
    )


async def _run(urls: Iterable[str], checker: LinkChecker) -> dict[str, Result]:
    async with checker.client:
        return await checker.check_all(url for url in urls if not PLACEHOLDER_URL.search(url))


def _to_report(url: str, results: dict[str, Result]) -> bool:
    result = results.get(url)
    return bool(PLACEHOLDER_URL.search(url)) or (result is not None and result.state != "ok")


def check_links(
    root: Path,
    config: SiteConfig,
    transport: Any = None,
    sleep: Sleep = asyncio.sleep,
    *,
    checked: tuple[Iterable[PaperEntry], Iterable[IssueEntry]] = ((), ()),
) -> list[Diagnostic]:
    """`digest check --links`: every URL under `root` checked; problems as diagnostics.

    `checked` are the papers and issues that validated (`digest check`'s content): their
    URLs come from the models, and their files are composed again only to place a link
    that has something to report. Every other entry file is composed to find its URLs."""
    settings = Settings.from_config(config)
    known = written_urls(*checked)
    scanned = scan_entries(root / config.entries, root)
    files = [item for item in scanned.items if not isinstance(item, Diagnostic)]
    placed: dict[str, list[Occurrence]] = {}
    urls: list[str] = []
    for folder, path, shown in files:
        if shown in known:
            urls += known[shown]
        else:
            placed[shown] = located(path, root, folder)
            urls += [place.url for place in placed[shown]]
    client = open_client(settings, config.contact, transport)
    checker = LinkChecker(client, settings, DiskCache(root / CACHE_DIR / "links"), sleep)
    results = asyncio.run(_run(urls, checker))
    problems: list[Diagnostic] = []
    if checker.unreached and not checker.answered:
        # No network: one problem, not one per link. (Answers from the cache still count.)
        problems.append(offline(config.entries, len(checker.unreached)))
        results = {url: result for url, result in results.items() if result.reached}
    found: list[Occurrence] = []
    for folder, path, shown in files:
        if shown not in placed and any(_to_report(url, results) for url in known[shown]):
            placed[shown] = located(path, root, folder)
        found += placed.get(shown, [])
    return problems + diagnostics(found, results)
