"""The HTTP face of the hub: Flask blueprints, authentication, media types and error mapping.

Only this package knows HTTP. It never imports storage; it calls the services with the caller first.
"""

from __future__ import annotations

from flask import Flask, Response

from . import errors, hub_api, taxii
from .services import EXTENSION, Services


def _hygiene(response: Response) -> Response:
    """Authenticated, per-organisation answers must never be cached or shared between callers."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Authorization, Accept"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services
    errors.init_app(app)
    app.register_blueprint(hub_api.bp)
    app.register_blueprint(taxii.bp)
    app.after_request(_hygiene)
