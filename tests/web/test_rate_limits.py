"""Rate limits over HTTP: 429 with Retry-After and an error body; throttled before any password is hashed
(AUTHN-05) without locking another organisation's key out; no user enumeration (AUTHN-04)."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient

from taxii_server import credentials
from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.app import create_app
from taxii_server.settings import LimitsSettings
from tests.support.hubtest import C_RW, MT, ROOT, Hub, make_hub

ATTACKER = {"REMOTE_ADDR": "192.0.2.66"}
PASSWORD = "alice's long password"


class CountingHasher:
    """The real password check, counted (injected through create_app, never patched in)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, password: str, stored: str | None) -> bool:
        self.calls += 1
        return credentials.verify_password(password, stored)


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path)
    Accounts(built.store).set_password(OPERATOR, "alice", PASSWORD)
    yield built
    built.store.close()


def client(hub: Hub, hasher: CountingHasher | None = None, **limits: object) -> FlaskClient:
    settings = dataclasses.replace(hub.settings, limits=LimitsSettings(**limits))  # type: ignore[arg-type]
    app = create_app(settings, hub.store, check_password=hasher or CountingHasher())
    return app.test_client()


def basic(user: str, password: str) -> dict[str, str]:
    return {"Accept": MT, "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


OBJECTS = f"/{ROOT}/collections/{C_RW}/objects/"


def test_an_organisation_over_its_rate_gets_429_with_retry_after_and_a_taxii_error(base: Hub) -> None:
    c = client(base, org_requests_per_minute=60, org_burst=2)
    assert [c.get(OBJECTS, headers=base.headers("alice")).status_code for _ in range(2)] == [200, 200]
    refused = c.get(OBJECTS, headers=base.headers("alice"))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.content_type == MT
    body = orjson.loads(refused.data)
    assert body["http_status"] == "429" and body["title"] == "Too Many Requests"


def test_one_organisation_over_its_rate_does_not_slow_another(base: Hub) -> None:
    c = client(base, org_requests_per_minute=60, org_burst=1)
    c.get(OBJECTS, headers=base.headers("alice"))
    assert c.get(OBJECTS, headers=base.headers("alice")).status_code == 429
    assert c.get(OBJECTS, headers=base.headers("reader")).status_code == 200


def test_the_hub_api_answers_429_in_json(base: Hub) -> None:
    c = client(base, org_requests_per_minute=60, org_burst=1)
    headers = {**base.headers("alice"), "Accept": "application/json"}
    c.get("/hub/v1/submissions", headers=headers)
    refused = c.get("/hub/v1/submissions", headers=headers)
    assert refused.status_code == 429 and refused.content_type == "application/json"
    assert "Retry-After" in refused.headers and orjson.loads(refused.data)["http_status"] == "429"


def test_authn05_bad_passwords_get_429_before_the_hash_while_another_key_keeps_polling(base: Hub) -> None:
    hasher = CountingHasher()
    c = client(base, hasher, account_failures_per_minute=5, account_failure_burst=10,
               address_failures_per_minute=10, address_failure_burst=30)
    statuses = []
    for n in range(30):
        statuses.append(c.get(OBJECTS, headers=basic("alice", f"guess number {n}"),
                              environ_base=ATTACKER).status_code)
        polled = c.get(OBJECTS, headers=base.headers("reader"), environ_base=ATTACKER)
        assert polled.status_code == 200  # B's valid key, from the very same address, is never refused
    assert statuses == [401] * 10 + [429] * 20
    assert hasher.calls == 10  # the 20 refused attempts never reached the hash


def test_a_throttled_account_answers_429_with_retry_after_even_to_its_right_password(base: Hub) -> None:
    c = client(base, account_failures_per_minute=6, account_failure_burst=1)
    c.get(OBJECTS, headers=basic("alice", "wrong password"), environ_base=ATTACKER)
    refused = c.get(OBJECTS, headers=basic("alice", PASSWORD))
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "10"
    assert c.get(OBJECTS, headers=base.headers("alice")).status_code == 200  # its API key still works


def test_an_address_over_its_failures_is_refused_without_hashing_but_other_addresses_are_not(base: Hub) -> None:
    hasher = CountingHasher()
    c = client(base, hasher, address_failures_per_minute=1, address_failure_burst=3)
    for n in range(3):
        assert c.get(OBJECTS, headers=basic(f"user-{n}", "some password"), environ_base=ATTACKER).status_code == 401
    assert c.get(OBJECTS, headers=basic("user-9", "some password"), environ_base=ATTACKER).status_code == 429
    assert c.get(OBJECTS, headers={"Accept": MT, "Authorization": "Bearer thk_" + "x" * 43},
                 environ_base=ATTACKER).status_code == 429
    assert hasher.calls == 3
    assert c.get(OBJECTS, headers=basic("alice", PASSWORD)).status_code == 200


def test_a_right_password_does_not_count_as_a_failure(base: Hub) -> None:
    c = client(base, account_failures_per_minute=1, account_failure_burst=1)
    for _ in range(3):
        assert c.get(OBJECTS, headers=basic("alice", PASSWORD)).status_code == 200


@pytest.mark.parametrize("user", ["alice", "nobody-here"], ids=["known-user-wrong-password", "unknown-user"])
def test_authn04_the_hash_runs_exactly_once_and_the_answer_is_the_same(base: Hub, user: str) -> None:
    hasher = CountingHasher()
    response = client(base, hasher).get(OBJECTS, headers=basic(user, "not the password"))
    assert hasher.calls == 1
    assert response.status_code == 401
    assert orjson.loads(response.data) == {"title": "Unauthorized", "description": "wrong user name or password",
                                           "http_status": "401"}


def test_a_proxy_address_header_is_believed_only_from_the_local_proxy(base: Hub) -> None:
    c = client(base, address_failures_per_minute=1, address_failure_burst=1, client_address_header="X-Real-IP")
    bad = basic("nobody", "some password")
    via_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    assert c.get(OBJECTS, headers={**bad, "X-Real-IP": "198.51.100.1"}, environ_base=via_proxy).status_code == 401
    assert c.get(OBJECTS, headers={**bad, "X-Real-IP": "198.51.100.1"}, environ_base=via_proxy).status_code == 429
    assert c.get(OBJECTS, headers={**bad, "X-Real-IP": "198.51.100.2"}, environ_base=via_proxy).status_code == 401
    # from anywhere else the header is ignored: the peer address counts
    assert c.get(OBJECTS, headers={**bad, "X-Real-IP": "198.51.100.3"}, environ_base=ATTACKER).status_code == 401
    assert c.get(OBJECTS, headers={**bad, "X-Real-IP": "198.51.100.4"}, environ_base=ATTACKER).status_code == 429
