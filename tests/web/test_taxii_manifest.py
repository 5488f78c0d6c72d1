"""Checklist L: Get Object Manifests (§5.3, §5.3.1) — one record per object version, filtered like objects."""

from __future__ import annotations

import re

from tests.support.hubtest import (
    C_MISSING,
    C_RW,
    C_WO,
    MT,
    X_VERSIONS,
    Hub,
    collection_path,
    get,
    manifest_records,
    seed,
)

TAXII_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
STIX_21 = "application/stix+json;version=2.1"


def test_l1_manifest_answers_taxii_to_the_accept_header_the_spec_lists(hub: Hub) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, "manifest/"),
                   Accept="application/taxii+json;version=2.1,application/stix+json;version=2.1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert set(response.json) <= {"more", "next", "objects"}
    assert response.headers["X-TAXII-Date-Added-First"]
    assert response.headers["X-TAXII-Date-Added-Last"]


def test_l1_an_empty_manifest_is_an_empty_object(hub: Hub) -> None:
    response = get(hub, collection_path(C_RW, "manifest/"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_l2_one_record_per_version_with_id_date_added_version_and_media_type(hub: Hub) -> None:
    s = seed(hub)
    records = manifest_records(hub, C_RW, f"?match[id]={s.x}&match[version]=all")
    assert [r["id"] for r in records] == [s.x] * 3
    assert [r["version"] for r in records] == list(X_VERSIONS)
    assert all(TAXII_TIMESTAMP.match(r["date_added"]) for r in records)
    assert [r["date_added"] for r in records] == sorted({r["date_added"] for r in records})
    assert {r["media_type"] for r in records} == {STIX_21}


def test_l2_media_type_is_one_of_the_collections_media_types(hub: Hub) -> None:
    seed(hub)
    allowed = set(get(hub, collection_path(C_RW)).json["media_types"])
    assert {r["media_type"] for r in manifest_records(hub, C_RW)} <= allowed


def test_l3_match_type_filters_manifest_records(hub: Hub) -> None:
    s = seed(hub)
    assert [(r["id"], r["version"]) for r in manifest_records(hub, C_RW, "?match[type]=indicator")] == [
        (s.x, X_VERSIONS[2])
    ]


def test_l3_by_default_one_record_per_object(hub: Hub) -> None:
    s = seed(hub)
    assert sorted(r["id"] for r in manifest_records(hub, C_RW)) == sorted([s.x, s.y, s.m, s.s])


def test_l3_manifest_takes_the_same_version_keywords(hub: Hub) -> None:
    s = seed(hub)
    records = manifest_records(hub, C_RW, f"?match[id]={s.x}&match[version]=first,last")
    assert [r["version"] for r in records] == [X_VERSIONS[0], X_VERSIONS[2]]


def test_l3_manifest_takes_added_after(hub: Hub) -> None:
    s = seed(hub)
    first = manifest_records(hub, C_RW, f"?match[id]={s.x}&match[version]=all")[0]
    records = manifest_records(hub, C_RW, f"?match[id]={s.x}&match[version]=all&added_after={first['date_added']}")
    assert [r["version"] for r in records] == list(X_VERSIONS[1:])


def test_l4_manifest_records_ascend_by_date_added(hub: Hub) -> None:
    seed(hub)
    stamps = [r["date_added"] for r in manifest_records(hub, C_RW, "?match[version]=all")]
    assert len(stamps) == 6
    assert stamps == sorted(stamps)


def test_l5_manifest_of_an_unreadable_collection_is_a_403(hub: Hub) -> None:
    response = get(hub, collection_path(C_WO, "manifest/"))
    assert response.status_code == 403
    assert response.headers["Content-Type"] == MT


def test_l5_manifest_of_a_missing_collection_is_a_404(hub: Hub) -> None:
    assert get(hub, collection_path(C_MISSING, "manifest/")).status_code == 404


def test_l6_a_truncated_manifest_has_more_and_next(hub: Hub) -> None:
    seed(hub)
    body = get(hub, collection_path(C_RW, "manifest/?limit=1")).json
    assert len(body["objects"]) == 1
    assert body["more"] is True
    assert isinstance(body["next"], str) and body["next"]
