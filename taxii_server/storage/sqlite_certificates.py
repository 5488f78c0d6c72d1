"""The client-certificate records on SQLite (the `client_certificates` table, created with the rest of the
schema in sqlite_schema.py). A mixin of SQLiteStore; sqlite_connection.py provides the connections and
translates sqlite3 errors.

Must not: hold anything but certificate records, or open connections of its own.
"""

from __future__ import annotations

from ..errors import Conflict
from ..model import ClientCertificate
from .sqlite_connection import SQLiteConnection

_COLUMNS = "serial, org_id, subject, sha256, not_before, not_after, issued, revoked"


class SQLiteCertificates(SQLiteConnection):
    def add_certificate(self, certificate: ClientCertificate) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM client_certificates WHERE serial=?", (certificate.serial,)).fetchone():
                raise Conflict(f"a client certificate with serial {certificate.serial} is already recorded")
            conn.execute(f"INSERT INTO client_certificates ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                         _row(certificate))

    def get_certificate(self, serial: str) -> ClientCertificate | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM client_certificates WHERE serial=?", (serial,)).fetchone()
        return ClientCertificate(*row) if row else None

    def list_certificates(self, org_id: str | None = None) -> list[ClientCertificate]:
        sql = f"SELECT {_COLUMNS} FROM client_certificates"
        params: tuple[str, ...] = ()
        if org_id is not None:
            sql += " WHERE org_id=?"
            params = (org_id,)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY issued, serial", params).fetchall()
        return [ClientCertificate(*r) for r in rows]

    def revoke_certificate(self, serial: str, when: str) -> bool:
        with self._write() as conn:
            cur = conn.execute(
                "UPDATE client_certificates SET revoked=? WHERE serial=? AND revoked IS NULL", (when, serial)
            )
            return cur.rowcount == 1

    def import_certificate(self, certificate: ClientCertificate) -> None:
        with self._write() as conn:
            conn.execute(f"INSERT OR REPLACE INTO client_certificates ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                         _row(certificate))


def _row(c: ClientCertificate) -> tuple[str | None, ...]:
    return (c.serial, c.org_id, c.subject, c.sha256, c.not_before, c.not_after, c.issued, c.revoked)
