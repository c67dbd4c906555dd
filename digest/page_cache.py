"""Page cache: pages whose inputs did not change are left as the last build wrote them.

Every page gets a content key: its template and a hash of exactly the inputs its
context is made from. `PageKeys` makes them:

- a paper page: the paper entry, and its issue's entry and paper count;
- an issue page (and its email edition and .bib): the issue entry and all its papers;
- a topic page: the topic and, per issue it lists, that issue's entry, count and papers;
- the home and topics pages: what they summarise (every issue's own entry and paper
  count, the latest issue's sections and counts, each topic's counts and newest issue);
- the search page: which issues exist; the 404 page: nothing but the site itself;
- what shows every paper (search index, bibliography): every issue's key.

The `pages` file under `.digest-cache/` records, per url, the key and the hash of the
bytes the last good build wrote, and once the fingerprint of everything that can change
any page (`site_fingerprint`: the tool, the config, every template file, the build
options). A page is kept (not rendered) only when that fingerprint and its key are the
recorded ones, the output folder is exactly as the last build left it (digest.cache's
`intact`) and the recorded hash is the file's hash in that folder; otherwise it is
rendered. So a kept page holds what a clean build would write, and an incremental build
stays byte-identical to a clean one (tests/test_incremental.py).

It also keeps what is costly to make: each paper's BibTeX record, keyed by the paper's
hash, and each issue's rows of the search index joined, keyed by the issue's key. They
live in a sharded store (`pages-pieces.N`: digest.cache's `Shards`), so a one-entry edit
rewrites a few small files. Only what this build used is saved, so the store never grows
stale. A missing, corrupt or foreign file is ignored: the build renders everything (a
bad shard: its pieces are made again). Markdown parses are not kept: parsing the texts a
rebuild shows costs less than reading every parse back.

And it keeps the fragments of a page that lists thousands of papers (a topic page's
cards: digest.views' `Card`), one file per page (`pages-fragments-<url, quoted>`), read
only when that page renders again. Each fragment is named by all it depends on (the
site fingerprint, the paper's hash, where it is shown), so the file is written as soon
as its page rendered, whatever becomes of the build; a page's file holds exactly what
its last rendering used, and the files of pages the site no longer has are removed.

With the build's input stamps, a paper's or an issue's own hash is its entry file's
content hash and display path (the entry is made from that file alone, its id and date
from that path; the site fingerprint covers the config and the tool), which saves
dumping and hashing every model in every render process.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from digest.cache import (
    ENTRY_PREFIX,
    TEMPLATE_PREFIX,
    Stamp,
    read_payload,
    read_shards,
    usable_folder,
    write_payload,
    write_shards,
)
from digest.hashing import combine
from digest.models import PaperEntry
from digest.organise import IssueView, Library, Topic

PAGES_FILE = "pages"
PIECES = "pieces"
FRAGMENTS = "fragments"

T = TypeVar("T")


def site_fingerprint(tool: str, config_json: str, files: Mapping[str, Stamp], options: str) -> str:
    """What every page depends on: the tool, the config, each template file, the options.

    `files` are the build's input stamps (digest.cache's `BuildCache.inputs`): the
    template files are known by the content hashes the build stamped them with."""
    parts = [tool, config_json, options]
    parts += sorted(
        f"{name}:{stamp.digest}"
        for name, stamp in files.items()
        if name.startswith(TEMPLATE_PREFIX)
    )
    return combine(*parts)


class PageKeys:
    """The content key of each page of one library (see the module docstring)."""

    def __init__(self, library: Library, site: str, files: Mapping[str, Stamp] | None = None):
        """`files`: the build's input stamps (digest.cache's `BuildCache.inputs`), by name.
        A paper is then known by its entry file's content hash instead of a dump of its
        model (the model is made from that file alone, and `site` covers the config and
        the tool)."""
        self.library = library
        self.site = site
        self.files = files or {}
        self._papers: dict[str, str] | None = None  # id → hash, every paper (`_hashes`)
        self._paper_keys: dict[str, str] = {}
        self._issues: dict[str, str] = {}
        self._issue_keys: dict[str, str] = {}
        self._whole: str | None = None

    def _hashes(self) -> dict[str, str]:
        """Every paper's hash by id, made in one go: every rebuild needs them all (topic
        pages, the issues' keys), so the loops below look them up directly."""
        if self._papers is None:
            self._papers = {e.id: self._paper_hash(e) for e in self.library.papers.values()}
        return self._papers

    def _stamped(self, source: str) -> str | None:
        """The hash of the entry file shown as `source` by its stamp, if it has one: its
        content hash and its path, as is (no second hash: at 10,000 papers that took
        a third of the time of every key a rebuild makes)."""
        stamp = self.files.get(ENTRY_PREFIX + source)
        return stamp.digest + source if stamp is not None and stamp.size >= 0 else None

    def _paper_hash(self, entry: PaperEntry) -> str:
        stamped = self._stamped(entry.source)
        if stamped is not None:
            return stamped
        dump = entry.paper.model_dump_json()
        return combine(entry.id, entry.issue_date.isoformat(), entry.source, dump)

    def paper_hash(self, entry: PaperEntry) -> str:
        found = self._hashes().get(entry.id)
        return found if found is not None else self._paper_hash(entry)

    def issue_hash(self, view: IssueView) -> str:
        """The issue's own entry and its paper count (what an issue summary shows)."""
        found = self._issues.get(view.slug)
        if found is None:
            count = str(len(view.papers))
            stamped = self._stamped(view.source)
            if stamped is not None:
                found = f"{stamped}:{count}"
            else:
                found = combine(view.slug, view.source, view.issue.model_dump_json(), count)
            self._issues[view.slug] = found
        return found

    def paper(self, entry: PaperEntry) -> str:
        """The paper and its issue's own entry and count (as on the paper's page)."""
        found = self._paper_keys.get(entry.id)
        if found is None:
            issue = self.issue_hash(self.library.issue_of[entry.id])
            found = self._paper_keys[entry.id] = self.paper_hash(entry) + issue
        return found

    def issue(self, view: IssueView) -> str:
        found = self._issue_keys.get(view.slug)
        if found is None:
            hashes = self._hashes()
            papers = [hashes.get(p.id) or self._paper_hash(p) for p in view.papers]
            found = self._issue_keys[view.slug] = combine(self.issue_hash(view), *papers)
        return found

    def topic(self, topic: Topic) -> str:
        hashes = self._hashes()
        parts = [topic.theme.slug]
        for group in topic.issues:
            parts.append(self.issue_hash(group.issue))
            parts += [hashes.get(p.id) or self._paper_hash(p) for p in group.papers]
        return combine(*parts)

    def papers(self, entries: Iterable[PaperEntry], *more: str) -> str:
        """Some papers, each with its issue (as on its own page), and `more`."""
        return combine(*more, *(self.paper(entry) for entry in entries))

    def site_map(self) -> str:
        """What the sitemap lists: every issue and paper by date and id, every topic's
        newest issue; not what they say."""
        library = self.library
        parts = [library.latest.slug if library.latest else ""]
        parts += [f"{view.slug}:{','.join(p.id for p in view.papers)}" for view in library.issues]
        parts += [
            f"{topic.theme.slug}:{topic.issues[0].issue.slug if topic.issues else ''}"
            for topic in library.topics
        ]
        return combine(*parts)

    def overview(self) -> str:
        """What the home and topics pages show: every issue's own entry and paper count,
        the latest issue's theme sections (how many papers each) and whether it has an
        "Under the hood", and each topic's paper count, issues and newest issue."""
        library = self.library
        parts = [self.issue_hash(view) for view in library.issues]
        latest = library.latest
        if latest is not None:
            parts.append(latest.slug)
            parts += [f"{s.theme.slug}:{len(s.papers)}" for s in latest.sections]
            parts.append(str(bool(latest.under_the_hood)))
        for topic in library.topics:
            newest = topic.issues[0].issue.slug if topic.issues else ""
            parts.append(f"{topic.theme.slug}:{topic.count}:{len(topic.issues)}:{newest}")
        return combine(*parts)

    def whole(self) -> str:
        """Every issue and paper of the site, in order."""
        if self._whole is None:
            self._whole = combine(*(self.issue(view) for view in self.library.issues))
        return self._whole


class PageCache:
    """One build's use of the `pages` file: keys to keep pages by, and stored pieces."""

    def __init__(
        self,
        folder: Path,
        fingerprint: str,
        on_disk: Mapping[str, str] | None,
        files: Mapping[str, Stamp] | None = None,
        site_key: str = "",
    ):
        """`on_disk`: url → hash of each file in the output folder, when it is exactly as
        the last build left it (else None: no page can be kept). `files`: the build's
        input stamps, for `PageKeys`. `site_key`: this build's `site_fingerprint`; no
        page is kept from a build with another."""
        self.files = files
        self.site_key = site_key
        self.path = folder / PAGES_FILE
        self.fingerprint = fingerprint
        collecting = gc.isenabled()
        gc.disable()  # tens of thousands of new objects, none of them garbage
        try:
            self._load(fingerprint)
        finally:
            if collecting:
                gc.enable()
        self.on_disk = on_disk
        self.same_site = self.previous_site == site_key
        self.keys: dict[str, str] = {}  # url → key, for every page of this build
        self.pieces: dict[str, Any] = {}  # the pieces this build used
        # url → (the fragments its file holds, those this rendering used)
        self.fragments: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def _load(self, fingerprint: str) -> None:
        loaded = read_payload(self.path, fingerprint)
        stored: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        self.previous: dict[str, tuple[str, str]] = stored.get("pages", {})
        self.previous_site: str = stored.get("site", "")  # the last build's site key
        # The pieces are content-addressed (by paper hash), so any shard that reads back
        # whole holds good values; only the shards with a changed key are written again
        # (digest.cache.Shards).
        self.pieces_shards = read_shards(self._shard(PIECES), fingerprint, stored.get(PIECES))
        self.stored_pieces: dict[str, Any] = self.pieces_shards.merged()

    def kept(self, url: str, key: str) -> bool:
        """Record `url`'s key; True when the file the last build wrote for it can stay."""
        self.keys[url] = key
        if self.on_disk is None or not self.same_site:
            return False
        old = self.previous.get(url)
        return old is not None and old[0] == key and self.on_disk.get(url) == old[1]

    def piece(self, name: str, make: Callable[[], T]) -> T:
        """The stored value called `name` (a kind and a paper hash), else `make()`."""
        if name in self.pieces:
            found: T = self.pieces[name]
            return found
        value = self.stored_pieces[name] if name in self.stored_pieces else make()
        self.pieces[name] = value
        return value

    def fragment(self, url: str, name: str, make: Callable[[], str]) -> str:
        """The fragment called `name` of the page at `url` (see the module docstring),
        from that page's file when it holds one, else `make()`."""
        if url not in self.fragments:
            loaded = read_payload(self._fragments_file(url), self.fingerprint)
            good = isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == url
            self.fragments[url] = (loaded[1] if good else {}, {})
        stored, used = self.fragments[url]
        found = used.get(name)
        if found is None:
            found = used[name] = stored[name] if name in stored else make()
        return found

    def save_fragments(self, url: str) -> None:
        """Store what the page at `url` used when it was rendered just now, if anything
        (a failure to write means it renders in full next time)."""
        if url in self.fragments:
            used = self.fragments.pop(url)[1]
            write_payload(self._fragments_file(url), self.fingerprint, (url, used))

    def _fragments_file(self, url: str) -> Path:
        """`pages-fragments-<url, quoted>`: the name says which page, for `save`."""
        return self._shard(f"{FRAGMENTS}-{quote(url, safe='')}")

    def save(self, written: Mapping[str, str]) -> None:
        """Record this build: call only after its site is in place. `written` is url →
        hash of every file in the output folder."""
        pages = {url: (key, written[url]) for url, key in self.keys.items() if url in written}
        value = {
            "pages": pages,
            "site": self.site_key,
            PIECES: write_shards(
                self._shard(PIECES), self.fingerprint, self.pieces, self.pieces_shards
            ),
        }
        write_payload(self.path, self.fingerprint, value)
        if not usable_folder(self.path.parent):  # a link: nothing is removed through it
            return
        prefix = self._fragments_file("").name
        for path in self.path.parent.glob(f"{prefix}*"):
            if unquote(path.name.removeprefix(prefix)) not in pages:
                path.unlink(missing_ok=True)

    def _shard(self, kind: str) -> Path:
        return self.path.with_name(f"{self.path.name}-{kind}")
