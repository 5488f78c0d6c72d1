"""Feeds for products that do not speak TAXII: block-lists, CSV, a MISP feed and a STIX bundle per collection,
answered from exactly what the caller may read there.

Every request is authorised by `Feeds.readable` (the TAXII choke point: a collection the caller cannot see is
the same 404 as a missing one; one it can see but not read is 403), and what is read is the caller's
ObjectScope (`access.object_scope`: an inbox member reads only its own partition), inside the storage query.
Validators come from the scope's content version and clock changes (snapshots.py) before anything is built,
so an unchanged feed is answered "not modified" without reading the objects.
Must not: know HTTP (headers are parsed by the web layer), or read storage outside the caller's scope.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from .. import access
from ..errors import BadRequest, HubError, NotFound
from ..feeds import Feeds
from ..model import CollectionDef, ObjectScope, Principal
from ..storage.base import FeedStateStore
from ..timestamps import now_us
from . import formats, misp
from .current import ObjectReader
from .snapshots import Generation, Snapshots
from .values import DIALECTS, KINDS, Kind

LISTS: dict[str, Kind] = {f"{kind}.txt": kind for kind in KINDS}
# what a member points its products at; "misp" is the MISP feed's base URL (MISP appends /manifest.json …)
RESOURCES = (*LISTS, "indicators.csv", "bundle.json", "misp")
MISP_FILES = ("misp/manifest.json", "misp/hashes.csv", "misp/<event uuid>.json")
MEDIA = {".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8; header=present",
         ".json": "application/json"}
_EVENT = re.compile(r"misp/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.json")


class Exclusions(Protocol):
    """Values that must never reach a feed (the hub's allow-list, known-benign warning lists)."""

    def excluded(self, kind: str, value: str) -> bool:
        ...

    def version(self) -> str:
        """Changes whenever the lists change, so feeds' validators change with them."""
        ...


class NoExclusions:
    def excluded(self, kind: str, value: str) -> bool:
        return False

    def version(self) -> str:
        return ""


class ExportStore(ObjectReader, FeedStateStore, Protocol):
    pass


@dataclass(frozen=True)
class FeedRequest:
    collection: str
    resource: str
    dialect: str = "panos"
    wildcard: bool = False
    since_us: int | None = None
    gzip: bool = False


@dataclass(frozen=True)
class FeedAnswer:
    """A feed file to send (`body`, open, the caller closes it), or `not_modified` with only the validators."""

    collection: CollectionDef
    resource: str
    media_type: str
    etag: str
    last_modified_us: int | None
    newest_added_us: int | None  # the newest change in the scope the answer reflects (the poll history's)
    not_modified: bool = False
    body: IO[bytes] | None = None
    size: int = 0
    gzipped: bool = False
    entries: int = 0


FEEDS_PATH = "/hub/v1/feeds"


@dataclass(frozen=True)
class FeedListing:
    collection: CollectionDef
    ref: str  # how the feed URLs name the collection: its alias where that is unambiguous, else its id
    base_url: str  # absolute under [server] public_url, else a path
    resources: tuple[str, ...]

    def url(self, resource: str) -> str:
        return f"{self.base_url}{FEEDS_PATH}/{self.ref}/{resource}"

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(self.url(r) for r in self.resources)


class FeedExports:
    def __init__(self, feeds: Feeds, store: ExportStore, cache_dir: Path, *, clock: Callable[[], int] = now_us,
                 exclusions: Exclusions | None = None, hub_identities: frozenset[str] = frozenset()) -> None:
        self.feeds = feeds
        self.hub_identities = hub_identities  # what the hub's side creates: the only vetted MISP events
        self.store = store
        self.clock = clock
        self.exclusions = exclusions or NoExclusions()
        self.snapshots = Snapshots(cache_dir, store, clock)

    def listing(self, principal: Principal) -> list[FeedListing]:
        """The feeds the caller may fetch: every resource of every collection it may read."""
        return [FeedListing(c, self._ref(principal, c), self.feeds.base_url, RESOURCES)
                for c in self.feeds.readable_collections(principal)]

    def _ref(self, principal: Principal, c: CollectionDef) -> str:
        if c.alias is None:
            return c.id
        try:
            return c.alias if self.feeds.readable(principal, c.alias).id == c.id else c.id
        except HubError:
            return c.id

    def fetch(self, principal: Principal, req: FeedRequest, known_etags: tuple[str, ...] = (),
              modified_since_us: int | None = None) -> FeedAnswer:
        collection = self.feeds.readable(principal, req.collection)  # the one access decision
        build = self._builder(req)
        scope = access.object_scope(principal, collection)
        content = self.store.content_version(scope)
        gen = self.snapshots.generation(scope, content.tag, self.exclusions.version(), content.changed_us)
        etag = gen.etag(build.name)
        answer = FeedAnswer(collection, req.resource, build.media_type, etag, gen.newest_change_us,
                            content.changed_us)
        if _not_modified(etag, gen.newest_change_us, known_etags, modified_since_us):
            return FeedAnswer(**{**answer.__dict__, "not_modified": True})
        if req.since_us is not None:
            return self._incremental(answer, scope, req.since_us)
        path = build.run(self, gen, scope, collection)
        entries = _count(path)
        if req.gzip and path.stat().st_size > 512:
            path, gzipped = self.snapshots.gzipped(path), True
        else:
            gzipped = False
        return FeedAnswer(**{**answer.__dict__, "body": path.open("rb"), "size": path.stat().st_size,
                             "gzipped": gzipped, "entries": entries})

    def _incremental(self, answer: FeedAnswer, scope: ObjectScope, since_us: int) -> FeedAnswer:
        """`indicators.csv?since=`: small and different for every caller's instant, so built into a temporary
        file (on disk, not in memory) and not kept."""
        out = tempfile.TemporaryFile()  # handed to the caller, who closes it
        rows = formats.write_csv(out, self.store, scope, self.clock(), self.exclusions.excluded, since_us)
        size = out.tell()
        out.seek(0)
        return FeedAnswer(**{**answer.__dict__, "body": out, "size": size, "entries": rows})

    def _builder(self, req: FeedRequest) -> _Build:
        if req.dialect not in DIALECTS:
            raise BadRequest(f"format must be one of {', '.join(DIALECTS)}")
        if req.since_us is not None and req.resource != "indicators.csv":
            raise BadRequest("since is offered for indicators.csv only")
        kind = LISTS.get(req.resource)
        if kind is not None:
            suffix = f"{req.dialect if kind == 'url' else 'any'}{'.w' if req.wildcard and kind == 'domain' else ''}"
            return _Build(f"{req.resource}.{suffix}", MEDIA[".txt"], kind=kind, dialect=req.dialect,
                          wildcard=req.wildcard)
        if req.resource in ("indicators.csv", "bundle.json"):
            return _Build(req.resource, MEDIA[Path(req.resource).suffix])
        if req.resource in ("misp/manifest.json", "misp/hashes.csv") or _EVENT.fullmatch(req.resource):
            media = MEDIA[".csv"] if req.resource.endswith(".csv") else MEDIA[".json"]
            return _Build(req.resource, media)
        raise NotFound(f"no feed {req.resource!r}; the feeds are {', '.join((*RESOURCES[:-1], *MISP_FILES))}")


@dataclass(frozen=True)
class _Build:
    name: str
    media_type: str
    kind: Kind | None = None
    dialect: str = "panos"
    wildcard: bool = False

    def run(self, exports: FeedExports, gen: Generation, scope: ObjectScope, collection: CollectionDef) -> Path:
        store, now, excluded = exports.store, exports.clock(), exports.exclusions.excluded
        snaps = exports.snapshots
        if self.kind is not None:
            kind = self.kind
            return snaps.file(gen, self.name, lambda out: formats.write_list(
                out, store, scope, kind, self.dialect, self.wildcard, now, excluded))
        if self.name == "indicators.csv":
            return snaps.file(gen, self.name, lambda out: formats.write_csv(out, store, scope, now, excluded))
        if self.name == "bundle.json":
            return snaps.file(gen, self.name, lambda out: formats.write_bundle(out, store, scope, now, gen.key))
        label = collection.alias or collection.id
        hub = exports.hub_identities
        directory = snaps.directory(gen, "misp", lambda d: misp.write_feed(d, store, scope, label, now, excluded, hub))
        path = directory / self.name.removeprefix("misp/")
        if not path.is_file():
            raise NotFound(f"no MISP event {self.name.removeprefix('misp/')} in this feed")
        return path


def _count(path: Path) -> int:
    counted = path.with_name(f".{path.name}.n")
    try:
        return int(counted.read_text())
    except (OSError, ValueError):
        return 0


def _not_modified(etag: str, last_modified_us: int | None, known: tuple[str, ...],
                  modified_since_us: int | None) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present; otherwise If-Modified-Since (whole seconds)."""
    if known:
        return "*" in known or etag in known
    if modified_since_us is None or last_modified_us is None:
        return False
    return last_modified_us // 1_000_000 <= modified_since_us // 1_000_000
