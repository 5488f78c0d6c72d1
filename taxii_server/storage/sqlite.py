"""The embedded SQLite backend: the default for a hub on one machine.

WAL journal, `busy_timeout`, `BEGIN IMMEDIATE` for every write transaction (so `date_added` is assigned under
the database's write lock, across processes), one connection per process and thread, opened lazily so that a
gunicorn worker opens its own after fork. Every sqlite3 error is translated to `StorageUnavailable` here.

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

Schema versions: `meta.schema_version` records the schema a database has. `initialise()` creates a new
database, upgrades an older one in place (one transaction, after a backup copy next to it) and refuses one
written by a newer hub.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from ..errors import ConfigError, Conflict, StorageFull, StorageUnavailable
from ..model import (
    AddResult,
    AuditEntry,
    ConsoleSession,
    Credential,
    NewVersion,
    ObjectFilter,
    ObjectScope,
    Organisation,
    Page,
    Publication,
    Status,
    StoredVersion,
    Submission,
    SubmissionContent,
)
from ..timestamps import format_us
from .base import (
    SCHEMA_VERSION,
    TransferOwner,
    TransferVersion,
    publication_from_doc,
    publication_to_doc,
    status_from_doc,
    status_to_doc,
    submission_from_doc,
    submission_to_doc,
)
from .sqlite_certificates import SQLiteCertificates
from .sqlite_feed_state import FEED_STATE_STATEMENTS, SQLiteFeedState
from .sqlite_limits import LIMITS_SCHEMA, SQLiteLimits

_SCHEMA = """
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
CREATE TABLE IF NOT EXISTS statuses (
    id TEXT PRIMARY KEY, created_us INTEGER NOT NULL, body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS statuses_created ON statuses (created_us);
CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, grp TEXT NOT NULL, roles TEXT NOT NULL, created TEXT NOT NULL,
    password_hash TEXT
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
    raw BLOB NOT NULL, records BLOB NOT NULL, draft BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_org ON submissions (org_id, received_at_us);
CREATE INDEX IF NOT EXISTS submissions_received ON submissions (received_at_us);
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
"""

# What brings a database from schema n-1 to n, run before _SCHEMA (whose CREATE … IF NOT EXISTS then adds any
# new table or index). A step is needed for what _SCHEMA cannot express on an existing table (a new column, a
# changed key, data to rewrite), and for an index an old database should get right away.
_UPGRADES: dict[int, tuple[str, ...]] = {
    2: ("CREATE INDEX IF NOT EXISTS object_versions_id ON object_versions (collection_id, id, date_added)",),
}

log = logging.getLogger("taxii_server.storage")

_MEDIA = {"2.1": "application/stix+json;version=2.1", "2.0": "application/stix+json;version=2.0"}


class SQLiteStore(SQLiteCertificates, SQLiteLimits, SQLiteFeedState):
    # 4 s: a write that finds the database locked answers 503 within 5 s (spec §3.2), below gunicorn's timeout.
    def __init__(self, path: Path, *, busy_timeout_ms: int = 4000) -> None:
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(Path(url.removeprefix("sqlite://").removeprefix("/")) if url.startswith("sqlite:///") else Path(url))

    # -- connections ---------------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout_ms / 1000)
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except (sqlite3.Error, OSError) as exc:
            raise StorageUnavailable(f"cannot open the database: {exc}") from exc
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            yield self._conn()
        except sqlite3.Error as exc:
            raise _unavailable(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        if getattr(self._local, "atomic", False):  # inside atomic(): its transaction commits or rolls back
            try:
                yield conn
            except sqlite3.Error as exc:
                raise _unavailable(exc) from exc
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"database is busy: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise _unavailable(exc) from exc
            raise

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """The writes made inside as one transaction: all of them are stored, or none."""
        with self._write():
            outer = getattr(self._local, "atomic", False)
            self._local.atomic = True
            try:
                yield
            finally:
                self._local.atomic = outer

    def initialise(self) -> None:
        """Create the schema, or upgrade an older one in place after a backup copy; refuse a newer one."""
        with self._read() as conn:
            found = _schema_version(conn)
        self._refuse_newer(found)
        if found is not None and found < SCHEMA_VERSION:
            backup = self._backup_copy(found)
            log.warning("%s: upgrading the database from schema %d to %d; the old one is kept in %s",
                        self.path, found, SCHEMA_VERSION, backup)
        with self._write() as conn:
            found = _schema_version(conn)  # again under the write lock: another process may have upgraded
            self._refuse_newer(found)
            for step in range((found if found is not None else SCHEMA_VERSION) + 1, SCHEMA_VERSION + 1):
                for statement in _UPGRADES.get(step, ()):
                    conn.execute(statement)
            for statement in (_SCHEMA + LIMITS_SCHEMA).split(";"):
                if statement.strip():
                    conn.execute(statement)
            for statement in FEED_STATE_STATEMENTS:
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

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None

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

    # -- objects -------------------------------------------------------------------------------------------

    def add_versions(
        self,
        scope: ObjectScope,
        writer: str,
        may_supersede: bool,
        versions: Sequence[NewVersion],
        now_us: int,
    ) -> list[AddResult]:
        cid = scope.collection_id
        part = scope.partition_for(writer)
        results: list[AddResult] = []
        with self._write() as conn:
            row = conn.execute("SELECT last_us FROM collection_clock WHERE collection_id=?", (cid,)).fetchone()
            clock = max(now_us, (row[0] + 1) if row else 0)
            start = clock
            for v in versions:
                # The common case, a new versioned id, costs two statements: claim the id, then insert the
                # version unless that exact version is somehow there already (then the careful path decides).
                if v.version_us is not None and conn.execute(
                    "INSERT INTO object_owner (collection_id, part, id, org_id) VALUES (?,?,?,?) "
                    "ON CONFLICT DO NOTHING",
                    (cid, part, v.id, writer),
                ).rowcount == 1:
                    version = v.version or format_us(v.version_us)
                    if conn.execute(
                        "INSERT INTO object_versions (collection_id, date_added, part, id, type, version,"
                        " version_us, spec_version, added_by, raw) VALUES (?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT DO NOTHING",
                        (cid, clock, part, v.id, v.type, version, v.version_us, v.spec_version, writer, v.raw),
                    ).rowcount == 1:
                        results.append(AddResult(v.id, version, "added"))
                        clock += 1
                        continue
                owner = conn.execute(
                    "SELECT org_id FROM object_owner WHERE collection_id=? AND part=? AND id=?", (cid, part, v.id)
                ).fetchone()
                if v.version_us is None:
                    existing = conn.execute(
                        "SELECT raw, version FROM object_versions WHERE collection_id=? AND part=? AND id=? "
                        "ORDER BY version_us LIMIT 1",
                        (cid, part, v.id),
                    ).fetchone()
                    version, version_us = format_us(clock), clock
                else:
                    existing = conn.execute(
                        "SELECT raw, version FROM object_versions "
                        "WHERE collection_id=? AND part=? AND id=? AND version_us=?",
                        (cid, part, v.id, v.version_us),
                    ).fetchone()
                    version, version_us = v.version or format_us(v.version_us), v.version_us
                if existing and bytes(existing[0]) == v.raw:
                    results.append(AddResult(v.id, existing[1], "duplicate"))  # the same fact again: no change
                    continue
                if owner and owner[0] != writer and not may_supersede:
                    results.append(AddResult(v.id, v.version or "", "not_owner"))
                    continue
                if existing:
                    results.append(AddResult(v.id, existing[1], "conflict"))
                    continue
                conn.execute(
                    "INSERT INTO object_versions (collection_id, date_added, part, id, type, version, version_us,"
                    " spec_version, added_by, raw) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (cid, clock, part, v.id, v.type, version, version_us, v.spec_version, writer, v.raw),
                )
                if not owner:
                    conn.execute(
                        "INSERT INTO object_owner (collection_id, part, id, org_id) VALUES (?,?,?,?) "
                        "ON CONFLICT DO NOTHING",
                        (cid, part, v.id, writer),
                    )
                results.append(AddResult(v.id, version, "added"))
                clock += 1
            if clock != start:
                conn.execute(
                    "INSERT INTO collection_clock (collection_id, last_us) VALUES (?, ?) "
                    "ON CONFLICT (collection_id) DO UPDATE SET last_us = excluded.last_us",
                    (cid, clock - 1),
                )
        return results

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        where, params = _predicate("v", scope, flt)
        lower = max(x for x in (after_us, flt.added_after_us, -1) if x is not None)
        sql = (
            "SELECT v.id, v.type, v.version, v.date_added, v.spec_version, v.raw FROM object_versions v "
            f"WHERE v.collection_id=? AND v.date_added > ? AND {where} ORDER BY v.date_added LIMIT ?"
        )
        with self._read() as conn:
            rows = conn.execute(sql, (scope.collection_id, lower, *params, limit + 1)).fetchall()
        items = tuple(
            StoredVersion(r[0], r[1], r[2], r[3], r[4], _MEDIA.get(r[4], _MEDIA["2.1"]), bytes(r[5]))
            for r in rows[:limit]
        )
        return Page(items, more=len(rows) > limit)

    def object_exists(self, scope: ObjectScope, object_id: str) -> bool:
        sql = "SELECT 1 FROM object_versions WHERE collection_id=? AND id=?"
        params: list[Any] = [scope.collection_id, object_id]
        if scope.owner is not None:
            sql += " AND part=?"
            params.append(scope.owner)
        with self._read() as conn:
            return conn.execute(sql + " LIMIT 1", params).fetchone() is not None

    def object_owner(self, scope: ObjectScope, object_id: str) -> str | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT org_id FROM object_owner WHERE collection_id=? AND part=? AND id=?",
                (scope.collection_id, scope.owner or "", object_id),
            ).fetchone()
        return str(row[0]) if row else None

    def delete(self, scope: ObjectScope, object_id: str, flt: ObjectFilter) -> int:
        flt = replace(flt, ids=(object_id,), types=())
        where, params = _predicate("v", scope, flt)
        with self._write() as conn:
            doomed = conn.execute(
                f"SELECT v.date_added, v.part FROM object_versions v WHERE v.collection_id=? AND {where}",
                (scope.collection_id, *params),
            ).fetchall()
            conn.executemany(
                "DELETE FROM object_versions WHERE collection_id=? AND date_added=?",
                [(scope.collection_id, d) for d, _ in doomed],
            )
            for part in {p for _, p in doomed}:
                left = conn.execute(
                    "SELECT 1 FROM object_versions WHERE collection_id=? AND part=? AND id=? LIMIT 1",
                    (scope.collection_id, part, object_id),
                ).fetchone()
                if not left:
                    conn.execute(
                        "DELETE FROM object_owner WHERE collection_id=? AND part=? AND id=?",
                        (scope.collection_id, part, object_id),
                    )
        return len(doomed)

    def count_versions(self, collection_id: str) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT count(*) FROM object_versions WHERE collection_id=?", (collection_id,))
            return int(row.fetchone()[0])

    # -- statuses ------------------------------------------------------------------------------------------

    def save_status(self, status: Status) -> None:
        body = orjson.dumps(status_to_doc(status))
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO statuses (id, created_us, body) VALUES (?,?,?)",
                (status.id, status.request_timestamp_us, body),
            )

    def get_status(self, status_id: str) -> Status | None:
        with self._read() as conn:
            row = conn.execute("SELECT body FROM statuses WHERE id=?", (status_id,)).fetchone()
        return status_from_doc(orjson.loads(row[0])) if row else None

    def purge_statuses(self, older_than_us: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM statuses WHERE created_us < ?", (older_than_us,)).rowcount

    # -- organisations and credentials ---------------------------------------------------------------------

    def add_organisation(self, org: Organisation) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM organisations WHERE id=?", (org.id,)).fetchone():
                raise Conflict(f"organisation {org.id!r} already exists")
            conn.execute(
                "INSERT INTO organisations (id, name, grp, roles, created) VALUES (?,?,?,?,?)",
                (org.id, org.name, org.group, ",".join(org.roles), org.created),
            )

    def get_organisation(self, org_id: str) -> Organisation | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, name, grp, roles, created FROM organisations WHERE id=?", (org_id,)
            ).fetchone()
        return _org(row) if row else None

    def list_organisations(self) -> list[Organisation]:
        with self._read() as conn:
            rows = conn.execute("SELECT id, name, grp, roles, created FROM organisations ORDER BY id").fetchall()
        return [_org(r) for r in rows]

    def set_password(self, org_id: str, password_hash: str | None) -> None:
        with self._write() as conn:
            conn.execute("UPDATE organisations SET password_hash=? WHERE id=?", (password_hash, org_id))

    def get_password(self, org_id: str) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT password_hash FROM organisations WHERE id=?", (org_id,)).fetchone()
        return row[0] if row else None

    def add_credential(self, credential: Credential, secret_sha256: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO credentials (id, org_id, label, secret_sha256, created, revoked) VALUES (?,?,?,?,?,?)",
                (credential.id, credential.org_id, credential.label, secret_sha256, credential.created,
                 credential.revoked),
            )

    def find_credential(self, secret_sha256: str) -> tuple[Credential, Organisation] | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT c.id, c.org_id, c.label, c.created, c.revoked, o.id, o.name, o.grp, o.roles, o.created "
                "FROM credentials c JOIN organisations o ON o.id = c.org_id "
                "WHERE c.secret_sha256=? AND c.revoked IS NULL",
                (secret_sha256,),
            ).fetchone()
        if not row:
            return None
        return Credential(*row[:5]), _org(row[5:])

    def list_credentials(self, org_id: str | None = None) -> list[Credential]:
        sql = "SELECT id, org_id, label, created, revoked FROM credentials"
        params: tuple[str, ...] = ()
        if org_id is not None:
            sql += " WHERE org_id=?"
            params = (org_id,)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY created, id", params).fetchall()
        return [Credential(*r) for r in rows]

    def revoke_credential(self, credential_id: str, when: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE credentials SET revoked=? WHERE id=? AND revoked IS NULL", (when, credential_id)
            )
            return cur.rowcount == 1

    # -- the sharing workflow ------------------------------------------------------------------------------

    def add_submission(self, submission: Submission, content: SubmissionContent) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO submissions (id, org_id, received_at_us, doc, raw, records, draft) VALUES (?,?,?,?,?,?,?)",
                (submission.id, submission.org_id, submission.received_at_us,
                 orjson.dumps(submission_to_doc(submission)), content.raw, content.records, content.draft),
            )

    def update_submission(self, submission: Submission) -> None:
        with self._write() as conn:
            conn.execute("UPDATE submissions SET doc=? WHERE id=?",
                         (orjson.dumps(submission_to_doc(submission)), submission.id))

    def get_submission(self, submission_id: str) -> Submission | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return submission_from_doc(orjson.loads(row[0])) if row else None

    def get_submission_content(self, submission_id: str) -> SubmissionContent | None:
        with self._read() as conn:
            row = conn.execute("SELECT raw, records, draft FROM submissions WHERE id=?", (submission_id,)).fetchone()
        return SubmissionContent(bytes(row[0]), bytes(row[1]), bytes(row[2])) if row else None

    def list_submissions(self, org_id: str | None = None) -> list[Submission]:
        sql = "SELECT doc FROM submissions"
        params: tuple[str, ...] = ()
        if org_id is not None:
            sql += " WHERE org_id=?"
            params = (org_id,)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY received_at_us, id", params).fetchall()
        return [submission_from_doc(orjson.loads(r[0])) for r in rows]

    def save_publication(self, publication: Publication, bundle: bytes) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO publications (id, created_us, doc, bundle) VALUES (?,?,?,?)",
                (publication.id, publication.created_us, orjson.dumps(publication_to_doc(publication)), bundle),
            )

    def get_publication(self, publication_id: str) -> tuple[Publication, bytes] | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc, bundle FROM publications WHERE id=?", (publication_id,)).fetchone()
        return (publication_from_doc(orjson.loads(row[0])), bytes(row[1])) if row else None

    def list_publications(self) -> list[Publication]:
        with self._read() as conn:
            rows = conn.execute("SELECT doc FROM publications ORDER BY created_us, id").fetchall()
        return [publication_from_doc(orjson.loads(r[0])) for r in rows]

    def add_audit(self, entry: AuditEntry) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO audit (id, at_us, actor, action, target, details) VALUES (?,?,?,?,?,?)",
                (entry.id, entry.at_us, entry.actor, entry.action, entry.target, entry.details),
            )

    def list_audit(self, since_us: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, at_us, actor, action, target, details FROM audit WHERE at_us >= ? ORDER BY seq LIMIT ?",
                (since_us if since_us is not None else -1, limit),
            ).fetchall()
        return [AuditEntry(*r) for r in rows]


    # -- bulk transfer (export, import, migration) -----------------------------------------------------------

    def transfer_collections(self) -> list[str]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT collection_id FROM object_versions UNION SELECT collection_id FROM object_owner "
                "ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    def export_versions(self, collection_id: str, after_us: int | None, limit: int) -> list[TransferVersion]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT date_added, part, added_by, id, type, version, version_us, spec_version, raw "
                "FROM object_versions WHERE collection_id=? AND date_added > ? ORDER BY date_added LIMIT ?",
                (collection_id, after_us if after_us is not None else -1, limit),
            ).fetchall()
        return [TransferVersion(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bytes(r[8])) for r in rows]

    def import_versions(self, collection_id: str, versions: Sequence[TransferVersion]) -> int:
        if not versions:
            return 0
        stored = 0
        with self._write() as conn:
            for v in versions:
                stored += conn.execute(
                    "INSERT OR IGNORE INTO object_versions (collection_id, date_added, part, id, type, version,"
                    " version_us, spec_version, added_by, raw) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (collection_id, v.date_added_us, v.partition, v.id, v.type, v.version, v.version_us,
                     v.spec_version, v.added_by, v.raw),
                ).rowcount
            conn.execute(
                "INSERT INTO collection_clock (collection_id, last_us) VALUES (?, ?) ON CONFLICT (collection_id) "
                "DO UPDATE SET last_us = max(last_us, excluded.last_us)",
                (collection_id, max(v.date_added_us for v in versions)),
            )
        return stored

    def export_owners(self, collection_id: str, after: tuple[str, str] | None, limit: int) -> list[TransferOwner]:
        part, oid = after if after is not None else ("", "")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT part, id, org_id FROM object_owner WHERE collection_id=? AND (part, id) > (?, ?) "
                "ORDER BY part, id LIMIT ?",
                (collection_id, part, oid, limit),
            ).fetchall()
        return [TransferOwner(*r) for r in rows]

    def import_owners(self, collection_id: str, owners: Sequence[TransferOwner]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO object_owner (collection_id, part, id, org_id) VALUES (?,?,?,?)",
                [(collection_id, o.partition, o.id, o.org_id) for o in owners],
            )

    def export_credentials(self) -> list[tuple[Credential, str]]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, org_id, label, created, revoked, secret_sha256 FROM credentials ORDER BY created, id"
            ).fetchall()
        return [(Credential(*r[:5]), r[5]) for r in rows]

    def import_organisation(self, org: Organisation, password_hash: str | None) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO organisations (id, name, grp, roles, created, password_hash) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET name=excluded.name, grp=excluded.grp, roles=excluded.roles, "
                "created=excluded.created, password_hash=excluded.password_hash",
                (org.id, org.name, org.group, ",".join(org.roles), org.created, password_hash),
            )

    def import_credential(self, credential: Credential, secret_sha256: str) -> None:
        c = credential
        with self._write() as conn:
            conn.execute(
                "INSERT INTO credentials (id, org_id, label, secret_sha256, created, revoked) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET org_id=excluded.org_id, label=excluded.label, "
                "secret_sha256=excluded.secret_sha256, created=excluded.created, revoked=excluded.revoked",
                (c.id, c.org_id, c.label, secret_sha256, c.created, c.revoked),
            )

    def export_statuses(self, after_id: str | None, limit: int) -> list[Status]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT body FROM statuses WHERE id > ? ORDER BY id LIMIT ?", (after_id or "", limit)
            ).fetchall()
        return [status_from_doc(orjson.loads(r[0])) for r in rows]

    def export_meta(self) -> dict[str, str]:
        with self._read() as conn:
            return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM meta ORDER BY key")}

    def import_meta(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def import_submission(self, submission: Submission, content: SubmissionContent) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO submissions (id, org_id, received_at_us, doc, raw, records, draft) "
                "VALUES (?,?,?,?,?,?,?)",
                (submission.id, submission.org_id, submission.received_at_us,
                 orjson.dumps(submission_to_doc(submission)), content.raw, content.records, content.draft),
            )

    def export_audit(self, after_id: str | None, limit: int) -> list[AuditEntry]:
        with self._read() as conn:
            rows = conn.execute(
                "SELECT id, at_us, actor, action, target, details FROM audit "
                "WHERE seq > coalesce((SELECT seq FROM audit WHERE id=?), 0) ORDER BY seq LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [AuditEntry(*r) for r in rows]

    def import_audit(self, entries: Sequence[AuditEntry]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO audit (id, at_us, actor, action, target, details) VALUES (?,?,?,?,?,?)",
                [(e.id, e.at_us, e.actor, e.action, e.target, e.details) for e in entries],
            )

    # -- console sessions ------------------------------------------------------------------------------------

    def save_session(self, session: ConsoleSession) -> None:
        doc = orjson.dumps(session.__dict__)
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO console_sessions (id, org_id, seen_us, doc) VALUES (?,?,?,?)",
                         (session.id, session.org_id, session.seen_us, doc))

    def get_session(self, session_id: str) -> ConsoleSession | None:
        with self._read() as conn:
            row = conn.execute("SELECT doc FROM console_sessions WHERE id=?", (session_id,)).fetchone()
        return ConsoleSession(**orjson.loads(row[0])) if row else None

    def delete_session(self, session_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM console_sessions WHERE id=?", (session_id,))

    def purge_sessions(self, seen_before_us: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM console_sessions WHERE seen_us < ?", (seen_before_us,)).rowcount

    def erase_everything(self) -> None:
        with self._write() as conn:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                if table != "meta":
                    conn.execute(f'DELETE FROM "{table}"')
            conn.execute("DELETE FROM meta WHERE key != 'schema_version'")


def _unavailable(exc: sqlite3.Error) -> StorageUnavailable:
    """SQLITE_FULL (disk full, or max_page_count reached) is told apart: waiting will not help, space will.
    SQLite has rolled the statement's transaction back by then, so nothing of the request stays."""
    if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return StorageFull(f"the database is full: {exc}")
    return StorageUnavailable(f"database error: {exc}")


def _schema_version(conn: sqlite3.Connection) -> int | None:
    """The schema version a database records; None for a database without hub tables (a new one)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
        return None
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0


def _org(row: Sequence[Any]) -> Organisation:
    return Organisation(row[0], row[1], row[2], tuple(r for r in row[3].split(",") if r), row[4])


def _predicate(alias: str, scope: ObjectScope, flt: ObjectFilter) -> tuple[str, list[Any]]:
    """The WHERE clause (without the collection and cursor) for the TAXII filters, version keywords included.

    Plain filters are applied to the candidate row and to every sibling version it is compared with, so that
    'first', 'last' and the default spec version are chosen among the versions that match the rest of the
    request (checklist J13).
    """
    def plain(a: str) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if scope.owner is not None:
            clauses.append(f"{a}.part = ?")
            params.append(scope.owner)
        if flt.added_after_us is not None:
            clauses.append(f"{a}.date_added > ?")
            params.append(flt.added_after_us)
        if flt.ids:
            clauses.append(f"{a}.id IN ({','.join('?' * len(flt.ids))})")
            params.extend(flt.ids)
        if flt.types:
            clauses.append(f"{a}.type IN ({','.join('?' * len(flt.types))})")
            params.extend(flt.types)
        if flt.spec_versions:
            clauses.append(f"{a}.spec_version IN ({','.join('?' * len(flt.spec_versions))})")
            params.extend(flt.spec_versions)
        return clauses, params

    v = alias
    clauses, params = plain(v)

    def sibling(extra: str) -> tuple[str, list[Any]]:
        o_clauses, o_params = plain("o")
        cond = " AND ".join(
            [f"o.collection_id = {v}.collection_id", f"o.part = {v}.part", f"o.id = {v}.id", *o_clauses, extra]
        )
        # INDEXED BY: the planner must not depend on statistics (without ANALYZE it scanned the collection)
        return f"NOT EXISTS (SELECT 1 FROM object_versions o INDEXED BY object_versions_object WHERE {cond})", o_params

    same_spec = ""
    if not flt.spec_versions:
        clause, p = sibling(f"o.spec_version > {v}.spec_version")
        clauses.append(clause)
        params.extend(p)
        same_spec = f" AND o.spec_version = {v}.spec_version"
    if not flt.all_versions:
        wanted: list[str] = []
        if flt.version_instants:
            wanted.append(f"{v}.version_us IN ({','.join('?' * len(flt.version_instants))})")
            params.extend(flt.version_instants)
        for keyword, op in (("last", ">"), ("first", "<")):
            if keyword in flt.version_keywords:
                clause, p = sibling(f"o.version_us {op} {v}.version_us{same_spec}")
                wanted.append(clause)
                params.extend(p)
        clauses.append("(" + " OR ".join(wanted) + ")" if wanted else "0")
    return " AND ".join(clauses) or "1", params
