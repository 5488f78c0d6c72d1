"""The correlation worker checkpoints the SQLite WAL when it finds the queue empty (a job's own commit leaves
it, up to ten times SQLite's usual WAL size), so that neither a job nor a member's request waits for it."""

from __future__ import annotations

import time
from pathlib import Path

from taxii_server.hub.correlation import Policy, postings_for
from taxii_server.hub.correlation_worker import CorrelationWorker
from taxii_server.hub.correlator import Correlator
from taxii_server.model import Submission, SubmissionContent
from taxii_server.storage.sqlite import SQLiteStore


def _submission(n: int) -> Submission:
    return Submission(f"s{n:04d}", f"org-{n % 3}", n, "http", "application/json", "converted", "amber",
                      content_sha256=f"d{n}", first_seen_us=n, last_seen_us=n,
                      features=(("c2-domain", "c2.example"), ("sender-address", f"x{n}@evil.example")))


def test_the_worker_checkpoints_once_the_queue_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    store = SQLiteStore(path)
    store.initialise()
    with store._read() as conn:  # the submissions' own commits must not checkpoint either, for this test
        conn.execute("PRAGMA wal_autocheckpoint = 0")
    for n in range(20):  # about 500 WAL pages: below any automatic checkpoint
        s = _submission(n)
        store.add_submission_once(s, SubmissionContent(b"x" * 100_000, b"[]", b"{}"), postings_for(s), n)
    before = path.stat().st_size
    worker = CorrelationWorker(Correlator(store, Policy()), idle_seconds=0.01)
    thread = worker.start_thread()
    try:
        deadline = time.monotonic() + 30
        while path.stat().st_size < before + 1_500_000 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop.set()
        thread.join(10)
    assert store.correlation_backlog()[0] == 0
    assert path.stat().st_size >= before + 1_500_000  # the reports' pages copied from the WAL
    store.close()
