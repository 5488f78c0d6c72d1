"""Checklist B: media types and content negotiation (TAXII 2.1 §3.1, §1.6.7, §1.6.8.2).

Every answer — success or error — is `application/taxii+json;version=2.1` byte for byte (B1). Accept values
that name the TAXII type, with or without a version, and the policy types `*/*` and `application/json` are
served (B2, B3, B4); anything else is a TAXII 406. POST bodies are TAXII with tolerated extra parameters
(B5); other Content-Types are a TAXII 415 (B6).
"""

from __future__ import annotations

import orjson
import pytest
from werkzeug.test import TestResponse

from tests.support.hubtest import (
    C_RW,
    MT,
    ROOT,
    Hub,
    collection_path,
    get,
    indicator,
    post_objects,
    seed,
)

GET_ENDPOINTS = {
    "discovery": "/taxii2/",
    "api_root": f"/{ROOT}/",
    "collections": f"/{ROOT}/collections/",
    "collection": collection_path(C_RW),
    "manifest": collection_path(C_RW, "manifest/"),
    "objects": collection_path(C_RW, "objects/"),
    "object": collection_path(C_RW, "objects/{x}/"),
    "versions": collection_path(C_RW, "objects/{x}/versions/"),
    "status": f"/{ROOT}/status/{{status}}/",
}


def _paths(hub: Hub) -> dict[str, str]:
    s = seed(hub)
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    return {name: path.format(x=s.x, status=status_id) for name, path in GET_ENDPOINTS.items()}


@pytest.mark.parametrize("endpoint", sorted(GET_ENDPOINTS))
def test_b1_every_get_endpoint_answers_with_the_exact_taxii_content_type(hub: Hub, endpoint: str) -> None:
    response = get(hub, _paths(hub)[endpoint])
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == MT


def test_b1_add_objects_answers_with_the_exact_taxii_content_type(hub: Hub) -> None:
    response = post_objects(hub, "alice", C_RW, [indicator()])
    assert response.status_code == 202
    assert response.headers["Content-Type"] == MT


def test_b1_delete_answers_with_the_exact_taxii_content_type(hub: Hub) -> None:
    s = seed(hub)
    response = hub.client().delete(collection_path(C_RW, f"objects/{s.y}/"), headers=hub.headers("alice"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT


ACCEPTED = [
    MT,
    "application/taxii+json; version=2.1",
    "application/taxii+json",
    "application/taxii+json;version=2.1,application/stix+json;version=2.1",
    "*/*",
    "application/json",
]


@pytest.mark.parametrize("endpoint", sorted(GET_ENDPOINTS))
@pytest.mark.parametrize("accept", ACCEPTED)
def test_b2_defined_and_policy_accept_values_are_served_as_taxii(hub: Hub, endpoint: str, accept: str) -> None:
    response = get(hub, _paths(hub)[endpoint], Accept=accept)
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"] == MT


@pytest.mark.parametrize("accept", ["", "application/foo", "application/taxii+json;version=2.0",
                                    "application/vnd.oasis.taxii+json; version=2.0", "text/html"])
def test_b3_undefined_accept_values_get_a_taxii_406(hub: Hub, accept: str) -> None:
    response = get(hub, "/taxii2/", Accept=accept)
    assert response.status_code == 406
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "406"


@pytest.mark.parametrize("accept", [
    "application/json;q=0.5, application/taxii+json;version=2.1;q=0.9",
    'application/taxii+json;version="2.1"',
    "Application/TAXII+JSON;Version=2.1",
    "text/html,  application/taxii+json ;version=2.1",
])
def test_b4_accept_is_parsed_per_rfc_7231(hub: Hub, accept: str) -> None:
    response = get(hub, "/taxii2/", Accept=accept)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT


def test_b4_q_zero_makes_the_taxii_type_unacceptable(hub: Hub) -> None:
    response = get(hub, "/taxii2/", Accept="application/taxii+json;version=2.1;q=0")
    assert response.status_code == 406
    assert response.headers["Content-Type"] == MT


def _post(hub: Hub, content_type: str | None, body: bytes | None = None) -> TestResponse:
    headers = hub.headers("alice")
    if content_type is not None:
        headers["Content-Type"] = content_type
    data = body if body is not None else orjson.dumps({"objects": [indicator()]})
    return hub.client().post(collection_path(C_RW, "objects/"), data=data, headers=headers)


@pytest.mark.parametrize("content_type", [
    MT,
    "application/taxii+json",
    "application/taxii+json; charset=utf-8; version=2.1",
    "application/taxii+json;version=2.1;charset=UTF-8",
    "application/taxii+json; version=2.1",
])
def test_b5_taxii_content_types_are_accepted_on_post(hub: Hub, content_type: str) -> None:
    response = _post(hub, content_type)
    assert response.status_code == 202, response.data
    assert response.json["success_count"] == 1


@pytest.mark.parametrize("content_type", [
    None,
    "application/json",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.0",
    "text/plain",
])
def test_b6_other_content_types_get_a_taxii_415(hub: Hub, content_type: str | None) -> None:
    response = _post(hub, content_type)
    assert response.status_code == 415
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "415"


def test_b7_post_with_an_empty_accept_gets_a_taxii_406(hub: Hub) -> None:
    response = hub.client().post(
        collection_path(C_RW, "objects/"), data=orjson.dumps({"objects": [indicator()]}),
        headers=hub.headers("alice", Accept="", **{"Content-Type": MT}),
    )
    assert response.status_code == 406
    assert response.headers["Content-Type"] == MT


def test_b7_post_without_an_accept_header_is_served_as_anything_acceptable(hub: Hub) -> None:
    """RFC 7231 §5.3.2: no Accept means any type is acceptable (our documented policy in web/media.py)."""
    headers = hub.headers("alice", **{"Content-Type": MT})
    del headers["Accept"]
    response = hub.client().post(collection_path(C_RW, "objects/"),
                                 data=orjson.dumps({"objects": [indicator()]}), headers=headers)
    assert response.status_code == 202
    assert response.headers["Content-Type"] == MT


def test_b8_non_ascii_text_round_trips_byte_identical(hub: Hub) -> None:
    obj = indicator(description="Ünïcödé — 日本語 — 😀")
    assert post_objects(hub, "alice", C_RW, [obj]).status_code == 202
    response = get(hub, collection_path(C_RW, f"objects/{obj['id']}/"))
    assert orjson.dumps(obj) in response.data
    assert response.json["objects"] == [obj]


def test_b8_escaped_non_ascii_input_is_stored_as_the_same_text(hub: Hub) -> None:
    obj = indicator(description="café")
    body = orjson.dumps({"objects": [obj]}).replace("é".encode(), b"\\u00e9")
    assert _post(hub, MT, body).status_code == 202
    response = get(hub, collection_path(C_RW, f"objects/{obj['id']}/"))
    assert response.json["objects"][0]["description"] == "café"


@pytest.mark.parametrize("body", [
    b'{"objects": [], "objects": []}',
    b'{"objects": [{"type": "indicator", "x": NaN}]}',
    b'{"objects": [{"type": "indicator", "x": 9007199254740992}]}',
    "{\"objects\": [{\"name\": \"caf\xe9\"}]}".encode("latin-1"),
], ids=["duplicate-key", "nan", "integer-beyond-2^53", "not-utf-8"])
def test_b8_bodies_that_are_not_i_json_get_a_taxii_400(hub: Hub, body: bytes) -> None:
    response = _post(hub, MT, body)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT

