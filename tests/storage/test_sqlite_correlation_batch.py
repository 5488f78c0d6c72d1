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


def test_a_batch_inside_a_transaction_is_part_of_it(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    with pytest.raises(RuntimeError), store.atomic():
        with store.correlation_batch():
            assert _level(store) == FULL  # the outer transaction's commit decides
            store.enqueue_correlation(["s:x"], 1)
        raise RuntimeError("the outer work failed")
    assert store.correlation_backlog() == (0, None)
    with store.atomic(), store.correlation_batch():
        store.enqueue_correlation(["s:x"], 1)
    assert store.correlation_backlog() == (1, 1)
    store.close()


def test_a_batch_leaves_the_checkpoint_to_the_idle_worker_up_to_ten_times_the_usual_wal(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    with store._read() as conn:
        usual = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    with store.correlation_batch(), store._read() as conn:
        assert int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == usual * 10
        conn.executemany("INSERT INTO corr_queue (job, enqueued_us) VALUES (?, ?)",
                         [("x" * 2000, n) for n in range(2000)])  # several thousand WAL pages
    with store._read() as conn:
        assert int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == usual
    database = tmp_path / "hub.sqlite3"
    before = database.stat().st_size
    assert before < 1_000_000  # the batch's commit did not checkpoint: its pages are still in the WAL only
    store.correlation_idle()
    assert database.stat().st_size > before + 3_000_000  # the idle worker copied them into the database
    store.close()
