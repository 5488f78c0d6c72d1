"""Intake: TAXII inbox objects, .eml and incident records become submissions of the authenticated member; a
record naming another reporter is refused with nothing stored; a re-sent report is the same submission;
analysts dismiss reports. And the two-person rule for publishing."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.hubflow import (
    EML,
    INBOX,
    MEMBER_FEED,
    RECORDS,
    TAXII,
    DemoHub,
    drained,
    principal,
    reporter_of,
    submit_campaign,
)

ANALYST = principal("hub-analyst")


def _indicator(n: int) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--0c3f6d8e-5a4b-4c2d-9e1f-00000000000{n}",
        "created": "2024-05-01T00:00:00.000Z", "modified": "2024-05-01T00:00:00.000Z", "name": "C2",
        "pattern": "[domain-name:value = 'c2.evil.example']", "pattern_type": "stix",
        "valid_from": "2024-05-01T00:00:00Z",
    }


def test_objects_posted_to_the_inbox_become_a_submission_of_that_member(demo_hub: DemoHub) -> None:
    response = demo_hub.client().post(
        f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [_indicator(1)]}),
        headers=demo_hub.auth("higashi-gas", Accept=TAXII, **{"Content-Type": TAXII}))
    assert response.status_code == 202 and response.json["success_count"] == 1
    own = demo_hub.api("GET", "/submissions", "higashi-gas").json["submissions"]
    assert len(own) == 1 and own[0]["status"] == "converted" and own[0]["media_type"] == "application/stix+json"
    (seen,) = [s for s in demo_hub.api("GET", "/submissions", "hub-analyst").json["submissions"]
               if s["id"] == own[0]["id"]]
    assert seen["source"] == "taxii" and seen["organisation"] == "higashi-gas"
    assert {"kind": "c2-domain", "value": "c2.evil.example"} in seen["features"]
    assert demo_hub.api("GET", "/submissions", "kita-heavy").json == {}


def test_inbox_reports_from_two_members_sharing_a_c2_form_a_candidate(demo_hub: DemoHub) -> None:
    for n, org in enumerate(("higashi-gas", "chuo-oil")):
        response = demo_hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [_indicator(n)]}),
            headers=demo_hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))
        assert response.status_code == 202
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    assert candidate.organisations == ("chuo-oil", "higashi-gas")


def test_an_eml_submission_is_converted(demo_hub: DemoHub) -> None:
    response = demo_hub.submit_file("kita-heavy", EML / "case04-step3-word.eml")
    assert response.status_code == 202, response.data
    assert response.json["status"] == "converted" and response.json["media_type"] == "message/rfc822"
    (seen,) = demo_hub.services.intake.submissions(ANALYST)
    assert seen.org_id == "kita-heavy" and seen.first_seen_us is not None
    assert any(k == "file-hash" and v.startswith("sha256:6741a3b0") for k, v in seen.features)


def test_a_record_naming_another_reporter_is_refused_and_nothing_is_stored(demo_hub: DemoHub) -> None:
    path = RECORDS / "case02-campaign-2-higashi-gas.json"
    response = demo_hub.submit_file("kita-heavy", path)
    assert response.status_code == 403, response.data
    assert "higashi-gas" in response.json["description"]
    assert demo_hub.store.list_submissions() == []
    assert demo_hub.services.audit.entries(ANALYST) == []


def test_a_record_without_a_reporter_is_the_callers(demo_hub: DemoHub) -> None:
    doc = orjson.loads((RECORDS / "case10-unrelated-phishing.json").read_bytes())
    del doc["reporter"]
    response = demo_hub.api("POST", "/submissions", "chuo-oil", orjson.dumps(doc))
    assert response.status_code == 202 and response.json["status"] == "converted"
    assert demo_hub.store.get_submission(response.json["id"]).org_id == "chuo-oil"  # type: ignore[union-attr]


def test_a_report_sent_again_is_the_same_submission(demo_hub: DemoHub) -> None:
    path = RECORDS / "case10-unrelated-phishing.json"
    first = demo_hub.submit_file(reporter_of(path), path)
    second = demo_hub.submit_file(reporter_of(path), path)
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"]
    assert len(demo_hub.store.list_submissions()) == 1


def test_a_report_that_cannot_be_converted_is_kept_as_rejected_with_its_errors(demo_hub: DemoHub) -> None:
    response = demo_hub.api("POST", "/submissions", "nishi-chem", b'{"format": "incident-record/1"}',
                            **{"X-Filename": "broken.json"})
    assert response.status_code == 202
    assert response.json["status"] == "rejected" and "broken.json" in response.json["errors"][0]


def test_an_unsupported_media_type_is_refused(demo_hub: DemoHub) -> None:
    response = demo_hub.api("POST", "/submissions", "nishi-chem", b"hello", **{"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert demo_hub.store.list_submissions() == []


# -- dismissal ----------------------------------------------------------------------------------------------

def test_an_analyst_dismisses_a_report_and_it_leaves_the_candidate(demo_hub: DemoHub) -> None:
    ids = submit_campaign(demo_hub)
    response = demo_hub.api("POST", f"/submissions/{ids[0]}/dismissal", "hub-analyst", {"reason": "duplicate"})
    assert response.status_code == 200 and response.json["status"] == "dismissed"
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    assert ids[0] not in candidate.submissions and len(candidate.submissions) == 4
    (entry,) = [e for e in demo_hub.services.audit.entries(ANALYST) if e.action == "dismiss"]
    assert entry.target == ids[0] and "duplicate" in entry.details


def test_a_dismissed_report_cannot_be_published(demo_hub: DemoHub) -> None:
    ids = submit_campaign(demo_hub)
    demo_hub.api("POST", f"/submissions/{ids[0]}/dismissal", "hub-analyst", {})
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": [ids[0]], "name": "x", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 422
    assert demo_hub.store.list_publications() == []


def test_a_published_report_cannot_be_dismissed(demo_hub: DemoHub) -> None:
    ids = submit_campaign(demo_hub)
    assert demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": [ids[0]], "name": "x", "tlp": "amber", "collections": ["member-feed"]}).status_code == 201
    response = demo_hub.api("POST", f"/submissions/{ids[0]}/dismissal", "hub-analyst", {})
    assert response.status_code == 409


# -- the two-person rule ------------------------------------------------------------------------------------

@pytest.fixture
def pending(two_person_hub: DemoHub) -> str:
    submit_campaign(two_person_hub)
    (candidate,) = drained(two_person_hub).services.campaigns.suggest(ANALYST)
    response = two_person_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 202, response.data
    assert response.json["status"] == "pending-approval"
    return str(response.json["id"])


def test_with_the_two_person_rule_nothing_is_served_before_approval(two_person_hub: DemoHub, pending: str) -> None:
    assert two_person_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json == {}


def test_the_requesting_analyst_cannot_approve(two_person_hub: DemoHub, pending: str) -> None:
    response = two_person_hub.api("POST", f"/publications/{pending}/approval", "hub-analyst")
    assert response.status_code == 403
    assert two_person_hub.store.get_publication(pending)[0].state == "pending-approval"  # type: ignore[index]
    assert two_person_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json == {}


def test_a_member_cannot_approve(two_person_hub: DemoHub, pending: str) -> None:
    response = two_person_hub.api("POST", f"/publications/{pending}/approval", "kita-heavy")
    assert response.status_code == 404
    assert two_person_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json == {}


def test_another_analyst_approves_and_the_publication_is_served(two_person_hub: DemoHub, pending: str) -> None:
    response = two_person_hub.api("POST", f"/publications/{pending}/approval", "hub-approver")
    assert response.status_code == 200, response.data
    assert response.json["status"] == "published"
    assert response.json["requested_by"] == "hub-analyst" and response.json["approved_by"] == "hub-approver"
    served = two_person_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json["objects"]
    assert {o["id"] for o in served} == set(response.json["objects"])
    again = two_person_hub.api("POST", f"/publications/{pending}/approval", "hub-admin")
    assert again.status_code == 409


def test_a_candidate_from_inbox_reports_is_published_with_the_same_hub_identity(demo_hub: DemoHub) -> None:
    """STIX submissions carry no hub identity of their own; the publication must still be attributable to
    the hub, with the very identity object record-based publications carry (else the feed refuses it)."""
    submit_campaign(demo_hub)
    (records,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    first = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": records.id, "name": "From records", "tlp": "amber", "collections": ["member-feed"]})
    assert first.status_code == 201, first.data
    for n, org in enumerate(("higashi-gas", "chuo-oil")):
        demo_hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [_indicator(n)]}),
            headers=demo_hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))
    (inbox,) = [c for c in drained(demo_hub).services.campaigns.suggest(ANALYST) if c.id != records.id]
    second = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": inbox.id, "name": "From the inbox", "tlp": "amber", "collections": ["member-feed"]})
    assert second.status_code == 201, second.data
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/?match[type]=indicator", "nishi-chem").json
    assert _indicator(0)["pattern"] in {o["pattern"] for o in served["objects"]}
    hub_id = next(o["created_by_ref"] for o in served["objects"])
    versions = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/{hub_id}/versions/", "nishi-chem").json
    assert len(versions["versions"]) == 1


def test_a_members_own_object_ids_and_times_are_not_published(demo_hub: DemoHub) -> None:
    """A member's STIX ids (and the times it wrote) could identify it elsewhere: the hub republishes under
    its own keyed ids, created at publication time."""
    for n, org in enumerate(("higashi-gas", "chuo-oil")):
        demo_hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [_indicator(n)]}),
            headers=demo_hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    published = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "From the inbox", "tlp": "amber", "collections": ["member-feed"]})
    assert published.status_code == 201, published.data
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/?match[type]=indicator", "nishi-chem").data
    for n in (0, 1):
        assert _indicator(n)["id"].encode() not in served
    assert b"2024-05-01T00:00:00.000Z" not in served


def test_an_analysts_inbox_writes_are_not_member_reports(demo_hub: DemoHub) -> None:
    demo_hub.client().post(
        f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": [_indicator(3)]}),
        headers=demo_hub.auth("hub-analyst", Accept=TAXII, **{"Content-Type": TAXII}))
    assert demo_hub.services.intake.submissions(ANALYST) == []


def test_publishing_into_the_inbox_is_refused_and_makes_no_submission(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["inbox"]})
    assert response.status_code == 422, response.data
    assert "inbox" in response.json["description"]
    assert demo_hub.store.list_submissions("hub-analyst") == []
    assert [c.id for c in drained(demo_hub).services.campaigns.suggest(ANALYST)] == [candidate.id]
    assert demo_hub.taxii(f"collections/{INBOX}/objects/", "hub-analyst").json == {}


def test_a_report_dismissed_while_approval_waits_is_not_published(two_person_hub: DemoHub, pending: str) -> None:
    first = two_person_hub.store.get_publication(pending)[0].submissions[0]  # type: ignore[index]
    assert two_person_hub.api("POST", f"/submissions/{first}/dismissal", "hub-analyst", {}).status_code == 200
    response = two_person_hub.api("POST", f"/publications/{pending}/approval", "hub-approver")
    assert response.status_code == 409, response.data
    assert two_person_hub.store.get_submission(first).state == "dismissed"  # type: ignore[union-attr]
    assert two_person_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json == {}
