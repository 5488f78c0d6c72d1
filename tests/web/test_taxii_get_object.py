"""Checklist O: Get an Object (§5.6) — an envelope with the latest version; 404 for an unknown object."""

from __future__ import annotations

import pytest

from tests.support.hubtest import C_RW, C_WO, MT, X_VERSIONS, Hub, collection_path, get, new_id, seed


def test_o1_get_an_object_answers_an_envelope_with_the_latest_version(hub: Hub) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{s.x}/"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert [(o["id"], o["modified"]) for o in response.json["objects"]] == [(s.x, X_VERSIONS[2])]
    assert response.headers["X-TAXII-Date-Added-First"] == response.headers["X-TAXII-Date-Added-Last"]


@pytest.mark.parametrize("object_id", [new_id("indicator"), "not-a-stix-id"])
def test_o2_an_unknown_object_is_a_taxii_404_not_an_empty_envelope(hub: Hub, object_id: str) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{object_id}/"))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "404"


def test_o3_all_versions_page_with_limit_and_next(hub: Hub) -> None:
    s = seed(hub)
    path = collection_path(C_RW, f"objects/{s.x}/?match[version]=all&limit=1")
    seen, body = [], get(hub, path).json
    seen += body["objects"]
    while body.get("more"):
        body = get(hub, f"{path}&next={body['next']}").json
        seen += body["objects"]
    assert [o["modified"] for o in seen] == list(X_VERSIONS)


def test_o3_a_first_page_of_versions_has_more_and_next(hub: Hub) -> None:
    s = seed(hub)
    body = get(hub, collection_path(C_RW, f"objects/{s.x}/?match[version]=all&limit=1")).json
    assert len(body["objects"]) == 1
    assert body["more"] is True
    assert body["next"]


def test_o3_match_id_and_type_are_ignored_on_get_an_object(hub: Hub) -> None:
    s = seed(hub)
    body = get(hub, collection_path(C_RW, f"objects/{s.x}/?match[id]={s.y}&match[type]=malware")).json
    assert [o["id"] for o in body["objects"]] == [s.x]


def test_o4_a_known_object_whose_versions_are_all_filtered_out_is_an_empty_envelope(hub: Hub) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{s.x}/?match[version]=1999-01-01T00:00:00.000Z"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_o5_get_an_object_in_an_unreadable_collection_is_a_403(hub: Hub) -> None:
    s = seed(hub, C_WO)
    response = get(hub, collection_path(C_WO, f"objects/{s.x}/"))
    assert response.status_code == 403
    assert response.headers["Content-Type"] == MT
