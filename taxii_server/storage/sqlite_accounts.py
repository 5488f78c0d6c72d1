"""Organisations and their credentials on SQLite.

Must not: hold anything but organisations and credentials, or open connections of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from ..errors import Conflict
from ..model import Credential, Organisation
from .sqlite_connection import SQLiteConnection


class SQLiteAccounts(SQLiteConnection):
    def add_organisation(self, org: Organisation) -> None:
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM organisations WHERE id=?", (org.id,)).fetchone():
                raise Conflict(f"organisation {org.id!r} already exists")
            conn.execute(
                f"INSERT INTO organisations ({ORG_COLUMNS}) VALUES (?,?,?,?,?,?,?)", org_row(org)
            )

    def update_organisation(self, org: Organisation) -> bool:
        with self._write() as conn:
            return conn.execute(
                "UPDATE organisations SET name=?, grp=?, roles=?, aliases=?, domains=? WHERE id=?",
                (*org_row(org)[1:4], *org_row(org)[5:], org.id),
            ).rowcount == 1

    def get_organisation(self, org_id: str) -> Organisation | None:
        with self._read() as conn:
            row = conn.execute(f"SELECT {ORG_COLUMNS} FROM organisations WHERE id=?", (org_id,)).fetchone()
        return _org(row) if row else None

    def list_organisations(self) -> list[Organisation]:
        with self._read() as conn:
            rows = conn.execute(f"SELECT {ORG_COLUMNS} FROM organisations ORDER BY id").fetchall()
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
                "SELECT c.id, c.org_id, c.label, c.created, c.revoked, o.id, o.name, o.grp, o.roles, o.created, "
                "o.aliases, o.domains "
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


ORG_COLUMNS = "id, name, grp, roles, created, aliases, domains"


def org_row(org: Organisation) -> tuple[str, ...]:
    """The ORG_COLUMNS of an organisation: roles comma-separated, aliases and domains as JSON arrays (an alias
    may hold a comma)."""
    return (org.id, org.name, org.group, ",".join(org.roles), org.created,
            orjson.dumps(list(org.aliases)).decode(), orjson.dumps(list(org.domains)).decode())


def _org(row: Sequence[Any]) -> Organisation:
    return Organisation(row[0], row[1], row[2], tuple(r for r in row[3].split(",") if r), row[4],
                        tuple(orjson.loads(row[5])), tuple(orjson.loads(row[6])))
