"""TLP 2.0 in publishing: AMBER+STRICT reports stay with the hub, a publication never lowers a report's level,
a collection's ceiling holds, and a refusal writes nothing (no objects, no publication, no publish entry)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.hubflow import INBOX, MEMBER_FEED, WORKBENCH, DemoHub, attachment, principal, record

ANALYST = principal("hub-analyst")


def _submission(hub: DemoHub, level: str, org: str = "kita-heavy") -> str:
    rec = record(org, f"TLP-{level.replace('+', '-')}", sender="attacker@evil.example", subject="資料送付",
                 sent_at="2024-05-01T10:00:00+09:00", attachment=attachment(f"tlp-{level}"), tlp=level)
    response = hub.submit_record(org, rec)
    assert response.status_code == 202 and response.json["tlp"] == level, response.json
    assert response.json["status"] == "converted", response.json
    return str(response.json["id"])


def _publish(hub: DemoHub, submission: str, level: str, collection: str) -> Any:
    return hub.api("POST", "/publications", "hub-analyst", {
        "submissions": [submission], "name": "Single report", "tlp": level, "collections": [collection]})


def _nothing_written(hub: DemoHub, collection_id: str) -> None:
    objects = hub.taxii(f"collections/{collection_id}/objects/", "hub-analyst")
    assert objects.status_code == 200 and objects.json == {}
    assert hub.store.list_publications() == []
    assert "publish" not in [e.action for e in hub.services.audit.entries(ANALYST)]


@pytest.mark.parametrize("level", ["amber+strict", "red"])
def test_a_strict_report_cannot_be_published_to_the_member_feed(demo_hub: DemoHub, level: str) -> None:
    submission = _submission(demo_hub, level)
    response = _publish(demo_hub, submission, level, "member-feed")
    assert response.status_code == 422, response.data
    _nothing_written(demo_hub, MEMBER_FEED)


def test_a_strict_report_is_never_fanned_out_even_where_the_ceiling_allows(demo_hub: DemoHub) -> None:
    """The inbox takes TLP:RED, but every member may read it: AMBER+STRICT must still stay with the hub."""
    submission = _submission(demo_hub, "amber+strict")
    response = _publish(demo_hub, submission, "amber+strict", "inbox")
    assert response.status_code == 422, response.data
    assert "never fanned out" in response.json["description"]
    assert demo_hub.taxii(f"collections/{INBOX}/objects/", "hub-analyst").json == {}
    assert demo_hub.store.list_publications() == []


def test_a_strict_report_can_go_to_the_analyst_workbench(demo_hub: DemoHub) -> None:
    submission = _submission(demo_hub, "amber+strict")
    response = _publish(demo_hub, submission, "amber+strict", "analyst-workbench")
    assert response.status_code == 201, response.data
    served = demo_hub.taxii(f"collections/{WORKBENCH}/objects/", "hub-analyst").json["objects"]
    strict_id = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
    hub_owned = {"marking-definition", "identity", "attack-pattern"}  # public, long-lived hub objects
    report_derived = [o for o in served if o["type"] not in hub_owned]
    assert report_derived and all(o["object_marking_refs"] == [strict_id] for o in report_derived)
    assert demo_hub.taxii(f"collections/{WORKBENCH}/objects/", "kita-heavy").status_code == 404


@pytest.mark.parametrize(("report", "published"), [("amber", "green"), ("amber", "clear"), ("green", "clear"),
                                                   ("amber+strict", "amber")])
def test_a_publication_may_not_lower_a_reports_level(demo_hub: DemoHub, report: str, published: str) -> None:
    submission = _submission(demo_hub, report)
    response = _publish(demo_hub, submission, published, "analyst-workbench")
    assert response.status_code == 422, response.data
    assert "never lower" in response.json["description"]
    _nothing_written(demo_hub, WORKBENCH)


def test_a_publication_may_raise_a_reports_level(demo_hub: DemoHub) -> None:
    submission = _submission(demo_hub, "green")
    response = _publish(demo_hub, submission, "amber", "member-feed")
    assert response.status_code == 201, response.data
    assert response.json["tlp"] == "amber"


def test_a_collections_ceiling_holds(demo_hub: DemoHub) -> None:
    submission = _submission(demo_hub, "amber")
    response = _publish(demo_hub, submission, "red", "member-feed")
    assert response.status_code == 422, response.data
    assert "at most TLP:AMBER" in response.json["description"]
    _nothing_written(demo_hub, MEMBER_FEED)


def test_one_refused_collection_refuses_the_whole_publication(demo_hub: DemoHub) -> None:
    submission = _submission(demo_hub, "amber+strict")
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": [submission], "name": "x", "tlp": "amber+strict",
        "collections": ["analyst-workbench", "member-feed"]})
    assert response.status_code == 422
    _nothing_written(demo_hub, WORKBENCH)


def test_an_unknown_tlp_level_is_a_clear_error(demo_hub: DemoHub) -> None:
    submission = _submission(demo_hub, "amber")
    response = _publish(demo_hub, submission, "purple", "member-feed")
    assert response.status_code == 422
    assert orjson.loads(response.data)["description"]
    _nothing_written(demo_hub, MEMBER_FEED)
