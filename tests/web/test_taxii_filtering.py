"""Checklist J: filtering (§3.4, §3.4.1) — parameters, defaults, and how they combine.

The fixture is the checklist's §0.2 seed: X with versions v1 < v2 < v3 added at d1 < d2 < d3, then Y, M
(a marking-definition) and S (an ipv4-addr SCO); Z (an identity stored as STIX 2.0 and 2.1) lives in C_V20.
Version keywords act per object, after every other filter (J10, J13).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hubtest import (
    C_RW,
    C_V20,
    M_CREATED,
    MT,
    X_VERSIONS,
    Z_MODIFIED_20,
    Z_MODIFIED_21,
    Hub,
    Seed,
    collection_path,
    date_added,
    get,
    indicator,
    post_objects,
    seed,
)

Y_VERSION = "2021-02-01T00:00:00.000Z"


def _objects(hub: Hub, query: str, collection: str = C_RW) -> list[dict[str, Any]]:
    response = get(hub, collection_path(collection, "objects/?" + query))
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == MT
    found: list[dict[str, Any]] = response.json.get("objects", [])
    return found


def _versions(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(o["id"], o.get("modified", o.get("created", ""))) for o in objects]


def test_j1_added_after_returns_only_later_versions(hub: Hub) -> None:
    s = seed(hub)
    d2 = date_added(hub, C_RW, s.x, X_VERSIONS[1])
    assert _versions(_objects(hub, f"match[id]={s.x}&added_after={d2}")) == [(s.x, X_VERSIONS[2])]


def test_j1_added_after_is_strictly_exclusive(hub: Hub) -> None:
    s = seed(hub)
    d3 = date_added(hub, C_RW, s.x, X_VERSIONS[2])
    assert _objects(hub, f"match[id]={s.x}&added_after={d3}") == []


def test_j1_added_after_in_the_future_is_an_empty_envelope(hub: Hub) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, "objects/?added_after=2999-01-01T00:00:00.000000Z"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_j1_added_after_compares_date_added_not_stix_times(hub: Hub) -> None:
    """The seed's STIX timestamps are from 2021; they were added today, so all are after 2022."""
    s = seed(hub)
    assert len(_objects(hub, "added_after=2022-01-01T00:00:00Z")) == len({s.x, s.y, s.m, s.s})


@pytest.mark.parametrize("query", [
    "added_after=garbage", "added_after=2021-01-01T00:00:00Z&added_after=2022-01-01T00:00:00Z",
])
def test_j2_malformed_or_repeated_added_after_is_a_400(hub: Hub, query: str) -> None:
    response = get(hub, collection_path(C_RW, "objects/?" + query))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT


@pytest.mark.parametrize("stamp", [
    "2021-01-01T00:00:00Z", "2021-01-01T00:00:00.1Z", "2021-01-01T00:00:00.123Z",
    "2021-01-01T00:00:00.123456Z", "2021-01-01T00:00:00.123456789Z",
])
def test_j3_added_after_takes_zero_to_nine_fractional_digits(hub: Hub, stamp: str) -> None:
    seed(hub)
    assert len(_objects(hub, f"added_after={stamp}")) == 4


def test_j4_without_added_after_the_oldest_object_comes_first(hub: Hub) -> None:
    s = seed(hub)
    assert _versions(_objects(hub, "limit=1")) == [(s.x, X_VERSIONS[2])]


def test_j5_limit_bounds_the_page_and_says_more(hub: Hub) -> None:
    seed(hub)
    body = get(hub, collection_path(C_RW, "objects/?limit=1")).json
    assert len(body["objects"]) == 1
    assert body["more"] is True


def test_j5_all_objects_come_when_they_fit_under_the_limit(hub: Hub) -> None:
    seed(hub)
    body = get(hub, collection_path(C_RW, "objects/?limit=4")).json
    assert len(body["objects"]) == 4
    assert body["more"] is False


def test_j5_a_limit_above_the_server_maximum_is_clamped_not_refused(hub: Hub) -> None:
    assert post_objects(hub, "alice", C_RW, [indicator() for _ in range(101)]).json["success_count"] == 101
    response = get(hub, collection_path(C_RW, "objects/?limit=5000"))
    assert response.status_code == 200
    assert len(response.json["objects"]) == 100  # the fixture hub's max_page_size
    assert response.json["more"] is True


def test_j5_limit_zero_is_a_400(hub: Hub) -> None:
    assert get(hub, collection_path(C_RW, "objects/?limit=0")).status_code == 400


def test_j6_values_within_a_field_are_ored(hub: Hub) -> None:
    s = seed(hub)
    assert {o["id"] for o in _objects(hub, "match[type]=indicator,malware")} == {s.x, s.y}


def test_j6_fields_are_anded(hub: Hub) -> None:
    s = seed(hub)
    assert _objects(hub, f"match[type]=indicator&match[id]={s.y}") == []


def test_j7_an_unknown_match_field_is_ignored(hub: Hub) -> None:
    seed(hub)
    assert _objects(hub, "match[foo]=bar") == _objects(hub, "")


def test_j8_several_ids_are_ored(hub: Hub) -> None:
    s = seed(hub)
    assert {o["id"] for o in _objects(hub, f"match[id]={s.x},{s.y}")} == {s.x, s.y}


@pytest.mark.parametrize("stix_type", ["grouping", "x509-certificate", "windows-registry-key", "language-content",
                                       "extension-definition", "x-custom-thing"])
def test_j9_a_type_with_no_objects_is_an_empty_envelope_not_an_error(hub: Hub, stix_type: str) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/?match[type]={stix_type}"))
    assert response.status_code == 200
    assert response.data == b"{}"


def _j10_expected(s: Seed, name: str) -> list[tuple[str, str]]:
    v1, v2, v3 = ((s.x, v) for v in X_VERSIONS)
    y = (s.y, Y_VERSION)
    return {
        "first": [v1, y], "last": [v3, y], "first,last": [v1, v3, y], "all": [v1, v2, v3, y],
        "v2": [v2], "last,first,v2": [v1, v2, v3, y],
    }[name]


@pytest.mark.parametrize("keywords", ["first", "last", "first,last", "all", "v2", "last,first,v2"])
def test_j10_version_keywords_act_per_object_in_date_added_order(hub: Hub, keywords: str) -> None:
    """FreeTAXII Filter-01..06: with match[id]=X,Y the results, compared by index."""
    s = seed(hub)
    value = keywords.replace("v2", X_VERSIONS[1])
    found = _versions(_objects(hub, f"match[id]={s.x},{s.y}&match[version]={value}"))
    assert found == _j10_expected(s, keywords)


def test_j10_without_match_version_the_default_is_last(hub: Hub) -> None:
    s = seed(hub)
    assert _versions(_objects(hub, f"match[id]={s.x},{s.y}")) == _j10_expected(s, "last")


def test_j10_all_combined_with_another_value_is_a_400(hub: Hub) -> None:
    """FreeTAXII Filter-07 territory: `all` must stand alone (REC: 400 rather than medallion's tolerance)."""
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/?match[id]={s.x}&match[version]=all,last"))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT


def test_j11_an_unversioned_object_is_matched_on_created(hub: Hub) -> None:
    s = seed(hub)
    assert [o["id"] for o in _objects(hub, f"match[version]={M_CREATED}")] == [s.m]


def test_j11_an_object_without_created_is_matched_on_its_server_version(hub: Hub) -> None:
    s = seed(hub)
    assert [o["id"] for o in _objects(hub, f"match[version]={s.s_version}")] == [s.s]


def test_j11_version_values_are_compared_as_instants(hub: Hub) -> None:
    s = seed(hub)
    same_instant = X_VERSIONS[1].replace(".000Z", "Z")
    assert _versions(_objects(hub, f"match[id]={s.x}&match[version]={same_instant}")) == [(s.x, X_VERSIONS[1])]


def _z(hub: Hub, query: str) -> list[tuple[str | None, str]]:
    s = seed(hub, C_V20, with_z=True)
    found = _objects(hub, f"match[id]={s.z}" + query, C_V20)
    return [(o.get("spec_version"), o["modified"]) for o in found]


def test_j12_match_spec_version_2_0_returns_only_the_2_0_version(hub: Hub) -> None:
    assert _z(hub, "&match[spec_version]=2.0") == [(None, Z_MODIFIED_20)]


def test_j12_match_spec_version_2_1_returns_only_the_2_1_version(hub: Hub) -> None:
    assert _z(hub, "&match[spec_version]=2.1") == [("2.1", Z_MODIFIED_21)]


@pytest.mark.parametrize("query", ["", "&match[version]=all"])
def test_j12_without_match_spec_version_only_the_latest_spec_version_is_returned(hub: Hub, query: str) -> None:
    """The 2.0 version of Z has the newer `modified`, yet only the 2.1 version is served by default."""
    assert _z(hub, query) == [("2.1", Z_MODIFIED_21)]


def test_j12_with_both_spec_versions_the_default_last_applies_across_them(hub: Hub) -> None:
    assert _z(hub, "&match[spec_version]=2.0,2.1") == [(None, Z_MODIFIED_20)]


def test_j13_the_version_keyword_is_chosen_after_the_other_filters(hub: Hub) -> None:
    s = seed(hub)
    d1 = date_added(hub, C_RW, s.x, X_VERSIONS[0])
    found = _versions(_objects(hub, f"match[id]={s.x}&added_after={d1}&match[version]=first"))
    assert found == [(s.x, X_VERSIONS[1])]


def test_j13_last_among_a_type_filter_is_per_object(hub: Hub) -> None:
    s = seed(hub)
    assert _versions(_objects(hub, "match[type]=indicator&match[version]=last")) == [(s.x, X_VERSIONS[2])]
