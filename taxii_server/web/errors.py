"""The one table from domain errors to HTTP, and TAXII error bodies for everything that goes wrong.

Every 4xx/5xx — our own errors, routing errors, method errors, oversized bodies, unexpected crashes — is a
TAXII error message (§3.6.1) with `Content-Type: application/taxii+json;version=2.1`, never HTML.
"""

from __future__ import annotations

import logging

import orjson
from flask import Flask, Response, has_request_context, request
from werkzeug.exceptions import HTTPException

from .. import errors
from ..logs import FIELDS
from .media import TAXII

log = logging.getLogger("taxii_server.web")

STATUS_FOR: dict[type[errors.HubError], int] = {
    errors.BadRequest: 400,
    errors.NotAuthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.NotAcceptable: 406,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.Unprocessable: 422,
    errors.TooManyRequests: 429,
    errors.StorageFull: 507,  # before its base class: the first match wins
    errors.StorageUnavailable: 503,
    errors.ConfigError: 500,
}
TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
    422: "Unprocessable Content", 429: "Too Many Requests", 500: "Internal Server Error",
    503: "Service Unavailable", 507: "Insufficient Storage",
}
CHALLENGES = ('Basic realm="taxii-hub", charset="UTF-8"', 'Bearer realm="taxii-hub"')


HUB_API_PREFIX = "/hub/v1/"  # the one spelling of the hub API's path (hub_api.py mounts there)


def error_media_type() -> str:
    """TAXII endpoints answer in TAXII's media type; the hub's own REST API in plain JSON."""
    if has_request_context() and request.path.startswith(HUB_API_PREFIX):
        return "application/json"
    return TAXII


def taxii_error(status: int, description: str, details: dict[str, object] | None = None) -> Response:
    body: dict[str, object] = {
        "title": TITLES.get(status, "Error"),
        "description": description,
        "http_status": str(status),
    }
    if details:
        body["details"] = details
    response = Response(orjson.dumps(body), status=status, content_type=error_media_type())
    if status == 401:
        for challenge in CHALLENGES:
            response.headers.add("WWW-Authenticate", challenge)
    return response


def _hub_error(exc: errors.HubError) -> Response:
    status = next((code for cls, code in STATUS_FOR.items() if isinstance(exc, cls)), 500)
    if status >= 500:
        log.error("service error: %s", exc.message)
    response = taxii_error(status, exc.message, exc.details)
    if isinstance(exc, (errors.StorageUnavailable, errors.TooManyRequests)):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    description = {
        404: "no such resource",
        405: "this method is not allowed on this resource",
        413: "the request body is larger than max_content_length",
    }.get(status, exc.description or TITLES.get(status, "error"))
    response = taxii_error(status, description)
    if status == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    return response


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error", extra={FIELDS: {"method": request.method, "path": request.path}})
    return taxii_error(500, "the hub failed to process this request; the error was logged")


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.HubError, _hub_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
