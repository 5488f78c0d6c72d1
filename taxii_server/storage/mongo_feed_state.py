"""The feed validators' source on MongoDB: the newest date_added and the number of versions in the part of a
collection a caller sees (both from the object_versions indexes), so any addition or removal changes it.
A mixin of MongoStore; the connection and the translation of driver errors (`guard`) are MongoConnection's.

Must not: write anything.
"""

from __future__ import annotations

from ..model import ObjectScope
from .mongo_connection import Doc, MongoConnection
from .mongo_limits import newest_date_added


class MongoFeedState(MongoConnection):
    def content_version(self, scope: ObjectScope) -> str:
        query: Doc = {"c": scope.collection_id}
        if scope.owner is not None:
            query["p"] = scope.owner
        with self.guard("read objects"):
            versions = self._coll("object_versions")
            top = newest_date_added(versions, scope)
            count = versions.count_documents(query)
            epoch = self._coll("meta").find_one({"_id": "feed_epoch"})
        newest = "" if top is None else top
        return f"{epoch.get('value', '') if epoch else ''}:{newest}:{count}"
