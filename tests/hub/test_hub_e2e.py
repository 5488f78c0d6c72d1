"""The hub workflow end to end over HTTP against a real `taxii-hub serve` (gunicorn, 2 workers, TLS) with the
shipped collections and the demo organisations: members submit, an analyst correlates and publishes, and
every member polls with taxii2-client.

Entitled members receive the campaign and its indicators; no served byte — objects, manifests, versions,
headers — names a reporter, its organisation, a victim address or a victim mail domain; a member outside a
target collection does not even see it; a revocation reaches an `added_after` poller.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.common import _HTTPConnection
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tests.support.hubflow import (
    CAMPAIGN_FILES,
    HEAVY_INDUSTRY,
    MEMBER_FEED,
    MEMBERS,
    ORG_NAMES,
    RECORDS,
    ROOT,
    load,
    write_config,
)
from tests.support.serverproc import HubDir, HubServer, client_environment, run_cli, start_server

pytestmark = pytest.mark.slow

REPORTERS = tuple(str(load(p)["reporter"]) for p in CAMPAIGN_FILES)


def _victim_values() -> set[str]:
    """Every victim address and victim mail domain in the campaign reports."""
    values: set[str] = set()
    for path in CAMPAIGN_FILES:
        for message in load(path)["messages"]:
            people = [message["from"]] if message["role"] == "reply" else [*message.get("to", []),
                                                                            *message.get("cc", [])]
            for person in people:
                values |= {person["address"], person["address"].split("@", 1)[1]}
    return values


PROTECTED = {*REPORTERS, *(ORG_NAMES[r] for r in REPORTERS), *_victim_values()}


@pytest.fixture(scope="module", autouse=True)
def clients_trust_only_the_hub() -> Iterator[None]:
    with client_environment():
        yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    root = tmp_path_factory.mktemp("hub-e2e")
    config = write_config(root / "hub.toml", root / "var")
    init = run_cli(config, "init", "--demo", "--json")
    assert init.returncode == 0, init.stderr
    created = json.loads(init.stdout)
    keys = {o["id"]: o["key"] for o in created["organisations"]}
    running = start_server(HubDir(root, config, Path(created["ca_cert"]), keys), workers=2, probe_org="hub-analyst")
    try:
        yield running
    finally:
        running.stop()


def api(server: HubServer, method: str, path: str, org: str, **kwargs: Any) -> requests.Response:
    session = server.session(org)
    session.headers["Accept"] = "application/json"
    with session:
        return session.request(method, server.url(f"/hub/v1{path}"), timeout=30, **kwargs)


@pytest.fixture(scope="module")
def published(server: HubServer) -> dict[str, Any]:
    """The five reports submitted by their reporters, correlated and published by an analyst."""
    for path in CAMPAIGN_FILES:
        response = api(server, "POST", "/submissions", str(load(path)["reporter"]), data=path.read_bytes(),
                       headers={"Content-Type": "application/json", "X-Filename": path.name})
        assert response.status_code == 202, response.text
    for name in ("case01-recon-burst.json", "case10-unrelated-phishing.json"):
        path = RECORDS / name
        assert api(server, "POST", "/submissions", str(load(path)["reporter"]), data=path.read_bytes(),
                   headers={"Content-Type": "application/json"}).status_code == 202
    deadline = time.monotonic() + 60  # the correlation thread of `serve` takes the reports in, off the requests
    while True:
        found = api(server, "GET", "/campaign-candidates", "hub-analyst")
        assert found.status_code == 200, found.text
        if found.json()["correlation"]["queued"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    (candidate,) = found.json()["candidates"]
    assert sorted(candidate["organisations"]) == sorted(REPORTERS)
    response = api(server, "POST", "/publications", "hub-analyst", json={
        "candidate": candidate["id"], "name": "技術資料送付の件 campaign", "tlp": "amber",
        "description": "One attacker wrote to five members within two weeks.",
        "collections": ["member-feed", "heavy-industry"]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class Recorder:
    """A taxii2-client connection that keeps every response it received: status line, headers, body."""

    def __init__(self, server: HubServer, org: str) -> None:
        self.conn = _HTTPConnection(org, server.keys[org], verify=server.ca_cert, version="2.1")
        self.conn.session.trust_env = False
        self.served: list[bytes] = []
        self.conn.session.hooks["response"].append(self._keep)

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.served.append(f"{response.status_code} {response.url}\n{headers}\n\n".encode() + response.content)

    def text(self) -> str:
        return b"\n".join(self.served).decode("utf-8").lower()


def poll(server: HubServer, org: str, collection_id: str) -> tuple[list[dict[str, Any]], Recorder]:
    """Everything a member's client fetches from a collection: objects (all pages), manifest, versions."""
    recorder = Recorder(server, org)
    collection = Collection(server.url(f"/{ROOT}/collections/{collection_id}/"), conn=recorder.conn)
    objects = [o for page in as_pages(collection.get_objects, per_request=40) for o in page.get("objects", [])]
    collection.get_manifest()
    for obj in objects:
        collection.object_versions(obj["id"])
    return objects, recorder


@pytest.mark.parametrize("org", MEMBERS)
def test_every_member_polls_the_campaign_and_its_indicators(
    server: HubServer, published: dict[str, Any], org: str
) -> None:
    objects, _ = poll(server, org, MEMBER_FEED)
    kinds = [o["type"] for o in objects]
    assert kinds.count("campaign") == 1 and kinds.count("indicator") >= 5
    assert {o["id"] for o in objects} == set(published["objects"])
    campaign = next(o for o in objects if o["type"] == "campaign")
    indicates = {o["source_ref"] for o in objects
                 if o["type"] == "relationship" and o["relationship_type"] == "indicates"
                 and o["target_ref"] == campaign["id"]}
    assert indicates == {o["id"] for o in objects if o["type"] == "indicator"}


@pytest.mark.parametrize("org", MEMBERS)
def test_no_served_byte_identifies_a_reporter_or_victim(
    server: HubServer, published: dict[str, Any], org: str
) -> None:
    recorder = Recorder(server, org)
    discovery = Server(server.url("/taxii2/"), conn=recorder.conn)
    for listed in discovery.api_roots:  # taxii2-client gives each API root a connection of its own
        for collection in ApiRoot(listed.url, conn=recorder.conn).collections:
            if collection.can_read:
                objects = [o for page in as_pages(collection.get_objects, per_request=50)
                           for o in page.get("objects", [])]
                collection.get_manifest()
                for obj in objects:
                    collection.object_versions(obj["id"])
                    collection.get_object(obj["id"])
    text = recorder.text()
    assert len(recorder.served) > 2 * len(published["objects"])
    leaked = sorted(value for value in PROTECTED if value.lower() in text)
    assert leaked == []


def test_a_member_outside_a_target_collection_does_not_see_it(server: HubServer, published: dict[str, Any]) -> None:
    assert HEAVY_INDUSTRY in published["collections"]
    entitled, _ = poll(server, "kita-heavy", HEAVY_INDUSTRY)
    assert {o["id"] for o in entitled} == set(published["objects"])
    recorder = Recorder(server, "higashi-gas")
    listed = ApiRoot(server.url(f"/{ROOT}/"), conn=recorder.conn).collections
    assert HEAVY_INDUSTRY not in {c.id for c in listed}
    with pytest.raises(requests.HTTPError) as refused:
        Collection(server.url(f"/{ROOT}/collections/{HEAVY_INDUSTRY}/"), conn=recorder.conn).get_objects()
    assert refused.value.response.status_code == 404
    reply = server.request("GET", f"/{ROOT}/collections/{HEAVY_INDUSTRY}/objects/", "higashi-gas")
    missing = server.request("GET", f"/{ROOT}/collections/00000000-0000-4000-8000-000000000000/objects/",
                             "higashi-gas")
    assert reply.status == missing.status == 404 and reply.body == missing.body


def test_a_member_sees_its_own_report_published_and_no_one_else(server: HubServer, published: dict[str, Any]) -> None:
    response = api(server, "GET", "/submissions", "higashi-gas")
    assert response.status_code == 200
    (view,) = response.json()["submissions"]
    assert view["status"] == "published" and view["publications"][0]["id"] == published["id"]
    text = response.text.lower()
    assert not [r for r in REPORTERS if r != "higashi-gas" and (r in text or ORG_NAMES[r].lower() in text)]


def test_a_revocation_reaches_an_added_after_poller(server: HubServer, published: dict[str, Any]) -> None:
    session = server.session("chuo-oil")
    path = server.url(f"/{ROOT}/collections/{MEMBER_FEED}/objects/")
    with session:
        first = session.get(path, timeout=30)
        assert first.status_code == 200
        last = first.headers["X-TAXII-Date-Added-Last"]
        indicator = sorted(o["id"] for o in first.json()["objects"] if o["type"] == "indicator")[0]
        revoked = api(server, "POST", "/revocations", "hub-analyst", json={"id": indicator, "reason": "e2e"})
        assert revoked.status_code == 200, revoked.text
        assert set(revoked.json()["revoked_in"]) == {MEMBER_FEED, HEAVY_INDUSTRY}
        after = session.get(path, params={"added_after": last}, timeout=30)
        assert after.status_code == 200
        assert [(o["id"], o["revoked"]) for o in after.json()["objects"]] == [(indicator, True)]
        versions = session.get(path + f"{indicator}/versions/", timeout=30).json()["versions"]
        assert len(versions) == 2


def test_init_with_samples_seeds_and_publishes_the_demo_campaign(tmp_path: Path) -> None:
    config = write_config(tmp_path / "hub.toml", tmp_path / "var")
    result = run_cli(config, "init", "--demo", "--samples", str(RECORDS), "--json")
    assert result.returncode == 0, result.stderr
    demo = json.loads(result.stdout)["demo"]
    assert demo["reports_submitted"] == len(list(RECORDS.glob("*.json"))) and demo["publication"]
    again = json.loads(run_cli(config, "init", "--demo", "--samples", str(RECORDS), "--json").stdout)["demo"]
    assert again == {"reports_submitted": 0, "already_there": len(list(RECORDS.glob("*.json"))),
                     "publication": demo["publication"], "published_now": False}
    human = run_cli(config, "init", "--demo", "--samples", str(RECORDS))
    assert "demo: the sample reports were already submitted" in human.stdout
    assert f"campaign was already publication {demo['publication']}" in human.stdout
    assert "0 sample reports" not in human.stdout
