"""Revocation is final. The attack: an analyst revokes a published indicator, then the same report is
published again; before the fix the new publication carried the same indicator id at a newer `modified`
without `revoked`, so every member saw it live again. Now the preview names the revoked objects and the
analyst chooses: refuse (the default; nothing is written) or publish them as new objects under new ids,
while the revoked id stays revoked as its latest version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, principal, submit_campaign

ANALYST = principal("hub-analyst")
OBJECTS = f"collections/{MEMBER_FEED}/objects/"


def _body(hub: DemoHub, **extra: Any) -> dict[str, Any]:
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    return {"candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"], **extra}


@pytest.fixture
def revoked(demo_hub: DemoHub) -> str:
    """The campaign published, then one of its indicators revoked; the revoked id."""
    submit_campaign(demo_hub)
    assert demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub)).status_code == 201
    objects = demo_hub.taxii(OBJECTS + "?match[type]=indicator", "kita-heavy").json["objects"]
    indicator = str(sorted(o["id"] for o in objects)[0])
    assert demo_hub.api("POST", "/revocations", "hub-analyst", {"id": indicator}).status_code == 200
    return indicator


def _latest(hub: DemoHub, object_id: str) -> dict[str, Any]:
    found = hub.taxii(OBJECTS + f"?match[id]={object_id}", "higashi-gas").json["objects"]
    assert len(found) == 1
    latest: dict[str, Any] = found[0]
    return latest


def test_the_preview_names_the_revoked_object_and_refuses_by_default(demo_hub: DemoHub, revoked: str) -> None:
    response = demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub, preview=True))
    assert response.status_code == 200
    assert response.json["revoked"] == [revoked]
    assert any(f.startswith(f"{revoked}: revoked:") for f in response.json["findings"])


def test_publishing_again_does_not_un_revoke_and_writes_nothing(demo_hub: DemoHub, revoked: str) -> None:
    before = demo_hub.taxii(OBJECTS, "higashi-gas").json["objects"]
    response = demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub))
    assert response.status_code == 422, response.data
    assert _latest(demo_hub, revoked).get("revoked") is True
    assert demo_hub.taxii(OBJECTS, "higashi-gas").json["objects"] == before
    assert len(demo_hub.store.list_publications()) == 1


def test_refuse_is_an_explicit_choice_too(demo_hub: DemoHub, revoked: str) -> None:
    response = demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub, on_revoked="refuse"))
    assert response.status_code == 422
    assert _latest(demo_hub, revoked).get("revoked") is True


def test_new_objects_replace_the_revoked_one_which_stays_revoked(demo_hub: DemoHub, revoked: str) -> None:
    response = demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub, on_revoked="new-objects"))
    assert response.status_code == 201, response.data
    assert _latest(demo_hub, revoked).get("revoked") is True
    bundle = demo_hub.api("GET", f"/publications/{response.json['id']}", "hub-analyst").json["bundle"]
    ids = {o["id"] for o in bundle["objects"]}
    assert revoked not in ids
    old = demo_hub.taxii(OBJECTS + f"?match[id]={revoked}&match[version]=first", "higashi-gas").json["objects"][0]
    (reissued,) = [o for o in bundle["objects"] if o["type"] == "indicator" and o["pattern"] == old["pattern"]]
    assert reissued["id"] != revoked and not reissued.get("revoked")
    assert reissued["created"] == reissued["modified"]  # a new object, not a new version
    for obj in bundle["objects"]:  # nothing in the new publication points at the revoked id
        refs = [v for k, v in obj.items() if k.endswith("_ref")] + [
            r for k, v in obj.items() if k.endswith("_refs") for r in v]
        assert revoked not in refs, obj["id"]
    assert any(o["type"] == "relationship" and o["source_ref"] == reissued["id"] for o in bundle["objects"])


def test_an_unknown_choice_is_a_clear_error(demo_hub: DemoHub, revoked: str) -> None:
    response = demo_hub.api("POST", "/publications", "hub-analyst", _body(demo_hub, on_revoked="un-revoke"))
    assert response.status_code == 422
    assert "on_revoked" in response.json["description"]


def test_an_approval_after_a_revocation_does_not_un_revoke(two_person_hub: DemoHub) -> None:
    hub = two_person_hub
    submit_campaign(hub)
    first = hub.api("POST", "/publications", "hub-analyst", _body(hub))
    assert hub.api("POST", f"/publications/{first.json['id']}/approval", "hub-approver").status_code == 200
    waiting = hub.api("POST", "/publications", "hub-analyst", _body(hub, name="Campaign, second wave"))
    assert waiting.status_code == 202, waiting.data
    indicator = sorted(o["id"] for o in hub.taxii(OBJECTS + "?match[type]=indicator", "kita-heavy").json["objects"])[0]
    assert hub.api("POST", "/revocations", "hub-analyst", {"id": indicator}).status_code == 200
    approval = hub.api("POST", f"/publications/{waiting.json['id']}/approval", "hub-approver")
    assert approval.status_code == 409, approval.data
    assert _latest(hub, indicator).get("revoked") is True
