"""Signing in and out, and choosing the language.

Sign-in takes the organisation id and its password or one of its API keys, checked by the same
`Accounts.authenticate_basic` as HTTP Basic on the APIs, or — when the TLS layer verified a client certificate
on this connection (`serve --client-certs`) — that certificate, mapped to its organisation exactly as on the
APIs (`auth.peer_certificate`, `ClientCertificates.authenticate`). A failed sign-in says only that the id or
secret was wrong.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from ...errors import NotAuthenticated
from ...sessions import LANGUAGES
from ..auth import peer_certificate
from ..client import client_address
from ..services import services
from . import guard
from .blueprint import bp

_MAX_FIELD = 512


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | str:
    certificate = peer_certificate(request)
    if request.method == "GET":
        if guard.session() is not None:
            return redirect(url_for("console.home"), 303)
        return render_template("console/login.html", error=None, org_id="", certificate=certificate is not None)
    org_id = request.form.get("org_id", "").strip()[:_MAX_FIELD]
    secret = request.form.get("secret", "")[:_MAX_FIELD]
    try:
        if request.form.get("method") == "certificate":
            if certificate is None:
                raise NotAuthenticated("no client certificate on this connection")
            principal = services().certificates.authenticate(certificate)
        else:
            if not org_id or not secret:
                raise NotAuthenticated("missing")
            # per address as on the APIs: the rate limits on passwords and unknown keys apply to sign-in too
            principal = services().accounts.at(client_address(request)).authenticate_basic(org_id, secret)
    except NotAuthenticated:
        page = render_template("console/login.html", error=gettext("Wrong organisation id, password or API key."),
                               org_id=org_id, certificate=certificate is not None)
        return BaseResponse(page, status=401, content_type="text/html; charset=utf-8")
    current = guard.session()
    if current is not None:  # a new sign-in replaces the old session, never extends it
        services().sessions.close(current)
    secret_id, _ = services().sessions.open(principal, g.console_lang)
    guard.remember(guard.SESSION_COOKIE, secret_id)
    guard.forget(guard.LOGIN_COOKIE)
    return redirect(url_for("console.home"), 303)


@bp.post("/logout")
def logout() -> BaseResponse:
    current = guard.session()
    if current is not None:
        services().sessions.close(current)
    guard.forget(guard.SESSION_COOKIE)
    return redirect(url_for("console.login"), 303)


@bp.post("/language")
def language() -> BaseResponse:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        current = guard.session()
        if current is not None:
            services().sessions.set_language(current, lang)
        guard.remember(guard.LANG_COOKIE, lang, max_age=365 * 86400)
    back = request.form.get("next", "")
    # Only a path inside the console: never an absolute or scheme-relative URL (no open redirect).
    # Printable ASCII only: a CR/LF would split the Location header, anything else is not a console path.
    if (not back.startswith("/console/") or back.startswith("//") or "\\" in back or len(back) > 500
            or not (back.isascii() and back.isprintable())):
        back = url_for("console.home")
    return redirect(back, 303)
