"""The poll history: every TAXII read is recorded with what it served; members see only their own polls,
analysts everyone's (`/hub/v1/polls`, `taxii-hub polls`); the lag behind publication; rotation."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
from click.testing import CliRunner

from taxii_server.cli import main
from taxii_server.hub.polls import PollHistory, PollRead
from taxii_server.model import Principal
from taxii_server.settings import LimitsSettings
from taxii_server.timestamps import format_us
from tests.support.hubtest import C_MISSING, C_RW, INBOX, ROOT, Hub, indicator, post_objects

OBJECTS = f"/{ROOT}/collections/{C_RW}/objects/"
ALICE = Principal("alice", "heavy-industry", frozenset({"member"}), "key-1")


def get_json(hub: Hub, org: str, path: str) -> Any:
    response = hub.client().get(path, headers={**hub.headers(org), "Accept": "application/json"})
    assert response.status_code == 200, response.data
    return orjson.loads(response.data)


def seed(hub: Hub, n: int = 3) -> list[dict[str, Any]]:
    objects = [indicator() for _ in range(n)]
    for obj in objects:  # one POST each: one date_added each
        assert post_objects(hub, "alice", C_RW, [obj]).status_code == 202
    return objects


def test_a_read_is_recorded_with_what_it_served(hub: Hub) -> None:
    seed(hub)
    page = hub.client().get(OBJECTS + "?limit=2", headers=hub.headers("alice"))
    [record] = hub.store.list_polls("alice", None, 10)
    assert (record.endpoint, record.status, record.objects, record.versions, record.more) == (
        "objects", 200, 2, 2, True)
    assert record.collection_id == C_RW and record.credential_id is not None
    assert record.first_added_us is not None and record.last_added_us is not None
    assert page.headers["X-TAXII-Date-Added-Last"] == format_us(record.last_added_us)


def test_every_read_endpoint_and_errors_are_recorded_but_not_writes(hub: Hub) -> None:
    [obj] = seed(hub, 1)
    client, headers = hub.client(), hub.headers("alice")
    for path in ("manifest/", f"objects/{obj['id']}/", f"objects/{obj['id']}/versions/", "objects/?limit=abc"):
        client.get(f"/{ROOT}/collections/{C_RW}/{path}", headers=headers)
    client.get(f"/{ROOT}/collections/{C_MISSING}/objects/", headers=headers)
    records = hub.store.list_polls("alice", None, 10)
    assert [(r.endpoint, r.status) for r in reversed(records)] == [
        ("manifest", 200), ("object", 200), ("versions", 200), ("objects", 400), ("objects", 404)]
    assert records[2].object_id == obj["id"] and records[2].objects == 1


def test_unidentified_requests_are_not_in_the_history(hub: Hub) -> None:
    hub.client().get(OBJECTS, headers={"Accept": hub.headers(None)["Accept"]})
    assert hub.store.list_polls(None, None, 10) == []


def test_a_member_sees_only_its_own_polls_and_another_organisation_is_like_none(hub: Hub) -> None:
    seed(hub)
    hub.client().get(OBJECTS, headers=hub.headers("alice"))
    hub.client().get(OBJECTS, headers=hub.headers("reader"))
    mine = get_json(hub, "reader", "/hub/v1/polls")
    assert {p["organisation"] for p in mine["polls"]} == {"reader"}
    assert {c["organisation"] for c in mine["collections"]} == {"reader"}
    assert get_json(hub, "reader", "/hub/v1/polls?org=alice") == {}
    assert get_json(hub, "bob", "/hub/v1/polls") == get_json(hub, "bob", "/hub/v1/polls?org=no-such-org") == {}


def test_an_analyst_sees_every_organisation_or_one(hub: Hub) -> None:
    seed(hub)
    hub.client().get(OBJECTS, headers=hub.headers("alice"))
    hub.client().get(OBJECTS, headers=hub.headers("reader"))
    everyone = get_json(hub, "analyst", "/hub/v1/polls")
    assert {p["organisation"] for p in everyone["polls"]} == {"alice", "reader"}
    assert {p["organisation"] for p in get_json(hub, "analyst", "/hub/v1/polls?org=alice")["polls"]} == {"alice"}


def test_lag_is_the_newest_publication_minus_the_newest_received(hub: Hub) -> None:
    seed(hub, 3)
    headers = hub.headers("reader")
    hub.client().get(OBJECTS + "?limit=2", headers=headers)
    [behind] = get_json(hub, "reader", "/hub/v1/polls")["collections"]
    assert behind["lag_seconds"] > 0 and behind["withheld_by_tlp"] == 0
    assert behind["newest_available"] > behind["newest_received"]
    hub.client().get(OBJECTS, headers=headers)
    [caught_up] = get_json(hub, "reader", "/hub/v1/polls")["collections"]
    assert caught_up["lag_seconds"] == 0 and caught_up["polls"] == 2 and caught_up["errors"] == 0


def test_lag_in_an_inbox_counts_only_the_members_own_objects(hub: Hub) -> None:
    assert post_objects(hub, "alice", INBOX, [indicator()]).status_code == 202
    hub.client().get(f"/{ROOT}/collections/{INBOX}/objects/", headers=hub.headers("alice"))
    assert post_objects(hub, "bob", INBOX, [indicator()]).status_code == 202  # newer, but not alice's to see
    [summary] = get_json(hub, "alice", "/hub/v1/polls")["collections"]
    assert summary["lag_seconds"] == 0


def test_a_collection_the_member_cannot_read_shows_no_publication_times(hub: Hub) -> None:
    seed(hub)
    hub.client().get(OBJECTS, headers=hub.headers("bob"))  # 404 for bob
    [summary] = get_json(hub, "bob", "/hub/v1/polls")["collections"]
    assert summary["errors"] == 1 and summary["last_error"]["status"] == 404
    assert summary["newest_available"] is None and summary["lag_seconds"] is None


def test_the_history_is_rotated_per_organisation_and_by_age(hub: Hub) -> None:
    now = [1_700_000_000_000_000]
    history = PollHistory(hub.store, hub.app.extensions["taxii_hub"].feeds.catalog,
                          LimitsSettings(poll_history_per_org=5, poll_history_days=1), clock=lambda: now[0],
                          prune_every=1)
    for _ in range(12):
        history.record(ALICE, PollRead(ROOT, C_RW, "objects", 200))
        now[0] += 1
    assert len(hub.store.list_polls("alice", None, 100)) == 5
    now[0] += 2 * 24 * 3600 * 1_000_000
    history.record(Principal("bob", "gas", frozenset({"member"})), PollRead(ROOT, C_RW, "objects", 404))
    assert hub.store.list_polls("alice", None, 100) == []


def test_the_cli_shows_an_analyst_every_organisation_and_a_member_its_own(hub: Hub) -> None:
    seed(hub)
    hub.client().get(OBJECTS, headers=hub.headers("alice"))
    hub.client().get(OBJECTS, headers=hub.headers("reader"))

    def run(*args: str) -> Any:
        result = CliRunner().invoke(main, ["--config", str(hub.config_path), "polls", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert {p["organisation"] for p in json.loads(run("--json"))["polls"]} == {"alice", "reader"}
    assert {p["organisation"] for p in json.loads(run("--json", "--org", "reader"))["polls"]} == {"reader"}
    assert {p["organisation"] for p in json.loads(run("--json", "--as", "alice"))["polls"]} == {"alice"}
    assert json.loads(run("--json", "--as", "alice", "--org", "reader")) == {"collections": [], "polls": []}
    assert "reader" in run() and "lag" in run()


def test_one_row_per_collection_whether_the_client_used_its_alias_or_its_id(hub: Hub) -> None:
    seed(hub, 1)
    for name in (C_RW, "rw"):
        assert hub.client().get(f"/{ROOT}/collections/{name}/objects/", headers=hub.headers("alice")).status_code == 200
    assert {r.collection_id for r in hub.store.list_polls("alice", None, 10)} == {C_RW}
    [row] = get_json(hub, "alice", "/hub/v1/polls")["collections"]
    assert (row["collection"], row["polls"]) == (C_RW, 2)


def test_a_refused_read_keeps_its_reason_in_the_members_words(hub: Hub) -> None:
    seed(hub, 1)
    hub.client().get(OBJECTS + "?limit=abc", headers=hub.headers("alice"))
    [poll] = get_json(hub, "alice", "/hub/v1/polls")["polls"]
    assert poll["status"] == 400 and poll["reason"] == "query parameter limit: 'abc' is not a positive integer"
    [row] = get_json(hub, "alice", "/hub/v1/polls")["collections"]
    assert row["last_error"]["reason"] == poll["reason"]


def test_a_read_of_a_collection_the_member_cannot_see_records_no_name_at_all(hub: Hub) -> None:
    """bob sees nothing of C_RW: the record names nothing that was refused (neither the alias it used nor the
    id), and the reason is the plain 404."""
    hub.client().get(f"/{ROOT}/collections/rw/objects/", headers=hub.headers("bob"))
    [record] = hub.store.list_polls("bob", None, 10)
    assert record.collection_id == "" and record.api_root == "" and C_RW not in record.reason
    assert record.status == 404 and record.reason == "no such collection in this API root"


def _history(hub: Hub, flush_s: int, now: list[int]) -> PollHistory:
    return PollHistory(hub.store, hub.app.extensions["taxii_hub"].feeds.catalog,
                       LimitsSettings(poll_feed_flush_seconds=flush_s), clock=lambda: now[0])


def test_feed_fetches_are_counted_and_written_together_at_a_flush(hub: Hub) -> None:
    now = [1_700_000_000_000_000]
    history = _history(hub, 3600, now)
    try:
        for n in range(3):
            history.record(ALICE, PollRead(ROOT, C_RW, "feed:domain.txt", 200, served=(10 + n, 5)))
            now[0] += 1_000_000
        history.record(ALICE, PollRead(ROOT, C_RW, "feed:domain.txt", 304, served=(0, 5)))
        history.record(ALICE, PollRead(ROOT, C_RW, "objects", 200))  # a TAXII read: written at once
        assert [r.endpoint for r in hub.store.list_polls("alice", None, 10)] == ["objects"]
        assert history.flush() == 2
        records = {r.status: r for r in hub.store.list_polls("alice", None, 10) if r.endpoint.startswith("feed:")}
        fetched = records[200]
        assert (fetched.count, fetched.first_at_us, fetched.at_us) == (3, 1_700_000_000_000_000,
                                                                       1_700_000_002_000_000)
        assert (fetched.objects, fetched.last_added_us, fetched.collection_id) == (12, 5, C_RW)  # the last one's
        assert records[304].count == 1 and history.flush() == 0
        [summary] = history.summary(ALICE)
        assert summary.polls == 5  # three 200s, one 304, one TAXII read
    finally:
        history.close()


def test_the_background_step_writes_counted_fetches_within_the_interval(hub: Hub) -> None:
    history = _history(hub, 1, [1_700_000_000_000_000])
    try:
        history.record(ALICE, PollRead(ROOT, C_RW, "feed:indicators.csv", 200, served=(1, None)))
        history.record(ALICE, PollRead(ROOT, C_RW, "feed:indicators.csv", 200, served=(1, None)))
        deadline = time.monotonic() + 10
        while not hub.store.list_polls("alice", None, 10) and time.monotonic() < deadline:
            time.sleep(0.05)
        [record] = hub.store.list_polls("alice", None, 10)
        assert (record.endpoint, record.count) == ("feed:indicators.csv", 2)
    finally:
        history.close()


def test_with_no_interval_each_feed_fetch_is_written_as_it_is_answered(hub: Hub) -> None:
    history = _history(hub, 0, [1_700_000_000_000_000])
    history.record(ALICE, PollRead(ROOT, C_RW, "feed:domain.txt", 200, served=(1, None)))
    [record] = hub.store.list_polls("alice", None, 10)
    assert record.count == 1 and record.first_at_us is None


def test_repeated_feed_fetches_over_http_show_as_one_counted_record(hub: Hub) -> None:
    seed(hub, 1)
    for _ in range(3):
        assert hub.client().get("/hub/v1/feeds/rw/domain.txt", headers=hub.headers("alice")).status_code == 200
    feed = [p for p in get_json(hub, "alice", "/hub/v1/polls")["polls"] if p["endpoint"] == "feed:domain.txt"]
    assert [(p["status"], p["count"]) for p in feed] == [(200, 3)] and feed[0]["first_at"] <= feed[0]["at"]
    summary = get_json(hub, "alice", "/hub/v1/polls")["collections"]
    assert [(c["collection"], c["polls"]) for c in summary] == [(C_RW, 3)]
