"""The hub-local allow-list on MongoDB: one document per entry in `allowlist`
({_id: "<kind>:<value>", k: kind, v: value, reason, by, added}). A mixin of MongoStore.

Each write is one single-document operation (an insert that a duplicate key turns into "already there").
Must not: normalise or judge values (hub/allowlist.py does), or let a driver error escape (every method runs
inside `guard`).
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from ..model import AllowedValue
from .mongo_connection import Doc, MongoConnection

# (collection, index keys, unique): entries listed in (kind, value) order.
ALLOWLIST_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("allowlist", (("k", ASCENDING), ("v", ASCENDING)), True),
)


class MongoAllowList(MongoConnection):
    def add_allowed(self, entry: AllowedValue) -> bool:
        with self.guard("add to the allow-list"):
            try:
                self._coll("allowlist").insert_one(_doc(entry))
            except DuplicateKeyError:
                return False
        return True

    def list_allowed(self, kind: str | None = None) -> list[AllowedValue]:
        query = {} if kind is None else {"k": kind}
        with self.guard("read the allow-list"):
            docs = self._coll("allowlist").find(query).sort([("k", ASCENDING), ("v", ASCENDING)])
            return [AllowedValue(d["k"], d["v"], d["reason"], d["by"], d["added"]) for d in docs]

    def remove_allowed(self, kind: str, value: str) -> bool:
        with self.guard("remove from the allow-list"):
            return int(self._coll("allowlist").delete_one({"_id": f"{kind}:{value}"}).deleted_count) == 1


def _doc(e: AllowedValue) -> Doc:
    return {"_id": f"{e.kind}:{e.value}", "k": e.kind, "v": e.value, "reason": e.reason, "by": e.added_by,
            "added": e.added}
