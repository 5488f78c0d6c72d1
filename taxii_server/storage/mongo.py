"""The MongoDB backend: one hub service across several processes and machines on a replica set.

Owns the object versions and their owners, the index set and `initialise()`; the hub's other records are
in mongo_records.py, the connection, error translation and transactions in mongo_connection.py, date_added
allocation in mongo_clock.py. Must not: need a multi-document transaction for anything but a write across
several collections (below), or let a driver error escape.

One document per object version in `object_versions`:
  {c: collection, p: partition ("" when shared), i: id, t: type, v: version text, vu: version µs,
   k: version key (vu, or -1 for an object without created/modified), s: spec version, d: date_added,
   by: adder, raw: the JSON bytes}
and one per (collection, partition, id) in `object_owners` {c, p, i, o: the organisation that added it first}.

Indexes (created idempotently by `initialise()`), and the query each one makes an index scan:
- object_versions (c, p, i, k) unique: a duplicate POST, concurrent or not, is stored once
  (DuplicateKeyError = already present); the per-object probes of Add Objects.
- object_versions (c, d) unique: `date_added` is unique per collection; every keyset page without a type,
  id or partition filter walks it from the cursor, O(limit) at any depth.
- object_versions (c, t, d): `match[type]` pages.
- object_versions (c, i, d): `match[id]`, Get an Object, versions, object_exists, and the sibling lookups of
  the version keywords.
- object_versions (c, p, d): a member's pages in an inbox (its partition only).
- object_owners (c, p, i) unique: one owner per id, claimed atomically by the first adder.
- statuses (created), credentials (sha) unique and (org, created), submissions (org, at, _id) and (at, _id),
  publications (created, _id), audit (seq) unique and (at, seq): see mongo_records.py.
- client_certificates (org, issued): see mongo_certificates.py.
- polls (org, at) and (at), rate_buckets (idle): see mongo_limits.py.
- allowlist (k, v) unique: see mongo_allowlist.py.
- submissions (n): the order submissions arrived in, see mongo_arrivals.py.
- the correlation index, queue, lease and candidates: see mongo_correlation.py.

Add Objects without a transaction: each version is an independent, idempotent insert; the status document is
written once, complete, after the inserts (feeds.py), so a crash leaves either no status (the client saw no
202 and retries; what was inserted is then reported "already present") or a complete, truthful one.

A write across several collections (`Feeds.add_everywhere`: a publication's objects in every target, their
statuses and the caller's records) runs in `atomically`: on a replica set or mongos, one multi-document
transaction, so a reader sees all of it or none of it and a failure anywhere leaves nothing. Inside a
transaction a duplicate-key error would abort it, so none is provoked: the owners not yet seen are claimed by
upserts ($setOnInsert), and only versions the transaction's snapshot does not hold are inserted, each (id,
version) once. A concurrent writer that claims or inserts the same key meanwhile makes a write conflict
instead, and `with_transaction` runs the whole write again on a fresh snapshot, where it finds that key stored.
The collection clock's allocation and release happen inside the same transaction, so its date_added range and
its versions become visible together at commit. On a standalone server there are no transactions: the
versions are written one by one as above and `add_everywhere` deletes them again on failure (a reader polling
meanwhile may have seen them; their statuses and the caller's records written before the failure stay).

Version keywords (first/last, the default latest spec version) are decided per object among the versions
that match the request's other filters (TAXII §3.4.1, checklist J13), inside the query loop: candidates come
in date_added order from an index scan, their sibling versions from the (c, i, d) index, and scanning goes on
until `limit` + 1 versions are kept, so `limit` and `next` stay exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

import orjson
from pymongo import ASCENDING, MongoClient
from pymongo.errors import BulkWriteError

from ..errors import ConfigError, StorageUnavailable
from ..model import AddResult, NewVersion, ObjectFilter, ObjectScope, Page, StoredVersion
from ..timestamps import format_us
from ..timestamps import now_us as wall_clock_us
from .base import SCHEMA_VERSION, TransferOwner, TransferVersion
from .mongo_allowlist import ALLOWLIST_INDEXES, MongoAllowList
from .mongo_arrivals import ARRIVAL_INDEXES
from .mongo_certificates import CERTIFICATE_INDEXES, MongoCertificates
from .mongo_clock import DEFAULT_LEASE_S, Allocation, CollectionClock
from .mongo_connection import ClientFactory, Doc, parse_url
from .mongo_correlation import CORRELATION_INDEXES, MongoCorrelation
from .mongo_feed_state import MongoFeedState
from .mongo_limits import LIMIT_INDEXES, MongoLimits
from .mongo_records import RECORD_INDEXES, MongoRecords
from .versions import same_content

_MEDIA = {"2.1": "application/stix+json;version=2.1", "2.0": "application/stix+json;version=2.0"}
_DUPLICATE_KEY = 11000
_REDATE_ATTEMPTS = 3

OBJECT_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("object_versions", (("c", ASCENDING), ("p", ASCENDING), ("i", ASCENDING), ("k", ASCENDING)), True),
    ("object_versions", (("c", ASCENDING), ("d", ASCENDING)), True),
    ("object_versions", (("c", ASCENDING), ("t", ASCENDING), ("d", ASCENDING)), False),
    ("object_versions", (("c", ASCENDING), ("i", ASCENDING), ("d", ASCENDING)), False),
    ("object_versions", (("c", ASCENDING), ("p", ASCENDING), ("d", ASCENDING)), False),
    ("object_owners", (("c", ASCENDING), ("p", ASCENDING), ("i", ASCENDING)), True),
    ("object_owners", (("i", ASCENDING), ("p", ASCENDING)), False),
)
INDEXES = (OBJECT_INDEXES + RECORD_INDEXES + CERTIFICATE_INDEXES + LIMIT_INDEXES + ALLOWLIST_INDEXES
           + CORRELATION_INDEXES + ARRIVAL_INDEXES)

# Called after date_added values are allocated and before the versions are inserted, with the collection,
# the first value and the count: tests inject it to interleave writers deterministically.
BeforeInsert = Callable[[str, int, int], None]


class MongoStore(MongoRecords, MongoCertificates, MongoLimits, MongoAllowList, MongoFeedState, MongoCorrelation):
    def __init__(
        self,
        client_factory: ClientFactory,
        database: str,
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        lease_s: float = DEFAULT_LEASE_S,
        before_insert: BeforeInsert | None = None,
    ) -> None:
        super().__init__(client_factory, database)
        self._clock = CollectionClock(lambda: self._coll("collection_clocks"), wall_clock=wall_clock,
                                      monotonic=monotonic, lease_s=lease_s)
        self._before_insert = before_insert

    @classmethod
    def from_url(cls, url: str) -> MongoStore:
        database, options = parse_url(url)
        return cls(lambda: MongoClient(url, **options), database)

    def initialise(self) -> None:
        """Create the indexes (idempotent: an existing identical index is left alone) and check the schema."""
        with self.guard("create its indexes"):
            db = self._db()
            for collection, keys, unique in INDEXES:
                name = "_".join(f"{k}_{d}" for k, d in keys)
                db[collection].create_index(list(keys), unique=unique, name=name)
        found = int(self.get_or_create_meta("schema_version", str(SCHEMA_VERSION)))
        if found > SCHEMA_VERSION:
            raise ConfigError(
                f"MongoDB database {self.database_name!r} has schema version {found}, newer than this taxii-hub "
                f"understands ({SCHEMA_VERSION}); run a taxii-hub at least as new as the one that wrote it"
            )
        if found < SCHEMA_VERSION:  # documents are schema-free, the indexes are made above
            if found < 5:
                self._number_unnumbered_submissions()
            self.import_meta("schema_version", str(SCHEMA_VERSION))
        self._seed_content_markers()

    # -- adding --------------------------------------------------------------------------------------------

    def add_versions(
        self,
        scope: ObjectScope,
        writer: str,
        may_supersede: bool,
        versions: Sequence[NewVersion],
        now_us: int,
    ) -> list[AddResult]:
        cid = scope.collection_id
        part = scope.partition_for(writer)
        results: list[AddResult | None] = [None] * len(versions)
        with self.guard("store objects"):
            owners = self._claim_owners(cid, part, writer, sorted({v.id for v in versions}))
            existing = self._existing(cid, part, sorted({v.id for v in versions}))
            planned: list[tuple[int, NewVersion]] = []
            first_of: dict[tuple[str, int], int] = {}  # (id, version key) -> its first position in `versions`
            repeats: list[tuple[int, int]] = []  # (position, first position) of the same (id, version) again
            for n, v in enumerate(versions):
                found = _same_version(existing.get(v.id, []), v)
                key = (v.id, -1 if v.version_us is None else v.version_us)
                if found is not None and same_content(found[1], v.raw):
                    results[n] = AddResult(v.id, found[0], "duplicate")  # the same fact again: no change
                elif owners.get(v.id, writer) != writer and not may_supersede:
                    results[n] = AddResult(v.id, v.version or "", "not_owner")
                elif found is not None:
                    results[n] = AddResult(v.id, found[0], "conflict")
                elif key in first_of:  # twice in one write: inserted once (no duplicate key, in a transaction)
                    repeats.append((n, first_of[key]))
                else:
                    first_of[key] = n
                    planned.append((n, v))
            inserted = self._insert_planned(cid, part, writer, planned, now_us) if planned else {}
            for n, result in inserted.items():
                results[n] = result
            for n, first in repeats:
                stored = inserted[first]
                same = same_content(versions[first].raw, versions[n].raw)
                results[n] = AddResult(versions[n].id, stored.version, "duplicate" if same else "conflict")
        return [r for r in results if r is not None]

    def _claim_owners(self, cid: str, part: str, writer: str, ids: list[str]) -> dict[str, str]:
        """Who owns each id; an id without owner is claimed for `writer` (atomically: the unique index)."""
        owners = self._coll("object_owners")
        found = {d["i"]: d["o"] for d in owners.find({"c": cid, "p": part, "i": {"$in": ids}}, {"i": 1, "o": 1})}
        unclaimed = [i for i in ids if i not in found]
        if unclaimed and self._session() is not None:  # in a transaction: no duplicate key (see the docstring)
            for i in unclaimed:
                owners.update_one({"c": cid, "p": part, "i": i}, {"$setOnInsert": {"o": writer}}, upsert=True)
            found.update({i: writer for i in unclaimed})
        elif unclaimed:
            lost = _insert_ignoring_duplicates(owners, [{"c": cid, "p": part, "i": i, "o": writer} for i in unclaimed])
            found.update({i: writer for n, i in enumerate(unclaimed) if n not in lost})
            if lost:
                taken = [unclaimed[n] for n in lost]
                found.update({d["i"]: d["o"] for d in owners.find({"c": cid, "p": part, "i": {"$in": taken}})})
        return found

    def _existing(self, cid: str, part: str, ids: list[str]) -> dict[str, list[Doc]]:
        by_id: dict[str, list[Doc]] = {}
        docs = self._coll("object_versions").find(
            {"c": cid, "p": part, "i": {"$in": ids}}, {"i": 1, "vu": 1, "v": 1, "raw": 1}
        ).sort([("i", ASCENDING), ("vu", ASCENDING)])
        for d in docs:
            by_id.setdefault(d["i"], []).append(d)
        return by_id

    def _insert_planned(
        self, cid: str, part: str, writer: str, planned: list[tuple[int, NewVersion]], now_us: int
    ) -> dict[int, AddResult]:
        versions = self._coll("object_versions")
        allocation = self._clock.allocate(cid, len(planned), now_us)
        docs = [_version_doc(cid, part, writer, v, allocation.first + j) for j, (_, v) in enumerate(planned)]
        if self._before_insert is not None:
            self._before_insert(cid, allocation.first, len(planned))
        self._clock.check_lease(allocation)
        # From here until release, an error leaves the allocation in flight: readers wait for it to expire
        # rather than risk passing values an insert the driver gave up on may still write.
        lost = _insert_ignoring_duplicates(versions, docs)
        inserted = [doc for j, doc in enumerate(docs) if j not in lost]
        if not self._clock.release(allocation):
            self._redate(cid, inserted, now_us)
        if inserted:
            self._content_changed(cid, (part,), max(int(doc["d"]) for doc in inserted))
        out: dict[int, AddResult] = {}
        for j, (n, v) in enumerate(planned):
            if j in lost:  # a concurrent writer stored this (id, version) first
                other = versions.find_one({"c": cid, "p": part, "i": v.id, "k": docs[j]["k"]}, {"v": 1, "raw": 1})
                if other is None:
                    raise StorageUnavailable(f"object {v.id} was deleted while being added; retry")
                same = same_content(bytes(other["raw"]), v.raw)
                out[n] = AddResult(v.id, other["v"], "duplicate" if same else "conflict")
            else:
                out[n] = AddResult(v.id, docs[j]["v"], "added")
        return out

    def _redate(self, cid: str, inserted: list[Doc], now_us: int) -> None:
        """The allocation's lease was taken away (readers may have passed it): move the versions above."""
        versions = self._coll("object_versions")
        for _ in range(_REDATE_ATTEMPTS):
            allocation: Allocation = self._clock.allocate(cid, len(inserted), now_us)
            for j, doc in enumerate(inserted):
                new: Doc = {"d": allocation.first + j}
                if doc["k"] == -1:  # an object without a version takes its date_added as version
                    new.update(vu=allocation.first + j, v=format_us(allocation.first + j))
                versions.update_one({"_id": doc["_id"]}, {"$set": new})
                doc.update(new)
            if self._clock.release(allocation):
                return
        raise StorageUnavailable(f"collection {cid}: could not finish a write in time; retry")

    # -- reading -------------------------------------------------------------------------------------------

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        lower = max(x for x in (after_us, flt.added_after_us, -1) if x is not None)
        with self.guard("read objects"):
            bound = self._clock.visible_bound(scope.collection_id)
            d_range: Doc = {"$gt": lower} if bound is None else {"$gt": lower, "$lte": bound}
            plain = _plain(scope, flt)
            kept: list[Doc] = []
            batch_size = limit + 1
            while len(kept) <= limit:
                batch = list(
                    self._coll("object_versions")
                    .find({**plain, "d": d_range}, {"i": 1, "t": 1, "v": 1, "d": 1, "s": 1, "raw": 1, "p": 1,
                                                    "vu": 1})
                    .sort("d", ASCENDING)
                    .limit(batch_size)
                )
                kept += self._select(plain, flt, batch, bound)
                if len(batch) < batch_size:
                    break
                d_range = {**d_range, "$gt": batch[-1]["d"]}
                batch_size = min(batch_size * 2, 1000)
        items = tuple(
            StoredVersion(d["i"], d["t"], d["v"], d["d"], d["s"], _MEDIA.get(d["s"], _MEDIA["2.1"]), bytes(d["raw"]))
            for d in kept[:limit]
        )
        return Page(items, more=len(kept) > limit)

    def _select(self, plain: Doc, flt: ObjectFilter, batch: list[Doc], bound: int | None) -> list[Doc]:
        """The candidates the version keywords and the default spec version keep (per object, J13)."""
        if not batch or (flt.all_versions and flt.spec_versions):
            return batch
        sibling_query: Doc = {**plain, "i": {"$in": sorted({d["i"] for d in batch})}}
        if bound is not None:
            sibling_query["d"] = {**sibling_query.get("d", {}), "$lte": bound}
        siblings: dict[tuple[str, str], list[Doc]] = {}
        for s in self._coll("object_versions").find(sibling_query, {"p": 1, "i": 1, "s": 1, "vu": 1}):
            siblings.setdefault((s["p"], s["i"]), []).append(s)
        return [d for d in batch if _kept(d, siblings.get((d["p"], d["i"]), [d]), flt)]

    def object_exists(self, scope: ObjectScope, object_id: str) -> bool:
        query: Doc = {"c": scope.collection_id, "i": object_id}
        if scope.owner is not None:
            query["p"] = scope.owner
        with self.guard("read objects"):
            return self._coll("object_versions").find_one(query, {"_id": 1}) is not None

    def atomic(self) -> AbstractContextManager[None]:
        """No transaction of its own (spec §3.3): objects are written first, idempotently, then the status. A
        failure in between leaves objects without a status; the client's retry finds them already present.
        Inside `atomically` on a replica set, the writes are part of that transaction."""
        return nullcontext()

    def correlation_batch(self) -> AbstractContextManager[None]:
        """As atomic(): every correlation job is idempotent and is run again if its lease expires unfinished."""
        return self.atomic()

    def object_owner(self, scope: ObjectScope, object_id: str) -> str | None:
        with self.guard("read owners"):
            doc = self._coll("object_owners").find_one(
                {"c": scope.collection_id, "p": scope.owner or "", "i": object_id}, {"o": 1})
        return str(doc["o"]) if doc else None

    def first_writers(self, object_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        wanted = sorted(set(object_ids))
        with self.guard("read owners"):
            for start in range(0, len(wanted), 500):
                for doc in self._coll("object_owners").find({"i": {"$in": wanted[start:start + 500]}, "p": ""},
                                                            {"i": 1, "c": 1, "o": 1}):
                    found.setdefault(str(doc["i"]), {})[str(doc["c"])] = str(doc["o"])
        return found

    # -- deleting ------------------------------------------------------------------------------------------

    def delete(self, scope: ObjectScope, object_id: str, flt: ObjectFilter) -> int:
        flt = replace(flt, ids=(object_id,), types=())
        plain = _plain(scope, flt)
        with self.guard("delete objects"):
            versions = self._coll("object_versions")
            found = list(versions.find(plain, {"p": 1, "i": 1, "s": 1, "vu": 1}))
            by_part: dict[str, list[Doc]] = {}
            for d in found:
                by_part.setdefault(d["p"], []).append(d)
            doomed = [d for d in found if _kept(d, by_part[d["p"]], flt)]
            if not doomed:
                return 0
            versions.delete_many({"_id": {"$in": [d["_id"] for d in doomed]}})
            self._content_changed(scope.collection_id, (d["p"] for d in doomed), wall_clock_us())
            for part in sorted({d["p"] for d in doomed}):
                if versions.find_one({"c": scope.collection_id, "p": part, "i": object_id}, {"_id": 1}) is None:
                    self._coll("object_owners").delete_one({"c": scope.collection_id, "p": part, "i": object_id})
        return len(doomed)

    # -- bulk transfer of objects --------------------------------------------------------------------------

    def transfer_collections(self) -> list[str]:
        with self.guard("list collections"):
            found = set(self._coll("object_versions").distinct("c")) | set(self._coll("object_owners").distinct("c"))
        return sorted(found)

    def export_versions(self, collection_id: str, after_us: int | None, limit: int) -> list[TransferVersion]:
        with self.guard("read objects"):
            docs = (
                self._coll("object_versions")
                .find({"c": collection_id, "d": {"$gt": after_us if after_us is not None else -1}})
                .sort("d", ASCENDING)
                .limit(limit)
            )
            return [TransferVersion(d["d"], d["p"], d["by"], d["i"], d["t"], d["v"], d["vu"], d["s"], bytes(d["raw"]))
                    for d in docs]

    def import_versions(self, collection_id: str, versions: Sequence[TransferVersion]) -> int:
        if not versions:
            return 0
        docs = [_transfer_doc(collection_id, v) for v in versions]
        with self.guard("store objects"):
            lost = _insert_ignoring_duplicates(self._coll("object_versions"), docs)
            self._clock.advance(collection_id, max(v.date_added_us for v in versions))
            if len(lost) < len(docs):
                self._content_changed(collection_id, (v.partition for n, v in enumerate(versions) if n not in lost),
                                      max(v.date_added_us for v in versions))
        return len(docs) - len(lost)

    def export_owners(self, collection_id: str, after: tuple[str, str] | None, limit: int) -> list[TransferOwner]:
        query: Doc = {"c": collection_id}
        if after is not None:
            query["$or"] = [{"p": {"$gt": after[0]}}, {"p": after[0], "i": {"$gt": after[1]}}]
        with self.guard("read owners"):
            docs = self._coll("object_owners").find(query).sort([("p", ASCENDING), ("i", ASCENDING)]).limit(limit)
            return [TransferOwner(d["p"], d["i"], d["o"]) for d in docs]

    def import_owners(self, collection_id: str, owners: Sequence[TransferOwner]) -> None:
        if not owners:
            return
        docs = [{"c": collection_id, "p": o.partition, "i": o.id, "o": o.org_id} for o in owners]
        with self.guard("store owners"):
            coll = self._coll("object_owners")
            for n in sorted(_insert_ignoring_duplicates(coll, docs)):  # already there (a resumed import): replace
                doc = {k: v for k, v in docs[n].items() if k != "_id"}
                coll.replace_one({"c": collection_id, "p": doc["p"], "i": doc["i"]}, doc, upsert=True)

    def erase_everything(self) -> None:
        with self.guard("erase the hub"):
            db = self._db()
            for name in db.list_collection_names():
                if name == "meta":
                    db[name].delete_many({"_id": {"$ne": "schema_version"}})
                elif not name.startswith("system."):
                    db[name].delete_many({})


def _plain(scope: ObjectScope, flt: ObjectFilter) -> Doc:
    """The filters other than the version keywords, as a query on object_versions."""
    query: Doc = {"c": scope.collection_id}
    if scope.owner is not None:
        query["p"] = scope.owner
    if flt.added_after_us is not None:
        query["d"] = {"$gt": flt.added_after_us}
    if flt.ids:
        query["i"] = {"$in": list(flt.ids)}
    if flt.types:
        query["t"] = {"$in": list(flt.types)}
    if flt.spec_versions:
        query["s"] = {"$in": list(flt.spec_versions)}
    return query


def _kept(d: Doc, siblings: list[Doc], flt: ObjectFilter) -> bool:
    """The rule sqlite._predicate expresses in SQL: the default spec version is the object's latest; then
    'first'/'last' among the remaining versions (of that spec version), ORed with the explicit instants."""
    same_spec = not flt.spec_versions
    if same_spec and any(o["s"] > d["s"] for o in siblings):
        return False
    if flt.all_versions:
        return True
    pool = [o for o in siblings if o["s"] == d["s"]] if same_spec else siblings
    if d["vu"] in flt.version_instants:
        return True
    if "last" in flt.version_keywords and all(o["vu"] <= d["vu"] for o in pool):
        return True
    return "first" in flt.version_keywords and all(o["vu"] >= d["vu"] for o in pool)


def _same_version(stored: list[Doc], v: NewVersion) -> tuple[str, bytes] | None:
    """The stored (version, raw) that a new version would duplicate: the same modified, or for an object
    without a version, its first stored version."""
    for d in stored:
        if v.version_us is None or d["vu"] == v.version_us:
            return str(d["v"]), bytes(d["raw"])
    return None


def _version_doc(cid: str, part: str, writer: str, v: NewVersion, date_added: int) -> Doc:
    if v.version_us is not None:
        version, version_us, key = v.version or format_us(v.version_us), v.version_us, v.version_us
    else:  # an object without created/modified: its date_added is its version, and it has one version only
        version, version_us, key = format_us(date_added), date_added, -1
    return {"c": cid, "p": part, "i": v.id, "t": v.type, "v": version, "vu": version_us, "k": key,
            "s": v.spec_version, "d": date_added, "by": writer, "raw": v.raw}


def _transfer_doc(cid: str, v: TransferVersion) -> Doc:
    try:
        obj: Any = orjson.loads(v.raw)
    except orjson.JSONDecodeError as exc:
        raise StorageUnavailable(f"object {v.id}: stored JSON is unreadable: {exc}") from exc
    versioned = isinstance(obj, dict) and any(isinstance(obj.get(k), str) for k in ("modified", "created"))
    return {"c": cid, "p": v.partition, "i": v.id, "t": v.type, "v": v.version, "vu": v.version_us,
            "k": v.version_us if versioned else -1, "s": v.spec_version, "d": v.date_added_us, "by": v.added_by,
            "raw": v.raw}


def _insert_ignoring_duplicates(collection: Any, docs: list[Doc]) -> set[int]:
    """Insert, unordered; the positions that hit a unique index (already present). Other errors propagate."""
    if not docs:
        return set()
    try:
        collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") != _DUPLICATE_KEY for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()


__all__ = ["INDEXES", "MongoStore"]
