"""Bulk transfer on SQLite: what export, import and migration (transfer.py) read and write, table by table.

Must not: decide what is transferred or in which order (transfer.py does), or open connections of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from ..model import AuditEntry, Credential, Organisation, Status, Submission, SubmissionContent
from .base import TransferOwner, TransferVersion
from .documents import status_from_doc, submission_to_doc
from .sqlite_accounts import ORG_COLUMNS, org_row
from .sqlite_connection import SQLiteConnection
from .sqlite_feed_state import content_changed
from .sqlite_records import NEXT_ARRIVAL


class SQLiteTransfer(SQLiteConnection):
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
            if stored:
                content_changed(conn, collection_id, (v.partition for v in versions),
                                max(v.date_added_us for v in versions))
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
                f"INSERT INTO organisations ({ORG_COLUMNS}, password_hash) VALUES (?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET name=excluded.name, grp=excluded.grp, roles=excluded.roles, "
                "created=excluded.created, aliases=excluded.aliases, domains=excluded.domains, "
                "password_hash=excluded.password_hash",
                (*org_row(org), password_hash),
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
                f"INSERT OR REPLACE INTO submissions (id, org_id, received_at_us, doc, raw, records, draft, arrival) "
                f"VALUES (?,?,?,?,?,?,?,{NEXT_ARRIVAL})",
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

    def erase_everything(self) -> None:
        with self._write() as conn:
            conn.execute("PRAGMA defer_foreign_keys = ON")
            tables = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                if table != "meta":
                    conn.execute(f'DELETE FROM "{table}"')
            conn.execute("DELETE FROM meta WHERE key != 'schema_version'")
