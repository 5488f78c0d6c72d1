"""STIX submissions get the same treatment. The attack: a member's bundle, sent as `application/stix+json`
or into the TAXII inbox, carried a victim address in a pattern, an internal host name in a description and
a ticket URL in `external_references`; the old check found nothing and it was published verbatim. Now the
victim facts come from the submitting organisation (its register) and from the bundle (who its email
messages were addressed to, what it links as `targets`), the hub publishes objects it regenerates — no
member free text, `external_references`, `x_*` properties or extensions — and refuses, with a finding, what
it cannot regenerate without the victim value."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.hubflow import INBOX, MEMBER_FEED, TAXII, DemoHub, submit_campaign

VICTIM = "taro.kita@khi-mail.example"  # not a registered domain: known only from the bundle
HOST = "exch01.corp.kita-heavy.example"
TICKET = "https://tickets.kita-heavy.example/INC-4711"
SECRET_TEXT = "handled by Suzuki in the SOC"
SUBMITTED = "2024-05-01T00:00:00.000Z"


def _obj(otype: str, n: int, **props: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": otype, "spec_version": "2.1", "id": f"{otype}--6c0d4b1e-2a3f-4e5d-8c7b-{n:012d}"}
    if otype not in ("email-addr", "email-message", "domain-name"):
        base |= {"created": SUBMITTED, "modified": SUBMITTED}
    return base | props


def _bundle(with_victim_pattern: bool) -> dict[str, Any]:
    victim = _obj("email-addr", 1, value=VICTIM, display_name="北 太郎")
    attacker = _obj("email-addr", 2, value="invoice@evil.example")
    message = _obj("email-message", 3, is_multipart=False, from_ref=attacker["id"], to_refs=[victim["id"]],
                   subject="請求書")
    c2 = _obj("indicator", 4, name=f"C2 seen by {HOST}", description=f"Beacon to c2. {SECRET_TEXT}.",
              pattern="[domain-name:value = 'c2.evil.example']", pattern_type="stix",
              valid_from="2024-05-01T00:00:00Z", indicator_types=["malicious-activity"],
              external_references=[{"source_name": "ticket", "url": TICKET}],
              x_reported_by="soc@kita-heavy.example",
              extensions={"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e": {
                  "extension_type": "property-extension", "analyst": HOST}})
    malware = _obj("malware", 5, name="PlugX", is_family=True, malware_types=["remote-access-trojan"],
                   description=f"Found on {HOST}", aliases=["kita-heavy-plugx"])
    uses = _obj("relationship", 6, relationship_type="indicates", source_ref=c2["id"], target_ref=malware["id"])
    objects = [victim, attacker, message, c2, malware, uses]
    if with_victim_pattern:
        objects.append(_obj("indicator", 7, name="Target", pattern=f"[email-addr:value = '{VICTIM}']",
                            pattern_type="stix", valid_from="2024-05-01T00:00:00Z"))
    return {"type": "bundle", "id": "bundle--6c0d4b1e-2a3f-4e5d-8c7b-000000000000", "objects": objects}


def _submit(hub: DemoHub, door: str, bundle: dict[str, Any]) -> str:
    if door == "hub-api":
        response = hub.api("POST", "/submissions", "kita-heavy", orjson.dumps(bundle),
                           **{"Content-Type": "application/stix+json"})
        assert response.status_code == 202, response.data
    else:
        response = hub.client().post(
            f"/hub/collections/{INBOX}/objects/", data=orjson.dumps({"objects": bundle["objects"]}),
            headers=hub.auth("kita-heavy", Accept=TAXII, **{"Content-Type": TAXII}))
        assert response.status_code == 202 and response.json["failure_count"] == 0, response.data
    (submission,) = [s for s in hub.store.list_submissions("kita-heavy") if s.media_type == "application/stix+json"]
    assert submission.state == "converted", submission.errors
    return submission.id


def _publish(hub: DemoHub, submission: str) -> Any:
    return hub.api("POST", "/publications", "hub-analyst", {
        "submissions": [submission], "name": "C2 report", "tlp": "amber", "collections": ["member-feed"]})


DOORS = ["hub-api", "taxii-inbox"]


@pytest.mark.parametrize("door", DOORS)
def test_a_victim_address_in_a_pattern_is_refused_with_a_finding(demo_hub: DemoHub, door: str) -> None:
    submission = _submit(demo_hub, door, _bundle(with_victim_pattern=True))
    response = _publish(demo_hub, submission)
    assert response.status_code == 422, response.data
    findings = response.json["details"]["findings"]
    assert any(": pattern: contains a recipient address" in f for f in findings), findings
    assert VICTIM not in response.data.decode()
    assert demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "higashi-gas").json == {}


@pytest.mark.parametrize("door", DOORS)
def test_member_text_references_and_extensions_are_not_republished(demo_hub: DemoHub, door: str) -> None:
    submission = _submit(demo_hub, door, _bundle(with_victim_pattern=False))
    response = _publish(demo_hub, submission)
    assert response.status_code == 201, response.data
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "higashi-gas").json["objects"]
    text = orjson.dumps(served).decode()
    for leaked in (HOST, TICKET, SECRET_TEXT, "soc@kita-heavy.example", "kita-heavy", "北 太郎", VICTIM):
        assert leaked not in text, leaked
    from_member = [o for o in served if o["type"] in ("indicator", "malware")]
    assert len(from_member) == 2
    assert not any(k.startswith("x_") or k in ("extensions", "external_references", "description", "aliases")
                   for o in from_member for k in o)
    (indicator,) = [o for o in served if o["type"] == "indicator"]
    assert indicator["pattern"] == "[domain-name:value = 'c2.evil.example']"  # the intelligence stays
    assert indicator["name"] == "Indicator (domain-name)"  # a name the hub wrote
    (malware,) = [o for o in served if o["type"] == "malware"]
    assert malware["name"] == "PlugX"  # a family name is the intelligence (and passed the leak check)


def test_a_member_family_name_that_names_the_victim_is_refused(demo_hub: DemoHub) -> None:
    bundle = _bundle(with_victim_pattern=False)
    next(o for o in bundle["objects"] if o["type"] == "malware")["name"] = "KitaHeavy loader"
    response = _publish(demo_hub, _submit(demo_hub, "hub-api", bundle))
    assert response.status_code == 422
    assert any(": name: contains a member organisation's" in f for f in response.json["details"]["findings"])


def test_the_victim_facts_of_a_stix_submission_are_known_to_the_check(demo_hub: DemoHub) -> None:
    submission = _submit(demo_hub, "hub-api", _bundle(with_victim_pattern=False))
    facts = demo_hub.services.publishing.leak_check.reports(demo_hub.store.list_submissions("kita-heavy"))
    assert {(f.value, f.kind) for f in facts} >= {
        (VICTIM, "a recipient address"), ("taro.kita", "a recipient address's local part"),
        ("北 太郎", "a recipient's display name"), (submission, "a report's record id")}


def test_an_observable_with_a_forged_id_is_published_under_its_computed_id(demo_hub: DemoHub) -> None:
    from converters.ids import sco_id

    bundle = _bundle(with_victim_pattern=False)
    domain = _obj("domain-name", 8, value="c2.evil.example")
    c2 = next(o for o in bundle["objects"] if o["type"] == "indicator")
    bundle["objects"] += [domain, _obj("relationship", 9, relationship_type="based-on", source_ref=c2["id"],
                                       target_ref=domain["id"]),
                          _obj("infrastructure", 10, name="C2", infrastructure_types=["command-and-control"]),
                          _obj("relationship", 11, relationship_type="consists-of",
                               source_ref=_obj("infrastructure", 10)["id"], target_ref=domain["id"])]
    assert _publish(demo_hub, _submit(demo_hub, "hub-api", bundle)).status_code == 201
    served = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/", "higashi-gas").json["objects"]
    (published,) = [o for o in served if o["type"] == "domain-name"]
    assert published["id"] == sco_id("domain-name", {"value": "c2.evil.example"}) != domain["id"]
    (rel,) = [o for o in served if o["type"] == "relationship" and o["relationship_type"] == "consists-of"]
    assert rel["target_ref"] == published["id"]


def test_a_campaign_with_stix_and_record_reports_stays_clean(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    _submit(demo_hub, "hub-api", _bundle(with_victim_pattern=False))
    ids = [s.id for s in demo_hub.store.list_submissions("kita-heavy")]
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "submissions": ids, "name": "Two reports", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
