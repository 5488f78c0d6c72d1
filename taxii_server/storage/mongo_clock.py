"""date_added on MongoDB: allocated per collection across every hub instance, and never read past a gap.

Owns the per-collection clock document and the rule that keeps pollers from missing objects. Must not touch
object documents or know the TAXII filters; mongo.py calls it around each write and before each read.

The problem. Writers on several machines allocate date_added values and then insert their documents. An
allocation of N+1 can commit before the allocation of N: a reader that saw N+1 and moved its cursor past it
would never see N. SQLite avoids this with one write lock; MongoDB has none across documents.

The scheme. One clock document per collection, `{_id: collection_id, last: L, inflight: [{t, s, x}, ...]}`:

1. Allocate (before inserting): read the document, then compare-and-set `last` from L to L' = max(now, L+1)
   + n - 1 *and* push an in-flight entry `{t: token, s: first value, x: expiry}` in the same single-document
   update. Concurrent writers retry; every range is unique and above every earlier one.
2. Insert the documents (majority write concern), then pull the entry (`$pull` by token).
3. Read: read the clock document first; the visible bound is min(last, s - 1 of every live in-flight entry).
   A query returns only date_added <= bound. Any allocation a reader has not yet seen in the clock document
   has values above `last` as it read it, so above the bound too.

Why no poller misses an object: a version with date_added d becomes visible only when no in-flight entry
with s <= d remains, i.e. once every allocation at or below d has finished inserting (or been given up,
below). A reader's cursor never passes a value still being written, so whatever it later asks for with
`date_added > cursor` includes every version committed below its cursor's successors. Reads use read concern
"majority" (the clock document and the objects): a pulled entry seen in the majority snapshot implies that
the inserts made before the pull are majority-committed too (one primary, one oplog order).

A writer that dies leaves its entry; readers would stop at it forever, so entries expire (`lease_s`, default
60 s, longer than any request may live: gunicorn's worker timeout). A reader that finds an expired entry
removes it with `$pull` (a write) and reads on. Two guards keep a late writer from committing below a bound
readers already passed: (a) it refuses to start inserting more than lease/2 after allocating (monotonic
clock; it gives up with StorageUnavailable, leaving the entry to expire); (b) if its `$pull` finds the entry
gone, its lease was taken away, so it re-dates what it inserted under a fresh allocation. A version re-dated
this way may be delivered twice (at both values) to a poller that read between; it is never lost. The
driver's operation timeout (timeoutMS, a few seconds, sent to the server as maxTimeMS) bounds how long
after being sent an insert can still apply. This assumes the hub hosts' clocks agree within lease/2 minus
that timeout (NTP), since expiry compares wall clocks of different machines.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from ..errors import StorageUnavailable
from .versions import on_whole_ms

DEFAULT_LEASE_S = 60.0
_CAS_ATTEMPTS = 64


@dataclass(frozen=True)
class Allocation:
    collection_id: str
    first: int
    count: int
    token: str
    started: float  # monotonic


class CollectionClock:
    """Allocates date_added ranges and says up to which value a reader may look."""

    def __init__(
        self,
        clocks: Callable[[], Collection[dict[str, Any]]],
        *,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        lease_s: float = DEFAULT_LEASE_S,
    ) -> None:
        self._clocks = clocks
        self._wall = wall_clock
        self._monotonic = monotonic
        self.lease_s = lease_s

    def allocate(self, collection_id: str, count: int, now_us: int) -> Allocation:
        """`count` consecutive values, each greater than any allocated before in this collection, the last on a
        whole millisecond (storage/versions.py `on_whole_ms`: clients that truncate to milliseconds)."""
        clocks = self._clocks()
        token = uuid.uuid4().hex
        for attempt in range(_CAS_ATTEMPTS):
            doc = clocks.find_one({"_id": collection_id}, {"last": 1})
            last = int(doc["last"]) if doc else -1
            first = on_whole_ms(max(now_us, last + 1) + count - 1) - count + 1
            entry = {"t": token, "s": first, "x": self._wall() + self.lease_s}
            if doc is None:
                try:
                    clocks.insert_one({"_id": collection_id, "last": first + count - 1, "inflight": [entry]})
                except DuplicateKeyError:
                    continue
                return Allocation(collection_id, first, count, token, self._monotonic())
            done = clocks.update_one(
                {"_id": collection_id, "last": last},
                {"$set": {"last": first + count - 1}, "$push": {"inflight": entry}},
            )
            if done.modified_count == 1:
                return Allocation(collection_id, first, count, token, self._monotonic())
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StorageUnavailable(f"collection {collection_id}: too many concurrent writers; retry")

    def check_lease(self, allocation: Allocation) -> None:
        """Refuse to start inserting when the allocation is too old to be sure readers still wait for it."""
        if self._monotonic() - allocation.started > self.lease_s / 2:
            raise StorageUnavailable(f"collection {allocation.collection_id}: the write took too long; retry")

    def release(self, allocation: Allocation) -> bool:
        """Finish an allocation; False when its lease had been taken away (the caller must re-date)."""
        done = self._clocks().update_one(
            {"_id": allocation.collection_id}, {"$pull": {"inflight": {"t": allocation.token}}}
        )
        return done.modified_count == 1

    def visible_bound(self, collection_id: str) -> int | None:
        """The highest date_added a reader may return now (None: nothing was ever allocated here)."""
        clocks = self._clocks()
        doc = clocks.find_one({"_id": collection_id})
        if doc is None:
            return None
        now = self._wall()
        bound = int(doc["last"])
        expired = False
        for entry in doc.get("inflight", []):
            if entry["x"] <= now:
                clocks.update_one({"_id": collection_id}, {"$pull": {"inflight": {"t": entry["t"]}}})
                expired = True
            else:
                bound = min(bound, int(entry["s"]) - 1)
        return self.visible_bound(collection_id) if expired else bound

    def advance(self, collection_id: str, at_least: int) -> None:
        """Make later allocations start above `at_least` (after an import of versions with their date_added)."""
        clocks = self._clocks()
        try:
            clocks.update_one({"_id": collection_id}, {"$max": {"last": at_least}, "$setOnInsert": {"inflight": []}},
                              upsert=True)
        except DuplicateKeyError:  # a concurrent upsert created it; now it exists
            clocks.update_one({"_id": collection_id}, {"$max": {"last": at_least}})
