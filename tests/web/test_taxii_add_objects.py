"""Checklist M: Add Objects (§5.5) — status answers, per-object failures, duplicates and versions.

Decisions: an exact duplicate is a success without a new manifest record (M5); the same id and version
with different content is a per-object failure (M8); an SCO's version is the date_added of its first POST
(M6, M7); "latest" is the greatest `modified` (M9); STIX 2.0 into a 2.1-only collection and objects above
the collection's TLP ceiling are per-object failures (M11).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from tests.support.hubtest import (
    C_MISSING,
    C_RO,
    C_RW,
    CEIL,
    M_CREATED,
    MT,
    ROOT,
    X_VERSIONS,
    Hub,
    collection_path,
    get,
    identity,
    indicator,
    ipv4,
    malware,
    manifest_records,
    marking_definition,
    new_id,
    post_objects,
)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def _post_raw(hub: Hub, body: bytes, collection: str = C_RW) -> TestResponse:
    return hub.client().post(collection_path(collection, "objects/"), data=body,
                             headers=hub.headers("alice", **{"Content-Type": MT}))


def _status(hub: Hub, objects: list[dict[str, Any]], collection: str = C_RW) -> dict[str, Any]:
    response = post_objects(hub, "alice", collection, objects)
    assert response.status_code == 202, response.data
    body: dict[str, Any] = response.json
    return body


def test_m1_adding_objects_answers_202_with_a_status(hub: Hub) -> None:
    response = post_objects(hub, "alice", C_RW, [indicator()])
    assert response.status_code == 202
    assert response.headers["Content-Type"] == MT
    assert UUID4.match(response.json["id"])
    assert response.json["status"] in ("complete", "pending")


def test_m2_a_stix_bundle_body_is_accepted(hub: Hub) -> None:
    obj = indicator()
    bundle = {"type": "bundle", "id": new_id("bundle"), "objects": [obj]}
    response = _post_raw(hub, orjson.dumps(bundle))
    assert response.status_code == 202
    assert response.json["success_count"] == 1
    assert get(hub, collection_path(C_RW, f"objects/{obj['id']}/")).json["objects"] == [obj]


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b"", 400),
    (b'"a string"', 422),
    (b"[]", 422),
    (b'{"more": false}', 422),
    (b'{"objects": []}', 422),
    (b'{"objects": {"type": "indicator"}}', 422),
], ids=["not-json", "empty", "string", "array", "no-objects", "empty-objects", "objects-not-a-list"])
def test_m3_an_unusable_body_is_a_taxii_400_or_422(hub: Hub, body: bytes, status: int) -> None:
    response = _post_raw(hub, body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == str(status)


def test_m4_object_problems_are_reported_per_object_and_the_rest_is_stored(hub: Hub) -> None:
    good = malware()
    bad = {"type": "Not A Type", "id": "whatever", "modified": "2021-01-01T00:00:00.000Z"}
    body = _status(hub, [good, bad])
    assert (body["total_count"], body["success_count"], body["failure_count"]) == (2, 1, 1)
    failure = body["failures"][0]
    assert set(failure) == {"id", "version", "message"}
    assert failure["message"]
    assert get(hub, collection_path(C_RW, f"objects/{good['id']}/")).status_code == 200


def test_m5_an_exact_duplicate_is_a_success_without_a_new_record(hub: Hub) -> None:
    obj = indicator()
    _status(hub, [obj])
    again = _status(hub, [obj])
    assert (again["success_count"], again["failure_count"]) == (1, 0)
    assert len(manifest_records(hub, C_RW, f"?match[id]={obj['id']}&match[version]=all")) == 1


def test_m6_an_unversioned_object_is_versioned_by_created(hub: Hub) -> None:
    body = _status(hub, [marking_definition()])
    assert body["successes"][0]["version"] == M_CREATED


def test_m6_an_sco_is_versioned_by_its_date_added_everywhere(hub: Hub) -> None:
    sco = ipv4()
    version = _status(hub, [sco])["successes"][0]["version"]
    record = manifest_records(hub, C_RW, f"?match[id]={sco['id']}")[0]
    assert record["version"] == version == record["date_added"]
    assert get(hub, collection_path(C_RW, f"objects/{sco['id']}/versions/")).json["versions"] == [version]
    assert get(hub, collection_path(C_RW, f"objects/?match[version]={version}")).json["objects"] == [sco]


def test_m7_re_posting_an_sco_is_a_no_op_duplicate(hub: Hub) -> None:
    sco = ipv4()
    first = _status(hub, [sco])["successes"][0]["version"]
    again = _status(hub, [sco])
    assert again["success_count"] == 1
    assert again["successes"][0]["version"] == first
    assert len(manifest_records(hub, C_RW, f"?match[id]={sco['id']}&match[version]=all")) == 1


def test_m8_same_id_and_version_with_different_content_is_a_failure(hub: Hub) -> None:
    obj = indicator()
    _status(hub, [obj])
    edited = {**obj, "name": "edited without a new modified"}
    body = _status(hub, [edited])
    assert (body["success_count"], body["failure_count"]) == (0, 1)
    assert get(hub, collection_path(C_RW, f"objects/{obj['id']}/")).json["objects"] == [obj]


def test_m9_latest_is_the_greatest_modified_not_the_last_added(hub: Hub) -> None:
    object_id = new_id("indicator")
    _status(hub, [indicator(object_id, modified=X_VERSIONS[2])])
    _status(hub, [indicator(object_id, modified=X_VERSIONS[1])])
    found = get(hub, collection_path(C_RW, f"objects/{object_id}/")).json["objects"]
    assert [o["modified"] for o in found] == [X_VERSIONS[2]]


@pytest.mark.parametrize(("collection", "headers", "status"), [
    (C_RW, {"Accept": "application/foo"}, 406),
    (C_MISSING, {}, 404),
    (C_RO, {}, 403),
    (C_RW, {"Content-Type": "application/json"}, 415),
])
def test_m10_add_objects_failures_are_taxii_errors(
    hub: Hub, collection: str, headers: dict[str, str], status: int
) -> None:
    response = hub.client().post(collection_path(collection, "objects/"),
                                 data=orjson.dumps({"objects": [indicator()]}),
                                 headers=hub.headers("alice", **{"Content-Type": MT, **headers}))
    assert response.status_code == status
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == str(status)


def test_m11_a_stix_2_0_object_in_a_2_1_only_collection_is_a_per_object_failure(hub: Hub) -> None:
    body = _status(hub, [identity(new_id("identity"), "2.0"), malware()])
    assert (body["success_count"], body["failure_count"]) == (1, 1)
    assert "2.0" in body["failures"][0]["message"]


@pytest.mark.parametrize("marking", [TLP_AMBER, TLP_RED])
def test_m11_an_object_above_the_collections_tlp_ceiling_is_a_per_object_failure(hub: Hub, marking: str) -> None:
    marked = indicator(object_marking_refs=[marking])
    body = _status(hub, [marked, indicator(object_marking_refs=[TLP_GREEN])], CEIL)
    assert (body["success_count"], body["failure_count"]) == (1, 1)
    assert body["failures"][0]["id"] == marked["id"]
    assert get(hub, collection_path(CEIL, f"objects/{marked['id']}/")).status_code == 404


def test_m12_the_status_is_readable_right_after_the_post(hub: Hub) -> None:
    posted = _status(hub, [indicator()])
    response = get(hub, f"/{ROOT}/status/{posted['id']}/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert response.json == posted


def test_m13_a_normal_post_is_processed_synchronously(hub: Hub) -> None:
    body = _status(hub, [indicator()])
    assert body["status"] == "complete"
    assert body["pending_count"] == 0


def test_m11_an_sco_without_spec_version_counts_as_stix_2_1(hub: Hub) -> None:
    sco = ipv4()
    del sco["spec_version"]
    assert _status(hub, [sco])["success_count"] == 1
    found = get(hub, collection_path(C_RW, f"objects/?match[spec_version]=2.1&match[id]={sco['id']}")).json
    assert found["objects"] == [sco]
