"""The hub's own REST API at /hub/v1/: submissions, campaign candidates, publications, revocations,
statistics and the audit trail. JSON in and out; errors are the same error bodies as TAXII's, as
`application/json`. Authenticated like TAXII; every decision is made by the hub services.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from werkzeug.exceptions import NotFound as RouteNotFound

from .. import access
from ..errors import BadRequest, NotAcceptable, UnsupportedMediaType
from ..hub.campaigns import DEFAULT_PAGE
from ..hub.polls import collection_polls_view, poll_view
from ..hub.publishing import PublishRequest
from ..hub.services import HubServices
from ..hub.views import candidate_view, exclusion_view, override_view, publication_view, submission_view
from ..logs import FIELDS
from ..model import Publication, Submission
from ..strict_json import loads as strict_loads
from ..timestamps import format_us, parse_us
from .body import read_body
from .errors import HUB_API_PREFIX
from .identity import identify
from .media import JSON, accepts_json, is_json_content, media_type
from .services import json_limits, services

bp = Blueprint("hub_api", __name__, url_prefix=HUB_API_PREFIX.rstrip("/"))
MAX_FORM_BYTES = 1024 * 1024  # the JSON body of an action (dismissal, publication, revocation)
log = logging.getLogger("taxii_server.web.hub_api")


def _hub() -> HubServices:
    return services().hub


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status=status, content_type=JSON)


@bp.before_request
def _identify() -> None:
    principal = identify()
    if not access.may_use_route(principal, (request.endpoint or "").rpartition(".")[2], access.HUB_API_ROUTES):
        raise RouteNotFound()  # exactly what an unknown route answers: the route does not exist for this caller
    if not accepts_json(request.headers.get("Accept")):
        raise NotAcceptable("the hub API produces application/json")


def _fields(allowed: set[str]) -> dict[str, Any]:
    body = read_body(MAX_FORM_BYTES)
    if body and not is_json_content(request.headers.get("Content-Type")):
        raise UnsupportedMediaType("the body must be application/json (UTF-8)")
    doc = strict_loads(body or b"{}", json_limits())
    if not isinstance(doc, dict):
        raise BadRequest("the body must be a JSON object")
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(allowed))})")
    return doc


def _header_text(name: str) -> str | None:
    """A header as the UTF-8 text clients send (WSGI hands header bytes over as Latin-1)."""
    value = request.headers.get(name)
    if value is None:
        return None
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def _since_until() -> tuple[int | None, int | None]:
    try:
        return tuple(  # type: ignore[return-value]
            parse_us(request.args[k], allow_offset=True) if k in request.args else None for k in ("since", "until"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc


def _published_from(s: Submission) -> list[Publication]:
    return _hub().intake.published_from(g.principal, s.id)


# -- submissions ----------------------------------------------------------------------------------------------

@bp.post("/submissions")
def submit() -> Response:
    filename = _header_text("X-Filename") or request.args.get("filename") or "upload"
    body = read_body(services().limits.max_submission_bytes, "[limits] max_submission_bytes")
    submission = _hub().intake.submit(g.principal, body, media_type(request.headers.get("Content-Type")), "http",
                                      filename)
    # The file name is the member's text, logged only as a field (escaped by the JSON log formatter).
    log.info("submission received", extra={FIELDS: {
        "organisation": g.principal.org_id, "submission": submission.id, "state": submission.state,
        "media_type": submission.media_type, "filename": filename, "bytes": len(body)}})
    return _json(submission_view(submission, g.principal, []), 202)


def _candidates_of(found: list[Submission]) -> dict[str, str]:
    """Analysts only: which candidate each report belongs to. A member's answers never consult correlation."""
    if not access.may_use(g.principal, "candidates"):
        return {}
    return _hub().campaigns.candidates_of(g.principal, [s.id for s in found])


@bp.get("/submissions")
def list_submissions() -> Response:
    found = _hub().intake.submissions(g.principal)
    candidates = _candidates_of(found)
    views = [submission_view(s, g.principal, _published_from(s), candidates.get(s.id)) for s in found]
    return _json({"submissions": views} if views else {})


@bp.get("/submissions/<submission_id>")
def get_submission(submission_id: str) -> Response:
    s = _hub().intake.get(g.principal, submission_id)
    return _json(submission_view(s, g.principal, _published_from(s), _candidates_of([s]).get(s.id)))


@bp.post("/submissions/<submission_id>/dismissal")
def dismiss(submission_id: str) -> Response:
    reason = str(_fields({"reason"}).get("reason", ""))
    s = _hub().intake.dismiss(g.principal, submission_id, reason)
    return _json(submission_view(s, g.principal, []))


# -- campaigns and publications -------------------------------------------------------------------------------

@bp.get("/campaign-candidates")
def candidates() -> Response:
    """One page, newest activity first (`limit`, `next`); a read of the candidates the correlation step keeps."""
    try:
        limit = int(request.args.get("limit", DEFAULT_PAGE))
    except ValueError as exc:
        raise BadRequest("limit must be a whole number") from exc
    found, token = _hub().campaigns.page(g.principal, limit, request.args.get("next"))
    waiting, age = _hub().campaigns.lag(g.principal)
    body: dict[str, Any] = {"candidates": [candidate_view(c) for c in found]} if found else {}
    if token is not None:
        body["next"] = token
    body["correlation"] = {"queued": waiting, "oldest_seconds": age}
    return _json(body)


@bp.get("/campaign-candidates/<candidate_id>")
def candidate(candidate_id: str) -> Response:
    return _json(candidate_view(_hub().campaigns.get(g.principal, candidate_id)))


# -- analysts' corrections of correlation: exclusions, splits and merges (the same service as the CLI) ---------

def _text(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise BadRequest(f"{key}: required, a string")
    return value


@bp.post("/campaign-candidates/<candidate_id>/split")
def split(candidate_id: str) -> Response:
    """Split the named reports off a candidate (`submissions`, `reason`); applied by the correlation step."""
    doc = _fields({"submissions", "reason"})
    side = doc.get("submissions")
    if not isinstance(side, list) or not all(isinstance(s, str) for s in side):
        raise BadRequest("submissions: a list of the candidate's submission ids to split off is required")
    made = _hub().campaigns.split(g.principal, candidate_id, side, _text(doc, "reason"))
    return _json(override_view(made), 201)


@bp.post("/campaign-candidates/<candidate_id>/merge")
def merge(candidate_id: str) -> Response:
    """Merge another candidate (`with`) into this one, with a `reason`; applied by the correlation step."""
    doc = _fields({"with", "reason"})
    made = _hub().campaigns.merge(g.principal, candidate_id, _text(doc, "with"), _text(doc, "reason"))
    return _json(override_view(made), 201)


@bp.get("/correlation-exclusions")
def exclusions() -> Response:
    """The exclusions, and the splits and merges, in force."""
    campaigns = _hub().campaigns
    found = campaigns.exclusions(g.principal)
    overrides = campaigns.overrides(g.principal)
    body: dict[str, Any] = {}
    if found:
        body["exclusions"] = [exclusion_view(e) for e in found]
    if overrides:
        body["overrides"] = [override_view(o) for o in overrides]
    return _json(body)


@bp.post("/correlation-exclusions")
def exclude() -> Response:
    """Exclude a value (or, with `pattern`, a glob of values) of one evidence kind from linking reports."""
    doc = _fields({"kind", "value", "pattern", "reason"})
    pattern = doc.get("pattern", False)
    if not isinstance(pattern, bool):
        raise BadRequest("pattern: true or false")
    made = _hub().campaigns.exclude(g.principal, _text(doc, "kind"), _text(doc, "value"), _text(doc, "reason"),
                                    pattern)
    return _json(exclusion_view(made), 201)


@bp.post("/correlation-exclusions/<exclusion_id>/removal")
def include(exclusion_id: str) -> Response:
    """Withdraw an exclusion (`reason`): the value links reports again where it is not over-correlating."""
    doc = _fields({"reason"})
    return _json(exclusion_view(_hub().campaigns.include(g.principal, exclusion_id, _text(doc, "reason"))))


def _publish_request() -> tuple[PublishRequest, bool]:
    doc = _fields({"candidate", "submissions", "name", "description", "tlp", "collections", "preview", "on_revoked"})
    collections = doc.get("collections")
    submissions = doc.get("submissions", [])
    if not isinstance(collections, list) or not all(isinstance(c, str) for c in collections):
        raise BadRequest("collections: a list of collection ids or aliases is required")
    if not isinstance(submissions, list) or not all(isinstance(s, str) for s in submissions):
        raise BadRequest("submissions: must be a list of submission ids")
    for key in ("name", "tlp"):
        if not isinstance(doc.get(key), str):
            raise BadRequest(f"{key}: required, a string")
    if not isinstance(doc.get("on_revoked", "refuse"), str):
        raise BadRequest("on_revoked: must be 'refuse' or 'new-objects'")
    request_ = PublishRequest(
        name=doc["name"], tlp=doc["tlp"], collections=tuple(collections),
        description=str(doc.get("description", "")), candidate_id=doc.get("candidate"),
        submission_ids=tuple(submissions), on_revoked=doc.get("on_revoked", "refuse"),
    )
    return request_, bool(doc.get("preview", False))


@bp.post("/publications")
def publish() -> Response:
    req, preview_only = _publish_request()
    publishing = _hub().publishing
    if preview_only:
        preview = publishing.preview(g.principal, req)
        return _json({"bundle": preview.bundle, "findings": list(preview.findings),
                      "collections": [c.id for c in preview.collections], "revoked": list(preview.revoked)})
    publication = publishing.publish(g.principal, req)
    return _json(publication_view(publication), 201 if publication.state == "published" else 202)


@bp.get("/publications")
def publications() -> Response:
    found = _hub().publishing.publications(g.principal)
    return _json({"publications": [publication_view(p) for p in found]} if found else {})


@bp.get("/publications/<publication_id>")
def publication(publication_id: str) -> Response:
    p, bundle = _hub().publishing.get(g.principal, publication_id)
    return _json({**publication_view(p), "bundle": orjson.loads(bundle)})


@bp.post("/publications/<publication_id>/approval")
def approve(publication_id: str) -> Response:
    return _json(publication_view(_hub().publishing.approve(g.principal, publication_id)))


@bp.post("/revocations")
def revoke() -> Response:
    doc = _fields({"id", "reason"})
    if not isinstance(doc.get("id"), str):
        raise BadRequest("id: the STIX id to revoke is required")
    touched = _hub().revocation.revoke(g.principal, doc["id"], str(doc.get("reason", "")))
    return _json({"id": doc["id"], "revoked_in": touched})


# -- statistics and audit -------------------------------------------------------------------------------------

@bp.get("/stats")
def stats() -> Response:
    since, until = _since_until()
    return _json(_hub().stats.compute(g.principal, since, until).__dict__)


@bp.get("/polls")
def polls() -> Response:
    """The caller's own TAXII reads (every organisation's for analysts, `?org=` to choose one): per collection
    the last success and error and the lag behind publication, then the most recent reads."""
    since, _ = _since_until()
    org = request.args.get("org") or None
    history = _hub().polls
    summary = history.summary(g.principal, org)
    recent = history.polls(g.principal, org, since, _limit())
    if not summary and not recent:
        return _json({})
    return _json({"collections": [collection_polls_view(c) for c in summary],
                  "polls": [poll_view(r) for r in recent]})


def _limit() -> int:
    text = request.args.get("limit", "100")
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 1000:  # not "²": isdigit, int() fails
        raise BadRequest("limit: an integer from 1 to 1000")
    return int(text)


@bp.get("/audit")
def audit() -> Response:
    since, _ = _since_until()
    entries = _hub().audit.entries(g.principal, since)
    return _json({"entries": [
        {"id": e.id, "at": format_us(e.at_us), "actor": e.actor, "action": e.action, "target": e.target,
         "details": orjson.loads(e.details) if e.details else {}}
        for e in entries
    ]} if entries else {})
