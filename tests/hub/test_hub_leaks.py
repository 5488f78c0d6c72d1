"""The leak check: a bundle that names a member, a victim address or a victim Message-ID, or that counts a
sector group in a way that could single a member out, is refused — directly and through publishing, where
nothing is written. A clean bundle passes; the published campaign passes stix2-validator (strict) and the
converters' audit."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from converters import audit_bundle, bundle_bytes, stix_validator_messages
from converters.ids import KeyedIds
from converters.sectors import SECTOR_GROUPS
from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.hub import leaks, sensitive
from taxii_server.hub.publishing import PublishRequest
from taxii_server.hub.sensitive import Sensitive
from tests.support.hubflow import MEMBER_FEED, ORG_NAMES, DemoHub, drained, principal, submit_campaign

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
def check(demo_hub: DemoHub) -> leaks.LeakCheck:
    return demo_hub.services.publishing.leak_check


@pytest.fixture
def clean(demo_hub: DemoHub) -> dict[str, Any]:
    submit_campaign(demo_hub)
    preview = demo_hub.services.publishing.preview(ANALYST, _campaign_request(demo_hub))
    assert preview.findings == ()
    return preview.bundle


def _sensitive(check: leaks.LeakCheck) -> set[Sensitive]:
    return check.register() | {Sensitive(VICTIM_ADDRESS, sensitive.RECIPIENT),
                               Sensitive(VICTIM_MESSAGE_ID, sensitive.MESSAGE_ID)}


def _with_description(bundle: dict[str, Any], text: str) -> dict[str, Any]:
    crafted = copy.deepcopy(bundle)
    campaign = next(o for o in crafted["objects"] if o["type"] == "campaign")
    campaign["description"] = f"Seen first on 5 November. {text} Details follow."
    return crafted


def _findings(check: leaks.LeakCheck, bundle: dict[str, Any]) -> list[str]:
    return check.check_publication(bundle, _sensitive(check))


def test_a_clean_bundle_passes(check: leaks.LeakCheck, clean: dict[str, Any]) -> None:
    assert _findings(check, clean) == []


@pytest.mark.parametrize("leaked", [
    ORG_NAMES["higashi-gas"], "higashi-gas", "HIGASHI-GAS", VICTIM_ADDRESS, VICTIM_MESSAGE_ID,
], ids=["member-name", "member-id", "member-id-upper-case", "victim-address", "victim-message-id"])
def test_a_bundle_revealing_a_reporter_or_victim_is_refused(
    check: leaks.LeakCheck, clean: dict[str, Any], leaked: str
) -> None:
    found = _findings(check, _with_description(clean, f"Reported by {leaked}."))
    assert found and all(": description: contains " in f for f in found)
    assert all(leaked not in f for f in found), "a finding must not repeat the protected value in full"


def test_a_protected_value_is_matched_as_a_whole_token_not_inside_a_hash(clean: dict[str, Any]) -> None:
    digest = "198ff0c034b9cd08c21de619d1ee73f0ed2461e611b5ac3dbea9f161604cf8f0"  # the campaign's RAR
    assert digest in bundle_bytes(clean).decode()

    def found(value: str) -> list[leaks.Finding]:
        return leaks.scan(clean["objects"], sensitive.needles({Sensitive(value, sensitive.RECORD_ID)}))

    assert found(digest[10:20]) == []
    assert found(digest) != []


def _sector_sighting(bundle: dict[str, Any], count: int) -> dict[str, Any]:
    crafted = copy.deepcopy(bundle)
    hub_id = next(o["id"] for o in crafted["objects"]
                  if o["type"] == "identity" and o["identity_class"] == "organization")
    campaign = next(o for o in crafted["objects"] if o["type"] == "campaign")
    sector = SECTOR_GROUPS["gas"]
    ids = KeyedIds("hub-workflow-test-key")  # the demo hub's id key: the hub's own gas-group identity
    identity = {
        "type": "identity", "spec_version": "2.1", "id": ids.sdo_id("identity", {"sector": "gas"}),
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


def _more_gas_members(hub: DemoHub, count: int) -> None:
    for n in range(count):
        Accounts(hub.store).add_organisation(OPERATOR, f"gas-member-{n}", f"Gas member {n}", "gas", ("member",))


@pytest.mark.parametrize(("members", "count"), [(1, 1), (1, 2), (4, 1), (4, 3), (4, 4), (3, 2)],
                         ids=["1-of-1", "2-of-1", "1-of-4", "3-of-4", "4-of-4", "2-of-3"])
def test_a_sector_group_sighting_that_could_single_a_member_out_is_refused(
    demo_hub: DemoHub, check: leaks.LeakCheck, clean: dict[str, Any], members: int, count: int
) -> None:
    _more_gas_members(demo_hub, members - 1)
    found = _findings(check, _sector_sighting(clean, count))
    assert any(": count: " in f and "single one out" in f for f in found)


def test_a_sector_group_sighting_that_hides_every_member_passes(
    demo_hub: DemoHub, check: leaks.LeakCheck, clean: dict[str, Any]
) -> None:
    _more_gas_members(demo_hub, 3)  # four gas members, two of them reported
    assert [f for f in _findings(check, _sector_sighting(clean, 2)) if "single one out" in f] == []


def test_the_published_campaign_passes_the_strict_validator(clean: dict[str, Any]) -> None:
    assert stix_validator_messages(clean) == []


def test_the_published_campaign_passes_the_converters_audit(check: leaks.LeakCheck, clean: dict[str, Any]) -> None:
    assert audit_bundle(clean, {s.value for s in _sensitive(check)}) == []


def test_when_every_member_reported_no_count_is_published(clean: dict[str, Any]) -> None:
    # five members, one per group, all five reported: any count would tell each one that all others did
    assert [o for o in clean["objects"] if o["type"] == "sighting"] == []


# -- through publishing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["description", "name"])
@pytest.mark.parametrize("leaked", [ORG_NAMES["nishi-chem"], VICTIM_ADDRESS, VICTIM_MESSAGE_ID],
                         ids=["member-name", "victim-address", "victim-message-id"])
def test_publishing_refuses_an_analyst_text_that_leaks_and_writes_nothing(
    demo_hub: DemoHub, field: str, leaked: str
) -> None:
    if leaked == VICTIM_MESSAGE_ID:
        from tests.support.hubflow import RECORDS, reporter_of

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
    assert _findings(demo_hub.services.publishing.leak_check, stored) == []
    assert stix_validator_messages(stored) == []
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "kita-heavy").json["objects"]
    assert {o["id"] for o in served} == {o["id"] for o in stored["objects"]}
    assert orjson.dumps(served)  # served bytes are searched in the end-to-end test
