"""The TAXII 2.1 use cases: discovery, API roots, collections, objects, manifests, versions, status.

Every operation takes the calling principal first. `Feeds._authorise` is the single place where the access
rules of `access.py` are enforced for a collection: a collection the caller can neither read nor write is
reported exactly like one that does not exist; a visible collection used for a forbidden action is
Forbidden. Object-level rules (inbox partitions) travel into the storage query as an ObjectScope, so limits
and `next` tokens stay correct. Nothing here knows HTTP.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

import orjson

from . import access, strict_json, validation
from .catalog import Catalog
from .errors import BadRequest, Conflict, Forbidden, HubError, NotFound, PayloadTooLarge, Unprocessable
from .filters import QueryRequest
from .model import (
    ApiRootDef,
    CollectionDef,
    CollectionView,
    NewVersion,
    ObjectFilter,
    ObjectScope,
    Principal,
    Status,
    StatusDetail,
    StoredVersion,
)
from .paging import Place, TokenSigner
from .settings import DiscoverySettings
from .storage.base import FeedStore
from .timestamps import now_us
from .write_checks import WriteChecks

log = logging.getLogger(__name__)

Action = Literal["see", "read", "write", "delete"]
# A parsed query, or its parser: called only once the caller is authorised, so 404/403 precede 400 (H8).
Query = QueryRequest | Callable[[], QueryRequest]
PageKind = Literal["objects", "manifest", "object", "versions"]
MAX_ENVELOPE_OBJECTS = 10_000  # one Add Objects request is one transaction; bigger batches are split by clients


@dataclass(frozen=True)
class PageResult:
    items: tuple[StoredVersion, ...]
    more: bool
    next: str | None


class Torn(Conflict):
    """A write across several collections refused because some object failed somewhere; nothing was kept."""

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__("per-object failures, so nothing was written: " + "; ".join(failures[:5]))
        self.failures = tuple(failures)


@dataclass(frozen=True)
class _Stored:
    status: Status
    added: tuple[NewVersion, ...]


class DirectWriteHooks(Protocol):
    """What the hub workflow does about a direct write the access rules watch (`access.watched_write`)."""

    def findings(self, principal: Principal, collection: CollectionDef, objects: list[dict[str, Any]],
                 resolves: Callable[[str], bool]) -> dict[str, str]:
        """The leak check's finding per object id (objects without a finding are absent); `resolves` says
        whether a referenced id is in the target collection."""

    def written(self, principal: Principal, collection: CollectionDef, status: Status) -> None:
        """Record the write in the audit trail."""


@dataclass(frozen=True)
class Discovery:
    title: str
    description: str
    contact: str
    default: str | None
    api_roots: tuple[str, ...]
    base_url: str = ""  # "https://hub.example.org" when [server] public_url is set: URLs are absolute


class Feeds:
    def __init__(
        self,
        catalog: Catalog,
        store: FeedStore,
        signer: TokenSigner,
        discovery: DiscoverySettings,
        *,
        max_page_size: int = 1000,
        status_retention_s: int = 7 * 24 * 3600,
        clock: Callable[[], int] = now_us,
        on_inbox: Callable[[Principal, list[dict[str, Any]]], None] | None = None,
        json_limits: strict_json.JsonLimits = strict_json.DEFAULT_JSON_LIMITS,
        base_url: str = "",
        reserved_identities: frozenset[str] = frozenset(),
        future_skew_s: int = 300,
        two_person_rule: bool = False,
        hooks: DirectWriteHooks | None = None,
    ) -> None:
        self.json_limits = json_limits
        self.base_url = base_url
        self.catalog = catalog
        self.store = store
        self.signer = signer
        self._discovery = discovery
        self.max_page_size = max_page_size
        self.status_retention_us = status_retention_s * 1_000_000
        self.clock = clock
        self.on_inbox = on_inbox
        self.checks = WriteChecks(store, reserved_identities, future_skew_s * 1_000_000)
        self.two_person_rule = two_person_rule
        self.hooks = hooks

    # -- the one enforcement point -------------------------------------------------------------------------

    def _authorise(self, principal: Principal, api_root: str, collection_id: str, action: Action) -> CollectionDef:
        collection = self.catalog.find(api_root, collection_id)
        if collection is None or not access.is_visible(principal, collection):
            raise NotFound("no such collection in this API root")
        readable = access.can_read(principal, collection)
        writable = access.can_write(principal, collection)
        if action == "read" and not readable:
            raise Forbidden(f"organisation {principal.org_id!r} may not read collection {collection.id}")
        if action == "write" and not writable:
            raise Forbidden(f"organisation {principal.org_id!r} may not write to collection {collection.id}")
        if action == "delete" and not (readable and writable):
            raise Forbidden(f"organisation {principal.org_id!r} may not delete objects of collection {collection.id}")
        return collection

    def writable(self, principal: Principal, collection_ref: str) -> CollectionDef:
        """A collection named by id or alias in any API root, if the caller may write to it."""
        found = {c.id: c for root in self.catalog.api_roots for c in [self.catalog.find(root, collection_ref)] if c}
        if len(found) > 1:
            raise BadRequest(f"{collection_ref!r} names collections in several API roots; use the collection id")
        if not found:
            raise NotFound("no such collection in this API root")
        c = next(iter(found.values()))
        return self._authorise(principal, c.api_root, c.id, "write")

    def readable(self, principal: Principal, collection_ref: str) -> CollectionDef:
        """A collection named by id or alias in any API root, if the caller may read it (the feeds under
        /hub/v1/feeds/ name collections without an API root). Refused exactly like a TAXII read."""
        found = {c.id: c for root in self.catalog.api_roots for c in [self.catalog.find(root, collection_ref)]
                 if c and access.is_visible(principal, c)}
        if len(found) != 1:  # an alias used in several API roots is ambiguous: the id (unique) names it
            raise NotFound("no such collection in this API root")
        c = next(iter(found.values()))
        return self._authorise(principal, c.api_root, c.id, "read")

    def readable_collections(self, principal: Principal) -> list[CollectionDef]:
        """Every collection the caller may read, in catalogue order."""
        return access.readable(principal, self.catalog.all())

    def holdings(self, principal: Principal, object_id: str) -> list[tuple[CollectionDef, StoredVersion]]:
        """The latest version of an object in every collection the caller may read and write."""
        held: list[tuple[CollectionDef, StoredVersion]] = []
        for c in self.catalog.all():
            try:
                self._authorise(principal, c.api_root, c.id, "delete")
            except (NotFound, Forbidden):
                continue
            page = self.store.query(access.object_scope(principal, c), ObjectFilter(ids=(object_id,)), None, 1)
            held.extend((c, item) for item in page.items)
        return held

    def _visible_root(self, principal: Principal, api_root: str) -> ApiRootDef:
        root = self.catalog.api_roots.get(api_root)
        if root is None or not any(access.is_visible(principal, c) for c in self.catalog.collections(api_root)):
            raise NotFound(f"no API root {api_root!r}")
        return root

    # -- server and API root information -------------------------------------------------------------------

    def discovery(self, principal: Principal) -> Discovery:
        roots = tuple(
            name for name in self.catalog.api_roots
            if any(access.is_visible(principal, c) for c in self.catalog.collections(name))
        )
        default = self._discovery.default if self._discovery.default in roots else None
        return Discovery(self._discovery.title, self._discovery.description, self._discovery.contact, default,
                         roots, self.base_url)

    def api_root_url(self, api_root: str) -> str:
        """The API root's URL as clients should use it: absolute under [server] public_url, else a path."""
        return f"{self.base_url}/{api_root}/"

    def collection_url(self, c: CollectionDef) -> str:
        """A collection's URL by its id: what products (taxii2-client, MISP, Sentinel, OpenCTI) need, since
        taxii2-client refuses a collection whose URL does not contain its id. Alias URLs are for people."""
        return f"{self.api_root_url(c.api_root)}collections/{c.id}/"

    def api_root(self, principal: Principal, api_root: str) -> ApiRootDef:
        return self._visible_root(principal, api_root)

    def collections(self, principal: Principal, api_root: str) -> list[CollectionView]:
        self._visible_root(principal, api_root)
        return [
            CollectionView(c, access.can_read(principal, c), access.can_write(principal, c))
            for c in self.catalog.collections(api_root)
            if access.is_visible(principal, c)
        ]

    def collection(self, principal: Principal, api_root: str, collection_id: str) -> CollectionView:
        c = self._authorise(principal, api_root, collection_id, "see")
        return CollectionView(c, access.can_read(principal, c), access.can_write(principal, c))

    # -- reading -------------------------------------------------------------------------------------------

    def get_objects(self, principal: Principal, api_root: str, collection_id: str, req: Query) -> PageResult:
        return self._collection_page(principal, api_root, collection_id, req, "objects")

    def get_manifest(self, principal: Principal, api_root: str, collection_id: str, req: Query) -> PageResult:
        return self._collection_page(principal, api_root, collection_id, req, "manifest")

    def get_object(
        self, principal: Principal, api_root: str, collection_id: str, object_id: str, req: Query
    ) -> PageResult:
        return self._object_page(principal, api_root, collection_id, object_id, req, "object")

    def get_versions(
        self, principal: Principal, api_root: str, collection_id: str, object_id: str, req: Query
    ) -> PageResult:
        return self._object_page(principal, api_root, collection_id, object_id, req, "versions")

    def _collection_page(
        self, principal: Principal, api_root: str, collection_id: str, req: Query, kind: PageKind
    ) -> PageResult:
        c = self._authorise(principal, api_root, collection_id, "read")
        q = _resolve(req)
        return self._page(principal, c, q.filter, q, kind)

    def _object_page(
        self, principal: Principal, api_root: str, collection_id: str, object_id: str, req: Query, kind: PageKind
    ) -> PageResult:
        c = self._authorise(principal, api_root, collection_id, "read")
        q = _resolve(req)
        self._require_object(principal, c, object_id)
        return self._page(principal, c, _for_object(q.filter, object_id), q, kind, object_id)

    def _require_object(self, principal: Principal, c: CollectionDef, object_id: str) -> None:
        if not self.store.object_exists(access.object_scope(principal, c), object_id):
            raise NotFound(f"no object {object_id!r} in collection {c.id}")

    def _page(
        self, principal: Principal, c: CollectionDef, flt: ObjectFilter, req: QueryRequest, kind: PageKind,
        object_id: str = "",
    ) -> PageResult:
        limit = min(req.limit or self.max_page_size, self.max_page_size)
        place = Place(principal.org_id, c.id, kind, object_id)
        after = None
        if req.next:  # the token's own filters: `next` alone continues the query (Elastic drops added_after)
            continued = self.signer.resume(req.next, place, flt, req.filtered)
            after, flt = continued.cursor_us, continued.filter or flt
        page = self.store.query(access.object_scope(principal, c), flt, after, limit)
        token = self.signer.encode(page.items[-1].date_added_us, place, flt) if page.more and page.items else None
        return PageResult(page.items, page.more and token is not None, token)

    # -- writing -------------------------------------------------------------------------------------------

    def add_objects(
        self, principal: Principal, api_root: str, collection_id: str, read_body: Callable[[], bytes]
    ) -> Status:
        """§5.5, a direct write. `read_body` is called only once the caller may write, so refusals come in
        TAXII's order. With the two-person rule the hub's side may not write directly where members read
        (`access.direct_write_refusal`); what it may write there passes the leak check and is audited, and so
        is a member's own write into a shared collection (`DirectWriteHooks`)."""
        c = self._authorise(principal, api_root, collection_id, "write")
        refusal = access.direct_write_refusal(principal, c, self.two_person_rule, c.direct_writes)
        if refusal:
            raise Forbidden(refusal)
        return self._add(principal, api_root, c, read_body, direct=True).status

    def add_vetted_objects(
        self, principal: Principal, api_root: str, collection_id: str, read_body: Callable[[], bytes]
    ) -> Status:
        """The hub workflow's own writes (publishing, revocation), which vet and audit what they write
        themselves; the hub's side only."""
        c = self._authorise(principal, api_root, collection_id, "write")
        if not access.writes_as_hub(principal):
            raise Forbidden(f"organisation {principal.org_id!r} is not the hub's side")
        return self._add(principal, api_root, c, read_body, direct=False).status

    def add_everywhere(
        self, principal: Principal, collections: Sequence[CollectionDef], envelope: bytes,
        then: Callable[[], None] = lambda: None,
    ) -> list[Status]:
        """The hub workflow's write of one envelope into several collections, then `then` (the caller's own
        records, written through the same store): all of it, or nothing. A per-object failure in any collection
        raises `Torn` naming them. `then` may run more than once (a transaction retried after a write conflict).

        One transaction (`store.atomically`) on SQLite and on a MongoDB replica set: readers see everything at
        once or nothing, and a failure anywhere leaves nothing. A standalone MongoDB has no transactions: the
        versions this call added are deleted again before the error propagates (a reader polling meanwhile may
        have seen them; the statuses stay, each telling what happened in its collection, and so does what
        `then` wrote before failing)."""
        if not access.writes_as_hub(principal):
            raise Forbidden(f"organisation {principal.org_id!r} is not the hub's side")
        targets = [self._authorise(principal, c.api_root, c.id, "write") for c in collections]
        added: list[tuple[ObjectScope, NewVersion]] = []

        def write() -> list[Status]:
            added.clear()  # a retried transaction starts again from nothing
            statuses: list[Status] = []
            for c in targets:
                stored = self._add(principal, c.api_root, c, lambda: envelope, direct=False)
                added.extend((access.object_scope(principal, c), v) for v in stored.added)
                statuses.append(stored.status)
            failures = [f"{s.collection_id}: {f.id}: {f.message}" for s in statuses for f in s.failures]
            if failures:
                raise Torn(failures)
            then()
            return statuses

        try:
            return self.store.atomically(write)
        except BaseException:
            if added and not self.store.transactional:  # a transaction has rolled everything back already
                self._undo(added)
            raise

    def _undo(self, added: Sequence[tuple[ObjectScope, NewVersion]]) -> None:
        """Remove the versions an unfinished `add_everywhere` stored, newest first."""
        for scope, v in reversed(added):
            if v.version_us is None:
                continue
            try:
                self.store.delete(scope, v.id, ObjectFilter(version_keywords=frozenset(),
                                                            version_instants=(v.version_us,),
                                                            spec_versions=(v.spec_version,)))
            except HubError:
                log.exception("could not remove %s from %s after a failed write", v.id, scope.collection_id)

    def _add(
        self, principal: Principal, api_root: str, c: CollectionDef, read_body: Callable[[], bytes], direct: bool
    ) -> _Stored:
        objects = _envelope_objects(strict_json.loads(read_body(), self.json_limits))
        now = self.clock()
        checked = self.checks.check(principal, c, objects, now,
                                    readable={r.id for r in self.readable_collections(principal)})
        watched = direct and self.hooks is not None and access.watched_write(principal, c)
        if watched and access.writes_as_hub(principal):
            checked = self._leak_check(principal, c, objects, checked)
        with self.store.atomic():  # the objects and their status, or nothing (spec §3.1: no torn envelope)
            checked = self.checks.refuse_after_revocation(access.object_scope(principal, c), checked)
            accepted = [v for v in checked if isinstance(v, NewVersion)]
            status = self._store_objects(principal, api_root, c, checked, accepted, now)
            if watched:  # in the same transaction: a write is never stored without its audit entry
                self.hooks.written(principal, c, status.status)  # type: ignore[union-attr]
        if self.on_inbox is not None and c.visibility == "own" and status.added:
            self._report_inbox(principal, list(status.added))
        if status.status.id.startswith("0"):  # now and then, drop statuses past retention (TAXII §4.3: ≥ 24 h)
            self.store.purge_statuses(now - self.status_retention_us)
        return status

    def _leak_check(
        self, principal: Principal, c: CollectionDef, objects: list[Any],
        checked: list[NewVersion | validation.Rejected],
    ) -> list[NewVersion | validation.Rejected]:
        """A finding of the leak check is a per-object failure; the finding names the object and the kind of
        value, never the value."""
        passed = [obj for obj, item in zip(objects, checked, strict=True) if isinstance(item, NewVersion)]
        scope = access.object_scope(principal, c)
        found = (self.hooks.findings(principal, c, passed, lambda ref: self.store.object_exists(scope, ref))  # type: ignore[union-attr]
                 if passed else {})
        return [validation.Rejected(item.id, item.version or "", f"refused by the {found[item.id]}")
                if isinstance(item, NewVersion) and item.id in found else item for item in checked]

    def _store_objects(
        self, principal: Principal, api_root: str, c: CollectionDef,
        checked: list[NewVersion | validation.Rejected], accepted: list[NewVersion], now: int,
    ) -> _Stored:
        results = iter(
            self.store.add_versions(
                access.object_scope(principal, c), principal.org_id, access.may_supersede_others(principal),
                accepted, now,
            )
        )
        successes: list[StatusDetail] = []
        failures: list[StatusDetail] = []
        added: list[NewVersion] = []
        hub_side = access.writes_as_hub(principal)
        for item in checked:
            if isinstance(item, validation.Rejected):
                failures.append(StatusDetail(item.id, item.version, item.message))
                continue
            result = next(results)
            if result.outcome == "added":
                successes.append(StatusDetail(result.id, result.version))
                added.append(item)
            elif result.outcome == "duplicate":
                successes.append(StatusDetail(result.id, result.version, "already present"))
            elif result.outcome == "conflict" and hub_side and item.type in validation.SCO_TYPES:
                # An observable's id is computed from its value (checked for every writer), so the stored one
                # names the same observable: a member who stored it first cannot block a publication with it.
                successes.append(StatusDetail(result.id, result.version, "already present (the same observable)"))
            elif result.outcome == "conflict":
                failures.append(StatusDetail(result.id, result.version,
                                             "a different object with this id and version is already stored"))
            else:
                failures.append(StatusDetail(result.id, result.version,
                                             "this object was first added by another organisation; only it or "
                                             "a hub analyst may add new versions"))
        status = Status(str(uuid.uuid4()), api_root, c.id, principal.org_id, now, tuple(successes), tuple(failures))
        self.store.save_status(status)
        return _Stored(status, tuple(added))

    def _report_inbox(self, principal: Principal, added: list[NewVersion]) -> None:
        """Objects a member put in an inbox become a hub submission. They are stored already, so a failure
        here is logged for the analysts and never undoes the TAXII request."""
        try:
            self.on_inbox(principal, [orjson.loads(v.raw) for v in added])  # type: ignore[misc]
        except Exception:
            log.exception("turning inbox objects from %s into a submission failed", principal.org_id)

    def delete_object(
        self, principal: Principal, api_root: str, collection_id: str, object_id: str, req: Query
    ) -> None:
        c = self._authorise(principal, api_root, collection_id, "delete")
        scope = access.object_scope(principal, c)
        flt = _resolve(req).filter
        # Writing to a shared collection is no licence to remove what another organisation added (T2).
        owner = None if access.may_supersede_others(principal) else self.store.object_owner(scope, object_id)
        if owner is not None and owner != principal.org_id:
            raise Forbidden(f"object {object_id} was added by another organisation; only it or a hub analyst may "
                            "delete it")
        if not self.store.delete(scope, object_id, flt):
            raise NotFound(f"no object {object_id!r} (or no matching version) in collection {c.id}")

    def get_status(self, principal: Principal, api_root: str, status_id: str) -> Status:
        status = self.store.get_status(status_id)
        if status is None or status.api_root != api_root or not access.may_read_status(principal, status.org_id):
            raise NotFound("no such status resource")
        return status


def _resolve(req: Query) -> QueryRequest:
    return req() if callable(req) else req


def _for_object(flt: ObjectFilter, object_id: str) -> ObjectFilter:
    return replace(flt, ids=(object_id,), types=())


def _envelope_objects(doc: Any) -> list[Any]:
    """The objects of a TAXII envelope or a STIX bundle (stix2's TAXIICollectionSink posts bundles)."""
    if not isinstance(doc, dict):
        raise Unprocessable("the body must be a TAXII envelope: a JSON object with an 'objects' list")
    objects = doc.get("objects")
    if not isinstance(objects, list) or not objects:
        raise Unprocessable("the envelope must have a non-empty 'objects' list")
    if len(objects) > MAX_ENVELOPE_OBJECTS:
        raise PayloadTooLarge(f"the envelope holds {len(objects)} objects; at most {MAX_ENVELOPE_OBJECTS} per request")
    return objects
