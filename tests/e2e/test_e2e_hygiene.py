"""Response hygiene on the running hub over TLS (HDR-01, HDR-02; HSTS because the request came over TLS)."""

from __future__ import annotations

import pytest

from tests.support.serverproc import HubServer

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("path", "org", "status"), [("/taxii2/", "alice", 200), ("/taxii2/", None, 401),
                                                     ("/nowhere/", "alice", 404)])
def test_answers_over_tls_carry_hsts_no_store_and_no_cors(server: HubServer, path: str, org: str | None,
                                                          status: int) -> None:
    reply = server.request("GET", path, org, headers={"Origin": "https://evil.example"})
    assert reply.status == status
    assert reply.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert reply.headers["Cache-Control"] == "no-store"
    assert not [h for h in reply.headers if h.lower().startswith("access-control-")]
