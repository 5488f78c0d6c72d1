"""Client certificates on the running hub (AUTHN-06, AUTHN-07, checklist A10): `taxii-hub serve` with two workers,
once with the default `--client-certs optional` and once with `required`, certificates issued and revoked with
`taxii-hub cert`. The TLS handshake is gunicorn's; the organisation behind a certificate is the hub's answer.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from taxii_server.accounts import OPERATOR
from taxii_server.certificates import ClientCertificates
from taxii_server.model import Organisation
from taxii_server.settings import load_settings
from taxii_server.storage import open_store
from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.tls import ensure_development_tls
from tests.support.hubtest import C_NONE, C_RW, MT, ROOT
from tests.support.serverproc import HubDir, HubServer, basic, build_hub, run_cli, start_server

pytestmark = pytest.mark.slow

Pair = tuple[Path, Path]  # (certificate, key), as requests' `cert=` takes them


@dataclass(frozen=True)
class Certs:
    alice: Pair
    revoked: Pair
    expired: Pair
    stranger: Pair  # alice's name, from another CA


def _cli_issue(hub: HubDir, org: str, out: Path) -> tuple[Pair, str]:
    result = run_cli(hub.config, "cert", "issue", org, "-o", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return (out / f"{org}.crt", out / f"{org}.key"), str(json.loads(result.stdout)["serial"])


def _write(out: Path, cert_pem: bytes, key_pem: bytes) -> Pair:
    out.mkdir(parents=True)
    (out / "c.crt").write_bytes(cert_pem)
    (out / "c.key").write_bytes(key_pem)
    return out / "c.crt", out / "c.key"


def _expired(hub: HubDir, out: Path) -> Pair:
    """Issued through the service API, backdated: valid for a day that ended two days ago."""
    settings = load_settings(hub.config, env={})
    store = open_store(settings.storage.url)
    try:
        start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=3)
        issued = ClientCertificates(store, settings.ca_cert.parent).issue(OPERATOR, "alice", days=1, not_before=start)
    finally:
        store.close()
    return _write(out, issued.cert_pem, issued.key_pem)


def _stranger(root: Path) -> Pair:
    """A certificate shaped exactly like the hub's (O=CN=alice, clientAuth), signed by another CA."""
    ensure_development_tls(root / "tls")
    store = SQLiteStore(root / "other.sqlite3")
    store.initialise()
    store.add_organisation(Organisation("alice", "Alice", "gas", ("member",), "2030-01-01T00:00:00.000000Z"))
    issued = ClientCertificates(store, root / "tls").issue(OPERATOR, "alice")
    store.close()
    return _write(root / "out", issued.cert_pem, issued.key_pem)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> HubDir:
    return build_hub(tmp_path_factory.mktemp("mtls-hub"))


@pytest.fixture(scope="module")
def certs(hub: HubDir) -> Certs:
    with ThreadPoolExecutor(max_workers=2) as pool:
        alice = pool.submit(_cli_issue, hub, "alice", hub.root / "certs" / "alice")
        revoked = pool.submit(_cli_issue, hub, "alice", hub.root / "certs" / "revoked")
        (alice_pair, _), (revoked_pair, revoked_serial) = alice.result(), revoked.result()
    result = run_cli(hub.config, "cert", "revoke", revoked_serial)
    assert result.returncode == 0, result.stderr
    return Certs(alice_pair, revoked_pair, _expired(hub, hub.root / "certs" / "expired"),
                 _stranger(hub.root / "stranger"))


@pytest.fixture(scope="module")
def servers(hub: HubDir, certs: Certs) -> Iterator[dict[str, HubServer]]:
    """The default (`optional`) and `required`, started side by side; both serve the same store."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            "optional": pool.submit(start_server, hub, 2),
            "required": pool.submit(start_server, hub, 2, serve_args=("--client-certs", "required"),
                                    client_cert=certs.alice),
        }
    running = {name: f.result() for name, f in futures.items() if f.exception() is None}
    try:
        for future in futures.values():
            future.result()  # one that did not start fails the tests, after the other is stopped below
        yield running
    finally:
        for server in running.values():
            server.stop()


def get(server: HubServer, path: str, cert: Pair | None = None,
        headers: dict[str, str] | None = None) -> requests.Response:
    with requests.Session() as session:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override `verify`, a proxy would break loopback
        return session.get(server.url(path), verify=server.ca_cert, timeout=10,
                           headers={"Accept": MT, **(headers or {})},
                           cert=(str(cert[0]), str(cert[1])) if cert else None)


def collection_ids(response: requests.Response) -> list[str]:
    return sorted(c["id"] for c in response.json().get("collections", []))


@pytest.mark.parametrize("mode", ["optional", "required"])
def test_a_valid_certificate_alone_is_its_organisation(servers: dict[str, HubServer], certs: Certs,
                                                       mode: str) -> None:
    server = servers[mode]
    by_cert = get(server, f"/{ROOT}/collections/", certs.alice)
    by_key = get(server, f"/{ROOT}/collections/", certs.alice, {"Authorization": f"Bearer {server.keys['alice']}"})
    assert by_cert.status_code == 200, by_cert.text
    assert collection_ids(by_cert) == collection_ids(by_key)
    assert C_RW in collection_ids(by_cert) and C_NONE not in collection_ids(by_cert)


def test_without_a_certificate_required_refuses_the_handshake(servers: dict[str, HubServer]) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        get(servers["required"], "/taxii2/", headers={"Authorization": f"Bearer {servers['required'].keys['alice']}"})


@pytest.mark.parametrize("mode", ["optional", "required"])
def test_a_certificate_from_another_ca_fails_the_handshake(servers: dict[str, HubServer], certs: Certs,
                                                           mode: str) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        get(servers[mode], "/taxii2/", certs.stranger)


def test_an_expired_certificate_is_refused(servers: dict[str, HubServer], certs: Certs) -> None:
    try:
        response = get(servers["optional"], "/taxii2/", certs.expired)
    except requests.exceptions.ConnectionError:
        return  # refused in the handshake (OpenSSL checks the validity first)
    assert response.status_code == 401


def test_a_revoked_certificate_is_a_401_with_a_taxii_body(servers: dict[str, HubServer], certs: Certs) -> None:
    response = get(servers["optional"], "/taxii2/", certs.revoked)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == MT and response.json()["http_status"] == "401"


@pytest.mark.parametrize("headers", [
    {"X-SSL-Client-S-DN": "CN=alice,O=alice", "X-SSL-Client-Verify": "SUCCESS"},
    {"X-Client-Cert": "-----BEGIN CERTIFICATE-----", "X-User": "alice"},
])
def test_identity_headers_without_a_certificate_are_a_401(servers: dict[str, HubServer],
                                                          headers: dict[str, str]) -> None:
    response = get(servers["optional"], f"/{ROOT}/collections/", headers=headers)
    assert response.status_code == 401


@pytest.mark.parametrize("scheme", ["Basic", "Bearer"])
def test_optional_still_serves_key_clients_without_a_certificate(servers: dict[str, HubServer], scheme: str) -> None:
    server = servers["optional"]
    key = server.keys["alice"]
    value = f"Bearer {key}" if scheme == "Bearer" else basic("alice", key)
    assert get(server, "/taxii2/", headers={"Authorization": value}).status_code == 200


def test_an_authorization_header_for_another_organisation_is_refused(servers: dict[str, HubServer],
                                                                     certs: Certs) -> None:
    server = servers["optional"]
    response = get(server, "/taxii2/", certs.alice, {"Authorization": f"Bearer {server.keys['bob']}"})
    assert response.status_code == 401
