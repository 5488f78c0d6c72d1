"""Checklist A7, A8, C, D and the H8 evaluation order: URLs, authentication failures and error messages.

Every failure is a TAXII error message (§3.6.1) — a JSON object with a string `title` and `http_status` as a
string — served as `application/taxii+json;version=2.1`, never HTML; a 401 carries a challenge.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import orjson
import pytest
from werkzeug.test import TestResponse

from taxii_server.app import create_app
from taxii_server.model import ObjectFilter, ObjectScope, Page
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.hubtest import (
    C_MISSING,
    C_NONE,
    C_RO,
    C_RW,
    C_WO,
    MT,
    ROOT,
    Hub,
    collection_path,
    get,
    indicator,
    post_objects,
    seed,
)

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TAXII_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_taxii_error(response: TestResponse, status: int) -> None:
    assert response.status_code == status, response.data
    assert response.headers["Content-Type"] == MT
    body = response.json
    assert isinstance(body, dict)
    assert isinstance(body["title"], str)
    assert body["http_status"] == str(status)


# -- A7, A8: authentication failures and User-Agent -------------------------------------------------------


@pytest.mark.parametrize("authorization", [
    None, "alice-wrong", "Basic !!!not-base64", "Basic " + base64.b64encode(b"no-colon").decode(),
    "Bearer not-a-key", "Digest username=alice",
], ids=["none", "wrong-password", "not-base64", "no-colon", "unknown-bearer", "unknown-scheme"])
@pytest.mark.parametrize("path", ["/taxii2/", f"/{ROOT}/", collection_path(C_RW, "objects/")])
def test_a7_failed_authentication_is_a_taxii_401_with_a_challenge(
    hub: Hub, path: str, authorization: str | None
) -> None:
    headers = {"Accept": MT}
    if authorization == "alice-wrong":
        headers["Authorization"] = _basic("alice", "wrong")
    elif authorization is not None:
        headers["Authorization"] = authorization
    response = hub.client().get(path, headers=headers)
    assert_taxii_error(response, 401)
    assert response.headers.getlist("WWW-Authenticate")
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_a7_a_password_for_another_organisation_fails(hub: Hub) -> None:
    response = hub.client().get("/taxii2/", headers={"Accept": MT, "Authorization": _basic("bob", hub.keys["alice"])})
    assert_taxii_error(response, 401)


def test_a8_get_without_a_user_agent_is_served(hub: Hub) -> None:
    client = hub.client()
    client.environ_base.pop("HTTP_USER_AGENT", None)
    response = client.get("/taxii2/", headers=hub.headers("alice"))
    assert response.status_code == 200
    assert "User-Agent" not in response.request.headers


def test_a8_post_with_a_python_requests_user_agent_is_served(hub: Hub) -> None:
    response = hub.client().post(
        collection_path(C_RW, "objects/"), data=orjson.dumps({"objects": [indicator()]}),
        headers=hub.headers("alice", **{"Content-Type": MT, "User-Agent": "python-requests/2.34.2"}),
    )
    assert response.status_code == 202


# -- C: URLs and common behaviour -------------------------------------------------------------------------


def test_c1_discovery_lives_at_taxii2(hub: Hub) -> None:
    assert get(hub, "/taxii2/").status_code == 200


def test_c2_every_advertised_api_root_answers(hub: Hub) -> None:
    roots = get(hub, "/taxii2/").json["api_roots"]
    assert roots
    assert [get(hub, root).status_code for root in roots] == [200] * len(roots)


@pytest.mark.parametrize("path", [
    "/taxii2", f"/{ROOT}", f"/{ROOT}/collections", collection_path(C_RW).rstrip("/"),
    collection_path(C_RW, "objects"), collection_path(C_RW, "manifest"),
])
def test_c3_a_missing_trailing_slash_is_a_taxii_404_not_a_redirect(hub: Hub, path: str) -> None:
    assert_taxii_error(get(hub, path), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", collection_path(C_RW, "objects/")),
    ("PATCH", collection_path(C_RW)),
    ("DELETE", collection_path(C_RW)),
    ("POST", "/taxii2/"),
    ("DELETE", collection_path(C_RW, "objects/")),
])
def test_c4_a_method_outside_the_endpoint_table_is_a_taxii_405(hub: Hub, method: str, path: str) -> None:
    response = hub.client().open(path, method=method, headers=hub.headers("alice"))
    assert_taxii_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_c5_percent_encoded_query_names_and_values_are_decoded(hub: Hub) -> None:
    seed(hub)
    raw = get(hub, collection_path(C_RW, "objects/?match[type]=indicator,malware&added_after=2000-01-01T00:00:00.1Z"))
    encoded = get(hub, collection_path(
        C_RW, "objects/?match%5Btype%5D=indicator%2Cmalware&added_after=2000-01-01T00%3A00%3A00.1Z"))
    assert raw.status_code == encoded.status_code == 200
    assert len(raw.json["objects"]) == 2
    assert encoded.data == raw.data


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=%C2%B2", "limit=1&limit=2",
    "added_after=garbage", "added_after=2021-13-01T00:00:00Z", "added_after=a&added_after=b",
    "match[version]=garbage", "match[version]=all,last", "match[version]=last,last",
    "match[id]=not-an-id", "match[type]=Not A Type", "match[spec_version]=two",
    "match[type]=indicator&match[type]=malware", "next=", "next=forged-token",
])
def test_c6_malformed_query_parameters_are_a_taxii_400(hub: Hub, query: str) -> None:
    assert_taxii_error(get(hub, collection_path(C_RW, "objects/?" + query)), 400)


@pytest.mark.parametrize("suffix", ["manifest/?limit=0", "objects/{x}/?added_after=garbage",
                                    "objects/{x}/versions/?limit=x"])
def test_c6_malformed_parameters_are_a_400_on_every_query_endpoint(hub: Hub, suffix: str) -> None:
    s = seed(hub)
    assert_taxii_error(get(hub, collection_path(C_RW, suffix.format(x=s.x))), 400)


REQUIRED: dict[str, tuple[str, ...]] = {
    "/taxii2/": ("title",),
    f"/{ROOT}/": ("title", "versions", "max_content_length"),
    collection_path(C_RW): ("id", "title", "can_read", "can_write"),
    f"/{ROOT}/collections/": ("collections",),
    collection_path(C_RW, "objects/"): ("more", "objects"),
    collection_path(C_RW, "manifest/"): ("more", "objects"),
}


@pytest.mark.parametrize("path", sorted(REQUIRED))
def test_c7_resources_carry_their_required_properties_with_exact_names(hub: Hub, path: str) -> None:
    seed(hub)
    body = get(hub, path).json
    assert set(REQUIRED[path]) <= set(body)


def test_c8_an_empty_result_is_an_empty_object_not_an_empty_list(hub: Hub) -> None:
    response = get(hub, collection_path(C_RW, "objects/"))
    assert response.status_code == 200
    assert response.data == b"{}"


def test_c8_a_status_without_failures_has_no_failures_key(hub: Hub) -> None:
    body = post_objects(hub, "alice", C_RW, [indicator()]).json
    assert "failures" not in body
    assert "pendings" not in body


def test_c9_collection_and_status_ids_are_uuid4(hub: Hub) -> None:
    status_id = post_objects(hub, "alice", C_RW, [indicator()]).json["id"]
    ids = [c["id"] for c in get(hub, f"/{ROOT}/collections/").json["collections"]]
    assert [i for i in [*ids, status_id] if not UUID4.match(i)] == []


def test_c10_every_taxii_timestamp_has_six_fractional_digits_and_z(hub: Hub) -> None:
    status = post_objects(hub, "alice", C_RW, [indicator()]).json
    response = get(hub, collection_path(C_RW, "manifest/"))
    stamps = [status["request_timestamp"], response.headers["X-TAXII-Date-Added-First"],
              response.headers["X-TAXII-Date-Added-Last"], *(r["date_added"] for r in response.json["objects"])]
    assert [s for s in stamps if not TAXII_TIMESTAMP.match(s)] == []


# -- D: error messages ------------------------------------------------------------------------------------


class BrokenStore(SQLiteStore):
    """A store whose queries crash, to see what an unexpected server error looks like on the wire."""

    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        raise RuntimeError("simulated crash")


def _error(hub: Hub, status: int) -> TestResponse:
    client = hub.client()
    objects = collection_path(C_RW, "objects/")
    body = orjson.dumps({"objects": [indicator()]})
    post = {"Content-Type": MT}
    cases: dict[int, Any] = {
        400: lambda: client.get(objects + "?limit=0", headers=hub.headers("alice")),
        401: lambda: client.get(objects, headers=hub.headers(None)),
        403: lambda: client.get(collection_path(C_WO, "objects/"), headers=hub.headers("alice")),
        404: lambda: client.get(collection_path(C_MISSING), headers=hub.headers("alice")),
        405: lambda: client.put(objects, headers=hub.headers("alice")),
        406: lambda: client.get(objects, headers=hub.headers("alice", Accept="application/foo")),
        413: lambda: client.post(objects, data=b" " * 70000, headers=hub.headers("alice", **post)),
        415: lambda: client.post(objects, data=body, headers=hub.headers("alice", **{"Content-Type": "text/plain"})),
        422: lambda: client.post(objects, data=b'{"more": false}', headers=hub.headers("alice", **post)),
    }
    return cases[status]()  # type: ignore[no-any-return]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 406, 413, 415, 422])
def test_d1_every_error_is_a_taxii_error_message(hub: Hub, status: int) -> None:
    assert_taxii_error(_error(hub, status), status)


def test_d1_an_unexpected_crash_is_a_taxii_500_without_internals(hub: Hub) -> None:
    app = create_app(hub.settings, BrokenStore(hub.store.path))
    response = app.test_client().get(collection_path(C_RW, "objects/"), headers=hub.headers("alice"))
    assert_taxii_error(response, 500)
    assert b"simulated crash" not in response.data
    assert b"Traceback" not in response.data


@pytest.mark.parametrize("path", ["/taxii2/", collection_path(C_RW, "objects/")])
def test_d2_a_head_request_error_has_no_body(hub: Hub, path: str) -> None:
    response = hub.client().head(path, headers=hub.headers(None))
    assert response.status_code == 401
    assert response.headers["Content-Type"] == MT
    assert response.data == b""


D3_REQUESTS = [
    ("GET", ""), ("GET", "manifest/"), ("GET", "objects/"), ("POST", "objects/"),
    ("GET", "objects/{x}/"), ("GET", "objects/{x}/versions/"), ("DELETE", "objects/{x}/"),
    ("GET", "objects/?limit=0"), ("POST", "objects/ with a bad content type"),
]


@pytest.mark.parametrize(("method", "suffix"), D3_REQUESTS)
def test_d3_an_invisible_collection_errs_exactly_like_a_missing_one(hub: Hub, method: str, suffix: str) -> None:
    """alice has no right on C_NONE: every sub-endpoint answers byte-identically to C_MISSING (also H7)."""
    s = seed(hub, C_NONE, org="analyst")
    content_type = "text/plain" if "bad content type" in suffix else MT
    path_suffix = suffix.split(" ")[0].format(x=s.x)

    def ask(collection: str) -> TestResponse:
        return hub.client().open(
            collection_path(collection, path_suffix), method=method,
            data=orjson.dumps({"objects": [indicator()]}) if method == "POST" else None,
            headers=hub.headers("alice", **({"Content-Type": content_type} if method == "POST" else {})),
        )

    invisible, missing = ask(C_NONE), ask(C_MISSING)
    assert_taxii_error(invisible, 404)
    assert invisible.data == missing.data
    assert dict(invisible.headers) == dict(missing.headers)


# -- H8: the order in which refusals are decided ----------------------------------------------------------


def test_h8_authentication_is_checked_before_accept(hub: Hub) -> None:
    response = hub.client().get("/taxii2/", headers={"Accept": "application/foo"})
    assert_taxii_error(response, 401)


def test_h8_accept_is_checked_before_the_collection_exists(hub: Hub) -> None:
    assert_taxii_error(get(hub, collection_path(C_MISSING, "objects/"), Accept="application/foo"), 406)


@pytest.mark.parametrize("collection", [C_MISSING, C_NONE])
def test_h8_collection_existence_is_checked_before_query_validation(hub: Hub, collection: str) -> None:
    assert_taxii_error(get(hub, collection_path(collection, "objects/?limit=0")), 404)


@pytest.mark.parametrize("suffix", ["objects/?limit=0", "manifest/?added_after=garbage"])
def test_h8_permission_is_checked_before_query_validation(hub: Hub, suffix: str) -> None:
    assert_taxii_error(get(hub, collection_path(C_WO, suffix)), 403)


def test_h8_permission_is_checked_before_delete_parameters(hub: Hub) -> None:
    s = seed(hub, C_RO, org="analyst")
    response = hub.client().delete(collection_path(C_RO, f"objects/{s.x}/?match[version]=garbage"),
                                   headers=hub.headers("alice"))
    assert_taxii_error(response, 403)


def test_h8_permission_is_checked_before_the_content_type(hub: Hub) -> None:
    response = hub.client().post(collection_path(C_RO, "objects/"), data=b"{}",
                                 headers=hub.headers("alice", **{"Content-Type": "text/plain"}))
    assert_taxii_error(response, 403)


def test_h8_content_type_is_checked_before_the_size(hub: Hub) -> None:
    response = hub.client().post(collection_path(C_RW, "objects/"), data=b" " * 70000,
                                 headers=hub.headers("alice", **{"Content-Type": "text/plain"}))
    assert_taxii_error(response, 415)


def test_h8_size_is_checked_before_the_body_is_parsed(hub: Hub) -> None:
    response = hub.client().post(collection_path(C_RW, "objects/"), data=b"{not json" * 8000,
                                 headers=hub.headers("alice", **{"Content-Type": MT}))
    assert_taxii_error(response, 413)
