"""SQLite only: a correlation batch commits without an fsync (it can be derived again from the queue), and
every other write on the same connection stays fully synchronous, also after a batch that failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.storage.sqlite import SQLiteStore

NORMAL, FULL = 1, 2


def _level(store: SQLiteStore) -> int:
    with store._read() as conn:
        return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def test_a_correlation_batch_alone_commits_without_waiting_for_the_disk(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    assert _level(store) == FULL
    with store.correlation_batch():
        assert _level(store) == NORMAL
        store.enqueue_correlation(["s:x"], 1)
    assert _level(store) == FULL
    with pytest.raises(RuntimeError), store.correlation_batch():
        raise RuntimeError("a job failed")
    assert _level(store) == FULL
    assert store.correlation_backlog() == (1, 1)
    store.close()
