"""Checklist G: Get Collections (§5.1) and Get a Collection (§5.2, §5.2.1)."""

from __future__ import annotations

import re

from taxii_server.web import resources
from tests.support.hubtest import C_MISSING, C_NONE, C_RO, C_RW, C_V20, C_WO, INBOX, MT, ROOT, Hub, collection_path, get

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _listed(hub: Hub, org: str = "alice") -> list[dict[str, object]]:
    response = get(hub, f"/{ROOT}/collections/", org)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    collections: list[dict[str, object]] = response.json["collections"]
    return collections


def test_g1_collections_are_listed_under_the_collections_key(hub: Hub) -> None:
    ids = {c["id"] for c in _listed(hub)}
    assert {C_RW, C_RO, C_WO, C_V20} <= ids


def test_g1_an_empty_collection_list_is_an_empty_object() -> None:
    """Over HTTP a root without visible collections is a 404 (E4); the resource itself never says `[]`."""
    assert resources.collections([]) == b"{}"


def test_g2_collections_come_in_a_stable_order_sorted_by_id(hub: Hub) -> None:
    first = [c["id"] for c in _listed(hub)]
    assert first == [c["id"] for c in _listed(hub)]
    assert first == sorted(first)  # type: ignore[type-var]


def test_g3_each_collection_has_id_title_and_boolean_rights(hub: Hub) -> None:
    for c in _listed(hub):
        assert isinstance(c["id"], str) and UUID4.match(c["id"])
        assert isinstance(c["title"], str)
        assert type(c["can_read"]) is bool
        assert type(c["can_write"]) is bool


def test_g4_rights_describe_the_requesting_organisation(hub: Hub) -> None:
    alice = get(hub, collection_path(C_RW), "alice").json
    reader = get(hub, collection_path(C_RW), "reader").json
    assert (alice["can_read"], alice["can_write"]) == (True, True)
    assert (reader["can_read"], reader["can_write"]) == (True, False)


def test_g5_media_types_list_every_spec_version_the_collection_stores(hub: Hub) -> None:
    media_types = get(hub, collection_path(C_V20)).json["media_types"]
    assert set(media_types) == {"application/stix+json;version=2.1", "application/stix+json;version=2.0"}


def test_g5_a_2_1_only_collection_lists_only_2_1(hub: Hub) -> None:
    assert get(hub, collection_path(C_RW)).json["media_types"] == ["application/stix+json;version=2.1"]


def test_g6_a_collection_is_represented_as_in_the_list(hub: Hub) -> None:
    listed = {c["id"]: c for c in _listed(hub)}
    response = get(hub, collection_path(C_RO))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert response.json == listed[C_RO]


def test_g6_an_unknown_collection_is_a_taxii_404(hub: Hub) -> None:
    response = get(hub, collection_path(C_MISSING))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "404"


def test_g7_a_collection_resolves_by_id_and_by_alias(hub: Hub) -> None:
    by_id = get(hub, collection_path(C_RW))
    by_alias = get(hub, collection_path("rw"))
    assert by_id.status_code == by_alias.status_code == 200
    assert by_alias.json["id"] == C_RW
    assert by_alias.json["alias"] == "rw"


def test_g8_a_collection_without_rights_is_not_listed(hub: Hub) -> None:
    assert [c["id"] for c in _listed(hub, "bob")] == [INBOX]
    assert C_NONE not in {c["id"] for c in _listed(hub, "alice")}


def test_g8_a_collection_without_rights_is_a_404_when_asked_for(hub: Hub) -> None:
    assert get(hub, collection_path(C_NONE), "bob").status_code == 404

