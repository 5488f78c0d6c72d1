"""The feed validators' source on SQLite: what changes whenever the part of a collection a caller sees changes.

Adding a version raises the collection's newest date_added; removing versions (TAXII DELETE) is counted per
collection by a trigger on `object_versions`, so the pair moves on every change without a count over the
collection. A mixin of SQLiteStore; the connections and the translation of sqlite3 errors are SQLiteConnection's.

Must not: hold anything but the removal counters, or open connections of its own.
"""

from __future__ import annotations

from ..model import ObjectScope
from .sqlite_connection import SQLiteConnection
from .sqlite_objects import newest_date_added

# Executed one by one (the trigger's body holds a semicolon).
FEED_STATE_STATEMENTS = (
    "CREATE TABLE IF NOT EXISTS version_removals (collection_id TEXT PRIMARY KEY, n INTEGER NOT NULL)",
    """CREATE TRIGGER IF NOT EXISTS object_versions_removed AFTER DELETE ON object_versions
       BEGIN
         INSERT INTO version_removals (collection_id, n) VALUES (old.collection_id, 1)
         ON CONFLICT (collection_id) DO UPDATE SET n = n + 1;
       END""",
)


class SQLiteFeedState(SQLiteConnection):
    def content_version(self, scope: ObjectScope) -> str:
        with self._read() as conn:
            top = newest_date_added(conn, scope)
            removed = conn.execute("SELECT n FROM version_removals WHERE collection_id = ?",
                                   (scope.collection_id,)).fetchone()
            epoch = conn.execute("SELECT value FROM meta WHERE key = 'feed_epoch'").fetchone()
        newest_text = "" if top is None else str(top)
        return f"{epoch[0] if epoch else ''}:{newest_text}:{removed[0] if removed else 0}"
