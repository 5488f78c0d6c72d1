"""Checklist P: Delete an Object (§5.7). Without match[version] every version goes (our decision, P5)."""

from __future__ import annotations

from werkzeug.test import TestResponse

from tests.support.hubtest import (
    C_RO,
    C_RW,
    C_V20,
    C_WO,
    MT,
    X_VERSIONS,
    Z_MODIFIED_20,
    Hub,
    collection_path,
    get,
    manifest_records,
    new_id,
    seed,
)


def _delete(hub: Hub, collection: str, suffix: str, org: str = "alice") -> TestResponse:
    return hub.client().delete(collection_path(collection, suffix), headers=hub.headers(org))


def test_p1_a_delete_answers_200_with_no_payload(hub: Hub) -> None:
    s = seed(hub)
    response = _delete(hub, C_RW, f"objects/{s.y}/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert response.data == b""


def test_p2_delete_where_the_caller_may_read_but_not_write_is_a_403(hub: Hub) -> None:
    s = seed(hub, C_RO, org="analyst")
    response = _delete(hub, C_RO, f"objects/{s.y}/")
    assert response.status_code == 403
    assert response.headers["Content-Type"] == MT


def test_p2_delete_where_the_caller_may_write_but_not_read_is_a_403(hub: Hub) -> None:
    s = seed(hub, C_WO)
    assert _delete(hub, C_WO, f"objects/{s.y}/").status_code == 403


def test_p3_a_deleted_object_is_gone_from_get_an_object(hub: Hub) -> None:
    s = seed(hub)
    _delete(hub, C_RW, f"objects/{s.y}/")
    assert get(hub, collection_path(C_RW, f"objects/{s.y}/")).status_code == 404


def test_p3_a_deleted_object_is_gone_from_get_objects(hub: Hub) -> None:
    s = seed(hub)
    _delete(hub, C_RW, f"objects/{s.y}/")
    response = get(hub, collection_path(C_RW, f"objects/?match[id]={s.y}"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_p3_a_deleted_object_is_gone_from_the_manifest(hub: Hub) -> None:
    s = seed(hub)
    _delete(hub, C_RW, f"objects/{s.y}/")
    assert s.y not in {r["id"] for r in manifest_records(hub, C_RW, "?match[version]=all")}


def test_p4_delete_with_match_version_removes_only_that_version(hub: Hub) -> None:
    s = seed(hub)
    assert _delete(hub, C_RW, f"objects/{s.x}/?match[version]={X_VERSIONS[1]}").status_code == 200
    versions = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/")).json["versions"]
    assert versions == [X_VERSIONS[0], X_VERSIONS[2]]


def test_p5_delete_without_match_version_removes_every_version(hub: Hub) -> None:
    s = seed(hub)
    assert _delete(hub, C_RW, f"objects/{s.x}/").status_code == 200
    assert get(hub, collection_path(C_RW, f"objects/{s.x}/")).status_code == 404
    assert get(hub, collection_path(C_RW, f"objects/?match[id]={s.x}&match[version]=all")).data == b"{}"


def test_p5_delete_with_match_version_last_removes_only_the_latest(hub: Hub) -> None:
    s = seed(hub)
    assert _delete(hub, C_RW, f"objects/{s.x}/?match[version]=last").status_code == 200
    latest = get(hub, collection_path(C_RW, f"objects/{s.x}/")).json["objects"]
    assert [o["modified"] for o in latest] == [X_VERSIONS[1]]


def test_p6_deleting_an_unknown_object_is_a_taxii_404(hub: Hub) -> None:
    seed(hub)
    response = _delete(hub, C_RW, f"objects/{new_id('indicator')}/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "404"


def test_p5_delete_without_match_version_removes_the_versions_of_every_spec_version(hub: Hub) -> None:
    s = seed(hub, C_V20, with_z=True)
    assert _delete(hub, C_V20, f"objects/{s.z}/").status_code == 200
    assert get(hub, collection_path(C_V20, f"objects/{s.z}/")).status_code == 404
    query = f"objects/?match[id]={s.z}&match[version]=all&match[spec_version]=2.0,2.1"
    assert get(hub, collection_path(C_V20, query)).data == b"{}"


def test_p5_delete_with_match_spec_version_removes_only_that_spec_version(hub: Hub) -> None:
    s = seed(hub, C_V20, with_z=True)
    assert _delete(hub, C_V20, f"objects/{s.z}/?match[spec_version]=2.1").status_code == 200
    left = get(hub, collection_path(C_V20, f"objects/{s.z}/")).json["objects"]
    assert [(o.get("spec_version"), o["modified"]) for o in left] == [(None, Z_MODIFIED_20)]
