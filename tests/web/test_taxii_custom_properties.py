"""Checklist R1, R2: custom properties on TAXII resources (§7.1.1).

The hub adds no custom properties of its own; any it ever adds must be named `x_<source>_…` (R1). Unknown
custom properties that arrive on an envelope are ignored, not refused (R2).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest

from tests.support.hubtest import C_RW, MT, ROOT, Hub, collection_path, get, indicator, post_objects, seed

CUSTOM = re.compile(r"^x_[a-z0-9_]{1,248}$")
SPEC_KEYS: dict[str, set[str]] = {
    "discovery": {"title", "description", "contact", "default", "api_roots"},
    "api-root": {"title", "description", "versions", "max_content_length"},
    "collections": {"collections"},
    "collection": {"id", "title", "description", "alias", "can_read", "can_write", "media_types"},
    "envelope": {"more", "next", "objects"},
    "manifest": {"more", "next", "objects"},
    "manifest-record": {"id", "date_added", "version", "media_type"},
    "versions": {"more", "next", "versions"},
    "status": {"id", "status", "request_timestamp", "total_count", "success_count", "failure_count",
               "pending_count", "successes", "failures", "pendings"},
    "status-details": {"id", "version", "message"},
    "error": {"title", "description", "error_id", "error_code", "http_status", "external_details", "details"},
}


def _resources(hub: Hub) -> dict[str, list[dict[str, Any]]]:
    """One instance of every TAXII resource the hub serves (STIX objects inside envelopes are not TAXII's)."""
    s = seed(hub)
    status = post_objects(hub, "alice", C_RW, [indicator(), indicator(pattern="[broken")]).json
    collections = get(hub, f"/{ROOT}/collections/").json
    manifest = get(hub, collection_path(C_RW, "manifest/?limit=1")).json
    return {
        "discovery": [get(hub, "/taxii2/").json],
        "api-root": [get(hub, f"/{ROOT}/").json],
        "collections": [collections],
        "collection": collections["collections"],
        "envelope": [get(hub, collection_path(C_RW, "objects/?limit=1")).json],
        "manifest": [manifest],
        "manifest-record": manifest["objects"],
        "versions": [get(hub, collection_path(C_RW, f"objects/{s.x}/versions/")).json],
        "status": [status, get(hub, f"/{ROOT}/status/{status['id']}/").json],
        "status-details": status["successes"] + status["failures"],
        "error": [get(hub, collection_path(C_RW, "objects/?limit=0")).json, get(hub, "/nope/").json],
    }


@pytest.mark.parametrize("resource", sorted(SPEC_KEYS))
def test_r1_every_non_spec_property_of_a_taxii_resource_is_a_valid_custom_name(hub: Hub, resource: str) -> None:
    instances = _resources(hub)[resource]
    assert instances
    extra = {key for body in instances for key in set(body) - SPEC_KEYS[resource]}
    assert {key for key in extra if not CUSTOM.match(key)} == set()


@pytest.mark.parametrize("custom", [{"x_foo": 1}, {"x_acme_source": {"nested": [1, 2]}}])
def test_r2_custom_properties_on_an_envelope_are_ignored(hub: Hub, custom: dict[str, Any]) -> None:
    obj = indicator()
    response = hub.client().post(collection_path(C_RW, "objects/"), data=orjson.dumps({"objects": [obj], **custom}),
                                 headers=hub.headers("alice", **{"Content-Type": MT}))
    assert response.status_code == 202
    assert response.json["success_count"] == 1
    assert get(hub, collection_path(C_RW, f"objects/{obj['id']}/")).json["objects"] == [obj]
