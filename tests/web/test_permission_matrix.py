"""The permission matrix (checklist H1–H8): every TAXII endpoint × every kind of caller.

In collection C_RW, alice is the owner (reads, writes, first added the object), `reader` only reads,
`writer` only writes, bob is an outsider, `analyst` reads and writes as a hub analyst. Outsiders get a 404
that is byte-identical to the answer for a collection that does not exist.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.support.hubtest import C_MISSING, C_RW, MT, ROOT, Hub, indicator, post_objects

OBJECT_ID = "indicator--5b1cbd0b-8f26-4d7a-9a3a-6c6f4a8a1e01"

ENDPOINTS: dict[str, tuple[str, str]] = {
    "collection": ("GET", "/{root}/collections/{c}/"),
    "manifest": ("GET", "/{root}/collections/{c}/manifest/"),
    "get_objects": ("GET", "/{root}/collections/{c}/objects/"),
    "add_objects": ("POST", "/{root}/collections/{c}/objects/"),
    "get_object": ("GET", "/{root}/collections/{c}/objects/{o}/"),
    "versions": ("GET", "/{root}/collections/{c}/objects/{o}/versions/"),
    "delete_object": ("DELETE", "/{root}/collections/{c}/objects/{o}/"),
}
OK = {"GET": 200, "POST": 202, "DELETE": 200}

# expected status per (caller, endpoint); None = the method's success code
EXPECTED: dict[str, dict[str, int | None]] = {
    "alice": dict.fromkeys(ENDPOINTS),
    "analyst": dict.fromkeys(ENDPOINTS),
    "reader": {**dict.fromkeys(ENDPOINTS), "add_objects": 403, "delete_object": 403},
    "writer": {"collection": None, "manifest": 403, "get_objects": 403, "add_objects": None, "get_object": 403,
               "versions": 403, "delete_object": 403},
    "bob": dict.fromkeys(ENDPOINTS, 404),
    "unauthenticated": dict.fromkeys(ENDPOINTS, 401),
}


def _request(hub: Hub, caller: str | None, endpoint: str, collection: str) -> Any:
    method, template = ENDPOINTS[endpoint]
    path = template.format(root=ROOT, c=collection, o=OBJECT_ID)
    headers = hub.headers(caller)
    body = None
    if method == "POST":
        headers["Content-Type"] = MT
        body = orjson.dumps({"objects": [indicator(modified="2022-01-01T00:00:00.000Z")]})
    return hub.client().open(path, method=method, headers=headers, data=body)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("caller", sorted(EXPECTED))
def test_h_matrix_each_caller_gets_what_the_collection_rules_give_it(hub: Hub, caller: str, endpoint: str) -> None:
    assert post_objects(hub, "alice", C_RW, [indicator(OBJECT_ID)]).status_code == 202
    response = _request(hub, None if caller == "unauthenticated" else caller, endpoint, C_RW)
    wanted = EXPECTED[caller][endpoint] or OK[ENDPOINTS[endpoint][0]]
    assert response.status_code == wanted, response.data
    assert response.headers["Content-Type"] == MT


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_h7_outsider_gets_the_same_404_as_for_a_missing_collection(hub: Hub, endpoint: str) -> None:
    post_objects(hub, "alice", C_RW, [indicator(OBJECT_ID)])
    invisible = _request(hub, "bob", endpoint, C_RW)
    missing = _request(hub, "alice", endpoint, C_MISSING)
    assert invisible.status_code == missing.status_code == 404
    assert invisible.data == missing.data
    assert dict(invisible.headers) == dict(missing.headers)


def test_h_collections_list_shows_each_caller_only_what_it_can_use(hub: Hub) -> None:
    def listed(org: str) -> dict[str, tuple[bool, bool]]:
        body = hub.client().get(f"/{ROOT}/collections/", headers=hub.headers(org)).json
        return {c["id"]: (c["can_read"], c["can_write"]) for c in body.get("collections", [])}

    assert listed("reader")[C_RW] == (True, False)
    assert listed("writer")[C_RW] == (False, True)
    assert listed("alice")[C_RW] == (True, True)
    assert C_RW not in listed("bob")


def test_h_writer_only_cannot_overwrite_the_owners_object(hub: Hub) -> None:
    post_objects(hub, "alice", C_RW, [indicator(OBJECT_ID)])
    response = post_objects(hub, "writer", C_RW, [indicator(OBJECT_ID, modified="2023-01-01T00:00:00.000Z")])
    assert response.status_code == 202
    assert response.json["failure_count"] == 1
    assert "first added by another organisation" in response.json["failures"][0]["message"]


@pytest.mark.parametrize(
    ("caller", "expected"),
    [("alice", 200), ("reader", 404), ("writer", 404), ("bob", 404), ("analyst", 404), (None, 401)],
)
def test_n6_a_status_is_visible_only_to_the_organisation_that_made_the_request(
    hub: Hub, caller: str | None, expected: int
) -> None:
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    response = hub.client().get(f"/{ROOT}/status/{status_id}/", headers=hub.headers(caller))
    assert response.status_code == expected
    if expected == 404:
        unknown = hub.client().get(f"/{ROOT}/status/{C_MISSING}/", headers=hub.headers(caller))
        assert response.data == unknown.data


@pytest.mark.parametrize("path", ["/taxii2/", f"/{ROOT}/", f"/{ROOT}/collections/"])
@pytest.mark.parametrize(("caller", "expected"), [("alice", 200), ("bob", 200), ("analyst", 200), (None, 401)])
def test_e_g_server_information_needs_authentication(hub: Hub, path: str, caller: str | None, expected: int) -> None:
    response = hub.client().get(path, headers=hub.headers(caller))
    assert response.status_code == expected
    assert response.headers["Content-Type"] == MT
