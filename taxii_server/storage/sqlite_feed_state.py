"""The feed validators' source on SQLite: a change marker per collection and per partition, kept by triggers.

Every insert, delete or re-dating of a row of `object_versions` bumps two rows of `feed_state` in the same
transaction: the collection's (`part = '*'`, what a reader of the whole collection sees) and the partition's
(what an inbox member sees of its own part). Reading the marker is one primary-key look-up, whatever the
collection holds. A marker row is created with a random token, so a store that is erased (the rows go with
everything else) and refilled never repeats an earlier tag. The per-row trigger costs a few microseconds per
version written (bulk imports included), paid once at write time instead of on every feed request.

A mixin of SQLiteStore; the connections and the translation of sqlite3 errors are SQLiteConnection's.
Must not: hold anything but the change markers, or open connections of its own.
"""

from __future__ import annotations

from ..model import ContentVersion, ObjectScope
from .sqlite_connection import SQLiteConnection

ALL_PARTS = "*"
# the current instant in microseconds, inside SQL (julianday: millisecond precision)
_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"


def _bump(row: str, changed: str) -> str:
    return "".join(
        f"""INSERT INTO feed_state (collection_id, part, n, token, changed_us)
            VALUES ({row}.collection_id, {part}, 1, lower(hex(randomblob(8))), {changed})
            ON CONFLICT (collection_id, part) DO UPDATE SET n = n + 1, changed_us = max(changed_us, {changed});"""
        for part in (f"'{ALL_PARTS}'", f"{row}.part")
    )


# Executed one by one at every start (the triggers' bodies hold semicolons); the first two drop the counter of
# removals an earlier version kept.
FEED_STATE_STATEMENTS = (
    "DROP TRIGGER IF EXISTS object_versions_removed",
    "DROP TABLE IF EXISTS version_removals",
    """CREATE TABLE IF NOT EXISTS feed_state (
        collection_id TEXT NOT NULL, part TEXT NOT NULL, n INTEGER NOT NULL, token TEXT NOT NULL,
        changed_us INTEGER NOT NULL, PRIMARY KEY (collection_id, part)) WITHOUT ROWID""",
    f"""CREATE TRIGGER IF NOT EXISTS feed_state_added AFTER INSERT ON object_versions
        BEGIN {_bump("new", "new.date_added")} END""",
    f"""CREATE TRIGGER IF NOT EXISTS feed_state_removed AFTER DELETE ON object_versions
        BEGIN {_bump("old", _NOW_US)} END""",
    f"""CREATE TRIGGER IF NOT EXISTS feed_state_redated AFTER UPDATE OF date_added ON object_versions
        BEGIN {_bump("new", "new.date_added")} END""",
    # markers for what a database written before they existed holds (only while there are none)
    f"""INSERT OR IGNORE INTO feed_state (collection_id, part, n, token, changed_us)
        SELECT collection_id, part, 0, lower(hex(randomblob(8))), top FROM (
            SELECT collection_id, part, max(date_added) AS top FROM object_versions
            WHERE NOT EXISTS (SELECT 1 FROM feed_state) GROUP BY collection_id, part
            UNION ALL
            SELECT collection_id, '{ALL_PARTS}', max(date_added) FROM object_versions
            WHERE NOT EXISTS (SELECT 1 FROM feed_state) GROUP BY collection_id)""",
)


class SQLiteFeedState(SQLiteConnection):
    def content_version(self, scope: ObjectScope) -> ContentVersion:
        part = ALL_PARTS if scope.owner is None else scope.owner
        with self._read() as conn:
            row = conn.execute("SELECT token, n, changed_us FROM feed_state WHERE collection_id = ? AND part = ?",
                               (scope.collection_id, part)).fetchone()
        if row is None:  # nothing was ever written there (or not since this marker exists)
            return ContentVersion("", None)
        return ContentVersion(f"{row[0]}:{row[1]}", int(row[2]))
