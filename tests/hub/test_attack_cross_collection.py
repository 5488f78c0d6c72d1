"""Attack: a member takes the hub's published objects from the member feed and writes "newer versions" of them
into another collection it may write (`energy`): a report with other contents, a revoked copy of a vetted
indicator. Readers that merge collections (MISP feeds, OpenCTI, stix2's sources) would take the member's copy
as the hub's latest word. Ownership of an id is hub-wide: each is a per-object failure, while re-sending a
version exactly as stored stays a harmless duplicate."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from taxii_server.timestamps import format_us, parse_us
from tests.support.hubflow import DemoHub, drained, principal, submit_campaign

ENERGY = "631b1323-9a53-4503-a15e-28fffdde0436"
MEMBER_FEED = "bc5bba2c-fbdf-49b1-9252-46057d616761"
TAXII = "application/taxii+json;version=2.1"


def published(hub: DemoHub) -> list[dict[str, Any]]:
    submit_campaign(hub)
    (candidate,) = drained(hub).services.campaigns.suggest(principal("hub-analyst"))
    response = hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.json
    page = hub.client().get(f"/hub/collections/{MEMBER_FEED}/objects/",
                            headers=hub.auth("chuo-oil", Accept=TAXII))
    objects: list[dict[str, Any]] = page.json["objects"]
    return objects


def member_indicator(domain: str) -> dict[str, Any]:
    """An indicator a member writes under its own (random) id."""
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
            "pattern": f"[domain-name:value = '{domain}']", "pattern_type": "stix",
            "valid_from": "2024-01-01T00:00:00Z"}


def newer(obj: dict[str, Any]) -> str:
    """A `modified` one millisecond after the object's: a newer version, not in the future."""
    return format_us(parse_us(obj["modified"]) + 1000)[:-4] + "Z"


def post(hub: DemoHub, org: str, objects: list[dict[str, Any]]) -> dict[str, str]:
    response = hub.client().post(f"/hub/collections/{ENERGY}/objects/", data=orjson.dumps({"objects": objects}),
                                 headers=hub.auth(org, Accept=TAXII, **{"Content-Type": TAXII}))
    assert response.status_code == 202, response.data
    return {f["id"]: f["message"] for f in response.json.get("failures", [])}


def test_a_newer_version_of_the_hubs_report_or_a_revoked_copy_of_its_indicator_is_refused(demo_hub: DemoHub) -> None:
    objects = published(demo_hub)
    report = next(o for o in objects if o["type"] == "report")
    indicator = next(o for o in objects if o["type"] == "indicator")
    own = member_indicator("own.example")
    forged_report = {**report, "modified": newer(report),
                     "name": "withdrawn: unblock all", "object_refs": [own["id"]]}
    forged_report.pop("created_by_ref", None)
    revoked = {**indicator, "modified": newer(indicator), "revoked": True}
    revoked.pop("created_by_ref", None)
    refused = post(demo_hub, "chuo-oil", [forged_report, revoked, own])
    assert set(refused) == {report["id"], indicator["id"]}
    assert all("first added by the hub or another organisation" in m for m in refused.values()), refused
    energy = demo_hub.client().get(f"/hub/collections/{ENERGY}/objects/", headers=demo_hub.auth("minami-power",
                                                                                                Accept=TAXII))
    assert {o["id"] for o in energy.json.get("objects", [])} == {own["id"]}


def test_a_version_sent_again_exactly_as_stored_is_a_duplicate_not_a_forgery(demo_hub: DemoHub) -> None:
    theirs = member_indicator("theirs.example")
    assert post(demo_hub, "chuo-oil", [theirs]) == {}
    reordered = dict(reversed(list(theirs.items())))  # the same object serialised in another key order
    assert post(demo_hub, "higashi-gas", [reordered]) == {}
    assert list(post(demo_hub, "higashi-gas", [{**theirs, "name": "changed"}])) == [theirs["id"]]


def test_another_members_object_takes_no_version_from_a_third_member(demo_hub: DemoHub) -> None:
    mine = member_indicator("mine.example")
    assert post(demo_hub, "chuo-oil", [mine]) == {}
    assert post(demo_hub, "chuo-oil", [{**mine, "modified": "2024-02-01T00:00:00.000Z"}]) == {}  # its own: fine
    taken = post(demo_hub, "higashi-gas", [{**mine, "modified": "2024-03-01T00:00:00.000Z", "revoked": True}])
    assert list(taken) == [mine["id"]]


def test_ids_held_only_in_collections_the_member_cannot_read_are_no_oracle(demo_hub: DemoHub) -> None:
    """A deterministic SCO id can be computed by anyone: refusing it because the analysts' workbench holds it
    would tell a member what the workbench holds."""
    from converters.ids import sco_id

    sco = {"type": "domain-name", "spec_version": "2.1", "value": "watched.example"}
    sco["id"] = sco_id("domain-name", {"value": "watched.example"})
    workbench = demo_hub.client().post(
        "/hub/collections/97043c79-4d83-49f9-a8a3-c1c22e5abbec/objects/", data=orjson.dumps({"objects": [sco]}),
        headers=demo_hub.auth("hub-analyst", Accept=TAXII, **{"Content-Type": TAXII}))
    assert workbench.status_code == 202 and not workbench.json.get("failures"), workbench.data
    assert post(demo_hub, "chuo-oil", [{**sco, "x_note": "a member's own remark"}]) == {}


def test_an_observable_a_member_stored_first_does_not_block_the_hubs_publication(demo_hub: DemoHub) -> None:
    """Observables' ids are computed from their values, so a member can store one before the hub publishes it,
    with other optional properties: the publication counts it as present instead of failing on it."""
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(principal("hub-analyst"))
    request = {"candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["energy"]}
    preview = demo_hub.api("POST", "/publications", "hub-analyst", {**request, "preview": True}).json
    sco = next(o for o in preview["bundle"]["objects"] if o["type"] == "domain-name")
    squat = {k: v for k, v in sco.items() if k in ("type", "spec_version", "id", "value")} | {"x_squat": True}
    assert post(demo_hub, "chuo-oil", [squat]) == {}
    published = demo_hub.api("POST", "/publications", "hub-analyst", request)
    assert published.status_code == 201, published.json
    assert sco["id"] in published.json["objects"]
