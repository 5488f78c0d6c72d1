"""Who is calling: HTTP Basic (API key or password as the password), `Authorization: Bearer <API key>`, or a
client certificate the hub issued, presented in the TLS handshake.

A certificate is read from the TLS connection gunicorn hands over (`gunicorn.socket`), never from a header:
`X-SSL-Client-S-DN`, `X-Client-Cert` and the like are ignored, whoever sends them (AUTHN-06). Precedence when
a request carries both: the certificate identifies the caller (credential `cert:<serial>`), and an
Authorization header must be valid too and name the same organisation, or the request is refused (401).

This module only identifies; it decides nothing. The Principal it yields is handed explicitly to the
services; it is never stored in a thread-local below the web layer.
"""

from __future__ import annotations

import base64

from flask import Request

from ..accounts import Accounts
from ..certificates import ClientCertificates
from ..errors import NotAuthenticated
from ..model import Principal


def authenticate(request: Request, accounts: Accounts, certificates: ClientCertificates | None = None) -> Principal:
    """The caller, from its client certificate and/or its Authorization header (see the module docstring);
    without `certificates`, only the header counts."""
    der = peer_certificate(request) if certificates is not None else None
    if der is None or certificates is None:
        return _from_authorization(request, accounts)
    principal = certificates.authenticate(der)
    if request.headers.get("Authorization", "").strip():
        other = _from_authorization(request, accounts)
        if other.org_id != principal.org_id:
            raise NotAuthenticated("the Authorization header names another organisation than the client certificate")
    return principal


def peer_certificate(request: Request) -> bytes | None:
    """The DER certificate the client presented in this connection's TLS handshake, None without one (plain
    HTTP, no certificate, or a server that is not gunicorn). gunicorn's TLS layer has verified it against the
    hub's CA and the client's possession of its key before the request was read."""
    getpeercert = getattr(request.environ.get("gunicorn.socket"), "getpeercert", None)
    if not callable(getpeercert):
        return None
    try:
        der = getpeercert(binary_form=True)
    except (OSError, ValueError):  # the connection is gone, or the handshake never finished
        return None
    return der if isinstance(der, bytes) and der else None


def _from_authorization(request: Request, accounts: Accounts) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return accounts.authenticate_key(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except ValueError as exc:  # binascii.Error, UnicodeDecodeError, or non-ASCII text in the header
            raise NotAuthenticated("malformed Basic credentials") from exc
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise NotAuthenticated("malformed Basic credentials")
        return accounts.authenticate_basic(username, password)
    raise NotAuthenticated("authentication required: HTTP Basic (organisation id and API key), Bearer API key or a "
                           "client certificate")
