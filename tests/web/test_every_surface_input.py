"""One strict JSON reader and one content negotiation for every surface: the hub API and the console answer
hostile input with a 4xx that says why, never a 5xx (TAXII's own endpoints: test_taxii_media_types.py,
tests/acceptance/test_acceptance_input.py). Property runs cover every hub API operation that takes a body
and every console form."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.consoleclient import Console, signed_in
from tests.support.hubflow import RECORDS, DemoHub, make_demo_hub

MEMBER = "kita-heavy"
ANALYST = "hub-analyst"
CASE10 = (RECORDS / "case10-unrelated-phishing.json").read_bytes()
HOSTILE_JSON = [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 200 + b"1" + b"}" * 200,
    b'{"id": ' + b"9" * 5000 + b"}",
    b'{"id": 1' + b"0" * 5000 + b".5}",
    b'{"id": "indicator--\\ud800"}',
    b'{"id": "x", "id": "y"}',
    b'{"id": NaN}',
    b"\xff\xfe{}",
    CASE10.replace(b'"subject": "', b'"subject": "\\udfff', 1),
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path_factory.mktemp("surfaces"))
    yield built
    built.store.close()


@pytest.mark.parametrize("body", HOSTILE_JSON, ids=range(len(HOSTILE_JSON)))
@pytest.mark.parametrize("path", ["/submissions", "/revocations", "/publications"])
def test_hostile_json_is_a_4xx_on_every_hub_api_body(hub: DemoHub, path: str, body: bytes) -> None:
    org = MEMBER if path == "/submissions" else ANALYST
    response = hub.api("POST", path, org, body)
    assert response.status_code < 500, response.data
    assert response.headers["Content-Type"] == "application/json"
    if path != "/submissions":  # a report that is not JSON is kept as rejected (202), the others refused
        assert 400 <= response.status_code < 500


def test_a_lone_surrogate_in_a_revocation_is_a_400(hub: DemoHub) -> None:
    response = hub.api("POST", "/revocations", ANALYST, b'{"id":"indicator--\\ud800"}')
    assert response.status_code == 400
    assert "surrogate" in response.json["description"]


@pytest.mark.parametrize("limit", ["%C2%B2", "1.5", "-1", "0", "1001", "%00", "abc"])
def test_a_malformed_polls_limit_is_a_400(hub: DemoHub, limit: str) -> None:
    response = hub.client().get(f"/hub/v1/polls?limit={limit}", headers=hub.auth(MEMBER, Accept="application/json"))
    assert response.status_code == 400


@pytest.mark.parametrize("accept", ["application/json;q=0", "application/json;q=0, */*", "text/html", "",
                                    "application/taxii+json;version=2.1"])
def test_the_hub_api_refuses_an_accept_without_json(hub: DemoHub, accept: str) -> None:
    response = hub.client().get("/hub/v1/submissions", headers=hub.auth(MEMBER, Accept=accept))
    assert response.status_code == 406


@pytest.mark.parametrize("accept", ["application/json", "*/*", "application/*", "text/html, application/json;q=0.1",
                                    "application/JSON; charset=utf-8"])
def test_the_hub_api_serves_an_accept_that_admits_json(hub: DemoHub, accept: str) -> None:
    response = hub.client().get("/hub/v1/submissions", headers=hub.auth(MEMBER, Accept=accept))
    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1"])
def test_a_hub_api_action_body_that_is_not_json_is_a_415(hub: DemoHub, content_type: str) -> None:
    response = hub.api("POST", "/revocations", ANALYST, b'{"id": "indicator--x"}', **{"Content-Type": content_type})
    assert response.status_code == 415


def test_a_console_upload_of_deeply_nested_json_is_answered_per_file(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    files = [(io.BytesIO(b"[" * 100_000), "nested.json"), (io.BytesIO(CASE10), "case10.json")]
    reply = console.post("/console/submit", {"reports": files}, content_type="multipart/form-data")
    assert reply.status_code == 200, reply.get_data(as_text=True)[:500]
    assert "nested.json" in reply.get_data(as_text=True)


@pytest.mark.parametrize("back", ["/console/\r\nSet-Cookie: x=1", "/console/\n", "/console/\u3042", "//evil.example/"])
def test_the_language_form_never_redirects_to_a_broken_or_foreign_location(hub: DemoHub, back: str) -> None:
    reply = Console(hub).post("/console/language", {"lang": "en", "next": back})
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith("/console/")


# -- property runs: every hub API body and every console form, no 5xx -------------------------------------

_json_text = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
).map(lambda v: json.dumps(v).encode())
_raw = st.binary(max_size=200) | _json_text | st.sampled_from(HOSTILE_JSON) | st.text(max_size=200).map(
    lambda t: t.encode("utf-8", "surrogatepass"))
HUB_BODIES = [("POST", "/submissions", MEMBER), ("POST", "/revocations", ANALYST),
              ("POST", "/publications", ANALYST), ("POST", "/submissions/x/dismissal", ANALYST)]
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("method", "path", "org"), HUB_BODIES)
@PROPERTY
@given(body=_raw, content_type=st.sampled_from(["application/json", "application/stix+json", "message/rfc822",
                                                "text/plain", "application/json; charset=utf-8"]))
def test_no_hub_api_body_is_a_5xx(hub: DemoHub, method: str, path: str, org: str, body: bytes,
                                  content_type: str) -> None:
    response = hub.api(method, path, org, body, **{"Content-Type": content_type})
    assert response.status_code < 500, response.data


_field = st.text(max_size=60) | st.sampled_from(["\r\n", "\x00", "../../", "<script>", "9" * 400, "\u202e"])
CONSOLE_FORMS: list[tuple[str, str, list[str]]] = [
    ("/console/submit", MEMBER, ["kind", "record_id", "tlp", "title", "m1_role", "m1_sent_at", "m1_from", "m1_to",
                                 "m1_subject", "m1_body", "m1_urls", "m1_attachment", "m1_sha256"]),
    ("/console/keys", MEMBER, ["label"]),
    ("/console/language", MEMBER, ["lang", "next"]),
    ("/console/revoke", ANALYST, ["object_id", "reason"]),
    ("/console/submissions/x/dismissal", ANALYST, ["reason"]),
    ("/console/candidates/x/preview", ANALYST, ["name", "description", "tlp", "collections"]),
    ("/console/login", MEMBER, ["org_id", "secret"]),
]


@pytest.mark.parametrize(("path", "org", "names"), CONSOLE_FORMS, ids=[f[0] for f in CONSOLE_FORMS])
@PROPERTY
@given(data=st.data())
def test_no_console_form_is_a_5xx(hub: DemoHub, path: str, org: str, names: list[str], data: Any) -> None:
    console = signed_in(hub, org) if path != "/console/login" else Console(hub)
    form = {name: data.draw(_field, label=name) for name in names}
    if path == "/console/submit":
        form["kind"] = "thread"
    reply = console.post(path, form)
    assert reply.status_code < 500, reply.get_data(as_text=True)[:300]
