"""Authentication by client certificate in the web layer (web/auth.py): the certificate comes from the TLS
connection gunicorn hands over (`gunicorn.socket`), never from a header; precedence with Authorization.

The connection is stood in for by an object with gunicorn's SSL socket's `getpeercert`; the TLS handshake
itself is tested end to end in tests/e2e/test_e2e_mtls.py.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from taxii_server.accounts import OPERATOR
from taxii_server.certificates import ClientCertificates, IssuedCertificate
from taxii_server.tls import ensure_development_tls
from tests.support.hubtest import C_RW, MT, ROOT, Hub


class PeerSocket:
    """What the application sees of gunicorn's SSL socket: the DER certificate the client presented."""

    def __init__(self, der: bytes | None) -> None:
        self.der = der

    def getpeercert(self, binary_form: bool = False) -> bytes | None:
        assert binary_form
        return self.der


@pytest.fixture
def certs(hub: Hub) -> ClientCertificates:
    ensure_development_tls(hub.settings.ca_cert.parent)
    return ClientCertificates(hub.store, hub.settings.ca_cert.parent)


def der(issued: IssuedCertificate) -> bytes:
    return x509.load_pem_x509_certificate(issued.cert_pem).public_bytes(serialization.Encoding.DER)


def get(hub: Hub, path: str, peer: bytes | None, headers: dict[str, str] | None = None) -> Any:
    return hub.client().get(path, headers={"Accept": MT, **(headers or {})},
                            environ_base={"gunicorn.socket": PeerSocket(peer)})


def basic(hub: Hub, org: str) -> dict[str, str]:
    return {"Authorization": hub.headers(org)["Authorization"]}


def collection_ids(response: Any) -> list[str]:
    return sorted(c["id"] for c in response.get_json().get("collections", []))


def test_a_certificate_alone_identifies_its_organisation(hub: Hub, certs: ClientCertificates) -> None:
    alice = der(certs.issue(OPERATOR, "alice"))
    by_cert = get(hub, f"/{ROOT}/collections/", alice)
    by_key = get(hub, f"/{ROOT}/collections/", None, basic(hub, "alice"))
    assert by_cert.status_code == 200
    assert collection_ids(by_cert) == collection_ids(by_key)
    assert C_RW in collection_ids(by_cert)


def test_the_hub_api_takes_the_certificate_too(hub: Hub, certs: ClientCertificates) -> None:
    alice = der(certs.issue(OPERATOR, "alice"))
    assert get(hub, "/hub/v1/submissions", alice, {"Accept": "application/json"}).status_code == 200


def test_an_authorization_header_for_the_same_organisation_is_accepted(hub: Hub, certs: ClientCertificates) -> None:
    alice = der(certs.issue(OPERATOR, "alice"))
    assert get(hub, "/taxii2/", alice, basic(hub, "alice")).status_code == 200
    assert get(hub, "/taxii2/", alice, {"Authorization": f"Bearer {hub.keys['alice']}"}).status_code == 200


@pytest.mark.parametrize("authorization", ["bob-basic", "Bearer thk_not-a-key", "Basic !!!"])
def test_an_authorization_header_that_disagrees_with_the_certificate_is_refused(
    hub: Hub, certs: ClientCertificates, authorization: str
) -> None:
    header = basic(hub, "bob")["Authorization"] if authorization == "bob-basic" else authorization
    response = get(hub, f"/{ROOT}/collections/", der(certs.issue(OPERATOR, "alice")), {"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["http_status"] == "401"


def test_a_revoked_certificate_is_refused_even_with_a_valid_key(hub: Hub, certs: ClientCertificates) -> None:
    issued = certs.issue(OPERATOR, "alice")
    certs.revoke(OPERATOR, issued.record.serial)
    response = get(hub, "/taxii2/", der(issued), basic(hub, "alice"))
    assert response.status_code == 401
    assert "revoked" in response.get_json()["description"]


def test_a_certificate_the_hub_did_not_issue_is_refused(hub: Hub, certs: ClientCertificates) -> None:
    server_cert = x509.load_pem_x509_certificate(hub.settings.tls_cert.read_bytes())
    response = get(hub, "/taxii2/", server_cert.public_bytes(serialization.Encoding.DER), basic(hub, "alice"))
    assert response.status_code == 401


def _identity_headers(pem: bytes) -> list[dict[str, str]]:
    return [
        {"X-SSL-Client-S-DN": "CN=alice,O=alice", "X-SSL-Client-Verify": "SUCCESS"},
        {"X-Client-Cert": urllib.parse.quote(pem.decode())},
        {"X-SSL-Client-Cert": base64.b64encode(pem).decode()},
        {"X-Forwarded-Client-Cert": "Subject=\"CN=alice\""},
        {"X-User": "alice", "X-Remote-User": "alice"},
    ]


@pytest.mark.parametrize("which", range(5))
def test_identity_headers_without_a_certificate_are_not_trusted(hub: Hub, certs: ClientCertificates,
                                                                which: int) -> None:
    """AUTHN-06: whatever a client claims in headers, only the TLS connection's certificate counts."""
    headers = _identity_headers(certs.issue(OPERATOR, "alice").cert_pem)[which]
    response = get(hub, f"/{ROOT}/collections/", None, headers)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == MT


def test_without_a_tls_socket_the_authorization_header_decides(hub: Hub, certs: ClientCertificates) -> None:
    response = hub.client().get("/taxii2/", headers=hub.headers("alice"))
    assert response.status_code == 200
