"""A published campaign as the members' products receive it: block-lists, CSV with the campaign's name, a MISP
event per publication with its TLP; and the same through `taxii-hub feeds` (no way around the access rules)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pymisp import MISPEvent

from taxii_server.cli import main
from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, principal, submit_campaign
from tests.support.mispcheck import cli_context

ANALYST = principal("hub-analyst")


@pytest.fixture
def published(demo_hub: DemoHub) -> dict[str, Any]:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Invoice campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
    body: dict[str, Any] = response.json
    return body


def feed(hub: DemoHub, org: str, resource: str) -> Any:
    return hub.client().get(f"/hub/v1/feeds/member-feed/{resource}", headers=hub.auth(org))


def run(hub: DemoHub, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(hub.config_path), *args], obj=cli_context())


def test_every_member_gets_the_campaigns_indicators_with_its_name(demo_hub: DemoHub,
                                                                   published: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(feed(demo_hub, "higashi-gas", "indicators.csv").data.decode(),
                                           newline="")))
    assert rows and {r["campaign"] for r in rows} == {"Invoice campaign"}
    assert {r["tlp"] for r in rows} == {"amber"} and {r["state"] for r in rows} == {"active"}
    assert feed(demo_hub, "kita-heavy", "indicators.csv").data == feed(demo_hub, "higashi-gas", "indicators.csv").data


def test_the_publication_is_one_misp_event_with_its_tlp(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    manifest = json.loads(feed(demo_hub, "nishi-chem", "misp/manifest.json").data)
    (report,) = [o for o in published["objects"] if o.startswith("report--")]
    event = MISPEvent()
    event.load(feed(demo_hub, "nishi-chem", f"misp/{report.split('--')[1]}.json").data.decode())
    assert report.split("--")[1] in manifest
    assert [t.name for t in event.tags] == ["tlp:amber"] and event.attributes
    assert all(a.to_ids for a in event.attributes)


def test_a_revocation_removes_the_value_on_the_next_fetch(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    rows = list(csv.DictReader(io.StringIO(feed(demo_hub, "chuo-oil", "indicators.csv").data.decode(), newline="")))
    first = feed(demo_hub, "chuo-oil", "indicators.csv").headers["ETag"]
    revoked = demo_hub.api("POST", "/revocations", "hub-analyst", {"id": rows[0]["stix_id"], "reason": "benign"})
    assert revoked.status_code == 200, revoked.data
    after = feed(demo_hub, "chuo-oil", "indicators.csv")
    assert after.headers["ETag"] != first
    assert rows[0]["stix_id"] not in after.data.decode()


def test_the_cli_lists_and_writes_feeds_as_the_organisation(demo_hub: DemoHub, published: dict[str, Any],
                                                            tmp_path: Path) -> None:
    demo_hub.store.close()
    listed = run(demo_hub, "feeds", "list", "--as", "kita-heavy", "--json")
    assert listed.exit_code == 0, listed.output
    (member_feed,) = [f for f in json.loads(listed.stdout) if f["collection"] == MEMBER_FEED]
    assert "/hub/v1/feeds/member-feed/domain.txt" in member_feed["feeds"]
    out = tmp_path / "indicators.csv"
    written = run(demo_hub, "feeds", "get", "member-feed", "indicators.csv", "--as", "kita-heavy", "-o", str(out))
    assert written.exit_code == 0, written.output
    assert out.read_bytes() == feed(demo_hub, "kita-heavy", "indicators.csv").data
    misp = tmp_path / "misp"
    assert run(demo_hub, "feeds", "get", "member-feed", "misp", "--as", "kita-heavy", "-o", str(misp)).exit_code == 0
    manifest = json.loads((misp / "manifest.json").read_bytes())
    assert {p.stem for p in misp.glob("*-*.json")} == set(manifest) and (misp / "hashes.csv").read_text()


def test_the_cli_refuses_a_collection_the_organisation_cannot_see_like_http(demo_hub: DemoHub,
                                                                              tmp_path: Path) -> None:
    demo_hub.store.close()
    result = run(demo_hub, "feeds", "get", "analyst-workbench", "domain.txt", "--as", "kita-heavy",
                 "-o", str(tmp_path / "x.txt"))
    assert result.exit_code == 1 and result.stderr.strip() == "taxii-hub: no such collection in this API root"
    assert not (tmp_path / "x.txt").exists()
    missing = run(demo_hub, "feeds", "get", "member-feed", "domain.txt", "-o", str(tmp_path / "y.txt"))
    assert missing.exit_code != 0 and "--as ORG is required" in missing.output
