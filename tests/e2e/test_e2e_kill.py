"""FAULT-01 (spec/security.md §3.1, §5): SIGKILL during ingestion loses nothing that was acknowledged.

A client posts envelopes to a real `taxii-hub serve` (gunicorn, 2 workers, TLS) and records every 202. At a
random moment of each round a worker, or the master with its whole process group, gets SIGKILL; a killed
service is started again. Afterwards every acknowledged object and status is there, complete; every envelope
is stored entirely or not at all (none is torn); and SQLite's `PRAGMA integrity_check` says ok.

The seed is printed in the assertion messages, so a failing run can be repeated.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.hubtest import MT, ROOT
from tests.support.serverproc import FEEDER, HOST, SCRATCH, HubServer, basic, build_hub, start_server

pytestmark = pytest.mark.slow

ROUNDS = 10
ENVELOPE_SIZE = 10
BUDGET_S = 90.0  # a bound for the whole test on a slow machine; it normally takes well under a minute


@dataclass
class Acknowledged:
    statuses: dict[str, list[str]] = field(default_factory=dict)  # status id -> object ids
    envelopes: dict[str, list[str]] = field(default_factory=dict)  # envelope label -> object ids (sent)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _envelope(label: str) -> tuple[bytes, list[str]]:
    ids = [f"indicator--{uuid.uuid4()}" for _ in range(ENVELOPE_SIZE)]
    objects = [{
        "type": "indicator", "spec_version": "2.1", "id": i, "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z", "name": label, "pattern_type": "stix",
        "pattern": f"[ipv4-addr:value = '198.51.100.{n}']", "valid_from": "2024-01-01T00:00:00Z",
    } for n, i in enumerate(ids)]
    return json.dumps({"objects": objects}).encode(), ids


def _post(server: HubServer, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPSConnection(HOST, server.port, context=server.tls_context(), timeout=5)
    try:
        conn.request("POST", f"/{ROOT}/collections/{SCRATCH}/objects/", body=body, headers={
            "Accept": MT, "Content-Type": MT, "Authorization": basic(FEEDER, server.keys[FEEDER])})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _client(server: HubServer, acked: Acknowledged, stop: threading.Event) -> None:
    """Post envelopes until told to stop; record what was sent and what was acknowledged."""
    for _ in range(100_000):
        if stop.is_set():
            return
        label = f"envelope-{uuid.uuid4()}"
        body, ids = _envelope(label)
        with acked.lock:
            acked.envelopes[label] = ids
        try:
            status, reply = _post(server, body)
        except (OSError, http.client.HTTPException):
            time.sleep(0.02)  # the service is down or restarting
            continue
        if status == 202:
            doc = json.loads(reply)
            assert doc["success_count"] == ENVELOPE_SIZE, doc
            with acked.lock:
                acked.statuses[doc["id"]] = [s["id"] for s in doc["successes"]]


def _kill(server: HubServer, rng: random.Random) -> bool:
    """SIGKILL one worker, or the master and its workers; True when the whole service is gone."""
    workers = sorted(server.workers())
    if workers and rng.random() < 0.6:
        os.kill(rng.choice(workers), signal.SIGKILL)
        return False
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    return True


def _read_all(server: HubServer, path: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    query = "?limit=1000"
    for _ in range(1000):
        reply = server.request("GET", path + query, FEEDER)
        assert reply.status == 200, reply.body
        doc = reply.json()
        found += doc.get("objects", [])
        if not doc.get("more"):
            return found
        query = f"?limit=1000&next={doc['next']}"
    raise AssertionError("paging did not end")


def test_fault_01_sigkill_during_ingestion_loses_no_acknowledged_envelope(tmp_path: Path) -> None:
    seed = random.randrange(1 << 32)
    rng = random.Random(seed)
    started = time.monotonic()
    hub = build_hub(tmp_path, orgs=(FEEDER,))  # the one organisation this test writes and reads as
    server = start_server(hub, workers=2, probe_org=FEEDER)
    acked = Acknowledged()
    kills = {"worker": 0, "service": 0}
    try:
        for _ in range(ROUNDS):
            assert time.monotonic() - started < BUDGET_S, f"over budget (seed {seed})"
            stop = threading.Event()
            client = threading.Thread(target=_client, args=(server, acked, stop), daemon=True)
            client.start()
            time.sleep(rng.uniform(0.1, 0.8))
            whole = _kill(server, rng)
            kills["service" if whole else "worker"] += 1
            time.sleep(0.2)
            stop.set()
            client.join(15)
            assert not client.is_alive(), f"the client hung (seed {seed})"
            if whole:
                server = start_server(hub, workers=2, probe_org=FEEDER)
        stored = _read_all(server, f"/{ROOT}/collections/{SCRATCH}/objects/")
        by_label: dict[str, set[str]] = {}
        for obj in stored:
            by_label.setdefault(str(obj["name"]), set()).add(str(obj["id"]))
        stored_ids = {str(o["id"]) for o in stored}
        acknowledged_ids = {i for ids in acked.statuses.values() for i in ids}
        assert acknowledged_ids, f"no envelope was acknowledged (seed {seed})"
        assert acknowledged_ids <= stored_ids, f"acknowledged objects lost (seed {seed}, kills {kills})"
        torn = {label: len(ids) for label, ids in by_label.items() if len(ids) != ENVELOPE_SIZE}
        assert torn == {}, f"torn envelopes (seed {seed})"
        assert set(by_label) <= set(acked.envelopes), "objects nobody sent"
        for status_id, ids in acked.statuses.items():
            reply = server.request("GET", f"/{ROOT}/status/{status_id}/", FEEDER)
            assert reply.status == 200, f"acknowledged status {status_id} lost (seed {seed})"
            status = reply.json()
            assert status["status"] == "complete" and status["pending_count"] == 0
            assert sorted(s["id"] for s in status["successes"]) == sorted(ids)
    finally:
        server.stop()
    database = hub.root / "var" / "hub.sqlite3"
    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert sum(kills.values()) == ROUNDS
