"""Checklist I: Get Objects (§5.4) and the envelope (§3.7)."""

from __future__ import annotations

import pytest

from tests.support.hubtest import (
    C_MISSING,
    C_RW,
    C_V20,
    C_WO,
    MT,
    X_VERSIONS,
    Hub,
    collection_path,
    get,
    manifest_records,
    seed,
)


def test_i1_get_objects_answers_an_envelope_of_stix_objects(hub: Hub) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, "objects/"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    objects = response.json["objects"]
    assert objects
    assert all(isinstance(o, dict) and {"type", "id"} <= set(o) for o in objects)
    assert set(response.json) <= {"more", "next", "objects"}


@pytest.mark.parametrize("seeded", [True, False], ids=["no-match", "empty-collection"])
def test_i2_no_match_is_200_with_an_empty_envelope(hub: Hub, seeded: bool) -> None:
    if seeded:
        seed(hub)
    response = get(hub, collection_path(C_RW, "objects/?match[type]=grouping"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert response.data == b"{}"


def test_i3_objects_come_in_ascending_date_added_order(hub: Hub) -> None:
    seed(hub)
    objects = get(hub, collection_path(C_RW, "objects/")).json["objects"]
    records = manifest_records(hub, C_RW)
    assert [o["id"] for o in objects] == [r["id"] for r in records]
    stamps = [r["date_added"] for r in records]
    assert stamps == sorted(stamps)


def test_i4_only_the_latest_version_of_each_object_by_default(hub: Hub) -> None:
    s = seed(hub)
    objects = get(hub, collection_path(C_RW, "objects/")).json["objects"]
    assert [o["modified"] for o in objects if o["id"] == s.x] == [X_VERSIONS[2]]
    assert sorted(o["id"] for o in objects) == sorted([s.x, s.y, s.m, s.s])


def test_i4_only_the_latest_spec_version_of_each_object_by_default(hub: Hub) -> None:
    s = seed(hub, C_V20, with_z=True)
    objects = get(hub, collection_path(C_V20, "objects/")).json["objects"]
    assert [o.get("spec_version") for o in objects if o["id"] == s.z] == ["2.1"]


def test_i5_date_added_headers_describe_this_page_only(hub: Hub) -> None:
    seed(hub)
    records = manifest_records(hub, C_RW)
    response = get(hub, collection_path(C_RW, "objects/?limit=2"))
    assert [o["id"] for o in response.json["objects"]] == [r["id"] for r in records[:2]]
    assert response.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
    assert response.headers["X-TAXII-Date-Added-Last"] == records[1]["date_added"]


@pytest.mark.parametrize(("collection", "query", "headers", "status"), [
    (C_RW, "?added_after=garbage", {}, 400),
    (C_WO, "", {}, 403),
    (C_MISSING, "", {}, 404),
    (C_RW, "", {"Accept": "application/foo"}, 406),
])
def test_i6_get_objects_failures_are_taxii_errors(
    hub: Hub, collection: str, query: str, headers: dict[str, str], status: int
) -> None:
    response = get(hub, collection_path(collection, "objects/" + query), **headers)
    assert response.status_code == status
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == str(status)


def test_i6_get_objects_without_credentials_is_a_taxii_401(hub: Hub) -> None:
    response = get(hub, collection_path(C_RW, "objects/"), None)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == MT
