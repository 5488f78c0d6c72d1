"""Each SQLite connection reads the database through a memory map (the OS's shared page cache) and keeps the
durability settings of the hub's records."""

from __future__ import annotations

from pathlib import Path

from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.storage.sqlite_connection import MMAP_BYTES


def test_a_connection_maps_the_database_and_commits_durably(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    conn = store._conn()
    assert conn.execute("PRAGMA mmap_size").fetchone()[0] == MMAP_BYTES
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
