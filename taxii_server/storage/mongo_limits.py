"""Rate-limit buckets and the poll history on MongoDB (collections `rate_buckets` and `polls`). A mixin of
MongoStore; the connection and the translation of driver errors (`guard`) are MongoConnection's.

A token is taken with one single-document `find_one_and_update` whose update is an aggregation pipeline: the
server refills the bucket from the time elapsed and takes the cost in the same atomic step, so workers on
several machines share one bucket without a read-modify-write race.

Must not: hold anything but buckets and poll records, or let a driver error escape.
"""

from __future__ import annotations

import dataclasses

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection

from ..errors import StorageUnavailable
from ..model import ObjectScope, PollRecord
from .mongo_connection import Doc, MongoConnection

# (collection, index keys, unique): a member's polls newest first; rotation by age; idle buckets.
LIMIT_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("polls", (("org", ASCENDING), ("at", ASCENDING)), False),
    ("polls", (("at", ASCENDING),), False),
    ("rate_buckets", (("idle", ASCENDING),), False),
)


class MongoLimits(MongoConnection):
    # -- rate-limit buckets --------------------------------------------------------------------------------

    def take_token(self, key: str, cost: float, per_second: float, capacity: float, now_us: int) -> tuple[bool, float]:
        rate = per_second / 1_000_000
        elapsed = {"$max": [0, {"$subtract": [now_us, {"$ifNull": ["$u", now_us]}]}]}
        refilled = {"$min": [capacity, {"$add": [{"$ifNull": ["$t", capacity]}, {"$multiply": [elapsed, rate]}]}]}
        pipeline: list[Doc] = [
            {"$set": {"r": refilled}},
            {"$set": {"g": {"$gte": ["$r", cost]}}},
            {"$set": {"t": {"$min": [capacity, {"$cond": ["$g", {"$subtract": ["$r", cost]}, "$r"]}]},
                      "u": {"$max": [now_us, {"$ifNull": ["$u", now_us]}]},
                      "idle": now_us + int(capacity / rate) + 1}},
        ]
        with self.guard("take a rate-limit token"):
            doc = self._coll("rate_buckets").find_one_and_update(
                {"_id": key}, pipeline, upsert=True, return_document=ReturnDocument.AFTER)
        if doc is None:  # cannot happen with upsert and ReturnDocument.AFTER
            raise StorageUnavailable("a rate-limit bucket could not be read; retry")
        return bool(doc["g"]), float(doc["t"])

    def purge_buckets(self, now_us: int) -> int:
        with self.guard("purge rate-limit buckets"):
            return int(self._coll("rate_buckets").delete_many({"idle": {"$lt": now_us}}).deleted_count)

    # -- poll history --------------------------------------------------------------------------------------

    def add_poll(self, record: PollRecord) -> None:
        doc: Doc = {"_id": record.id, "org": record.org_id, "at": record.at_us, "doc": dataclasses.asdict(record)}
        with self.guard("record a poll"):
            self._coll("polls").insert_one(doc)

    def list_polls(self, org_id: str | None, since_us: int | None, limit: int) -> list[PollRecord]:
        query: Doc = {} if org_id is None else {"org": org_id}
        if since_us is not None:
            query["at"] = {"$gte": since_us}
        with self.guard("read the poll history"):
            docs = self._coll("polls").find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
            return [PollRecord(**d["doc"]) for d in docs]

    def prune_polls(self, org_id: str, keep: int, older_than_us: int) -> int:
        with self.guard("rotate the poll history"):
            polls = self._coll("polls")
            gone = int(polls.delete_many({"at": {"$lt": older_than_us}}).deleted_count)
            edge = list(polls.find({"org": org_id}, {"at": 1}).sort("at", DESCENDING).skip(keep).limit(1))
            if edge:  # records sharing the edge's instant go too: the bound holds, a few extra may leave
                gone += int(polls.delete_many({"org": org_id, "at": {"$lte": edge[0]["at"]}}).deleted_count)
        return gone

    def newest_date_added(self, scope: ObjectScope) -> int | None:
        with self.guard("read objects"):
            return newest_date_added(self._coll("object_versions"), scope)


def newest_date_added(versions: Collection[Doc], scope: ObjectScope) -> int | None:
    """The largest date_added in the part of a collection `scope` sees (the poll history's and the feed
    validators' question), from the (c, d) or (c, p, d) index; None when it is empty."""
    query: Doc = {"c": scope.collection_id}
    if scope.owner is not None:
        query["p"] = scope.owner
    docs = list(versions.find(query, {"d": 1}).sort("d", DESCENDING).limit(1))
    return int(docs[0]["d"]) if docs else None
