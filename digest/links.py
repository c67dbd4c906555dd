"""Links: asks every host whether URLs still work, for `digest check --links`.

`link_report.py` finds the URLs in the entries and turns the answers into diagnostics;
this module only asks. The checker is an `httpx.AsyncClient` that is passed in (tests
point it at 127.0.0.1): bounded concurrency overall and per host, a deadline on each
whole request (a host that drips its headers a byte at a time never trips a per-read
timeout), HEAD first and GET when a server refuses HEAD, redirects followed by hand so
loops are caught and a permanent redirect can be named (and only to http(s) URLs),
retries with backoff that honour `Retry-After` on 429/503, and a disk cache with a TTL
so CI reruns do not hit the same hosts again. A host that keeps answering 429 makes the
link "unknown" (a warning), not broken. The checker notes whether any host answered and
which URLs' hosts could not be reached (connection refused, name unresolved), so that no
network at all can be told from a broken link. Whatever a URL or its host does, the
outcome is that URL's result: a URL that cannot be requested (a control character, a
port above 65535) is broken without asking anyone.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from digest.http_cache import DiskCache
from digest.importer import (
    UnfollowableRedirect,
    printable,
    redirect_problem,
    refuse_unfollowable_redirects,
    url_problem,
    user_agent,
)
from digest.models import SiteConfig

State = Literal["ok", "moved", "broken", "unknown"]
PERMANENT = (301, 308)
BACKOFF = 1.0  # seconds before the first retry without Retry-After; doubles each time
MAX_WAIT = 60.0  # a Retry-After longer than this is not waited for
MAX_REDIRECTS = 10
FALLBACK_TO_GET = (400, 403, 405, 406, 500, 501)  # servers that mishandle HEAD answer these


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
