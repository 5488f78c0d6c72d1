"""Signing in to the console with a client certificate the TLS layer verified: the same mapping as the APIs,
and a session that needs that certificate on every request (a revoked one ends it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from taxii_server.accounts import OPERATOR
from taxii_server.certificates import ClientCertificates
from taxii_server.tls import ensure_development_tls
from tests.support.consoleclient import BASE, token
from tests.support.hubflow import DemoHub, make_demo_hub

MEMBER = "kita-heavy"


class PeerSocket:
    """What the application sees of gunicorn's SSL socket: the DER certificate the client presented."""

    def __init__(self, der: bytes | None) -> None:
        self.der = der

    def getpeercert(self, binary_form: bool = False) -> bytes | None:
        return self.der


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def certs(hub: DemoHub) -> ClientCertificates:
    ensure_development_tls(hub.settings.ca_cert.parent)
    return ClientCertificates(hub.store, hub.settings.ca_cert.parent)


def issued(certs: ClientCertificates, org: str) -> tuple[str, bytes]:
    found = certs.issue(OPERATOR, org)
    cert = x509.load_pem_x509_certificate(found.cert_pem)
    return found.record.serial, cert.public_bytes(serialization.Encoding.DER)


def with_peer(der: bytes | None) -> dict[str, Any]:
    return {"environ_base": {"gunicorn.socket": PeerSocket(der)}}


def sign_in_with(hub: DemoHub, der: bytes) -> Any:
    client = hub.app.test_client()
    page = client.get(BASE + "/console/login", **with_peer(der))
    assert "Sign in with the client certificate" in page.get_data(as_text=True) or "クライアント証明書で" in \
        page.get_data(as_text=True)
    reply = client.post(BASE + "/console/login", data={"csrf": token(page), "method": "certificate"},
                        **with_peer(der))
    assert reply.status_code == 303, reply.get_data(as_text=True)
    return client


def test_a_verified_client_certificate_signs_its_organisation_in(hub: DemoHub, certs: ClientCertificates) -> None:
    _, der = issued(certs, MEMBER)
    client = sign_in_with(hub, der)
    assert f"<strong>{MEMBER}</strong>" in client.get(BASE + "/console/", **with_peer(der)).get_data(as_text=True)


def test_the_certificate_session_needs_the_certificate_on_every_request(
    hub: DemoHub, certs: ClientCertificates
) -> None:
    _, der = issued(certs, MEMBER)
    client = sign_in_with(hub, der)
    assert client.get(BASE + "/console/", **with_peer(None)).status_code == 303


def test_a_session_with_another_certificate_is_ended(hub: DemoHub, certs: ClientCertificates) -> None:
    _, der = issued(certs, MEMBER)
    _, other = issued(certs, "higashi-gas")
    client = sign_in_with(hub, der)
    assert client.get(BASE + "/console/", **with_peer(other)).status_code == 303


def test_revoking_the_certificate_ends_its_sessions(hub: DemoHub, certs: ClientCertificates) -> None:
    serial, der = issued(certs, MEMBER)
    client = sign_in_with(hub, der)
    certs.revoke(OPERATOR, serial)
    assert client.get(BASE + "/console/", **with_peer(der)).status_code == 303


def test_without_a_certificate_the_page_offers_no_certificate_sign_in(hub: DemoHub) -> None:
    page = hub.app.test_client().get(BASE + "/console/login").get_data(as_text=True)
    assert 'value="certificate"' not in page
