"""Paging while other members write (checklist K2, K5, K9): nothing committed is lost or delivered twice.

Two writer threads POST batches and single objects to the collection STREAM while a reader first walks it
with `next` pages and then polls with `added_after=<X-TAXII-Date-Added-Last>` until the writers are done and
one last poll comes back empty. Every request uses a fresh connection, so both gunicorn workers serve pages
and accept `next` tokens the other issued. What counts as committed are the ids in the writers' statuses.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.hubtest import MT, indicator
from tests.support.serverproc import FEEDER, STREAM, HubServer

pytestmark = pytest.mark.slow

SEED = 30
BATCHES_PER_WRITER = 10
BATCH = 25
SINGLES = 20
PAGE = 10
BUDGET_S = 30.0
MAX_REQUESTS = 2000


def post(server: HubServer, objects: list[dict[str, Any]]) -> list[str]:
    """POST on a fresh connection; the ids the status reports as added."""
    with server.session(FEEDER) as session:
        response = session.post(server.url(server.collection_path(STREAM, "objects/")), json={"objects": objects},
                                headers={"Content-Type": MT}, timeout=10)
    assert response.status_code == 202, response.text
    status = response.json()
    assert status["status"] == "complete" and status["failure_count"] == 0, status
    return [s["id"] for s in status["successes"]]


def batch_writer(server: HubServer) -> list[str]:
    committed: list[str] = []
    for _ in range(BATCHES_PER_WRITER):
        committed += post(server, [indicator() for _ in range(BATCH)])
    return committed


def mixed_writer(server: HubServer) -> list[str]:
    committed: list[str] = []
    for n in range(BATCHES_PER_WRITER):
        committed += post(server, [indicator() for _ in range(BATCH)])
        for _ in range(SINGLES // BATCHES_PER_WRITER):
            committed += post(server, [indicator(name=f"single after batch {n}")])
    return committed


class Reader:
    """Walks one query through its `next` pages, one fresh connection per page, and counts its requests."""

    def __init__(self, server: HubServer, writing: Callable[[], bool]) -> None:
        self.server = server
        self.writing = writing
        self.requests = 0
        self.requests_while_writing = 0

    def walk(self, added_after: str | None) -> tuple[list[str], str | None]:
        """The ids of every page and the X-TAXII-Date-Added-Last of the last non-empty page."""
        params: dict[str, str | int] = {"limit": PAGE}
        if added_after is not None:
            params["added_after"] = added_after
        ids: list[str] = []
        last: str | None = None
        while True:
            assert self.requests < MAX_REQUESTS, "the reader never caught up"
            self.requests += 1
            self.requests_while_writing += self.writing()
            with self.server.session(FEEDER) as session:
                response = session.get(self.server.url(self.server.collection_path(STREAM, "objects/")),
                                       params=params, timeout=10)
            assert response.status_code == 200, response.text
            page = response.json()
            if page.get("objects"):
                ids += [o["id"] for o in page["objects"]]
                last = response.headers["X-TAXII-Date-Added-Last"]
            if not page.get("more"):
                return ids, last
            params["next"] = page["next"]


def test_every_committed_object_is_seen_exactly_once_while_writers_write(server: HubServer) -> None:
    started = time.monotonic()
    seeded = post(server, [indicator() for _ in range(SEED)])
    with ThreadPoolExecutor(max_workers=2) as pool:
        writers: list[Future[list[str]]] = [pool.submit(batch_writer, server), pool.submit(mixed_writer, server)]
        reader = Reader(server, lambda: not all(w.done() for w in writers))
        seen, last = reader.walk(None)
        while True:
            assert time.monotonic() - started < BUDGET_S, "paging under writes took too long"
            done = all(w.done() for w in writers)  # decided before the poll, so the poll sees every write
            new, newest = reader.walk(last)
            seen += new
            last = newest or last
            if done and not new:
                break
        committed = seeded + [object_id for w in writers for object_id in w.result()]

    assert len(committed) == SEED + 2 * BATCHES_PER_WRITER * BATCH + SINGLES
    assert [object_id for object_id, times in Counter(seen).items() if times > 1] == []
    assert set(seen) == set(committed)
    assert reader.requests_while_writing >= 3, "the reader should have paged while the writers wrote"
