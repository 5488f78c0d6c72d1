"""What every object a writer sends must pass before it is stored, in order: well-formed STIX the collection
accepts (`validation`), nothing the writer may not claim (`integrity`), and no new version of a revoked object
(which needs the stored versions). Each refusal is a per-object failure, never an error for the request.

Must not: decide who may write where (`access`, enforced by `feeds`), or store anything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

import orjson

from . import access, integrity, validation
from .model import CollectionDef, NewVersion, ObjectFilter, ObjectScope, Organisation, Principal, StoredVersion
from .storage.base import FeedStore
from .storage.versions import same_content
from .timestamps import parse_us

Checked = NewVersion | validation.Rejected


class WriteChecks:
    """`reserved_identities`: the hub's own identity ids; `future_skew_us`: how far `created`/`modified` may
    lie ahead of the server's clock."""

    def __init__(self, store: FeedStore, reserved_identities: frozenset[str], future_skew_us: int) -> None:
        self.store = store
        self.reserved_identities = reserved_identities
        self.future_skew_us = future_skew_us

    def check(self, principal: Principal, c: CollectionDef, objects: list[Any], now: int,
              readable: Collection[str] = ()) -> list[Checked]:
        """Each object validated for the collection and held to what `principal` may claim there; `readable`:
        the ids of the collections the writer may read."""
        defined = validation.defined_levels(objects)
        rules = self._writer_rules(principal, c, objects, now)
        checked = [self._check(obj, c, defined, rules) for obj in objects]
        if rules.hub_side or not rules.shared:
            return checked
        return self._refuse_foreign(principal, checked, readable)

    def _check(
        self, obj: Any, c: CollectionDef, defined: dict[str, str], rules: integrity.WriterRules
    ) -> Checked:
        checked = validation.check(obj, c, defined)
        if isinstance(checked, validation.Rejected):
            return checked
        problem = integrity.problem(obj, rules)
        return validation.Rejected(checked.id, checked.version or "", problem) if problem else checked

    def _refuse_foreign(self, principal: Principal, checked: list[Checked], readable: Collection[str]) -> list[Checked]:
        """A member writes in a shared collection no id that another writer (the hub or another organisation)
        first added in a collection the member reads: versions are owned per collection, and readers that
        merge collections (MISP, OpenCTI, stix2's sources) take the newest version of an id wherever it comes
        from, so a "newer version" of the hub's published report or a "revoked" copy of its indicator would
        forge the hub's word. Re-sending a version exactly as it is stored (compared as canonical JSON) stays
        a harmless duplicate."""
        ids = [v.id for v in checked if isinstance(v, NewVersion)]
        writers = self.store.first_writers(ids) if ids else {}
        foreign = {oid: [cid for cid, org in held.items() if org != principal.org_id and cid in readable]
                   for oid, held in writers.items()}
        foreign = {oid: cids for oid, cids in foreign.items() if cids}
        if not foreign:
            return checked
        stored = self._stored_versions(foreign)
        result: list[Checked] = []
        for item in checked:
            if (isinstance(item, NewVersion) and item.id in foreign
                    and not any(same_content(raw, item.raw) for raw in stored.get((item.id, item.version_us), ()))):
                result.append(validation.Rejected(item.id, item.version or "", (
                    "id: this object was first added by the hub or another organisation; only its first writer "
                    "or a hub analyst may add versions of it (refer to it by its id instead)")))
                continue
            result.append(item)
        return result

    def _stored_versions(self, foreign: dict[str, list[str]]) -> dict[tuple[str, int | None], list[bytes]]:
        """The stored versions of the given ids in the given collections, by (id, version)."""
        by_collection: dict[str, list[str]] = {}
        for oid, cids in foreign.items():
            for cid in cids:
                by_collection.setdefault(cid, []).append(oid)
        stored: dict[tuple[str, int | None], list[bytes]] = {}
        for cid, wanted in by_collection.items():
            for row in _every_version(self.store, ObjectScope(cid), wanted):
                stored.setdefault((row.id, _version_us(orjson.loads(row.raw))), []).append(row.raw)
        return stored

    def _writer_rules(
        self, principal: Principal, c: CollectionDef, objects: list[Any], now: int
    ) -> integrity.WriterRules:
        hub_side = access.writes_as_hub(principal)
        reserved = self.reserved_identities
        own: str | None = None
        if not hub_side:
            own = _identity_id(self.store.get_organisation(principal.org_id))
            if any(isinstance(o, dict) and o.get("type") == "identity" for o in objects):
                others = (_identity_id(o) for o in self.store.list_organisations() if o.id != principal.org_id)
                reserved = reserved | {i for i in others if i}
        return integrity.WriterRules(hub_side=hub_side, shared=access.is_shared(c), own_identity=own,
                                     reserved_identities=reserved, now_us=now, future_skew_us=self.future_skew_us)

    def refuse_after_revocation(self, scope: ObjectScope, checked: list[Checked]) -> list[Checked]:
        """A revoked object accepts no further versions (STIX 2.1 §3.2: revocation is final). Re-sending a
        version already stored stays a duplicate, for the store to recognise."""
        wanted = sorted({v.id for v in checked if isinstance(v, NewVersion) and v.version is not None})
        stored: dict[str, set[int | None]] = {}
        revoked: set[str] = set()
        for row in _every_version(self.store, scope, wanted):
            doc = orjson.loads(row.raw)
            stored.setdefault(row.id, set()).add(_version_us(doc))
            if doc.get("revoked") is True:
                revoked.add(row.id)
        result: list[Checked] = []
        for item in checked:
            if isinstance(item, NewVersion) and item.id in revoked and item.version_us not in stored.get(item.id, ()):
                result.append(validation.Rejected(item.id, item.version or "", (
                    "this object is revoked in this collection; a revoked object accepts no further versions "
                    "(publish a new object instead)")))
                continue
            if (isinstance(item, NewVersion) and item.version is not None and b'"revoked":true' in item.raw
                    and orjson.loads(item.raw).get("revoked") is True):
                revoked.add(item.id)  # later versions in the same envelope are refused too
                stored.setdefault(item.id, set()).add(item.version_us or 0)
            result.append(item)
        return result


def _every_version(store: FeedStore, scope: ObjectScope, ids: list[str]) -> Iterator[StoredVersion]:
    """Every stored version (of any spec version) of the given ids in one scope."""
    for start in range(0, len(ids), 500):
        flt = ObjectFilter(ids=tuple(ids[start:start + 500]), version_keywords=frozenset({"all"}),
                           spec_versions=("2.0", "2.1"))
        after: int | None = None
        while True:
            page = store.query(scope, flt, after, 1000)
            yield from page.items
            if not page.more or page.last_cursor is None:
                break
            after = page.last_cursor


def _identity_id(org: Organisation | None) -> str | None:
    """An organisation's STIX identity id, None when there is no such organisation."""
    return org.identity_id if org is not None else None


def _version_us(doc: dict[str, Any]) -> int | None:
    value = doc.get("modified", doc.get("created"))
    return parse_us(value) if isinstance(value, str) else None
