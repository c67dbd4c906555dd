"""Links: `digest check --links` asks every host whether the entries' URLs still work.

URLs come from `links.*` in paper files and from the Markdown links of summaries, issue
intros, theme texts and outlooks; each occurrence keeps its `path:line:col`, so a broken
link is reported where an editor can fix it. Placeholder URLs (github.com/your-repo/…)
are never requested: `digest check` already flags them in `links.*`, and this module
flags them in Markdown.

The URLs of the entries `digest check` validated are read from their models (which the
entry cache keeps); only a file with a link to report, or one that did not validate, is
composed again for the positions (finding the URLs of 10,000 entries by composing every
file took 2.9 s, most of a repeat run whose answers are cached; 0.6 s from the models).

The checker is an `httpx.AsyncClient` that is passed in (tests point it at 127.0.0.1):
bounded concurrency overall and per host, a deadline on each whole request (a host that
drips its headers a byte at a time never trips a per-read timeout), HEAD first and GET
when a server refuses HEAD, redirects followed by hand so loops are caught and a
permanent redirect can be named (and only to http(s) URLs), retries with backoff that
honour `Retry-After` on 429/503, and a disk cache with a TTL so CI reruns do not hit the
same hosts again. A host that keeps answering 429 makes the link "unknown" (a warning),
not broken. When no host can be reached at all (no network: every connection refused or
every name unresolved), that is one problem (E502), not one broken link per URL; when
some host answers, each link whose host cannot be reached is broken (E501). Whatever a
URL or its host does, the outcome is that URL's result: a URL that cannot be requested
(a control character, a port above 65535) is broken without asking anyone.
"""

from __future__ import annotations

import asyncio
import bisect
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from digest.diagnostics import Diagnostic, error, warning
from digest.http_cache import CACHE_DIR, DiskCache
from digest.importer import (
    UnfollowableRedirect,
    printable,
    redirect_problem,
    refuse_unfollowable_redirects,
    url_problem,
    user_agent,
)
from digest.load import RawEntry, load_file, scan_entries
from digest.markdown import render_markdown
from digest.models import Issue, IssueEntry, Paper, PaperEntry, SiteConfig, markdown_texts
from digest.validate import PLACEHOLDER_URL
from digest.wording import plural

State = Literal["ok", "moved", "broken", "unknown"]
PERMANENT = (301, 308)
BACKOFF = 1.0  # seconds before the first retry without Retry-After; doubles each time
MAX_WAIT = 60.0  # a Retry-After longer than this is not waited for
MAX_REDIRECTS = 10
FALLBACK_TO_GET = (400, 403, 405, 406, 500, 501)  # servers that mishandle HEAD answer these


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


# ---------------------------------------------------------------- asking the hosts


@dataclass(frozen=True)
class Settings:
    timeout: float = 10.0
    concurrency: int = 8
    per_host: int = 2
    retries: int = 2
    cache_ttl: float = 86400.0

    @classmethod
    def from_config(cls, config: SiteConfig) -> Settings:
        return cls(
            timeout=config.link_timeout,
            concurrency=config.link_concurrency,
            per_host=config.link_per_host,
            retries=config.link_retries,
            cache_ttl=config.link_cache_ttl,
        )


@dataclass(frozen=True)
class Result:
    """What one URL does: `detail` says why it is broken or unknown; `moved_to` where it went."""

    url: str
    state: State
    detail: str = ""
    moved_to: str | None = None
    definitive: bool = True  # worth caching: not a timeout, a 5xx or a rate limit
    reached: bool = True  # False: no connection to the host could be made (refused, DNS)


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    location: str | None
    retry_after: float | None


Sleep = Callable[[float], Awaitable[None]]


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]+", value):  # str.isdigit() also takes "²" and "٣"
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


class LinkChecker:
    """Checks URLs over an injected client; `sleep` and `clock` are injected for tests."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: Settings,
        cache: DiskCache | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        if refuse_unfollowable_redirects not in client.event_hooks["response"]:
            client.event_hooks["response"].append(refuse_unfollowable_redirects)
        self.settings = settings
        self.cache = cache
        self.sleep = sleep
        self.clock = clock
        self._overall: asyncio.Semaphore | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self.answered = False  # some host answered a request of this run
        self.unreached: set[str] = set()  # URLs asked for in this run whose host was not reached

    async def check_all(self, urls: Iterable[str]) -> dict[str, Result]:
        """Every distinct URL checked once, concurrently within the limits."""
        self._overall = asyncio.Semaphore(self.settings.concurrency)
        unique = sorted(set(urls))
        results = await asyncio.gather(*(self.check(url) for url in unique))
        return dict(zip(unique, results, strict=True))

    async def check(self, url: str) -> Result:
        problem = url_problem(url)
        if problem is not None:  # nothing to ask a host: the URL itself is the problem
            return Result(url, "broken", problem, definitive=False)
        if self.cache is not None and self.settings.cache_ttl > 0:
            cached = self.cache.get(url, self.settings.cache_ttl)
            if isinstance(cached, dict):
                try:
                    return Result(**cached)
                except TypeError:
                    pass
        result = await self._follow(url)
        if not result.reached:
            self.unreached.add(url)
        if self.cache is not None and self.settings.cache_ttl > 0 and result.definitive:
            self.cache.put(url, asdict(result))
        return result

    async def _follow(self, url: str) -> Result:
        """Follow redirects by hand: loops are caught and a permanent first hop is named."""
        chain = [url]
        permanent = False
        for hop in range(MAX_REDIRECTS + 1):
            answer = await self._ask(chain[-1], url)
            if isinstance(answer, Result):
                return answer
            if 300 <= answer.status < 400:
                if not answer.location:
                    status = f"{answer.status} {answer.reason}".strip()
                    detail = f"{status} without a Location to go to"
                    return Result(url, "broken", detail, definitive=False)
                target, problem = redirect_problem(chain[-1], answer.location)
                if problem is not None:
                    detail = str(UnfollowableRedirect(target, problem))
                    return Result(url, "broken", detail, definitive=False)
                permanent = permanent or (hop == 0 and answer.status in PERMANENT)
                if target in chain:
                    loop = " → ".join([*chain[chain.index(target) :], target])
                    return Result(url, "broken", f"redirect loop: {loop}", definitive=False)
                chain.append(target)
                continue
            if answer.status >= 400:
                definitive = answer.status in (404, 410)
                return Result(
                    url, "broken", f"{answer.status} {answer.reason}".strip(), None, definitive
                )
            return Result(url, "moved", moved_to=chain[-1]) if permanent else Result(url, "ok")
        return Result(url, "broken", f"more than {MAX_REDIRECTS} redirects", definitive=False)

    def _host_limit(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(self.settings.per_host)
        return self._hosts[host]

    async def _ask(self, url: str, original: str) -> _Answer | Result:
        """One hop: HEAD, GET when HEAD is refused, retries on 429/503 and network errors."""
        overall = self._overall or asyncio.Semaphore(self.settings.concurrency)
        method = "HEAD"
        attempt = 0
        while True:
            answer: _Answer | None = None
            unreached = False
            async with self._host_limit(url), overall:
                try:
                    answer = await self._request(method, url)
                except UnfollowableRedirect as exc:
                    return Result(original, "broken", str(exc), definitive=False)
                except _Deadline as late:
                    failure = f"no answer within {self.settings.timeout:g} s"
                    unreached = not late.connected
                except httpx.TimeoutException as exc:
                    failure = f"no answer within {self.settings.timeout:g} s"
                    unreached = isinstance(exc, httpx.ConnectTimeout)
                except httpx.ConnectError as exc:
                    failure = f"cannot connect ({exc})" if str(exc) else "cannot connect"
                    unreached = True
                except httpx.HTTPError as exc:
                    if method == "HEAD":  # a server that breaks on HEAD may still serve GET
                        method = "GET"
                        continue
                    failure = f"{type(exc).__name__}: {exc}"
            wait: float | None = None
            if answer is not None:
                if method == "HEAD" and answer.status in FALLBACK_TO_GET:
                    method = "GET"
                    continue
                if answer.status not in (429, 503):
                    return answer
                failure = f"{answer.status} {answer.reason}".strip()
                wait = answer.retry_after
            if attempt >= self.settings.retries or (wait is not None and wait > MAX_WAIT):
                if answer is not None and answer.status == 429:
                    return Result(
                        original, "unknown", f"the host kept answering {failure}", definitive=False
                    )
                return Result(original, "broken", failure, definitive=False, reached=not unreached)
            await self.sleep(wait if wait is not None else BACKOFF * 2**attempt)
            attempt += 1

    async def _request(self, method: str, url: str) -> _Answer:
        """Status and headers only: the body (a PDF, say) is never downloaded.

        The whole exchange (connecting, sending, every byte of the headers) must end
        within the timeout: httpx's own timeouts bound each read, so a host that drips one
        byte a second would otherwise hold the check for ever. `_Deadline` says whether a
        connection was made, so that a host nobody can reach still counts as unreached."""
        connected = False

        async def trace(event: str, info: dict[str, Any]) -> None:
            nonlocal connected
            connected = connected or event.endswith("connect_tcp.complete")

        request = self.client.build_request(method, url, extensions={"trace": trace})
        try:
            async with asyncio.timeout(self.settings.timeout):
                response = await self.client.send(request, stream=True, follow_redirects=False)
        except TimeoutError:
            raise _Deadline(connected) from None
        self.answered = True
        try:
            headers = response.headers
            wait = retry_after(headers.get("Retry-After"), self.clock())
            reason = printable(response.reason_phrase)
            return _Answer(response.status_code, reason, headers.get("Location"), wait)
        finally:
            await response.aclose()


class _Deadline(Exception):
    """A request did not end within the timeout."""

    def __init__(self, connected: bool) -> None:
        super().__init__("deadline")
        self.connected = connected  # a connection to the host was made (it is reachable)


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


def open_client(
    settings: Settings, contact: str | None, transport: Any = None
) -> httpx.AsyncClient:
    """The checker's client: explicit timeouts, a User-Agent naming digest and the contact."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout),
        headers={"User-Agent": user_agent(contact)},
        transport=transport,
        follow_redirects=False,
    )


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
