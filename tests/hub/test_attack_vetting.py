"""Attack: an analyst walks around vetting by writing straight into a collection members read over TAXII —
no approval, no leak check, no audit entry. And a member's own direct write into a shared collection goes
unrecorded. Each door is closed or recorded."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.support.hubflow import INBOX, MEMBER_FEED, SHIPPED_COLLECTIONS, WORKBENCH, DemoHub, drained, make_demo_hub
from tests.support.mispcheck import PUBLISHED

ENERGY = "631b1323-9a53-4503-a15e-28fffdde0436"
TAXII = "application/taxii+json;version=2.1"


def indicator(**extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
        "name": "C2 of the campaign", "pattern": "[domain-name:value = 'c2.attacker.example']",
        "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z", **extra,
    }


def post(hub: DemoHub, org: str, collection: str, objects: list[dict[str, Any]]) -> Any:
    return hub.client().post(f"/hub/collections/{collection}/objects/", data=orjson.dumps({"objects": objects}),
                             headers=hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))


def stored(hub: DemoHub, collection: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = hub.client().get(
        f"/hub/collections/{collection}/objects/", headers=hub.auth("hub-analyst", Accept=TAXII)).json.get(
        "objects", [])
    return found


def audit(hub: DemoHub, action: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = hub.api("GET", "/audit", "hub-admin").json.get("entries", [])
    return [e for e in entries if e["action"] == action]


# -- the two-person rule ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("collection", [MEMBER_FEED, ENERGY], ids=["member-feed", "energy"])
def test_with_the_two_person_rule_an_analysts_direct_write_where_members_read_is_403(
    two_person_hub: DemoHub, collection: str
) -> None:
    response = post(two_person_hub, "hub-analyst", collection, [indicator()])
    assert response.status_code == 403
    assert response.headers["Content-Type"] == TAXII
    assert "/hub/v1/publications" in response.json["description"]
    assert stored(two_person_hub, collection) == []


def test_with_the_two_person_rule_an_administrator_is_refused_too(two_person_hub: DemoHub) -> None:
    assert post(two_person_hub, "hub-admin", MEMBER_FEED, [indicator()]).status_code == 403


def test_with_the_two_person_rule_the_analysts_own_workbench_stays_writable(two_person_hub: DemoHub) -> None:
    assert post(two_person_hub, "hub-analyst", WORKBENCH, [indicator()]).status_code == 202


def test_with_the_two_person_rule_members_still_write_their_shared_collection(two_person_hub: DemoHub) -> None:
    response = post(two_person_hub, "higashi-gas", ENERGY, [indicator()])
    assert response.status_code == 202 and response.json["success_count"] == 1


@pytest.fixture
def opted_out(tmp_path: Path) -> Iterator[DemoHub]:
    """The shipped collections, with member-feed declaring `direct_writes = true`, and the two-person rule."""
    collections = tmp_path / "collections"
    shutil.copytree(SHIPPED_COLLECTIONS, collections)
    feed = collections / "member-feed.toml"
    feed.write_text(feed.read_text() + "direct_writes = true\n")
    built = make_demo_hub(tmp_path, "[hub]\ntwo_person_rule = true\n")
    config = built.config_path.read_text().replace(f'collections_dir = "{SHIPPED_COLLECTIONS}"',
                                                   f'collections_dir = "{collections}"')
    built.config_path.write_text(config)
    from taxii_server.app import create_app
    from taxii_server.settings import load_settings

    built.settings = load_settings(built.config_path, env={})
    built.app = create_app(built.settings, built.store, on_published=PUBLISHED)
    yield built
    built.store.close()


def test_a_collection_that_opts_out_takes_direct_writes_leak_checked_and_audited(opted_out: DemoHub) -> None:
    clean, leaking = indicator(), indicator(description="seen at Kita Heavy Industries (demo) first")
    response = post(opted_out, "hub-analyst", MEMBER_FEED, [clean, leaking])
    assert response.status_code == 202
    assert [s["id"] for s in response.json["successes"]] == [clean["id"]]
    assert [f["id"] for f in response.json["failures"]] == [leaking["id"]]
    [entry] = audit(opted_out, "direct-write")
    assert entry["actor"] == "hub-analyst" and entry["details"]["objects"] == [clean["id"]]
    assert post(opted_out, "hub-analyst", ENERGY, [indicator()]).status_code == 403  # energy did not opt out


# -- the leak check and the audit trail on direct writes ----------------------------------------------------------

@pytest.mark.parametrize("where", [
    {"description": "reported by kita-heavy"},
    {"name": "Higashi Gas (demo) phishing"},
    {"external_references": [{"source_name": "ticket", "description": "Chuo Oil (demo) case"}]},
], ids=["org-id", "org-name", "nested"])
def test_an_analysts_direct_write_into_the_member_feed_passes_the_leak_check(
    demo_hub: DemoHub, where: dict[str, Any]
) -> None:
    leaking, clean = indicator(**where), indicator()
    response = post(demo_hub, "hub-analyst", MEMBER_FEED, [leaking, clean])
    assert response.status_code == 202
    [failure] = response.json["failures"]
    assert failure["id"] == leaking["id"] and "leak check" in failure["message"]
    assert "Heavy Industries" not in failure["message"] and "Oil (demo)" not in failure["message"]
    assert [o["id"] for o in stored(demo_hub, MEMBER_FEED)] == [clean["id"]]


def test_an_analysts_direct_write_is_in_the_audit_trail(demo_hub: DemoHub) -> None:
    obj = indicator()
    assert post(demo_hub, "hub-analyst", MEMBER_FEED, [obj]).status_code == 202
    [entry] = audit(demo_hub, "direct-write")
    assert entry["actor"] == "hub-analyst" and entry["target"] == MEMBER_FEED
    assert entry["details"]["added"] == 1 and entry["details"]["objects"] == [obj["id"]]


def test_a_members_direct_write_into_a_shared_collection_is_its_audited_disclosure(demo_hub: DemoHub) -> None:
    obj = indicator(description="kita-heavy was hit too")  # a member may say what it wants, as itself
    response = post(demo_hub, "higashi-gas", ENERGY, [obj])
    assert response.status_code == 202 and response.json["success_count"] == 1
    [entry] = audit(demo_hub, "member-disclosure")
    assert entry["actor"] == "higashi-gas" and entry["details"]["objects"] == [obj["id"]]


def test_a_members_inbox_report_is_a_submission_not_a_disclosure(demo_hub: DemoHub) -> None:
    assert post(demo_hub, "higashi-gas", INBOX, [indicator()]).status_code == 202
    assert audit(demo_hub, "member-disclosure") == [] and len(audit(demo_hub, "submit")) == 1


def test_the_publishing_workflow_is_not_a_direct_write(two_person_hub: DemoHub) -> None:
    """The workflow's own writes (approved publications, revocations) go through; the analyst alone cannot."""
    from tests.support.hubflow import submit_campaign

    submit_campaign(two_person_hub)
    (candidate,) = drained(two_person_hub).services.campaigns.suggest(two_person_hub.store.get_organisation(
        "hub-analyst").principal())  # type: ignore[union-attr]
    requested = two_person_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert requested.status_code == 202 and stored(two_person_hub, MEMBER_FEED) == []
    approved = two_person_hub.api("POST", f"/publications/{requested.json['id']}/approval", "hub-approver")
    assert approved.status_code == 200, approved.data
    assert stored(two_person_hub, MEMBER_FEED)
    assert audit(two_person_hub, "direct-write") == []
