"""The feed validators' source on MongoDB: a change marker per collection and per partition (`feed_state`),
bumped by every write of `object_versions` after the write itself, so reading it is one find by _id.

Documents: `<collection>|*` (what a reader of the whole collection sees) and `<collection>|<part>` (an inbox
member's own part), each {n: changes, t: token, u: newest change in µs}. The token is drawn when the document
is created, so a store that is erased (the documents go with everything else) and refilled never repeats an
earlier tag. The marker moves after the versions are written: a reader between the two may build a file
from the new content under the old tag, which the next change replaces; never old content under a new tag.

A mixin of MongoStore; the connection and the translation of driver errors (`guard`) are MongoConnection's.
Must not: write anything but the markers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from ..model import ContentVersion, ObjectScope
from .mongo_connection import MongoConnection

ALL_PARTS = "*"


class MongoFeedState(MongoConnection):
    def content_version(self, scope: ObjectScope) -> ContentVersion:
        part = ALL_PARTS if scope.owner is None else scope.owner
        with self.guard("read objects"):
            doc = self._coll("feed_state").find_one({"_id": f"{scope.collection_id}|{part}"})
        if doc is None:  # nothing was ever written there (or not since this marker exists)
            return ContentVersion("", None)
        return ContentVersion(f"{doc['t']}:{doc['n']}", int(doc["u"]))

    def _seed_content_markers(self) -> None:
        """Markers for what a store written before they existed holds (once: only while there are none)."""
        with self.guard("read objects"):
            markers = self._coll("feed_state")
            if markers.find_one({}, {"_id": 1}) is not None:
                return
            groups = self._coll("object_versions").aggregate(
                [{"$group": {"_id": {"c": "$c", "p": "$p"}, "u": {"$max": "$d"}}}])
            newest: dict[tuple[str, str], int] = {}
            for g in groups:
                cid, part, top = g["_id"]["c"], g["_id"]["p"], int(g["u"])
                for key in ((cid, ALL_PARTS), (cid, part)):
                    newest[key] = max(newest.get(key, top), top)
            for (cid, part), top in sorted(newest.items()):
                markers.update_one({"_id": f"{cid}|{part}"},
                                   {"$setOnInsert": {"n": 0, "t": secrets.token_hex(8), "u": top}}, upsert=True)

    def _content_changed(self, collection_id: str, parts: Iterable[str], changed_us: int) -> None:
        """Called (inside the caller's `guard`) after versions were added to, removed from or re-dated in
        `parts` of the collection."""
        markers = self._coll("feed_state")
        for part in (ALL_PARTS, *sorted(set(parts))):
            markers.update_one(
                {"_id": f"{collection_id}|{part}"},
                {"$inc": {"n": 1}, "$max": {"u": changed_us}, "$setOnInsert": {"t": secrets.token_hex(8)}},
                upsert=True,
            )
