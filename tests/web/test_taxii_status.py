"""Checklist N: the Status resource (§4.3, §4.3.1) — shape, counts, lifetime and who may read it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.support.hubtest import C_RW, MT, ROOT, Hub, get, indicator, malware, post_objects

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TAXII_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
STIX_ID = re.compile(r"^[a-z0-9][a-z0-9-]*--[0-9a-f-]{36}$")
COUNTS = ("total_count", "success_count", "failure_count", "pending_count")


def _mixed_status(hub: Hub) -> dict[str, Any]:
    """A status with a success and a failure, read back from the status endpoint."""
    bad = indicator(pattern="[not a pattern")
    posted = post_objects(hub, "alice", C_RW, [malware(), bad]).json
    response = get(hub, f"/{ROOT}/status/{posted['id']}/")
    assert response.status_code == 200
    body: dict[str, Any] = response.json
    return body


def test_n1_status_has_its_required_fields(hub: Hub) -> None:
    body = _mixed_status(hub)
    assert UUID4.match(body["id"])
    assert body["status"] in ("complete", "pending")
    assert all(type(body[c]) is int and body[c] >= 0 for c in COUNTS)
    assert TAXII_TIMESTAMP.match(body["request_timestamp"])


def test_n1_status_details_have_a_stix_id_and_a_version(hub: Hub) -> None:
    body = _mixed_status(hub)
    details = body["successes"] + body["failures"]
    assert all(STIX_ID.match(d["id"]) and isinstance(d["version"], str) for d in details)
    assert isinstance(body["failures"][0]["message"], str)


def test_n2_counts_add_up_and_match_their_lists(hub: Hub) -> None:
    body = _mixed_status(hub)
    assert body["success_count"] + body["failure_count"] + body["pending_count"] == body["total_count"] == 2
    for key, count in (("successes", "success_count"), ("failures", "failure_count"), ("pendings", "pending_count")):
        assert len(body.get(key, [])) == body[count]


def test_n3_a_complete_status_has_nothing_pending(hub: Hub) -> None:
    body = _mixed_status(hub)
    assert body["status"] == "complete"
    assert body["pending_count"] == 0
    assert "pendings" not in body


def test_n4_a_status_is_still_served_later(hub: Hub) -> None:
    """Retention is ≥ 24 h (TAXII §4.3); the fixture's retention setting must allow at least that."""
    assert hub.settings.status_retention_seconds >= 24 * 3600
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    post_objects(hub, "alice", C_RW, [indicator() for _ in range(20)])
    assert get(hub, f"/{ROOT}/status/{status_id}/").status_code == 200


def test_n5_an_unknown_status_is_a_taxii_404(hub: Hub) -> None:
    response = get(hub, f"/{ROOT}/status/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "404"


@pytest.mark.parametrize("org", ["bob", "reader", "writer"])
def test_n6_another_organisations_status_is_the_same_404_as_an_unknown_one(hub: Hub, org: str) -> None:
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    unknown_id = str(uuid.uuid4())
    theirs = get(hub, f"/{ROOT}/status/{status_id}/", org)
    unknown = get(hub, f"/{ROOT}/status/{unknown_id}/", org)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.data.replace(status_id.encode(), unknown_id.encode()) == unknown.data


def test_n6_a_status_is_not_served_through_another_api_root(hub: Hub) -> None:
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    response = get(hub, f"/api2/status/{status_id}/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
