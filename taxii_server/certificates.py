"""Client certificates (mutual TLS): issuing them from the hub's CA, listing and revoking them, and telling
which organisation a verified certificate belongs to.

The hub's CA is the one `taxii-hub init` made (`<data_dir>/tls/ca.crt` and `ca.key`). A certificate names its
organisation in the subject (O and CN = organisation id) and carries the clientAuth extended key usage; its
serial and fingerprint are recorded in the store, so a certificate is accepted only while its record exists,
matches it exactly and is not revoked — revocation is immediate on every worker, without CRLs.

Authentication answers only "which organisation is this"; like API keys, the decisions are in `access.py`.
Must not: know HTTP (the web layer hands over the DER bytes the TLS layer verified) or trust anything a
client says about a certificate other than the certificate itself.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import access
from .errors import BadRequest, ConfigError, Conflict, Forbidden, NotAuthenticated, NotFound
from .model import ClientCertificate, Principal
from .storage.base import AccountStore, CertificateStore
from .timestamps import format_datetime

MAX_DAYS = 3650
DEFAULT_DAYS = 365
CLOCK_SKEW = datetime.timedelta(minutes=5)  # not_before is set this far back, for clients with a slow clock
Clock = Callable[[], datetime.datetime]


class _Store(CertificateStore, AccountStore, Protocol):
    pass


@dataclass(frozen=True)
class IssuedCertificate:
    """A freshly issued certificate: the only moment its private key and PKCS#12 password exist on the hub."""

    record: ClientCertificate
    cert_pem: bytes
    key_pem: bytes = field(repr=False)
    p12: bytes = field(repr=False)
    p12_password: str = field(repr=False)


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _text(when: datetime.datetime) -> str:
    return format_datetime(when)


def serial_text(serial: int) -> str:
    return format(serial, "x")


def parse_serial(text: str) -> str:
    """A serial as the store keys it (lower-case hex, no leading zeros) from what an operator typed:
    hex with or without colons or a 0x prefix, in either case."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    try:
        return serial_text(int(cleaned, 16))
    except ValueError:
        raise BadRequest(f"certificate serial {text!r} is not hexadecimal") from None


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


class ClientCertificates:
    def __init__(self, store: _Store, tls_dir: Path, *, clock: Clock = _utc_now) -> None:
        self.store = store
        self.ca_cert_path = tls_dir / "ca.crt"
        self.ca_key_path = tls_dir / "ca.key"
        self._clock = clock
        self._ca: x509.Certificate | None = None

    # -- administration ------------------------------------------------------------------------------------

    def issue(
        self,
        actor: Principal,
        org_id: str,
        *,
        days: int = DEFAULT_DAYS,
        not_before: datetime.datetime | None = None,
        p12_password: str | None = None,
    ) -> IssuedCertificate:
        """Issue a certificate for `org_id` valid for `days` from `not_before` (default: now, less the clock
        skew), record it and return it with its key and a PKCS#12 bundle protected by `p12_password` (a
        random one when not given)."""
        self._require_admin(actor)
        if not 1 <= days <= MAX_DAYS:
            raise BadRequest(f"a client certificate is valid for 1 to {MAX_DAYS} days, not {days}")
        if p12_password is not None and len(p12_password) < 8:
            raise BadRequest("a PKCS#12 password needs at least 8 characters")
        org = self.store.get_organisation(org_id)
        if org is None:
            raise NotFound(f"no organisation {org_id!r}")
        ca_cert, ca_key = self._load_ca_for_issuing()
        start = not_before if not_before is not None else self._clock() - CLOCK_SKEW
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org.id),
            x509.NameAttribute(NameOID.COMMON_NAME, org.id),
        ])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        der = cert.public_bytes(serialization.Encoding.DER)
        record = ClientCertificate(
            serial=serial_text(cert.serial_number), org_id=org.id, subject=cert.subject.rfc4514_string(),
            sha256=fingerprint(der), not_before=_text(cert.not_valid_before_utc),
            not_after=_text(cert.not_valid_after_utc), issued=_text(self._clock()),
        )
        self.store.add_certificate(record)
        password = p12_password if p12_password is not None else secrets.token_urlsafe(18)
        p12 = pkcs12.serialize_key_and_certificates(
            org.id.encode(), key, cert, [ca_cert], serialization.BestAvailableEncryption(password.encode())
        )
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return IssuedCertificate(record, cert.public_bytes(serialization.Encoding.PEM), key_pem, p12, password)

    def certificates(self, actor: Principal, org_id: str | None = None) -> list[ClientCertificate]:
        if org_id is None or org_id != actor.org_id:
            self._require_admin(actor)
        return self.store.list_certificates(org_id)

    def revoke(self, actor: Principal, serial: str) -> ClientCertificate:
        key = parse_serial(serial)
        found = self.store.get_certificate(key)
        if found is None or not access.may_manage_credentials_of(actor, found.org_id):
            raise NotFound(f"no client certificate with serial {key}")
        if found.revoked:
            raise Conflict(f"client certificate {key} was already revoked on {found.revoked}")
        when = _text(self._clock())
        self.store.revoke_certificate(key, when)
        return replace(found, revoked=when)

    # -- authentication ------------------------------------------------------------------------------------

    def authenticate(self, der: bytes) -> Principal:
        """The organisation a certificate presented in the TLS handshake belongs to, or NotAuthenticated.

        The TLS layer has already checked the chain and that the client holds the key; this checks again that
        the hub's CA signed it, that it is valid now, and that it is exactly a certificate the hub issued and
        has not revoked."""
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError as exc:
            raise NotAuthenticated("the client certificate cannot be read") from exc
        ca = self._ca_certificate()
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise NotAuthenticated("the client certificate was not issued by this hub") from exc
        now = self._clock()
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise NotAuthenticated("the client certificate has expired or is not valid yet")
        serial = serial_text(cert.serial_number)
        record = self.store.get_certificate(serial)
        if record is None or not secrets.compare_digest(record.sha256, fingerprint(der)):
            raise NotAuthenticated("unknown client certificate")
        if record.revoked:
            raise NotAuthenticated("the client certificate has been revoked")
        org = self.store.get_organisation(record.org_id)
        if org is None:
            raise NotAuthenticated("the client certificate's organisation no longer exists")
        return org.principal(f"cert:{serial}")

    # -- the CA ----------------------------------------------------------------------------------------------

    def _ca_certificate(self) -> x509.Certificate:
        """The CA certificate, read once per process on first use (nothing happens at import or start-up)."""
        if self._ca is None:
            try:
                self._ca = x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())
            except (OSError, ValueError) as exc:
                raise NotAuthenticated("this hub accepts no client certificates (its CA is not readable)") from exc
        return self._ca

    def _load_ca_for_issuing(self) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        try:
            cert = x509.load_pem_x509_certificate(self.ca_cert_path.read_bytes())
            key = serialization.load_pem_private_key(self.ca_key_path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise ConfigError(f"{exc.filename}: the hub's CA is missing; run `taxii-hub init` first") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise ConfigError(f"the hub's CA in {self.ca_cert_path.parent} cannot be read: {exc}") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            raise ConfigError(f"{self.ca_key_path}: not the private key of {self.ca_cert_path}")
        return cert, key

    @staticmethod
    def _require_admin(actor: Principal) -> None:
        if not access.may_use(actor, "administration"):
            raise Forbidden(f"organisation {actor.org_id!r} is not an administrator")
