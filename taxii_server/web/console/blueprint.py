"""The console's blueprint and what every console request goes through: the session, CSRF on every form, an
upload size limit, then after the view the security headers — a Content-Security-Policy without inline
script or style, no framing, no referrer — and the session cookies. Errors are HTML pages here, never TAXII
JSON: a person reads them."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from ... import access
from ...errors import HubError, NotFound, TooManyRequests
from ..errors import STATUS_FOR
from . import guard

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static",
               static_url_path="/static")

# The largest upload the console takes in one request (several .eml files); each report is also held to the
# hub API's own limit.
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


@bp.before_request
def _before() -> BaseResponse | None:
    request.max_content_length = MAX_UPLOAD_BYTES
    guard.resume()
    if request.endpoint == "console.static":
        return None
    guard.check_csrf()
    if request.endpoint in guard.PUBLIC_ENDPOINTS:
        return None
    caller = guard.principal()  # SignInRequired without a session
    if not access.may_use_route(caller, (request.endpoint or "").partition(".")[2], access.CONSOLE_PAGES):
        raise NotFound("no such page")  # the same page as a path that does not exist (`unknown` below)
    return None


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(unknown: str) -> Response:
    """Any other path under /console/: the console's own 404 page, never reached (the check above refuses
    it), declared so that an unknown path goes through the same session and CSRF checks as a real page."""
    raise NotFound("no such page")


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    guard.set_cookies(response)
    return response


def _page(status: int, message: str) -> Response:
    # A 404 page's language switch returns home, so the page does not depend on the path that was asked for.
    home = url_for("console.home")
    body = render_template("console/error.html", status=status, message=message,
                           **({"next_path": home} if status == 404 else {}))
    return Response(body, status=status, content_type="text/html; charset=utf-8")


@bp.errorhandler(guard.SignInRequired)
def _sign_in(exc: guard.SignInRequired) -> BaseResponse:
    return redirect(url_for("console.login"), 303)


@bp.errorhandler(guard.CsrfRefused)
def _csrf(exc: guard.CsrfRefused) -> Response:
    return _page(403, gettext("This form has expired or was not sent from the console. Reload the page and "
                              "try again."))


@bp.errorhandler(HubError)
def _hub_error(exc: HubError) -> Response:
    status = next((code for cls, code in STATUS_FOR.items() if isinstance(exc, cls)), 500)
    if status == 404:
        return _page(404, gettext("There is no such page, or it is not available to your organisation."))
    page = _page(status, exc.message)
    if isinstance(exc, TooManyRequests):
        page.headers["Retry-After"] = str(exc.retry_after)
    return page


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 413:
        return _page(413, gettext("The upload is too large (at most 25 MB per request)."))
    if status == 404:
        return _page(404, gettext("There is no such page, or it is not available to your organisation."))
    return _page(status, exc.description or "")
