"""Site record: what the store knows of the site on disk, and what a build leaves in it.

A build asks it which pages can stay as they are (the file at their url is the one the
last build wrote, for the same key, and the site's key is the last build's), which
newly rendered files are byte for byte the current site's (to hard-link rather than
write), and, after writing, what each file of the new site is: key, digest, size and
mtime (digest.store's outputs). The site's key covers what every page depends on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from digest.files import walk_files
from digest.hashing import combine, digest_bytes, tool_fingerprint
from digest.manifest import MANIFEST
from digest.models import SiteConfig
from digest.render import RenderedPage
from digest.store import Output, Stamp, Store
from digest.template_set import Templates
from digest.write import WriteResult

SKIP = frozenset({"__pycache__", ".git"})  # never templates


def template_stamps(store: Store, templates: Templates) -> dict[str, Stamp]:
    """Every file of the template folders (assets included), each named by its folder's
    place in the lookup order and its path in it."""
    found: dict[str, Stamp] = {}
    for number, folder in enumerate(templates.folders):
        for name, path in walk_files(folder, skip=SKIP):
            input_name = f"templates{number}:{name}"
            try:
                found[input_name] = store.stamp(input_name, path)[0]
            except OSError:  # reported where the template or asset is read
                found[input_name] = Stamp(-1, 0, "unreadable")
    return found


def site_key(
    config: SiteConfig, options: Iterable[str], templates: dict[str, Stamp], names: str
) -> str:
    """What every page depends on: the tool, the settings, the build's options, each
    template file, and the names and issues of the papers cross-references name."""
    files = (f"{name}:{stamp.digest}" for name, stamp in sorted(templates.items()))
    return combine(tool_fingerprint(), config.model_dump_json(), *options, names, *files)


class SiteRecord:
    """The store's record of the site at `out`, for one build with site key `key`."""

    def __init__(self, store: Store, out: Path, key: str):
        self.store = store
        self.out = out
        self.key = key
        self.intact = store.intact(out)  # every recorded file there, as it was left
        self.same_site = self.intact and store.meta.get("site") == key

    def kept(self, url: str, key: str) -> bool:
        """Whether the file at `url` is the one the page with `key` makes."""
        known = self.store.outputs.get(url)
        return self.same_site and known is not None and known.key == key

    def reusable(self, url: str, data: bytes) -> Path | None:
        """The current site's file for `url` when it holds exactly `data`."""
        known = self.store.outputs.get(url)
        if not self.intact or known is None or known.size != len(data):
            return None
        return self.out / url if known.digest == digest_bytes(data) else None

    def unchanged(self, pages: list[RenderedPage]) -> bool:
        """Whether the site on disk is exactly these pages, every one of them kept."""
        kept = {page.url for page in pages if page.kept}
        return len(kept) == len(pages) and kept == set(self.store.outputs) - {MANIFEST}

    def after(self, pages: list[RenderedPage], written: WriteResult) -> dict[str, Output]:
        """What the site at `out` holds now that `written` put these pages there."""
        found: dict[str, Output] = {}
        sizes = dict(written.stamps)
        for page in pages:
            if page.kept:
                digest = self.store.outputs[page.url].digest
            elif page.stamp is not None:
                digest = page.stamp.digest
                sizes.setdefault(page.url, (page.stamp.size, page.stamp.mtime_ns))
            else:
                data = page.content if isinstance(page.content, bytes) else page.content.encode()
                digest = digest_bytes(data)
            found[page.url] = Output(page.key, digest, *self._size_and_time(sizes, page.url))
        size_and_time = self._size_and_time(sizes, MANIFEST)
        found[MANIFEST] = Output("", written.manifest_digest, *size_and_time)
        return found

    def _size_and_time(self, known: dict[str, tuple[int, int]], url: str) -> tuple[int, int]:
        if url in known:
            return known[url]
        try:
            found = os.stat(self.out / url)
        except OSError:
            return (-1, 0)  # gone already: the next build finds the site changed
        return (found.st_size, found.st_mtime_ns)
