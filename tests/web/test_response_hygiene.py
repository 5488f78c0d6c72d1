"""Response hygiene on every endpoint, errors and the hub API included (spec/security.md T9, T10; HDR-01..03).

Per-organisation answers are never cacheable and vary by credentials; no CORS header is ever sent, not even
to a preflight; HSTS accompanies answers given over TLS; discovery's URLs come from the configuration, never
from the request's Host or X-Forwarded-* headers.
"""

from __future__ import annotations

import pytest
from werkzeug.test import TestResponse

from tests.support.hubtest import C_MISSING, C_NONE, C_RW, MT, ROOT, Hub

ANY_ID = "indicator--6d4b4b8e-1c5a-4f7e-9c1e-2f0a6b7c8d9e"
_C = f"/{ROOT}/collections/{C_RW}"

# (method, path, organisation or None, extra headers): every TAXII endpoint and hub API resource, plus the
# error paths a client can reach (401, 403, 404, 405, 406, 415, routing 404, trailing-slash 404).
REQUESTS = [
    ("GET", "/taxii2/", "alice", {}),
    ("GET", f"/{ROOT}/", "alice", {}),
    ("GET", f"/{ROOT}/status/{C_MISSING}/", "alice", {}),
    ("GET", f"/{ROOT}/collections/", "alice", {}),
    ("GET", f"{_C}/", "alice", {}),
    ("GET", f"{_C}/manifest/", "alice", {}),
    ("GET", f"{_C}/objects/", "alice", {}),
    ("POST", f"{_C}/objects/", "alice", {}),
    ("GET", f"{_C}/objects/{ANY_ID}/", "alice", {}),
    ("DELETE", f"{_C}/objects/{ANY_ID}/", "alice", {}),
    ("GET", f"{_C}/objects/{ANY_ID}/versions/", "alice", {}),
    ("GET", f"/{ROOT}/collections/{C_NONE}/objects/", "alice", {}),
    ("PUT", f"{_C}/objects/", "alice", {}),
    ("GET", "/taxii2/", None, {}),
    ("GET", "/taxii2/", "alice", {"Accept": "text/html"}),
    ("GET", "/taxii2", "alice", {}),
    ("GET", "/no/such/thing/", "alice", {}),
    ("GET", "/hub/v1/submissions", "alice", {}),
    ("GET", "/hub/v1/submissions/nope", "alice", {}),
    ("GET", "/hub/v1/campaign-candidates", "alice", {}),
    ("GET", "/hub/v1/campaign-candidates", "analyst", {}),
    ("GET", "/hub/v1/publications", "analyst", {}),
    ("GET", "/hub/v1/stats", "analyst", {}),
    ("GET", "/hub/v1/audit", "analyst", {}),
    ("POST", "/hub/v1/revocations", "alice", {}),
    ("GET", "/hub/v1/stats", None, {}),
]
IDS = [f"{m} {p} {o or 'anonymous'}{' ' + next(iter(h.values())) if h else ''}" for m, p, o, h in REQUESTS]


def _send(hub: Hub, method: str, path: str, org: str | None, extra: dict[str, str]) -> TestResponse:
    return hub.client().open(path, method=method, headers=hub.headers(org, **extra))


@pytest.mark.parametrize(("method", "path", "org", "extra"), REQUESTS, ids=IDS)
def test_every_answer_is_uncacheable_and_varies_by_credentials(
    hub: Hub, method: str, path: str, org: str | None, extra: dict[str, str],
) -> None:
    """HDR-01: `Cache-Control: no-store`, `Vary: Authorization, Accept`, no cookie — on successes and errors."""
    response = _send(hub, method, path, org, extra)
    assert response.headers["Cache-Control"] == "no-store"
    vary = {v.strip().lower() for v in response.headers["Vary"].split(",")}
    assert {"authorization", "accept"} <= vary
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("method", "path", "org", "extra"), REQUESTS, ids=IDS)
def test_no_cors_header_is_ever_sent(hub: Hub, method: str, path: str, org: str | None, extra: dict[str, str]) -> None:
    """HDR-02, for every request carrying a foreign Origin."""
    response = _send(hub, method, path, org, {**extra, "Origin": "https://evil.example"})
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]


@pytest.mark.parametrize("path", ["/taxii2/", f"/{ROOT}/", f"{_C}/objects/", "/hub/v1/submissions"])
@pytest.mark.parametrize("org", ["alice", None])
def test_a_cors_preflight_gets_no_cors_headers(hub: Hub, path: str, org: str | None) -> None:
    """HDR-02: OPTIONS with Origin and Access-Control-Request-* is not a preflight the hub answers."""
    response = _send(hub, "OPTIONS", path, org, {
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    })
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control-")]
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("method", "path", "org", "extra"), REQUESTS[:3] + REQUESTS[13:15] + REQUESTS[17:18],
                         ids=IDS[:3] + IDS[13:15] + IDS[17:18])
def test_answers_over_tls_carry_hsts(hub: Hub, method: str, path: str, org: str | None, extra: dict[str, str]) -> None:
    response = hub.client().open(path, method=method, headers=hub.headers(org, **extra),
                                 base_url="https://hub.example")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_answers_over_plain_http_carry_no_hsts(hub: Hub) -> None:
    """RFC 6797 §7.2: HSTS over plain HTTP is ignored by browsers, and would be a claim the hub cannot keep."""
    response = hub.client().get("/taxii2/", headers=hub.headers("alice"), base_url="http://hub.example")
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("spoof", [
    {"Host": "evil.example"},
    {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http", "X-Forwarded-Prefix": "/evil"},
    {"Host": "evil.example:8443", "X-Forwarded-Host": "evil.example", "Forwarded": "host=evil.example;proto=http"},
], ids=["host", "x-forwarded", "both"])
def test_discovery_urls_come_from_the_configuration_only(hub: Hub, spoof: dict[str, str]) -> None:
    """HDR-03: `api_roots` and `default` are exactly as configured, whatever Host and X-Forwarded-* say."""
    honest = hub.client().get("/taxii2/", headers=hub.headers("alice"))
    spoofed = hub.client().get("/taxii2/", headers=hub.headers("alice", **spoof))
    assert spoofed.status_code == 200
    assert spoofed.headers["Content-Type"] == MT
    assert spoofed.json == honest.json
    assert spoofed.json["api_roots"] == [f"/{ROOT}/"]
    assert spoofed.json["default"] == f"/{ROOT}/"
    assert b"evil" not in spoofed.data
