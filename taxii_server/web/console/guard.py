"""Who is signed in to the console, and the rules every console request passes before a view runs.

The session cookie holds only a random secret (`__Host-` prefixed: Secure, Path=/, no Domain; HttpOnly;
SameSite=Strict); its state — organisation, CSRF token, language, times — is in the store (sessions.py), so
every worker sees it. Each request resumes the session, then asks `Accounts.resume` for the principal, so a
revoked key or a removed organisation ends its sessions at once. A session opened with a client certificate
(verified by the TLS layer, mapped by `ClientCertificates.authenticate` as on the APIs) needs that certificate
on every later request too. Every POST carries a CSRF token: the
session's, or before sign-in a double-submit token (a cookie and a form field that must match).

This module identifies and checks tokens; it decides nothing about data (the services do).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, g, request

from ... import access
from ...errors import NotAuthenticated, NotFound
from ...model import ConsoleSession, Principal
from ...sessions import DEFAULT_LANGUAGE, IDLE_TIMEOUT_S, LANGUAGES
from ..auth import peer_certificate
from ..services import services

SESSION_COOKIE = "__Host-taxii-hub-console"
LOGIN_COOKIE = "__Host-taxii-hub-login"
LANG_COOKIE = "__Host-taxii-hub-lang"
CERTIFICATE_PREFIX = "cert:"
PUBLIC_ENDPOINTS = frozenset({"console.login", "console.language", "console.static"})


class SignInRequired(Exception):
    """Raised before a view that needs a signed-in organisation when there is none; answered by a redirect."""


class CsrfRefused(Exception):
    """A POST without the right CSRF token; answered 403 and nothing is done."""


def resume() -> None:
    """Find the session and the principal behind the request's cookie (before every console request)."""
    g.console_session = None
    g.console_principal = None
    g.console_cookies = []
    secret = request.cookies.get(SESSION_COOKIE, "")
    found = services().sessions.resume(secret) if secret else None
    if found is not None:
        try:
            g.console_principal = _principal_of(found)
            g.console_session = found
        except NotAuthenticated:
            services().sessions.close(found)
    if g.console_session is None and secret:
        forget(SESSION_COOKIE)
    lang = g.console_session.lang if g.console_session else request.cookies.get(LANG_COOKIE, DEFAULT_LANGUAGE)
    g.console_lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def _principal_of(found: ConsoleSession) -> Principal:
    """A session opened with a client certificate lives only on connections presenting that same certificate
    (checked again, revocation included, on every request); one opened with a key or password only while the
    organisation exists and the key is not revoked."""
    if found.credential_id and found.credential_id.startswith(CERTIFICATE_PREFIX):
        der = peer_certificate(request)
        if der is None:
            raise NotAuthenticated("this session needs its client certificate")
        principal = services().certificates.authenticate(der)
        if principal.credential_id != found.credential_id or principal.org_id != found.org_id:
            raise NotAuthenticated("another client certificate than the one this session signed in with")
        return principal
    return services().accounts.resume(found.org_id, found.credential_id)


def session() -> ConsoleSession | None:
    found: ConsoleSession | None = g.get("console_session")
    return found


def principal() -> Principal:
    found: Principal | None = g.get("console_principal")
    if found is None:
        raise SignInRequired()
    return found


def require(area: str) -> Principal:
    """The signed-in caller, if it may use this area of the workflow (`access.may_use`); otherwise the page
    does not exist for it: the same 404 as a page that does not exist. Every page is also checked against
    `access.CONSOLE_PAGES` before its view runs."""
    caller = principal()
    if not access.may_use(caller, area):
        raise NotFound("no such page")
    return caller


# -- CSRF -----------------------------------------------------------------------------------------------------

def csrf_token() -> str:
    """The token the page's forms carry: the session's, or before sign-in the double-submit token."""
    current = session()
    if current is not None:
        return current.csrf
    token: str | None = g.get("console_login_token") or request.cookies.get(LOGIN_COOKIE)
    if not token or len(token) > 128:
        token = secrets.token_urlsafe(32)
        remember(LOGIN_COOKIE, token, max_age=IDLE_TIMEOUT_S)
    g.console_login_token = token
    return token


def check_csrf() -> None:
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    sent = request.form.get("csrf", "")
    current = session()
    expected = current.csrf if current is not None else request.cookies.get(LOGIN_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


# -- cookies --------------------------------------------------------------------------------------------------

def remember(name: str, value: str, max_age: int | None = None) -> None:
    g.console_cookies.append((name, value, max_age))


def forget(name: str) -> None:
    g.console_cookies.append((name, "", 0))


def set_cookies(response: Response) -> None:
    for name, value, max_age in g.get("console_cookies", []):
        response.set_cookie(name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="Strict")
