"""Self-contained publications. The attack (a consumer's view): the demo publication's malware pointed with
`sample_refs` at a `file` that was never published, and MISP's own importer (misp-stix) failed on that
malware object. Now every reference in what the hub publishes resolves to an object in the same collection,
the leak-check stage refuses a publication or write that would leave one dangling, and MISP imports what
members receive with no error other than object types it cannot represent (tests/support/mispcheck.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from converters.markings import TLP2_EXTENSION_ID
from taxii_server.hub import leaks
from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, principal, submit_campaign
from tests.support.mispcheck import import_errors, misp_event

ANALYST = principal("hub-analyst")
OBJECTS = f"collections/{MEMBER_FEED}/objects/"


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("extension-definition--"):
                yield key
            if key.endswith("_ref") and isinstance(item, str):
                yield item
            elif key.endswith("_refs") and isinstance(item, list):
                yield from item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


@pytest.fixture
def served(demo_hub: DemoHub) -> list[dict[str, Any]]:
    """What a member polling the member feed receives after the campaign is published."""
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
    objects: list[dict[str, Any]] = demo_hub.taxii(OBJECTS, "kita-heavy").json["objects"]
    return objects


def test_every_reference_in_the_collection_resolves_in_it(served: list[dict[str, Any]]) -> None:
    held = {o["id"] for o in served}
    dangling = sorted({(o["id"], ref) for o in served for ref in _references(o)
                       if ref not in held and ref != TLP2_EXTENSION_ID})
    assert dangling == []


def test_the_malware_sample_is_published_or_not_referenced(served: list[dict[str, Any]]) -> None:
    held = {o["id"] for o in served}
    malware = [o for o in served if o["type"] == "malware"]
    assert malware
    assert all(ref in held for m in malware for ref in m.get("sample_refs", ()))


def test_misp_imports_what_members_receive(served: list[dict[str, Any]]) -> None:
    bundle = {"type": "bundle", "id": "bundle--6f8b3c5e-9d8e-4f0a-8a55-2b1c3d4e5f60", "objects": served}
    assert import_errors(bundle) == []
    event = misp_event(bundle)
    values = {a.value for a in event.attributes} | {a.value for o in event.objects for a in o.attributes}
    assert "news.asia-timeline.example" in values  # the campaign's C2 reached MISP


def _dangling(bundle: dict[str, Any], where: str) -> dict[str, Any]:
    crafted = copy.deepcopy(bundle)
    malware = next(o for o in crafted["objects"] if o["type"] == "malware")
    missing = "file--4e0a06c1-3c5e-5d8d-9c6d-2a8f6d6e3f11"
    if where == "sample_refs":
        malware["sample_refs"] = [missing]
    elif where == "granular_markings":
        malware["granular_markings"] = [{"marking_ref": "marking-definition--" + "0" * 8 + "-1111-4111-8111-"
                                         + "1" * 12, "selectors": ["name"]}]
    elif where == "created_by_ref":
        malware["created_by_ref"] = "identity--7d4b2a4e-0d1c-4a3b-9e8f-5a6b7c8d9e0f"
    return crafted


@pytest.mark.parametrize("where", ["sample_refs", "granular_markings", "created_by_ref"])
def test_the_leak_check_refuses_a_dangling_reference(demo_hub: DemoHub, where: str) -> None:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    from taxii_server.hub.publishing import PublishRequest

    preview = demo_hub.services.publishing.preview(ANALYST, PublishRequest(
        name="Campaign", tlp="amber", collections=("member-feed",), candidate_id=candidate.id))
    assert preview.findings == ()
    check = demo_hub.services.publishing.leak_check
    found = check.check_publication(_dangling(preview.bundle, where), check.register())
    assert any(where in f and "refers to an object the collection does not hold" in f for f in found), found


def test_a_direct_write_may_refer_to_what_the_collection_already_holds(demo_hub: DemoHub) -> None:
    check = demo_hub.services.publishing.leak_check
    indicator = {"type": "indicator", "spec_version": "2.1", "id": "indicator--2f5a1c9e-8d7b-4c6a-9e5f-1a2b3c4d5e6f",
                 "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                 "pattern": "[domain-name:value = 'c2.evil.example']", "pattern_type": "stix",
                 "valid_from": "2026-01-01T00:00:00Z",
                 "created_by_ref": "identity--7d4b2a4e-0d1c-4a3b-9e8f-5a6b7c8d9e0f"}
    assert check.refusals([indicator], lambda ref: True) == {}
    refused = check.refusals([indicator], lambda ref: False)
    assert list(refused) == [indicator["id"]]
    assert "created_by_ref" in refused[indicator["id"]]


def test_leaks_scan_reports_each_dangling_reference_by_property() -> None:
    obj = {"type": "relationship", "id": "relationship--1", "relationship_type": "uses",
           "source_ref": "campaign--1", "target_ref": "malware--2"}
    found = leaks.scan([obj, {"type": "campaign", "id": "campaign--1"}], [])
    assert [(f.object_id, f.property) for f in found] == [("relationship--1", "target_ref")]
