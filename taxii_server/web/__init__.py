"""The HTTP face of the hub: Flask blueprints, authentication, media types and error mapping.

Only this package knows HTTP. It never imports storage; it calls the services with the caller first.
"""

from __future__ import annotations

from flask import Flask, Response, request

from . import console, errors, feeds_api, hub_api, taxii
from .services import EXTENSION, Services

# One year. includeSubDomains binds every subdomain of the operator's domain, so that choice is theirs.
HSTS = "max-age=31536000"


def _hygiene(response: Response) -> Response:
    """Authenticated, per-organisation answers must never be cached or shared between callers (T9).

    Applied to every response, errors included. No CORS header is ever set (T10): the hub is for machines,
    and a browser page must not read it with a member's credentials. HSTS only when the request itself came
    over TLS; behind a TLS-terminating proxy the proxy sends it (deploy/nginx/taxii-hub.conf).
    """
    response.headers["Cache-Control"] = "no-store"
    # feeds vary by Accept-Encoding too (gzip when asked)
    extra = ", Accept-Encoding" if "Accept-Encoding" in response.headers.get("Vary", "") else ""
    response.headers["Vary"] = "Authorization, Accept" + extra
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def init_app(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services
    errors.init_app(app)
    app.register_blueprint(feeds_api.bp)
    app.register_blueprint(hub_api.bp)
    app.register_blueprint(taxii.bp)
    console.init_app(app)
    app.after_request(_hygiene)
