"""The SQLite schema, its versions and upgrades, and the `meta` table.

Indexes and why:
- `object_versions` primary key (collection_id, date_added): keyset pages walk it in order, O(limit) per page
  at any depth.
- unique (collection_id, part, id, version_us): duplicates are stored once.
- (collection_id, part, id, spec_version, version_us): the per-object version keywords (first/last, latest spec
  version) are NOT EXISTS probes on it, named with INDEXED BY so the plan never depends on statistics (without
  ANALYZE, SQLite probed through the primary key and read the whole collection for every row).
- (collection_id, type, date_added): `match[type]` pages.
- (collection_id, id, date_added): `match[id]`, Get an Object and versions where no partition narrows the id
  (an analyst reading an inbox); added by schema 2.
- object_owner (id, part): who first wrote an id in any collection (a member may not write another writer's
  id in a shared collection); created by `initialise()` on any database that lacks it.
Schema 3 added the organisations' `aliases` and `domains` (JSON arrays) and the `allowlist` table.

Schema versions: `meta.schema_version` records the schema a database has. `initialise()` creates a new
database, upgrades an older one in place (one transaction, after a backup copy next to it) and refuses one
written by a newer hub. Must not: read or write anything but the schema and `meta`.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

from ..errors import ConfigError, StorageUnavailable
from .base import SCHEMA_VERSION
from .sqlite_connection import SQLiteConnection
from .sqlite_correlation import CORRELATION_SCHEMA, UPGRADE_TO_4
from .sqlite_feed_state import FEED_STATE_STATEMENTS
from .sqlite_limits import LIMITS_SCHEMA

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS collection_clock (collection_id TEXT PRIMARY KEY, last_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS object_versions (
    collection_id TEXT NOT NULL,
    date_added INTEGER NOT NULL,
    part TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    version TEXT NOT NULL,
    version_us INTEGER NOT NULL,
    spec_version TEXT NOT NULL,
    added_by TEXT NOT NULL,
    raw BLOB NOT NULL,
    PRIMARY KEY (collection_id, date_added),
    UNIQUE (collection_id, part, id, version_us)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_versions_type ON object_versions (collection_id, type, date_added);
CREATE INDEX IF NOT EXISTS object_versions_id ON object_versions (collection_id, id, date_added);
CREATE INDEX IF NOT EXISTS object_versions_object
    ON object_versions (collection_id, part, id, spec_version, version_us);
CREATE TABLE IF NOT EXISTS object_owner (
    collection_id TEXT NOT NULL, part TEXT NOT NULL, id TEXT NOT NULL, org_id TEXT NOT NULL,
    PRIMARY KEY (collection_id, part, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS object_owner_id ON object_owner (id, part);
CREATE TABLE IF NOT EXISTS statuses (
    id TEXT PRIMARY KEY, created_us INTEGER NOT NULL, body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS statuses_created ON statuses (created_us);
CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, grp TEXT NOT NULL, roles TEXT NOT NULL, created TEXT NOT NULL,
    password_hash TEXT, aliases TEXT NOT NULL DEFAULT '[]', domains TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    label TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS credentials_org ON credentials (org_id);
CREATE TABLE IF NOT EXISTS client_certificates (
    serial TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    subject TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    not_before TEXT NOT NULL,
    not_after TEXT NOT NULL,
    issued TEXT NOT NULL,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS client_certificates_org ON client_certificates (org_id, issued);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, received_at_us INTEGER NOT NULL, doc BLOB NOT NULL,
    raw BLOB NOT NULL, records BLOB NOT NULL, draft BLOB NOT NULL, arrival INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS submissions_org ON submissions (org_id, received_at_us);
CREATE INDEX IF NOT EXISTS submissions_received ON submissions (received_at_us);
CREATE UNIQUE INDEX IF NOT EXISTS submissions_arrival ON submissions (arrival);
CREATE TABLE IF NOT EXISTS publications (
    id TEXT PRIMARY KEY, created_us INTEGER NOT NULL, doc BLOB NOT NULL, bundle BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at_us INTEGER NOT NULL, actor TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, details TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at_us);
CREATE TABLE IF NOT EXISTS console_sessions (
    id TEXT PRIMARY KEY, org_id TEXT NOT NULL, seen_us INTEGER NOT NULL, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_seen ON console_sessions (seen_us);
CREATE TABLE IF NOT EXISTS allowlist (
    kind TEXT NOT NULL, value TEXT NOT NULL, reason TEXT NOT NULL, added_by TEXT NOT NULL, added TEXT NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;
"""

# What brings a database from schema n-1 to n, run before SCHEMA (whose CREATE … IF NOT EXISTS then adds any
# new table or index). A step is needed for what SCHEMA cannot express on an existing table (a new column, a
# changed key, data to rewrite), and for an index an old database should get right away.
_UPGRADES: dict[int, tuple[str, ...]] = {
    2: ("CREATE INDEX IF NOT EXISTS object_versions_id ON object_versions (collection_id, id, date_added)",),
    3: ("ALTER TABLE organisations ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE organisations ADD COLUMN domains TEXT NOT NULL DEFAULT '[]'"),
    4: UPGRADE_TO_4,
    5: ("ALTER TABLE submissions ADD COLUMN arrival INTEGER NOT NULL DEFAULT 0",
        "UPDATE submissions SET arrival = rowid"),  # the order they were stored in (no submission is deleted)
}

log = logging.getLogger("taxii_server.storage")


class SQLiteMigrations(SQLiteConnection):
    def initialise(self) -> None:
        """Create the schema, or upgrade an older one in place after a backup copy; refuse a newer one."""
        with self._read() as conn:
            found = schema_version(conn)
        self._refuse_newer(found)
        if found is not None and found < SCHEMA_VERSION:
            backup = self._backup_copy(found)
            log.warning("%s: upgrading the database from schema %d to %d; the old one is kept in %s",
                        self.path, found, SCHEMA_VERSION, backup)
        with self._write() as conn:
            found = schema_version(conn)  # again under the write lock: another process may have upgraded
            self._refuse_newer(found)
            for step in range((found if found is not None else SCHEMA_VERSION) + 1, SCHEMA_VERSION + 1):
                for statement in _UPGRADES.get(step, ()):
                    conn.execute(statement)
            for statement in (SCHEMA + LIMITS_SCHEMA + CORRELATION_SCHEMA).split(";"):
                if statement.strip():
                    conn.execute(statement)
            for statement in FEED_STATE_STATEMENTS:  # one by one: the trigger's body holds a semicolon
                conn.execute(statement)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )

    def _refuse_newer(self, found: int | None) -> None:
        if found is not None and found > SCHEMA_VERSION:
            raise ConfigError(
                f"{self.path}: the database has schema version {found}, newer than this taxii-hub understands "
                f"({SCHEMA_VERSION}); run a taxii-hub at least as new as the one that wrote it"
            )

    def _backup_copy(self, found: int) -> Path:
        """A consistent copy of the database (the online backup API, so WAL content is included)."""
        target = self.path.with_name(f"{self.path.name}.schema-{found}.backup")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.schema-{found}.backup.{n}")
        try:
            with closing(sqlite3.connect(target)) as copy:
                self._conn().backup(copy)
        except (sqlite3.Error, OSError) as exc:
            raise StorageUnavailable(f"{self.path}: cannot back the database up before upgrading it: {exc}") from exc
        return target

    # -- meta ----------------------------------------------------------------------------------------------

    def get_or_create_meta(self, key: str, value: str) -> str:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row:
            return str(row[0])
        with self._write() as conn:
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (key, value))
            row = conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return str(row[0])


def schema_version(conn: sqlite3.Connection) -> int | None:
    """The schema version a database records; None for a database without hub tables (a new one)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
        return None
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0
