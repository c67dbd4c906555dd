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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from digest import __version__
from digest.http_cache import CACHE_DIR, DiskCache
from digest.metadata import ImportFailure, Metadata, Source, clean_text, parse_arxiv, parse_crossref
from digest.models import SiteConfig

ARXIV_SPACING = 3.0  # seconds between two arXiv API requests (arXiv's terms of use)
TIMEOUT = 15.0
CACHE_TTL = 7 * 24 * 3600.0
MAX_BODY = 5_000_000


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


# ---------------------------------------------------------------- fetching


class Importer:
    """Fetches metadata over an injected httpx client, spacing arXiv calls and caching answers."""

    def __init__(
        self,
        client: httpx.Client,
        services: Services,
        cache: DiskCache | None = None,
        arxiv_limiter: RateLimiter | None = None,
    ) -> None:
        self.client = client
        self.services = services
        self.cache = cache
        self.arxiv_limiter = arxiv_limiter or RateLimiter(ARXIV_SPACING)

    def __enter__(self) -> Importer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def fetch(self, source: Source) -> Metadata:
        """The metadata of one paper, or ImportFailure saying why not."""
        if source.kind == "arxiv":
            params = {"id_list": source.value, "max_results": "1"}
            url = str(httpx.URL(self.services.arxiv_api, params=params))
            service, parse, limiter = "the arXiv API", parse_arxiv, self.arxiv_limiter
        else:
            url = f"{self.services.crossref_api}/{quote(source.value, safe='/')}"
            service, parse, limiter = "Crossref", parse_crossref, None
        cached = self.cache.get(url, CACHE_TTL) if self.cache is not None else None
        if isinstance(cached, str):
            return parse(cached, source)
        body = self._get(url, service, source, limiter)
        metadata = parse(body, source)
        if self.cache is not None:  # only answers that parsed: a bad one is asked for again
            self.cache.put(url, body)
        return metadata

    def _get(self, url: str, service: str, source: Source, limiter: RateLimiter | None) -> str:
        """The body of a 200 answer, else ImportFailure."""
        if limiter is not None:
            limiter.wait()
        headers = {"User-Agent": self.services.user_agent}
        try:
            with self.client.stream("GET", url, headers=headers, follow_redirects=True) as response:
                received = bytearray()
                for chunk in response.iter_bytes():
                    received += chunk
                    if len(received) > MAX_BODY:
                        raise ImportFailure(
                            f"{service} sent more than {MAX_BODY:,} bytes for {source}"
                        )
                body = received.decode(response.encoding or "utf-8", errors="replace")
        except httpx.TimeoutException:
            raise ImportFailure(f"{service} did not answer in time for {source} ({url})") from None
        except httpx.HTTPError as exc:
            raise ImportFailure(f"could not reach {service} for {source}: {exc} ({url})") from None
        if response.status_code == 404:
            raise ImportFailure(_not_found(service, source, body))
        if response.status_code in (429, 503):
            wait = response.headers.get("Retry-After")
            later = f" (it asks to wait {wait} s)" if wait else ""
            raise ImportFailure(
                f"{service} is busy and asked digest to slow down{later}; try again later"
            )
        if response.status_code == 400 and service == "the arXiv API" and "<entry" in body:
            parse_arxiv(body, source)  # an Error entry explains the refusal
        if response.status_code != 200:
            reason = response.reason_phrase or "error"
            raise ImportFailure(f"{service} answered {response.status_code} {reason} for {source}")
        return body


def _not_found(service: str, source: Source, body: str) -> str:
    if service == "Crossref":
        detail = f" (Crossref says: {clean_text(body)[:80]})" if body.strip() else ""
        return f"Crossref has no record of DOI {source.value}{detail}"
    return f"{service} answered 404 Not Found for {source}"


def open_importer(
    root: Path,
    config: SiteConfig,
    environ: Mapping[str, str],
    transport: httpx.BaseTransport | None = None,
    arxiv_limiter: RateLimiter | None = None,
) -> Importer:
    """An importer for the site at `root`: its services, a disk cache, explicit timeouts."""
    client = httpx.Client(timeout=httpx.Timeout(TIMEOUT), transport=transport)
    cache = DiskCache(root / CACHE_DIR / "importer")
    return Importer(client, Services.from_config(config, environ), cache, arxiv_limiter)
