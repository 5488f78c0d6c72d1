"""The order in which submissions arrive on MongoDB: each submission document carries `n`, a position handed
out by the collection clock (mongo_clock.py) under the clock key ARRIVALS, so positions only grow and a reader
never passes one still being written (`submissions_arrived_after` reads up to the clock's visible bound).

Owns `_arrive` (allocate, write, release; a write whose lease was taken away moves to a fresh position) and
the reader. Must not: know what a submission holds beyond its document's `n`.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo import ASCENDING

from ..model import Submission
from .documents import submission_from_doc
from .mongo_clock import CollectionClock
from .mongo_connection import Doc, MongoConnection

ARRIVALS = "submissions"  # a clock key beside the collection ids (UUIDs), which it cannot equal
_FIRST = 1  # positions start above 0, which asks for every submission
ARRIVAL_INDEXES: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...] = (
    ("submissions", (("n", ASCENDING),), False),
)


class MongoArrivals(MongoConnection):
    _clock: CollectionClock  # made by MongoStore

    def _arrive(self, write: Callable[[int], object], moved: Callable[[int], object]) -> None:
        """`write(position)` under a fresh position; `moved(position)` when readers may have passed it."""
        allocation = self._clock.allocate(ARRIVALS, 1, _FIRST)
        try:
            self._clock.check_lease(allocation)
            write(allocation.first)
        finally:
            released = self._clock.release(allocation)
        while not released:  # the lease was taken away: readers may have passed the position, so move above
            allocation = self._clock.allocate(ARRIVALS, 1, _FIRST)
            try:
                moved(allocation.first)
            finally:
                released = self._clock.release(allocation)

    def submissions_arrived_after(self, position: int, limit: int) -> list[tuple[int, Submission]]:
        with self.guard("list submissions"):
            bound = self._clock.visible_bound(ARRIVALS)
            if bound is None:
                return []
            docs = (self._coll("submissions").find({"n": {"$gt": position, "$lte": bound}}, {"n": 1, "doc": 1})
                    .sort("n", ASCENDING).limit(limit))
            return [(int(d["n"]), submission_from_doc(d["doc"])) for d in docs]

    def _number_unnumbered_submissions(self) -> None:
        """Give submissions stored before positions existed (schema < 5) one each, oldest first."""
        with self.guard("number the submissions"):
            submissions = self._coll("submissions")
            for d in submissions.find({"n": {"$exists": False}}, {"_id": 1}).sort([("at", ASCENDING),
                                                                                     ("_id", ASCENDING)]):
                def number(n: int, key: object = d["_id"]) -> None:
                    submissions.update_one({"_id": key}, {"$set": {"n": n}})

                self._arrive(number, number)


def with_position(doc: Doc, position: int) -> Doc:
    return {**doc, "n": position}
