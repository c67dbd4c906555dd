"""Import: an arXiv id or a DOI → the metadata of a new entry, from the arXiv API or Crossref.

`digest new --from arxiv:ID|doi:DOI` asks the arXiv API (Atom XML) or Crossref's
`/works/{doi}` (JSON) over httpx, so editors do not type what a metadata service already
knows. Every way a lookup can fail (no network, a timeout, 404, arXiv's `Error` entry, an
empty feed, a malformed body) becomes one `ImportFailure` with a sentence an editor can
act on; nothing is written by the caller then.

The client is polite: its User-Agent names the tool and the site's contact address,
arXiv requests are spaced at least three seconds apart (their API terms), and answers are
cached on disk so asking twice costs nothing. Base URLs come from `[tool.digest]`
(`arxiv_api`, `crossref_api`) with the environment (`DIGEST_ARXIV_API`,
`DIGEST_CROSSREF_API`) winning, so tests and mirrors can point them elsewhere.

A service is not trusted to behave: each request, redirects and body included, must end
within one deadline (`link_timeout`), redirects are followed by hand and only to http(s)
URLs, and a body is read only in a charset that is a text encoding. The client is an
`httpx.AsyncClient` driven by one event loop per importer, because a deadline on a whole
exchange is what asyncio's timeouts give and httpx's per-read timeouts do not: a server
that sends one byte a second never trips a read timeout. `fetch` itself stays a plain call.
"""

from __future__ import annotations

import asyncio
import codecs
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urljoin, urlsplit

import httpx

from digest import __version__
from digest.http_cache import DiskCache
from digest.metadata import (
    ImportFailure,
    Metadata,
    Source,
    arxiv_feed,
    clean_text,
    parse_arxiv,
    parse_crossref,
)
from digest.models import SiteConfig
from digest.store import CACHE_DIR

ARXIV_SPACING = 3.0  # seconds between two arXiv API requests (arXiv's terms of use)
TIMEOUT = 10.0  # seconds for a whole request; `link_timeout` sets it for a site
CACHE_TTL = 7 * 24 * 3600.0
MAX_BODY = 5_000_000
MAX_REDIRECTS = 10
# Charsets a body is read in (as `codecs` names them); "rot13", "hex" or "idna" are codecs
# too, but not encodings of text.
TEXT_CHARSET = re.compile(r"utf-(8|16|32)(-(le|be|sig))?|ascii|latin-1|iso8859-\d+|cp125\d")
T = TypeVar("T")


# ---------------------------------------------------------------- URLs and text in messages


def url_problem(url: str) -> str | None:
    """Why `url` is not to be requested (None when it can be): digest asks only absolute
    http(s) URLs with a host and a port that exists, without control characters."""
    control = next((c for c in url if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        return f"not a valid URL (it holds the control character {control!r})"
    try:
        scheme = urlsplit(url).scheme
        parsed = httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        return f"not a valid URL ({exc})"
    if scheme not in ("http", "https"):
        return "not an http(s) URL"
    if not parsed.host:
        return "not a valid URL (it names no host)"
    if parsed.port is not None and parsed.port > 65535:
        return f"not a valid URL (port {parsed.port} is above 65535)"
    return None


class UnfollowableRedirect(Exception):
    """A redirect to a URL that is not to be requested (see `url_problem`)."""

    def __init__(self, target: str, problem: str) -> None:
        super().__init__(f"redirects to {printable(target)}, which is {problem}")
        self.target, self.problem = target, problem


def redirect_problem(base: str, location: str) -> tuple[str, str | None]:
    """Where a redirect from `base` goes, and why not to go there (None: it may be asked)."""
    try:
        target = urljoin(base, location)
        return target, url_problem(target)
    except ValueError:  # e.g. an unclosed "[" in the host
        return location, "not a valid URL"


async def refuse_unfollowable_redirects(response: httpx.Response) -> None:
    """An httpx response hook: raise UnfollowableRedirect for a redirect digest will not
    follow. httpx works out the next request of every redirect, even one it is not asked
    to follow, and some Locations (`javascript:alert(1)`) make that raise InvalidURL."""
    location = response.headers.get("Location")
    if location is not None and response.status_code in (301, 302, 303, 307, 308):
        target, problem = redirect_problem(str(response.request.url), location)
        if problem is not None:
            raise UnfollowableRedirect(target, problem)


def printable(text: str, limit: int = 200) -> str:
    """`text` as a message may show it: control characters escaped, `limit` at most."""
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# ---------------------------------------------------------------- services and politeness


@dataclass(frozen=True)
class Services:
    """Where the metadata services live and how this client introduces itself."""

    arxiv_api: str
    crossref_api: str
    user_agent: str

    @classmethod
    def from_config(cls, config: SiteConfig, environ: Mapping[str, str]) -> Services:
        """The config's base URLs, each replaced by its environment variable when set."""
        return cls(
            arxiv_api=environ.get("DIGEST_ARXIV_API") or config.arxiv_api,
            crossref_api=(environ.get("DIGEST_CROSSREF_API") or config.crossref_api).rstrip("/"),
            user_agent=user_agent(config.contact),
        )


def user_agent(contact: str | None) -> str:
    """`digest/0.1.0 (+mailto:editor@example.org)`: who is asking and how to reach them."""
    release = __version__
    return f"digest/{release} (+mailto:{contact})" if contact else f"digest/{release}"


class RateLimiter:
    """Keeps calls at least `interval` seconds apart; the clock and sleep are injected."""

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.last: float | None = None

    def wait(self) -> None:
        """Return once `interval` has passed since the previous call returned."""
        if self.last is not None:
            remaining = self.last + self.interval - self.clock()
            if remaining > 0:
                self.sleep(remaining)
        self.last = self.clock()

    def restart(self) -> None:
        """Count the interval from now: called when an answer has arrived, so the next
        call waits `interval` after the last answer, not only after the last question."""
        self.last = self.clock()


# ---------------------------------------------------------------- fetching


class Importer:
    """Fetches metadata over an injected httpx client, spacing arXiv calls and caching answers.

    Each request, redirects and body included, ends within `deadline` seconds."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        services: Services,
        cache: DiskCache | None = None,
        arxiv_limiter: RateLimiter | None = None,
        deadline: float = TIMEOUT,
    ) -> None:
        self.client = client
        self.services = services
        self.cache = cache
        self.arxiv_limiter = arxiv_limiter or RateLimiter(ARXIV_SPACING)
        self.deadline = deadline
        self._loop = asyncio.Runner()  # one loop, so pooled connections can be reused
        if refuse_unfollowable_redirects not in client.event_hooks["response"]:
            client.event_hooks["response"].append(refuse_unfollowable_redirects)

    def __enter__(self) -> Importer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._loop.run(self.client.aclose())
        finally:
            self._loop.close()

    def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        async def bounded() -> T:
            async with asyncio.timeout(self.deadline):
                return await work()

        return self._loop.run(bounded())

    def fetch(self, source: Source) -> Metadata:
        """The metadata of one paper, or ImportFailure saying why not."""
        if source.kind == "arxiv":
            service, parse, limiter = "the arXiv API", parse_arxiv, self.arxiv_limiter
            base = self.services.arxiv_api
        else:
            service, parse, limiter = "Crossref", parse_crossref, None
            base = self.services.crossref_api
        problem = url_problem(base)  # the environment can set it to anything
        if problem is not None:
            raise ImportFailure(f"cannot ask {service} at {printable(base)}: it is {problem}")
        url = self._url(source)
        cached = self.cache.get(url, CACHE_TTL) if self.cache is not None else None
        if isinstance(cached, str):
            return parse(cached, source)
        body = self._get(url, service, source, limiter)
        metadata = parse(body, source)
        if self.cache is not None:  # only answers that parsed: a bad one is asked for again
            self.cache.put(url, body)
        return metadata

    def _url(self, source: Source) -> str:
        """The URL asked for `source`, which is also its key in the cache."""
        if source.kind == "arxiv":
            params = {"id_list": source.value, "max_results": "1"}
            return str(httpx.URL(self.services.arxiv_api, params=params))
        return f"{self.services.crossref_api}/{quote(source.value, safe='/')}"

    def remember(self, source: Source, body: str) -> None:
        """Cache `body` as the answer to `source`, as `fetch` would (`digest harvest`
        stores each paper it lists, so importing it later asks nothing)."""
        if self.cache is not None and url_problem(self.services.arxiv_api) is None:
            self.cache.put(self._url(source), body)

    def search_arxiv(
        self, params: Mapping[str, str], asked: str, read: Callable[[str], T], ttl: float
    ) -> T:
        """One page of an arXiv API search, read by `read` (which raises ImportFailure for
        an answer it cannot use); answers that were read are cached for `ttl` seconds.
        `asked` names the search in messages."""
        base = self.services.arxiv_api
        problem = url_problem(base)
        if problem is not None:
            raise ImportFailure(f"cannot ask the arXiv API at {printable(base)}: it is {problem}")
        url = str(httpx.URL(base, params=dict(params)))
        cached = self.cache.get(url, ttl) if self.cache is not None else None
        if isinstance(cached, str):
            return read(cached)
        body = self._get(url, "the arXiv API", asked, self.arxiv_limiter)
        result = read(body)
        if self.cache is not None:
            self.cache.put(url, body)
        return result

    def _get(
        self, url: str, service: str, source: Source | str, limiter: RateLimiter | None
    ) -> str:
        """The body of a 200 answer, else ImportFailure."""
        if limiter is not None:
            limiter.wait()
        try:
            response, received = self._run(lambda: self._exchange(url, service, source))
        except (TimeoutError, httpx.TimeoutException):
            raise ImportFailure(f"{service} did not answer in time for {source} ({url})") from None
        except httpx.HTTPError as exc:
            raise ImportFailure(f"could not reach {service} for {source}: {exc} ({url})") from None
        except UnfollowableRedirect as exc:
            target = printable(exc.target)
            raise ImportFailure(
                f"{service} redirected {source} to {target}, which is {exc.problem}"
            ) from None
        finally:
            if limiter is not None:
                limiter.restart()
        body = _decode(received, response.charset_encoding, service)
        status, reason = response.status_code, printable(response.reason_phrase) or "error"
        if status == 404:
            raise ImportFailure(_not_found(service, source, body))
        if status in (429, 503):
            wait = response.headers.get("Retry-After", "").strip()
            later = f" (it asks to wait {wait} s)" if re.fullmatch(r"[0-9]{1,9}", wait) else ""
            raise ImportFailure(
                f"{service} is busy and asked digest to slow down{later}; try again later"
            )
        if status == 400 and service == "the arXiv API" and "<entry" in body:
            arxiv_feed(body, str(source))  # an Error entry explains the refusal
        if status != 200:
            raise ImportFailure(f"{service} answered {status} {reason} for {source}")
        return body

    async def _exchange(
        self, url: str, service: str, source: Source | str
    ) -> tuple[httpx.Response, bytes]:
        """GET `url`, following redirects to http(s) URLs only: the last answer and its body."""
        headers = {"User-Agent": self.services.user_agent}
        for _ in range(MAX_REDIRECTS + 1):
            async with self.client.stream(
                "GET", url, headers=headers, follow_redirects=False
            ) as response:
                if not 300 <= response.status_code < 400:
                    received = bytearray()
                    async for chunk in response.aiter_bytes():
                        received += chunk
                        if len(received) > MAX_BODY:
                            raise ImportFailure(
                                f"{service} sent more than {MAX_BODY:,} bytes for {source}"
                            )
                    return response, bytes(received)
                location = response.headers.get("Location")
            if not location:
                status = f"{response.status_code} {printable(response.reason_phrase)}".strip()
                raise ImportFailure(
                    f"{service} answered {status} for {source} without saying where to"
                )
            target, problem = redirect_problem(url, location)
            if problem is not None:
                raise UnfollowableRedirect(target, problem)
            url = target
        raise ImportFailure(f"{service} redirected {source} more than {MAX_REDIRECTS} times")


def _decode(body: bytes, charset: str | None, service: str) -> str:
    """The body as text, in the charset the answer names (UTF-8 when it names none)."""
    name = "utf-8"
    if charset is not None:
        try:
            name = codecs.lookup(charset).name
        except (LookupError, ValueError):
            name = ""
        if not TEXT_CHARSET.fullmatch(name):
            raise ImportFailure(
                f"{service} sent its answer in the charset '{printable(charset)}', "
                "which digest does not read"
            )
    return body.decode(name, errors="replace")


def _not_found(service: str, source: Source | str, body: str) -> str:
    if isinstance(source, Source) and service == "Crossref":
        detail = f" (Crossref says: {clean_text(body)[:80]})" if body.strip() else ""
        return f"Crossref has no record of DOI {source.value}{detail}"
    return f"{service} answered 404 Not Found for {source}"


def open_importer(
    root: Path,
    config: SiteConfig,
    environ: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
    arxiv_limiter: RateLimiter | None = None,
) -> Importer:
    """An importer for the site at `root`: its services, a disk cache, and `link_timeout`
    as the deadline of each request."""
    deadline = config.link_timeout
    client = httpx.AsyncClient(timeout=httpx.Timeout(deadline), transport=transport)
    cache = DiskCache(root / CACHE_DIR / "importer")
    services = Services.from_config(config, environ)
    return Importer(client, services, cache, arxiv_limiter, deadline)
