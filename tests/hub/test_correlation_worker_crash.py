"""A real `taxii-hub worker` killed with SIGKILL while it works through a queue, then started again: no job is
lost, none runs twice to a different result, and the candidates end exactly as `taxii-hub campaigns rebuild`
computes them (architecture: the correlation step is idempotent and restartable after a crash).

The worker is killed as soon as its first transaction is seen committed (the queue shrank) and while jobs
remain, so it is in the middle of its work: on SQLite each batch of jobs, their removal from the queue and the
correlation lease are one transaction, which the kill rolls back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.support.hubflow import MEMBERS, DemoHub, attachment, make_demo_hub, record

CLI = Path(sys.executable).parent / "taxii-hub"
REPORTS = 96
DEADLINE_S = 90.0

pytestmark = pytest.mark.slow


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def queue_reports(hub: DemoHub) -> list[str]:
    """Reports from every member that share senders, attachments and subjects in overlapping groups, so the
    jobs build, grow and join candidates."""
    ids = []
    for n in range(REPORTS):
        org = MEMBERS[n % len(MEMBERS)]
        sent = hub.submit_record(org, record(
            org, f"crash-{n}", sender=f"s{n // 3}@lure{n // 7}.example", subject=f"subject {n // 5}",
            sent_at=f"2024-05-{1 + n % 28:02d}T09:00:00Z", attachment=attachment(f"doc-{n // 4}")))
        assert sent.status_code == 202, sent.data
        ids.append(sent.json["id"])
    return ids


def cli(hub: DemoHub, *args: str, timeout: float = DEADLINE_S) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(CLI), "--config", str(hub.config_path), *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    return done


def candidate_docs(hub: DemoHub) -> list[dict[str, object]]:
    return sorted((orjson.loads(c.doc) for c in hub.store.list_candidates(None, 100_000)), key=lambda d: d["id"])


def kill_mid_work(hub: DemoHub, queued: int) -> int:
    """Start `taxii-hub worker`, SIGKILL it once its first batch is committed; the jobs still queued."""
    worker = subprocess.Popen([str(CLI), "--config", str(hub.config_path), "worker"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + DEADLINE_S
    try:
        while hub.store.correlation_backlog()[0] == queued:
            assert worker.poll() is None, "the worker stopped by itself"
            assert time.monotonic() < deadline, "the worker committed nothing in time"
            time.sleep(0.005)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    return hub.store.correlation_backlog()[0]


def test_a_worker_killed_mid_queue_and_restarted_ends_as_a_rebuild(hub: DemoHub) -> None:
    submissions = queue_reports(hub)
    assert hub.store.correlation_backlog()[0] == REPORTS
    left = kill_mid_work(hub, REPORTS)
    print(f"killed with {left} of {REPORTS} jobs queued")
    assert 0 < left < REPORTS, "killed while jobs remained, after at least one batch was committed"

    restarted = cli(hub, "worker", "--once")
    assert restarted.stdout.startswith(f"{left} correlation jobs") and "0 waiting" in restarted.stdout
    assert hub.store.correlation_backlog()[0] == 0

    incremental = candidate_docs(hub)
    assert incremental, "the reports form candidates"
    members = [sid for doc in incremental for sid in doc["submissions"]]  # type: ignore[attr-defined]
    assert len(members) == len(set(members)), "a report in two candidates"
    assert len({doc["id"] for doc in incremental}) == len(incremental)
    postings = hub.store.postings_of(submissions)
    assert all(p.live for p in postings), "a report whose job was lost"
    assert len({(p.submission_id, p.kind, p.value) for p in postings}) == len(postings)

    cli(hub, "campaigns", "rebuild")
    assert candidate_docs(hub) == incremental
