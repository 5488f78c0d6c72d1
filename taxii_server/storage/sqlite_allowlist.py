"""The hub-local allow-list on SQLite (the `allowlist` table, created with the rest of the schema in
sqlite_schema.py). A mixin of SQLiteStore; sqlite_connection.py provides the connections and translates
sqlite3 errors.

Must not: normalise or judge values (hub/allowlist.py does), or open connections of its own.
"""

from __future__ import annotations

from ..model import AllowedValue
from .sqlite_connection import SQLiteConnection

_COLUMNS = "kind, value, reason, added_by, added"


class SQLiteAllowList(SQLiteConnection):
    def add_allowed(self, entry: AllowedValue) -> bool:
        with self._write() as conn:
            return conn.execute(
                f"INSERT INTO allowlist ({_COLUMNS}) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                (entry.kind, entry.value, entry.reason, entry.added_by, entry.added),
            ).rowcount == 1

    def list_allowed(self, kind: str | None = None) -> list[AllowedValue]:
        sql = f"SELECT {_COLUMNS} FROM allowlist"
        params: tuple[str, ...] = ()
        if kind is not None:
            sql += " WHERE kind=?"
            params = (kind,)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY kind, value", params).fetchall()
        return [AllowedValue(*r) for r in rows]

    def remove_allowed(self, kind: str, value: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM allowlist WHERE kind=? AND value=?", (kind, value)).rowcount == 1
