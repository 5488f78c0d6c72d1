"""Feeds for products that do not speak TAXII, at /hub/v1/feeds/<collection>/<resource>.

Authenticated exactly like TAXII (API key as Basic password or Bearer, client certificate). Each view parses
the HTTP side (query options, If-None-Match, If-Modified-Since, Accept-Encoding) and hands the rest to
`FeedExports` with the principal first; files are streamed from disk (never read whole into memory). Every
fetch, refused ones included, goes into the poll history like a TAXII read.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Iterator
from email.utils import format_datetime, parsedate_to_datetime
from typing import IO, Any

import orjson
from flask import Blueprint, Response, g, request
from werkzeug.wsgi import wrap_file

from ..errors import BadRequest
from ..feedexport.service import FeedAnswer, FeedExports, FeedListing, FeedRequest
from ..hub.polls import PollRead
from ..timestamps import parse_us
from .identity import identify
from .services import services

bp = Blueprint("feeds_api", __name__, url_prefix="/hub/v1/feeds")
CHUNK = 64 * 1024


def _exports() -> FeedExports:
    return services().exports


@bp.before_request
def _identify() -> None:
    identify()


@bp.get("/", strict_slashes=False, provide_automatic_options=False)
def listing() -> Response:
    """The caller's feeds: for each collection it may read, the URL of every resource (absolute under
    [server] public_url, else paths; never derived from the request's Host)."""
    body = [_listed(item) for item in _exports().listing(g.principal)]
    return Response(orjson.dumps({"feeds": body}), content_type="application/json")


@bp.get("/<collection>/", provide_automatic_options=False)
def collection(collection: str) -> Response:
    """One collection's feed URLs (404 exactly like TAXII for a collection the caller cannot see)."""
    c = services().feeds.readable(g.principal, collection)
    (item,) = (i for i in _exports().listing(g.principal) if i.collection.id == c.id)
    return Response(orjson.dumps(_listed(item)), content_type="application/json")


def _listed(item: FeedListing) -> dict[str, Any]:
    return {"collection": item.collection.id, "alias": item.collection.alias, "title": item.collection.title,
            "feeds": list(item.urls)}


@bp.get("/<collection>/<path:resource>", provide_automatic_options=False)
def feed(collection: str, resource: str) -> Response:
    g.feed_collection = collection
    req = FeedRequest(collection, resource, dialect=request.args.get("format", "panos"),
                      wildcard=_flag("wildcard"), since_us=_since(), gzip=_wants_gzip())
    answer = _exports().fetch(g.principal, req, _etags(), _modified_since())
    g.feed_answer = answer
    return _response(answer)


def _flag(name: str) -> bool:
    value = request.args.get(name, "0").lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise BadRequest(f"{name} must be 1 or 0")
    return value in ("1", "true", "yes")


def _since() -> int | None:
    if "since" not in request.args:
        return None
    try:
        return parse_us(request.args["since"], allow_offset=True)
    except ValueError as exc:
        raise BadRequest(f"since: {exc}") from exc


def _wants_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            q = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False


def _etags() -> tuple[str, ...]:
    header = request.headers.get("If-None-Match")
    if header is None:
        return ()
    return tuple(t.strip().removeprefix("W/") for t in header.split(",") if t.strip())


def _modified_since() -> int | None:
    header = request.headers.get("If-Modified-Since")
    if not header:
        return None
    try:
        return int(parsedate_to_datetime(header).timestamp()) * 1_000_000
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # RFC 9110 §13.1.3: an invalid date is ignored


def _http_date(us: int) -> str:
    return _http_date_of_second(us // 1_000_000)


@functools.lru_cache(maxsize=256)
def _http_date_of_second(second: int) -> str:
    return format_datetime(datetime.datetime.fromtimestamp(second, datetime.UTC), usegmt=True)


def _response(answer: FeedAnswer) -> Response:
    headers = {"ETag": answer.etag, "Vary": "Accept-Encoding"}
    if answer.last_modified_us is not None:
        headers["Last-Modified"] = _http_date(answer.last_modified_us)
    if answer.not_modified or answer.body is None:
        return Response(status=304, headers=headers)
    if answer.gzipped:
        headers["Content-Encoding"] = "gzip"
    # A WSGI server's own file wrapper (gunicorn: sendfile) closes the file when the response ends; without
    # one the chunks are read here and the file closed at its end.
    body = (wrap_file(request.environ, answer.body, CHUNK) if "wsgi.file_wrapper" in request.environ
            else _chunks(answer.body))
    response = Response(body, content_type=answer.media_type, headers=headers, direct_passthrough=True)
    response.content_length = answer.size
    return response


def _chunks(body: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()


@bp.after_request
def _record_fetch(response: Response) -> Response:
    """Feed fetches go into the poll history like TAXII reads (endpoint `feed:<resource>`), errors included."""
    principal = g.get("principal")
    args = request.view_args or {}
    if principal is None or request.endpoint != "feeds_api.feed":
        return response
    answer: FeedAnswer | None = g.get("feed_answer")
    collection = answer.collection if answer is not None else None
    read = PollRead(collection.api_root if collection else "", collection.id if collection else
                    str(args.get("collection", "")), f"feed:{args.get('resource', '')}"[:200], response.status_code,
                    served=(answer.entries, answer.newest_added_us) if answer is not None else None)
    services().hub.polls.record(principal, read)
    return response
