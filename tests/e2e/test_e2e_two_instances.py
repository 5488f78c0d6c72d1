"""Two `taxii-hub serve` processes (2 gunicorn workers each) on one store behave as one service: nothing that
must be shared lives in process memory. `next` tokens, statuses and `added_after` polls cross instances.

Both instances are built from one hub directory (serverproc.build_hub: the CLI, TLS with the generated CA) and
listen on 127.0.0.1 only; the fixture stops both whatever happens.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.hubtest import MT, indicator
from tests.support.serverproc import FEED, FEEDER, STREAM, HubServer, build_hub, start_server

pytestmark = pytest.mark.slow

OBJECTS = 1000
POST_BATCH = 100
PAGE = 50
INGEST_BATCHES = 15
INGEST_BATCH = 10
BUDGET_S = 60.0


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, HubServer]]:
    hub = build_hub(Path(tmp_path_factory.mktemp("two-instances")))
    running: list[HubServer] = []
    try:
        running.append(start_server(hub, workers=2))
        running.append(start_server(hub, workers=2))
        yield running[0], running[1]
    finally:
        for server in running:
            server.stop()


def post(server: HubServer, collection: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    with server.session(FEEDER) as session:
        response = session.post(server.url(server.collection_path(collection, "objects/")),
                                json={"objects": objects}, headers={"Content-Type": MT}, timeout=15)
    assert response.status_code == 202, response.text
    status: dict[str, Any] = response.json()
    assert status["status"] == "complete" and status["failure_count"] == 0, status
    return status


def get(server: HubServer, path: str, params: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any]:
    with server.session(FEEDER) as session:
        response = session.get(server.url(path), params=params, timeout=15)
    assert response.status_code == 200, (server.port, path, response.status_code, response.text)
    return response.json(), response.headers


def test_a_status_created_on_one_instance_is_read_from_the_other(instances: tuple[HubServer, HubServer]) -> None:
    a, b = instances
    status = post(a, STREAM, [indicator()])
    body, _ = get(b, f"/api1/status/{status['id']}/")
    assert body == status


def test_a_collection_is_walked_with_next_tokens_alternating_between_instances(
    instances: tuple[HubServer, HubServer],
) -> None:
    started = time.monotonic()
    a, b = instances
    posted: list[str] = []
    for n in range(OBJECTS // POST_BATCH):  # the writes alternate too
        posted += [s["id"] for s in post((a, b)[n % 2], FEED, [indicator() for _ in range(POST_BATCH)])["successes"]]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": PAGE}
    for request in range(2 * OBJECTS // PAGE):
        page, _ = get((a, b)[request % 2], a.collection_path(FEED, "objects/"), params)
        seen += [o["id"] for o in page.get("objects", [])]
        if not page.get("more"):
            break
        params["next"] = page["next"]
    assert Counter(seen) == Counter(posted) and len(seen) == OBJECTS
    assert time.monotonic() - started < BUDGET_S


def test_a_poller_on_one_instance_sees_every_object_the_other_ingests_exactly_once(
    instances: tuple[HubServer, HubServer],
) -> None:
    started = time.monotonic()
    reader, writer = instances
    _, headers = get(reader, reader.collection_path(STREAM, "objects/"))
    last = headers.get("X-TAXII-Date-Added-Last")

    def ingest() -> list[str]:
        committed: list[str] = []
        for _ in range(INGEST_BATCHES):
            status = post(writer, STREAM, [indicator() for _ in range(INGEST_BATCH)])
            committed += [s["id"] for s in status["successes"]]
        return committed

    seen: list[str] = []
    polls_while_writing = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        writing = pool.submit(ingest)
        while True:
            assert time.monotonic() - started < BUDGET_S, "polling took too long"
            done = writing.done()  # decided before the poll, so the last poll sees every write
            params = {"limit": 20, **({"added_after": last} if last else {})}
            page, headers = get(reader, reader.collection_path(STREAM, "objects/"), params)
            new = [o["id"] for o in page.get("objects", [])]
            seen += new
            last = headers.get("X-TAXII-Date-Added-Last", last)
            polls_while_writing += not done
            if done and not new:
                break
        committed = writing.result()
    assert [i for i, times in Counter(seen).items() if times > 1] == []
    assert set(seen) == set(committed) and len(committed) == INGEST_BATCHES * INGEST_BATCH
    assert polls_while_writing >= 2, "the reader should have polled while the other instance ingested"
