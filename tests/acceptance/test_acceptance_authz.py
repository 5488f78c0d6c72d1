"""Acceptance cases AUTHZ-01..07 (spec/security.md §5): one organisation's data is invisible or untouchable
for another. AUTHZ-08 (anonymised sharing) is the hub's publishing workflow; see the README's table."""

from __future__ import annotations

import pytest

from tests.support.acceptance_hub import (
    CA,
    CR,
    CS,
    A,
    AcceptanceHub,
    B,
    collection_path,
    error_shape_ok,
    missing_uuid,
    object_path,
    objects_path,
    valid,
)
from tests.support.hubtest import ROOT, new_id

READS = ["", "objects/", "manifest/", "objects/{o}/", "objects/{o}/versions/"]


@pytest.mark.parametrize("suffix", READS)
def test_authz_01_cross_org_read_is_indistinguishable_from_absence(acc: AcceptanceHub, suffix: str) -> None:
    o = new_id("indicator")
    assert acc.post(CA, [valid(o)]).json["success_count"] == 1
    theirs = acc.get(collection_path(CA) + suffix.format(o=o), B)
    absent = acc.get(collection_path(missing_uuid()) + suffix.format(o=new_id("indicator")), B)
    assert error_shape_ok(theirs, 404)
    assert theirs.data == absent.data
    assert dict(theirs.headers) == dict(absent.headers)
    assert not [h for h in theirs.headers.keys() if h.lower().startswith("x-taxii")]


def test_authz_02_collection_listing_is_filtered_per_org(acc: AcceptanceHub) -> None:
    listed = {c["id"]: c for c in acc.get(f"/{ROOT}/collections/", B).json["collections"]}
    assert CA not in listed
    assert (listed[CR]["can_read"], listed[CR]["can_write"]) == (True, False)
    assert (listed[CS]["can_read"], listed[CS]["can_write"]) == (True, True)


def test_authz_03_another_orgs_status_is_indistinguishable_from_an_unknown_one(acc: AcceptanceHub) -> None:
    status_id = acc.post(CA, [valid()]).json["id"]
    theirs = acc.get(f"/{ROOT}/status/{status_id}/", B)
    unknown = acc.get(f"/{ROOT}/status/{missing_uuid()}/", B)
    assert error_shape_ok(theirs, 404)
    assert (theirs.data, dict(theirs.headers)) == (unknown.data, dict(unknown.headers))
    assert acc.get(f"/{ROOT}/status/{status_id}/", A).status_code == 200


def test_authz_04_a_post_to_a_visible_read_only_collection_is_403_and_stores_nothing(acc: AcceptanceHub) -> None:
    statuses = acc.status_count()
    response = acc.post(CR, [valid()], org=B)
    assert error_shape_ok(response, 403)
    assert acc.stored(CR, B) == []
    assert acc.status_count() == statuses


def test_authz_05_a_member_cannot_delete_another_orgs_object_from_a_shared_collection(acc: AcceptanceHub) -> None:
    o = new_id("indicator")
    versions = ["2021-01-01T00:00:00.000Z", "2021-02-01T00:00:00.000Z"]
    assert acc.post(CS, [valid(o, modified=v) for v in versions]).json["success_count"] == 2
    for query in ("", "?match[version]=all", f"?match[version]={versions[0]}"):
        response = acc.request("DELETE", object_path(CS, o) + query, B)
        assert response.status_code in (403, 404) and error_shape_ok(response, response.status_code)
    assert sorted(v["modified"] for v in acc.stored(CS, A)) == versions


def test_authz_05_the_owner_may_still_delete_its_own_object(acc: AcceptanceHub) -> None:
    o = new_id("indicator")
    acc.post(CS, [valid(o)])
    assert acc.request("DELETE", object_path(CS, o), A).status_code == 200
    assert acc.stored(CS, B) == []


def test_authz_06_a_newer_version_of_another_orgs_object_is_refused(acc: AcceptanceHub) -> None:
    o = new_id("indicator")
    acc.post(CS, [valid(o, name="A's v1")])
    response = acc.post(CS, [valid(o, modified="2025-01-01T00:00:00.000Z", name="B's hijack")], org=B)
    assert response.status_code == 202
    assert (response.json["success_count"], response.json["failure_count"]) == (0, 1)
    assert "another organisation" in response.json["failures"][0]["message"]
    for reader in (A, B):
        latest = acc.get(object_path(CS, o), reader).json["objects"]
        assert [x["name"] for x in latest] == ["A's v1"]


def test_authz_07_an_object_is_reached_only_through_the_collection_that_holds_it(acc: AcceptanceHub) -> None:
    o = new_id("indicator")
    acc.post(CA, [valid(o)])
    assert error_shape_ok(acc.get(object_path(CS, o), A), 404)
    assert error_shape_ok(acc.request("DELETE", object_path(CS, o), A), 404)
    assert error_shape_ok(acc.get(object_path(CS, o, "versions/"), A), 404)
    assert [x["id"] for x in acc.stored(CA)] == [o]
    assert acc.get(objects_path(CA) + f"?match[id]={o}", A).json["objects"][0]["id"] == o
