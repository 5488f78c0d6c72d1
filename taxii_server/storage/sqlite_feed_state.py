"""The feed validators' source on SQLite: a change marker per collection and per partition (`feed_state`).

Every write that adds, removes or re-dates versions (Add Objects, TAXII DELETE, a bulk import) moves two
rows of `feed_state` once, in its own transaction (`content_changed`): the collection's (`part = '*'`, what a
reader of the whole collection sees) and the partition's (what an inbox member sees of its own part). Reading
the marker is one primary-key look-up, whatever the collection holds. A marker row is created with a random
token, so a store that is erased (the rows go with everything else) and refilled never repeats an earlier
tag. (Per-version triggers did the same but tripled the CPU cost of Add Objects.)

A mixin of SQLiteStore; the connections and the translation of sqlite3 errors are SQLiteConnection's.
Must not: hold anything but the change markers, or open connections of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..model import ContentVersion, ObjectScope
from .sqlite_connection import SQLiteConnection

ALL_PARTS = "*"
_BUMP = """INSERT INTO feed_state (collection_id, part, n, token, changed_us)
           VALUES (?, ?, 1, lower(hex(randomblob(8))), ?)
           ON CONFLICT (collection_id, part)
           DO UPDATE SET n = n + 1, changed_us = max(changed_us, excluded.changed_us)"""


def content_changed(conn: sqlite3.Connection, collection_id: str, parts: Iterable[str], changed_us: int) -> None:
    """In the transaction that added, removed or re-dated versions in `parts` of the collection: move its
    markers (once per write, not per version)."""
    conn.executemany(_BUMP, [(collection_id, part, changed_us) for part in (ALL_PARTS, *sorted(set(parts)))])


# Executed one by one at every start; the first ones drop what earlier versions kept (a counter of removals,
# per-version triggers).
FEED_STATE_STATEMENTS = (
    "DROP TRIGGER IF EXISTS object_versions_removed",
    "DROP TABLE IF EXISTS version_removals",
    "DROP TRIGGER IF EXISTS feed_state_added",
    "DROP TRIGGER IF EXISTS feed_state_removed",
    "DROP TRIGGER IF EXISTS feed_state_redated",
    """CREATE TABLE IF NOT EXISTS feed_state (
        collection_id TEXT NOT NULL, part TEXT NOT NULL, n INTEGER NOT NULL, token TEXT NOT NULL,
        changed_us INTEGER NOT NULL, PRIMARY KEY (collection_id, part)) WITHOUT ROWID""",
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
