"""Checklist Q: Get Object Versions (§5.8, §5.8.1) — ascending by date_added, `next` when more (errata #110)."""

from __future__ import annotations

from tests.support.hubtest import (
    C_RW,
    C_V20,
    C_WO,
    M_CREATED,
    MT,
    X_VERSIONS,
    Z_MODIFIED_20,
    Z_MODIFIED_21,
    Hub,
    collection_path,
    get,
    indicator,
    new_id,
    post_objects,
    seed,
)


def test_q1_versions_lists_every_version_of_the_object(hub: Hub) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert response.json["versions"] == list(X_VERSIONS)
    assert set(response.json) <= {"more", "next", "versions"}
    assert response.headers["X-TAXII-Date-Added-First"]


def test_q1_no_matching_version_is_an_empty_object(hub: Hub) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/?added_after=2999-01-01T00:00:00Z"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_q2_an_unversioned_objects_version_is_its_created(hub: Hub) -> None:
    s = seed(hub)
    assert get(hub, collection_path(C_RW, f"objects/{s.m}/versions/")).json["versions"] == [M_CREATED]


def test_q3_a_truncated_versions_list_has_more_and_next(hub: Hub) -> None:
    s = seed(hub)
    body = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/?limit=1")).json
    assert body["versions"] == [X_VERSIONS[0]]
    assert body["more"] is True
    assert isinstance(body["next"], str) and body["next"]


def test_q3_versions_take_match_spec_version(hub: Hub) -> None:
    s = seed(hub, C_V20, with_z=True)
    path = collection_path(C_V20, f"objects/{s.z}/versions/")
    assert get(hub, path + "?match[spec_version]=2.0").json["versions"] == [Z_MODIFIED_20]
    assert get(hub, path + "?match[spec_version]=2.0,2.1").json["versions"] == [Z_MODIFIED_21, Z_MODIFIED_20]


def test_q3_versions_ignore_match_version(hub: Hub) -> None:
    s = seed(hub)
    body = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/?match[version]=first")).json
    assert body["versions"] == list(X_VERSIONS)


def test_q4_versions_ascend_by_date_added_not_by_modified(hub: Hub) -> None:
    object_id = new_id("indicator")
    for version in (X_VERSIONS[2], X_VERSIONS[0], X_VERSIONS[1]):
        post_objects(hub, "alice", C_RW, [indicator(object_id, modified=version)])
    body = get(hub, collection_path(C_RW, f"objects/{object_id}/versions/")).json
    assert body["versions"] == [X_VERSIONS[2], X_VERSIONS[0], X_VERSIONS[1]]


def test_q5_versions_of_an_unknown_object_is_a_taxii_404(hub: Hub) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{new_id('indicator')}/versions/"))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT


def test_q5_versions_in_an_unreadable_collection_is_a_403(hub: Hub) -> None:
    s = seed(hub, C_WO)
    assert get(hub, collection_path(C_WO, f"objects/{s.x}/versions/")).status_code == 403

