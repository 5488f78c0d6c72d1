"""The leak check: a bundle that names a member, a victim address or a victim Message-ID, or that counts a
sector group below the minimum, is refused — directly and through publishing, where nothing is written.
A clean bundle passes; the published campaign passes stix2-validator (strict) and the converters' audit."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from hubflow import MEMBER_FEED, ORG_NAMES, DemoHub, drained, principal, submit_campaign

from converters import audit_bundle, bundle_bytes, stix_validator_messages
from converters.ids import KeyedIds
from converters.sectors import SECTOR_GROUPS
from taxii_server.hub import leaks
from taxii_server.hub.publishing import PublishRequest

ANALYST = principal("hub-analyst")
VICTIM_ADDRESS = "sales@kita-heavy.example"  # the addressee in case02-campaign-1
VICTIM_MESSAGE_ID = "<a1b2c3@mail.kita-heavy.example>"  # a victim reply's Message-ID in case04


def _campaign_request(hub: DemoHub, **changes: Any) -> PublishRequest:
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    fields: dict[str, Any] = {"name": "技術資料送付の件", "tlp": "amber", "collections": ("member-feed",),
                              "candidate_id": candidate.id, "description": "One attacker, five members."}
    fields.update(changes)
    return PublishRequest(**fields)


@pytest.fixture
def clean(demo_hub: DemoHub) -> dict[str, Any]:
    submit_campaign(demo_hub)
    preview = demo_hub.services.publishing.preview(ANALYST, _campaign_request(demo_hub))
    assert preview.findings == ()
    return preview.bundle


def _sensitive() -> set[str]:
    return set(ORG_NAMES) | set(ORG_NAMES.values()) | {VICTIM_ADDRESS, VICTIM_MESSAGE_ID}


def _with_description(bundle: dict[str, Any], text: str) -> dict[str, Any]:
    crafted = copy.deepcopy(bundle)
    campaign = next(o for o in crafted["objects"] if o["type"] == "campaign")
    campaign["description"] = f"Seen first on 5 November. {text} Details follow."
    return crafted


def _findings(bundle: dict[str, Any], min_group_count: int = 2) -> list[str]:
    return leaks.findings(bundle, bundle_bytes(bundle), _sensitive(), min_group_count)


def test_a_clean_bundle_passes(clean: dict[str, Any]) -> None:
    assert _findings(clean) == []


@pytest.mark.parametrize("leaked", [
    ORG_NAMES["higashi-gas"], "higashi-gas", "HIGASHI-GAS", VICTIM_ADDRESS, VICTIM_MESSAGE_ID,
], ids=["member-name", "member-id", "member-id-upper-case", "victim-address", "victim-message-id"])
def test_a_bundle_revealing_a_reporter_or_victim_is_refused(clean: dict[str, Any], leaked: str) -> None:
    found = _findings(_with_description(clean, f"Reported by {leaked}."))
    assert found and all("protected value" in f for f in found)
    assert all(leaked not in f for f in found), "a finding must not repeat the protected value in full"


def test_a_protected_value_is_matched_as_a_whole_token_not_inside_a_hash(clean: dict[str, Any]) -> None:
    digest = "198ff0c034b9cd08c21de619d1ee73f0ed2461e611b5ac3dbea9f161604cf8f0"  # the campaign's RAR
    assert digest in bundle_bytes(clean).decode()
    assert leaks.findings(clean, bundle_bytes(clean), {digest[10:20]}, 2) == []
    assert leaks.findings(clean, bundle_bytes(clean), {digest}, 2) != []


def _sector_sighting(bundle: dict[str, Any], count: int) -> dict[str, Any]:
    crafted = copy.deepcopy(bundle)
    hub_id = next(o["id"] for o in crafted["objects"]
                  if o["type"] == "identity" and o["identity_class"] == "organization")
    campaign = next(o for o in crafted["objects"] if o["type"] == "campaign")
    sector = SECTOR_GROUPS["gas"]
    ids = KeyedIds("crafted")
    identity = {
        "type": "identity", "spec_version": "2.1", "id": ids.sdo_id("identity", {"s": "gas"}),
        "created": "2013-01-01T00:00:00.000Z", "modified": "2013-01-01T00:00:00.000Z", "created_by_ref": hub_id,
        "identity_class": "class", "name": "Anonymised member organisations (gas)", "sectors": list(sector.sectors),
        "object_marking_refs": campaign["object_marking_refs"],
    }
    sighting = {
        "type": "sighting", "spec_version": "2.1", "id": ids.sdo_id("sighting", {"s": "gas"}),
        "created": campaign["created"], "modified": campaign["created"], "created_by_ref": hub_id,
        "sighting_of_ref": campaign["id"], "where_sighted_refs": [identity["id"]], "count": count, "summary": True,
        "object_marking_refs": campaign["object_marking_refs"],
    }
    crafted["objects"] += [identity, sighting]
    return crafted


def test_a_sector_group_sighting_below_the_minimum_is_refused(clean: dict[str, Any]) -> None:
    found = _findings(_sector_sighting(clean, 1), min_group_count=2)
    assert any("single them out" in f for f in found)


def test_a_sector_group_sighting_at_the_minimum_passes(clean: dict[str, Any]) -> None:
    assert not [f for f in _findings(_sector_sighting(clean, 2), min_group_count=2) if "single them out" in f]


def test_the_published_campaign_passes_the_strict_validator(clean: dict[str, Any]) -> None:
    assert stix_validator_messages(clean) == []


def test_the_published_campaign_passes_the_converters_audit(clean: dict[str, Any]) -> None:
    assert audit_bundle(clean, _sensitive()) == []


def test_small_sector_groups_are_folded_into_one_member_sighting(clean: dict[str, Any]) -> None:
    sightings = [o for o in clean["objects"] if o["type"] == "sighting"]
    assert [s["count"] for s in sightings] == [5]  # five groups of one reporter each: never per group
    (where,) = sightings[0]["where_sighted_refs"]
    identity = next(o for o in clean["objects"] if o["id"] == where)
    assert "sectors" not in identity


# -- through publishing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["description", "name"])
@pytest.mark.parametrize("leaked", [ORG_NAMES["nishi-chem"], VICTIM_ADDRESS, VICTIM_MESSAGE_ID],
                         ids=["member-name", "victim-address", "victim-message-id"])
def test_publishing_refuses_an_analyst_text_that_leaks_and_writes_nothing(
    demo_hub: DemoHub, field: str, leaked: str
) -> None:
    if leaked == VICTIM_MESSAGE_ID:
        from hubflow import RECORDS, reporter_of

        path = RECORDS / "case04-conversation.json"
        assert demo_hub.submit_file(reporter_of(path), path).status_code == 202
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    body = {"candidate": candidate.id, "name": "Campaign", "description": "One attacker.", "tlp": "amber",
            "collections": ["member-feed"]}
    body[field] = f"{body[field]} ({leaked})"
    if leaked == VICTIM_MESSAGE_ID:  # a reply Message-ID from a report outside the candidate must still count
        kita = [s.id for s in demo_hub.store.list_submissions("kita-heavy")]
        body = {**{k: v for k, v in body.items() if k != "candidate"}, "submissions": kita}
    response = demo_hub.api("POST", "/publications", "hub-analyst", body)
    assert response.status_code == 422, response.data
    assert response.json["details"]["findings"]
    assert leaked not in response.data.decode()
    assert demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "hub-analyst").json == {}
    assert demo_hub.store.list_publications() == []
    actions = [e.action for e in demo_hub.services.audit.entries(ANALYST)]
    assert "refuse-publication" in actions and "publish" not in actions


def test_a_preview_shows_the_findings_and_writes_nothing(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": f"for {ORG_NAMES['chuo-oil']}", "tlp": "amber",
        "collections": ["member-feed"], "preview": True})
    assert response.status_code == 200
    assert response.json["findings"]
    assert demo_hub.store.list_publications() == []


def test_a_campaign_published_over_the_api_is_the_clean_previewed_bundle(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
    stored = demo_hub.api("GET", f"/publications/{response.json['id']}", "hub-analyst").json["bundle"]
    assert _findings(stored) == []
    assert stix_validator_messages(stored) == []
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json["objects"]
    assert {o["id"] for o in served} == {o["id"] for o in stored["objects"]}
    assert orjson.dumps(served)  # served bytes are searched in the end-to-end test
