"""Client certificates (certificates.py): issuing from the hub's CA, revocation, and authentication by one."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from taxii_server.accounts import OPERATOR
from taxii_server.certificates import ClientCertificates, IssuedCertificate, parse_serial
from taxii_server.errors import BadRequest, ConfigError, Conflict, Forbidden, NotAuthenticated, NotFound
from taxii_server.model import Organisation, Principal
from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.tls import ensure_development_tls

NOW = datetime.datetime(2030, 5, 1, 12, 0, tzinfo=datetime.UTC)
ALICE = Principal("alice", "gas", frozenset({"member"}))


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> Iterator[ClientCertificates]:
    store = SQLiteStore(tmp_path / "hub.sqlite3")
    store.initialise()
    for org in ("alice", "bob"):
        store.add_organisation(Organisation(org, org.title(), "gas", ("member",), "2030-01-01T00:00:00.000000Z"))
    ensure_development_tls(tmp_path / "tls")
    yield ClientCertificates(store, tmp_path / "tls", clock=clock)
    store.close()


@pytest.fixture
def issued(service: ClientCertificates) -> IssuedCertificate:
    return service.issue(OPERATOR, "alice", days=30)


def der(issued: IssuedCertificate) -> bytes:
    return x509.load_pem_x509_certificate(issued.cert_pem).public_bytes(serialization.Encoding.DER)


def test_the_subject_names_the_organisation(issued: IssuedCertificate) -> None:
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["alice"]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["alice"]


def test_it_is_a_client_authentication_end_entity_certificate(issued: IssuedCertificate) -> None:
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_validity_is_the_days_asked_for_from_just_before_now(issued: IssuedCertificate) -> None:
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert NOW - datetime.timedelta(minutes=10) <= cert.not_valid_before_utc <= NOW
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == datetime.timedelta(days=30)


def test_it_chains_to_the_hubs_ca_and_its_key_matches(tmp_path: Path, issued: IssuedCertificate) -> None:
    ca = x509.load_pem_x509_certificate((tmp_path / "tls" / "ca.crt").read_bytes())
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    cert.verify_directly_issued_by(ca)
    key = serialization.load_pem_private_key(issued.key_pem, password=None)
    assert key.public_key() == cert.public_key()


def test_the_pkcs12_bundle_opens_with_its_password_only(tmp_path: Path, issued: IssuedCertificate) -> None:
    key, cert, extra = pkcs12.load_key_and_certificates(issued.p12, issued.p12_password.encode())
    assert cert is not None and cert.public_bytes(serialization.Encoding.PEM) == issued.cert_pem
    assert key is not None and key.public_key() == cert.public_key()
    assert [c.subject for c in extra] == [x509.load_pem_x509_certificate(
        (tmp_path / "tls" / "ca.crt").read_bytes()).subject]
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(issued.p12, b"not the password")


def test_a_given_pkcs12_password_is_used(service: ClientCertificates) -> None:
    issued = service.issue(OPERATOR, "alice", p12_password="correct horse")
    assert pkcs12.load_key_and_certificates(issued.p12, b"correct horse")[1] is not None


def test_the_serial_and_fingerprint_are_recorded(service: ClientCertificates, issued: IssuedCertificate) -> None:
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    assert service.store.get_certificate(format(cert.serial_number, "x")) == issued.record
    assert issued.record.sha256 == cert.fingerprint(hashes.SHA256()).hex()


def test_a_valid_certificate_authenticates_its_organisation(service: ClientCertificates,
                                                            issued: IssuedCertificate) -> None:
    principal = service.authenticate(der(issued))
    assert (principal.org_id, principal.roles) == ("alice", frozenset({"member"}))
    assert principal.credential_id == f"cert:{issued.record.serial}"


@pytest.mark.parametrize("offset", [datetime.timedelta(days=31), datetime.timedelta(hours=-1)])
def test_an_expired_or_not_yet_valid_certificate_is_refused(service: ClientCertificates, clock: Clock,
                                                            issued: IssuedCertificate,
                                                            offset: datetime.timedelta) -> None:
    clock.now = NOW + offset
    with pytest.raises(NotAuthenticated, match="expired or is not valid yet"):
        service.authenticate(der(issued))


def test_a_backdated_certificate_is_already_expired(service: ClientCertificates) -> None:
    old = service.issue(OPERATOR, "alice", days=1, not_before=NOW - datetime.timedelta(days=3))
    with pytest.raises(NotAuthenticated, match="expired"):
        service.authenticate(der(old))


def test_a_revoked_certificate_is_refused(service: ClientCertificates, issued: IssuedCertificate) -> None:
    revoked = service.revoke(OPERATOR, issued.record.serial)
    assert revoked.revoked is not None
    with pytest.raises(NotAuthenticated, match="revoked"):
        service.authenticate(der(issued))


def test_revoking_twice_or_an_unknown_serial_is_an_error(service: ClientCertificates,
                                                         issued: IssuedCertificate) -> None:
    service.revoke(OPERATOR, issued.record.serial.upper())
    with pytest.raises(Conflict):
        service.revoke(OPERATOR, issued.record.serial)
    with pytest.raises(NotFound):
        service.revoke(OPERATOR, "abcdef")
    with pytest.raises(BadRequest):
        service.revoke(OPERATOR, "not-hex")


def test_a_member_can_revoke_only_its_own_certificates(service: ClientCertificates,
                                                       issued: IssuedCertificate) -> None:
    with pytest.raises(NotFound):
        service.revoke(Principal("bob", "gas", frozenset({"member"})), issued.record.serial)
    assert service.revoke(ALICE, issued.record.serial).revoked is not None


def test_serials_are_read_with_colons_prefix_or_leading_zeros() -> None:
    assert parse_serial("00:0A:1b") == parse_serial("0xa1b") == "a1b"


def test_a_certificate_from_another_ca_is_refused(tmp_path: Path, service: ClientCertificates) -> None:
    ensure_development_tls(tmp_path / "other")
    stranger = (tmp_path / "other" / "server.crt").read_bytes()
    with pytest.raises(NotAuthenticated, match="not issued by this hub"):
        service.authenticate(x509.load_pem_x509_certificate(stranger).public_bytes(serialization.Encoding.DER))


def test_a_certificate_of_the_hubs_ca_that_was_never_recorded_is_refused(tmp_path: Path, clock: Clock,
                                                                        service: ClientCertificates) -> None:
    clock.now = datetime.datetime.now(datetime.UTC)  # while the server certificate `init` made is valid
    server_cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "server.crt").read_bytes())
    with pytest.raises(NotAuthenticated, match="unknown client certificate"):
        service.authenticate(server_cert.public_bytes(serialization.Encoding.DER))


def test_unreadable_bytes_are_refused(service: ClientCertificates) -> None:
    with pytest.raises(NotAuthenticated):
        service.authenticate(b"\x30\x03garbage")


def test_only_an_administrator_issues(service: ClientCertificates) -> None:
    with pytest.raises(Forbidden):
        service.issue(ALICE, "alice")


@pytest.mark.parametrize(("org", "days", "error"), [("nobody", 30, NotFound), ("alice", 0, BadRequest),
                                                    ("alice", 3651, BadRequest)])
def test_bad_issue_requests_are_refused(service: ClientCertificates, org: str, days: int,
                                        error: type[Exception]) -> None:
    with pytest.raises(error):
        service.issue(OPERATOR, org, days=days)
    assert service.store.list_certificates() == []


def test_issuing_without_the_ca_says_to_run_init(tmp_path: Path, service: ClientCertificates) -> None:
    (tmp_path / "tls" / "ca.key").unlink()
    with pytest.raises(ConfigError, match="taxii-hub init"):
        service.issue(OPERATOR, "alice")


def test_a_member_lists_only_its_own_certificates(service: ClientCertificates, issued: IssuedCertificate) -> None:
    service.issue(OPERATOR, "bob")
    assert service.certificates(ALICE, "alice") == [issued.record]
    assert len(service.certificates(OPERATOR)) == 2
    with pytest.raises(Forbidden):
        service.certificates(ALICE)
