"""The TAXII 2.1 endpoints (§4, §5) as a Flask blueprint.

Each view identifies the caller, checks what it accepts, and hands the request to `Feeds` with the principal
as the first argument; it never touches storage and makes no access decision of its own. The order of
checks follows checklist H8: 401 → 406 → 404 → 403 → 415 → 413 → 400/422.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import orjson
from flask import Blueprint, Response, g, request

from .. import filters
from ..errors import NotAcceptable, NotFound, UnsupportedMediaType
from ..feeds import Feeds, PageResult
from ..hub.polls import PollRead
from . import resources
from .body import read_body
from .errors import HUB_API_PREFIX
from .identity import identify
from .media import TAXII, accepts_taxii, is_taxii_content
from .services import services

bp = Blueprint("taxii", __name__)

NON_TAXII_PREFIXES = (HUB_API_PREFIX, "/console/")
_COLLECTION = "/<api_root>/collections/<collection_id>"
_OBJECT = _COLLECTION + "/objects/<object_id>"


def _feeds() -> Feeds:
    return services().feeds


def taxii_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, content_type=TAXII, headers=headers)


def _query(endpoint: filters.Endpoint) -> Callable[[], filters.QueryRequest]:
    """The query parameters, parsed only once the caller is authorised (checklist H8: 404/403 before 400)."""
    return functools.partial(filters.parse, request.args.to_dict(flat=False), endpoint)


def _paged(page: PageResult, body: bytes) -> Response:
    g.page = page  # for the poll history (_record_read)
    return taxii_response(body, headers=resources.date_added_headers(page))


@bp.before_app_request
def _require_trailing_slash() -> None:
    """A TAXII URL without its trailing slash is a TAXII 404, not a redirect (checklist C3)."""
    if not request.path.endswith("/") and not request.path.startswith(NON_TAXII_PREFIXES):
        raise NotFound("no such resource (TAXII URLs end in a slash)")


@bp.before_request
def _identify() -> None:
    """Every TAXII request names its caller (A7) and accepts the TAXII media type (B2, B3)."""
    identify()
    if not accepts_taxii(request.headers.get("Accept")):
        raise NotAcceptable("this server produces application/taxii+json;version=2.1")


@bp.get("/taxii2/", provide_automatic_options=False)
def discovery() -> Response:
    """§4.1 Server Discovery."""
    return taxii_response(resources.discovery(_feeds().discovery(g.principal)))


@bp.get("/<api_root>/", provide_automatic_options=False)
def api_root(api_root: str) -> Response:
    """§4.2 Get API Root Information."""
    return taxii_response(resources.api_root(_feeds().api_root(g.principal, api_root)))


@bp.get("/<api_root>/status/<status_id>/", provide_automatic_options=False)
def status(api_root: str, status_id: str) -> Response:
    """§4.3 Get Status: only the organisation that made the request may read it."""
    return taxii_response(resources.status(_feeds().get_status(g.principal, api_root, status_id)))


@bp.get("/<api_root>/collections/", provide_automatic_options=False)
def collections(api_root: str) -> Response:
    """§5.1 Get Collections: only the collections the caller can read or write."""
    return taxii_response(resources.collections(_feeds().collections(g.principal, api_root)))


@bp.get(_COLLECTION + "/", provide_automatic_options=False)
def collection(api_root: str, collection_id: str) -> Response:
    """§5.2 Get a Collection."""
    return taxii_response(resources.collection(_feeds().collection(g.principal, api_root, collection_id)))


@bp.get(_COLLECTION + "/manifest/", provide_automatic_options=False)
def manifest(api_root: str, collection_id: str) -> Response:
    """§5.3 Get Object Manifests."""
    req = _query("manifest")
    page = _feeds().get_manifest(g.principal, api_root, collection_id, req)
    return _paged(page, resources.manifest(page))


@bp.get(_COLLECTION + "/objects/", provide_automatic_options=False)
def get_objects(api_root: str, collection_id: str) -> Response:
    """§5.4 Get Objects."""
    req = _query("objects")
    page = _feeds().get_objects(g.principal, api_root, collection_id, req)
    return _paged(page, resources.envelope(page))


@bp.post(_COLLECTION + "/objects/", provide_automatic_options=False)
def add_objects(api_root: str, collection_id: str) -> Response:
    """§5.5 Add Objects: validated per object, stored in one transaction, answered with a complete Status."""
    feeds = _feeds()
    root = feeds.catalog.api_roots.get(api_root)
    limit = root.max_content_length if root else 0

    def body() -> bytes:
        if not is_taxii_content(request.headers.get("Content-Type")):
            raise UnsupportedMediaType("POST bodies must be application/taxii+json;version=2.1")
        return read_body(limit)

    status = feeds.add_objects(g.principal, api_root, collection_id, body)
    return taxii_response(resources.status(status), status=202)


@bp.get(_OBJECT + "/", provide_automatic_options=False)
def get_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """§5.6 Get an Object: the latest version by default; 404 when the object is unknown."""
    req = _query("object")
    page = _feeds().get_object(g.principal, api_root, collection_id, object_id, req)
    return _paged(page, resources.envelope(page))


@bp.delete(_OBJECT + "/", provide_automatic_options=False)
def delete_object(api_root: str, collection_id: str, object_id: str) -> Response:
    """§5.7 Delete an Object: every version unless match[version] names some (checklist P5)."""
    req = _query("delete")
    _feeds().delete_object(g.principal, api_root, collection_id, object_id, req)
    return taxii_response(b"")


@bp.get(_OBJECT + "/versions/", provide_automatic_options=False)
def versions(api_root: str, collection_id: str, object_id: str) -> Response:
    """§5.8 Get Object Versions, ascending by date_added."""
    req = _query("versions")
    page = _feeds().get_versions(g.principal, api_root, collection_id, object_id, req)
    return _paged(page, resources.versions(page))


def _reason(response: Response) -> str:
    """What a refused read told the reader (the description of its TAXII error), for the poll history."""
    if response.status_code < 400:
        return ""
    try:
        description = orjson.loads(response.get_data()).get("description", "")
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return description if isinstance(description, str) else ""


_READS = {"taxii.get_objects": "objects", "taxii.manifest": "manifest", "taxii.get_object": "object",
          "taxii.versions": "versions"}


@bp.after_request
def _record_read(response: Response) -> Response:
    """Every read of an identified caller goes into the poll history, errors included (issue #6)."""
    endpoint = _READS.get(request.endpoint or "")
    principal = g.get("principal")
    if endpoint is not None and principal is not None:
        args = request.view_args or {}
        read = PollRead(str(args.get("api_root", "")), str(args.get("collection_id", "")), endpoint,
                        response.status_code, g.get("page"), str(args.get("object_id", "")), _reason(response))
        services().hub.polls.record(principal, read)
    return response
