"""Feed fetches counted in a worker's memory reach the poll history when the worker stops (atexit), long
before `poll_feed_flush_seconds` would have passed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.hubtest import C_RW
from tests.support.serverproc import build_hub, run_cli, start_server

pytestmark = pytest.mark.slow


def test_a_stopping_worker_writes_the_feed_fetches_it_counted(tmp_path: Path) -> None:
    hub = build_hub(tmp_path, ("alice",))
    assert hub.config.read_text().rstrip().endswith("enabled = false")  # the [limits] table comes last
    with hub.config.open("a") as config:
        config.write("poll_feed_flush_seconds = 3600\n")  # only the worker's exit can write them here
    server = start_server(hub, workers=1)
    try:
        for _ in range(3):
            assert server.request("GET", f"/hub/v1/feeds/{C_RW}/domain.txt", "alice",
                                  headers={"Accept": "*/*"}).status == 200
    finally:
        server.stop()
    history = json.loads(run_cli(hub.config, "polls", "--json").stdout)
    feed = [p for p in history["polls"] if p["endpoint"] == "feed:domain.txt"]
    assert [(p["organisation"], p["status"], p["count"]) for p in feed] == [("alice", 200, 3)], server.log()
