"""Checklist A5, E and F: server discovery (§4.1), API root information (§4.2) and max_content_length.

F5 is exercised here through the WSGI test client with `Transfer-Encoding: chunked` and no Content-Length;
the same over a real socket is in the end-to-end tests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import orjson
import pytest
from flask.testing import EnvironBuilder
from werkzeug.test import TestResponse

from tests.support.hubtest import C_RW, MT, ROOT, Hub, collection_path, get, indicator

MAX_CONTENT_LENGTH = 65536  # the fixture's api1


def test_a5_api_roots_are_https_or_relative_urls(hub: Hub) -> None:
    body = get(hub, "/taxii2/").json
    assert body["api_roots"]
    assert [r for r in body["api_roots"] if not re.match(r"^(https://|/(?!/))", r)] == []


def test_e1_discovery_has_a_title(hub: Hub) -> None:
    response = get(hub, "/taxii2/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    assert isinstance(response.json["title"], str)


def test_e2_the_default_root_is_one_of_the_api_roots(hub: Hub) -> None:
    body = get(hub, "/taxii2/").json
    assert body["default"] in body["api_roots"]


def test_e3_api_root_entries_have_no_query_and_no_dot_segments(hub: Hub) -> None:
    roots = get(hub, "/taxii2/").json["api_roots"]
    assert [r for r in roots if "?" in r or r.startswith(("//", "../"))] == []


def test_e4_discovery_omits_roots_without_a_collection_the_caller_may_use(hub: Hub) -> None:
    """api2 has no collections at all: nobody is told about it, and asking for it is a 404."""
    assert "/api2/" not in get(hub, "/taxii2/").json["api_roots"]
    assert get(hub, "/api2/").status_code == 404


def test_e5_discovery_refuses_an_undefined_accept_with_a_taxii_406(hub: Hub) -> None:
    response = get(hub, "/taxii2/", Accept="application/foo")
    assert response.status_code == 406
    assert response.headers["Content-Type"] == MT
    assert isinstance(response.json["title"], str)


def test_f1_api_root_information_has_title_versions_and_max_content_length(hub: Hub) -> None:
    response = get(hub, f"/{ROOT}/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == MT
    body = response.json
    assert isinstance(body["title"], str)
    assert isinstance(body["versions"], list) and body["versions"]
    assert body["max_content_length"] == MAX_CONTENT_LENGTH


def test_f2_versions_lists_taxii_2_1(hub: Hub) -> None:
    assert "application/taxii+json;version=2.1" in get(hub, f"/{ROOT}/").json["versions"]


def test_f3_an_unknown_api_root_is_a_taxii_404(hub: Hub) -> None:
    response = get(hub, "/nope/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "404"


def _envelope_of_size(size: int) -> bytes:
    """A valid envelope of exactly `size` bytes (padding in the indicator's description)."""
    obj = indicator(description="")
    base = orjson.dumps({"objects": [obj]})
    obj["description"] = "x" * (size - len(base))
    body = orjson.dumps({"objects": [obj]})
    assert len(body) == size
    return body


def _post(hub: Hub, body: bytes) -> TestResponse:
    return hub.client().post(collection_path(C_RW, "objects/"), data=body,
                             headers=hub.headers("alice", **{"Content-Type": MT}))


def _chunked_post(hub: Hub, body: bytes) -> TestResponse:
    """The same POST with `Transfer-Encoding: chunked` and no Content-Length header."""
    builder = EnvironBuilder(
        hub.app, collection_path(C_RW, "objects/"), method="POST", input_stream=io.BytesIO(body),
        headers=hub.headers("alice", **{"Content-Type": MT, "Transfer-Encoding": "chunked"}),
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    del environ["CONTENT_LENGTH"]
    return hub.client().open(environ)


@pytest.mark.parametrize("size", [MAX_CONTENT_LENGTH - 1, MAX_CONTENT_LENGTH], ids=["max-1", "max"])
def test_f4_a_body_not_above_max_content_length_is_accepted(hub: Hub, size: int) -> None:
    response = _post(hub, _envelope_of_size(size))
    assert response.status_code == 202, response.data
    assert response.json["success_count"] == 1


@pytest.mark.parametrize("send", [_post, _chunked_post], ids=["content-length", "chunked"])
def test_f5_a_body_above_max_content_length_is_a_taxii_413(
    hub: Hub, send: Callable[[Hub, bytes], TestResponse]
) -> None:
    response = send(hub, _envelope_of_size(MAX_CONTENT_LENGTH + 1))
    assert response.status_code == 413
    assert response.headers["Content-Type"] == MT
    assert response.json["http_status"] == "413"


def test_f5_a_chunked_body_within_the_limit_is_read_whole(hub: Hub) -> None:
    response = _chunked_post(hub, _envelope_of_size(MAX_CONTENT_LENGTH))
    assert response.status_code == 202, response.data
    assert response.json["success_count"] == 1


def test_f5_a_chunked_post_is_not_stored_when_too_large(hub: Hub) -> None:
    body = _envelope_of_size(MAX_CONTENT_LENGTH + 1)
    assert _chunked_post(hub, body).status_code == 413
    assert get(hub, collection_path(C_RW, "objects/")).data == b"{}"
