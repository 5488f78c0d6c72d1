"""Rate-limit buckets and the poll history on SQLite (tables `rate_buckets` and `polls`, created with the rest
of the schema in sqlite_schema.py through LIMITS_SCHEMA). A mixin of SQLiteStore; sqlite_connection.py
provides the connections and translates sqlite3 errors.

A token is taken with one statement in one `BEGIN IMMEDIATE` transaction: an UPSERT that refills the bucket
from the time elapsed, takes the cost if it is there and RETURNs the verdict, so two workers (two
connections on one file) can never both take the last token.

These writes happen on every request (a poll record per read, a token per request when an organisation rate
is set), so they commit with `synchronous = NORMAL`: no fsync at commit (about 150 µs saved per write on the
development machine). In WAL mode that stays consistent; a power cut may lose the last few records or
tokens, which neither needs to survive. The hub's own records keep `synchronous = FULL`.

Must not: hold anything but buckets and poll records, or open connections of its own.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import orjson

from ..model import ObjectScope, PollRecord
from .sqlite_connection import SQLiteConnection
from .sqlite_objects import newest_date_added

LIMITS_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated_us INTEGER NOT NULL, granted INTEGER NOT NULL,
    idle_until_us INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS polls (
    seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, org_id TEXT NOT NULL, doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS polls_org ON polls (org_id, seq);
CREATE INDEX IF NOT EXISTS polls_at ON polls (at_us);
"""

# The bucket's level after refilling: at most the capacity, never less than it was (a clock behind another
# worker's refills nothing).
_REFILLED = "min(:cap, tokens + max(0, :now - updated_us) * :rate)"
_TAKE = f"""
INSERT INTO rate_buckets (key, tokens, updated_us, granted, idle_until_us)
VALUES (:key, CASE WHEN :cap >= :cost THEN min(:cap, :cap - :cost) ELSE :cap END, :now, :cap >= :cost, :idle)
ON CONFLICT (key) DO UPDATE SET
    tokens = CASE WHEN {_REFILLED} >= :cost THEN min(:cap, {_REFILLED} - :cost) ELSE {_REFILLED} END,
    granted = {_REFILLED} >= :cost,
    updated_us = max(updated_us, :now),
    idle_until_us = :idle
RETURNING granted, tokens
"""


class SQLiteLimits(SQLiteConnection):
    @contextmanager
    def _unsynced_write(self, busy_ms: int | None = None) -> Iterator[sqlite3.Connection]:
        """A write transaction on the same connection that commits without waiting for the disk; with
        `busy_ms`, it also waits at most that long for the write lock (instead of the store's busy timeout)."""
        with self._read() as conn:
            level = conn.execute("PRAGMA synchronous").fetchone()[0]
            busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
            conn.execute("PRAGMA synchronous = NORMAL")
            if busy_ms is not None:
                conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        try:
            with self._write() as conn:
                yield conn
        finally:
            with self._read() as conn:
                conn.execute(f"PRAGMA synchronous = {int(level)}")
                conn.execute(f"PRAGMA busy_timeout = {int(busy)}")

    # -- rate-limit buckets --------------------------------------------------------------------------------

    def take_token(self, key: str, cost: float, per_second: float, capacity: float, now_us: int) -> tuple[bool, float]:
        rate = per_second / 1_000_000
        params = {"key": key, "cost": cost, "cap": capacity, "now": now_us, "rate": rate,
                  "idle": now_us + int(capacity / rate) + 1}
        with self._unsynced_write() as conn:
            row = conn.execute(_TAKE, params).fetchone()
        return bool(row[0]), float(row[1])

    def purge_buckets(self, now_us: int) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM rate_buckets WHERE idle_until_us < ?", (now_us,)).rowcount

    # -- poll history --------------------------------------------------------------------------------------

    def add_poll(self, record: PollRecord) -> None:
        # A read is answered before it is recorded; it must not then wait seconds for a write lock another
        # request holds. If the lock does not come within 250 ms the record is dropped and logged instead.
        with self._unsynced_write(busy_ms=250) as conn:
            conn.execute("INSERT INTO polls (at_us, org_id, doc) VALUES (?,?,?)",
                         (record.at_us, record.org_id, orjson.dumps(dataclasses.asdict(record))))

    def list_polls(self, org_id: str | None, since_us: int | None, limit: int) -> list[PollRecord]:
        sql = "SELECT doc FROM polls WHERE at_us >= ?"
        params: list[object] = [since_us if since_us is not None else -1]
        if org_id is not None:
            sql += " AND org_id = ?"
            params.append(org_id)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY seq DESC LIMIT ?", (*params, limit)).fetchall()
        return [PollRecord(**orjson.loads(r[0])) for r in rows]

    def prune_polls(self, org_id: str, keep: int, older_than_us: int) -> int:
        with self._write() as conn:
            gone = conn.execute("DELETE FROM polls WHERE at_us < ?", (older_than_us,)).rowcount
            gone += conn.execute(
                "DELETE FROM polls WHERE org_id = ? AND seq <= "
                "(SELECT seq FROM polls WHERE org_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (org_id, org_id, keep),
            ).rowcount
        return gone

    def newest_date_added(self, scope: ObjectScope) -> int | None:
        with self._read() as conn:
            return newest_date_added(conn, scope)
