"""SQLite only: bucket and poll writes skip the fsync at commit, and leave the hub's own writes durable."""

from __future__ import annotations

from pathlib import Path

from taxii_server.model import PollRecord
from taxii_server.storage.sqlite import SQLiteStore

FULL = 2


def test_bucket_and_poll_writes_leave_the_connection_fully_synchronous(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    store.take_token("k", 1, 1.0, 5, 1)
    store.add_poll(PollRecord("p", 1, "org", None, "root", "c", "objects", 200))
    with store._read() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
    store.close()
