"""Acceptance cases AUTHN-01, -02, -03 and -06 (spec/security.md §5): credentials that are missing, malformed,
revoked or merely similar to a real key identify nobody, on every endpoint, and never cause a 500."""

from __future__ import annotations

import base64
import secrets
from itertools import count

import pytest
from werkzeug.test import TestResponse

from taxii_server.accounts import OPERATOR
from tests.support.acceptance_hub import CA, A, AcceptanceHub, objects_path
from tests.support.hubtest import MT, ROOT

_ADDRESSES = (f"10.1.{n >> 8 & 255}.{n & 255}" for n in count(1))
MALFORMED = {
    "none": None,
    "basic-without-value": "Basic",
    "basic-not-base64": "Basic !!!",
    "bearer-empty": "Bearer ",
    "basic-non-utf8": "Basic " + base64.b64encode(b"\xff\xfe:\xc3\x28").decode(),
    "raw-non-utf8": "Basic \xff\xfe\xfd",
    "basic-without-colon": "Basic " + base64.b64encode(b"org-a").decode(),
    "unknown-scheme": "Digest username=org-a",
}


def _paths(acc: AcceptanceHub) -> list[tuple[str, str]]:
    """Every routed TAXII and hub API endpoint, its variables filled in with plausible values."""
    values = {"api_root": ROOT, "collection_id": CA, "object_id": "indicator--6f0c2a6e-0000-4000-8000-000000000001"}
    found = []
    for rule in acc.app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in ("taxii", "hub_api"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", values.get(name, "6f0c2a6e-0000-4000-8000-000000000000"))
        found += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def _send(acc: AcceptanceHub, method: str, path: str, authorization: str | None) -> TestResponse:
    headers = {"Accept": "application/json" if path.startswith("/hub/") else MT}
    if authorization is not None:
        headers["Authorization"] = authorization
    return acc.client().open(path, method=method, headers=headers, data=b"{}" if method == "POST" else None,
                             environ_base={"REMOTE_ADDR": next(_ADDRESSES)})


def _is_401(response: TestResponse) -> bool:
    body = response.json or {}
    return (response.status_code == 401 and body.get("http_status") == "401"
            and len(response.headers.get_all("WWW-Authenticate")) >= 1)


@pytest.mark.parametrize("authorization", list(MALFORMED.values()), ids=list(MALFORMED))
def test_authn_01_malformed_credentials_are_a_401_with_a_challenge_on_every_endpoint(
    acc: AcceptanceHub, authorization: str | None
) -> None:
    refused = {(m, p): _send(acc, m, p, authorization) for m, p in _paths(acc)}
    assert {k: r.status_code for k, r in refused.items() if not _is_401(r)} == {}


def test_authn_02_a_revoked_key_is_refused_from_the_next_request(acc: AcceptanceHub) -> None:
    key = acc.accounts.create_key(OPERATOR, A, "soon revoked")
    bearer = f"Bearer {key.secret}"
    basic = "Basic " + base64.b64encode(f"{A}:{key.secret}".encode()).decode()
    for authorization in (bearer, basic):
        assert _send(acc, "GET", objects_path(CA), authorization).status_code == 200
    acc.accounts.revoke_key(OPERATOR, key.credential.id)
    for authorization in (bearer, basic):
        assert _is_401(_send(acc, "GET", objects_path(CA), authorization))
    assert _send(acc, "GET", objects_path(CA), "Bearer " + acc.keys[A]).status_code == 200  # the other key lives


def test_authn_03_a_key_with_the_right_first_and_last_characters_is_refused(acc: AcceptanceHub) -> None:
    real = acc.keys[A]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for _ in range(5):
        middle = "".join(secrets.choice(alphabet) for _ in range(len(real) - 8))
        forged = real[:4] + middle + real[-4:]
        assert forged != real
        assert _is_401(_send(acc, "GET", objects_path(CA), f"Bearer {forged}"))
        assert _is_401(_send(acc, "GET", objects_path(CA),
                             "Basic " + base64.b64encode(f"{A}:{forged}".encode()).decode()))
    for cut in (real[:-1], real + "x", real.upper(), real[:4] + real[-4:]):
        assert _is_401(_send(acc, "GET", objects_path(CA), f"Bearer {cut}"))


@pytest.mark.parametrize("header", ["X-User", "X-Remote-User", "X-SSL-Client-S-DN", "X-Forwarded-User",
                                    "X-Client-Cert-Subject"])
def test_authn_06_identity_headers_from_the_client_are_not_trusted(acc: AcceptanceHub, header: str) -> None:
    response = acc.client().get(objects_path(CA), headers={"Accept": MT, header: f"CN={A}", "X-User": "admin"},
                                environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert _is_401(response)
