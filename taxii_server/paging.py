"""Stateless `next` tokens: a signed keyset cursor that carries the filters of the query it continues.

A token holds the `date_added` of the last row served and the whole filter object of the request that made
it, signed together with the caller, collection, endpoint and object it was made for. So a request with
`next` and no filters continues the original query (clients such as Elastic's drop `added_after` on later
pages); the same filters repeated are fine (taxii2-client repeats them); different filters are a 400. The
filters are serialised field by field from the `ObjectFilter` dataclass, so a filter added later travels in
the token without anyone remembering to add it here.

The query itself is rebuilt from the token's filters and the caller's rights every time, so a token can
never widen what a caller sees (TAXII App. B). A token from another organisation, collection, endpoint or
object, or an altered one, is refused. Tokens need no server memory, so any worker or machine that shares the
signing key accepts them.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import BadRequest
from .model import ObjectFilter

_VERSION = 2
_MAC_BYTES = 16
# Filters longer than this once compressed (long match[id] lists) travel as a digest, so that a client that
# repeats its filters with `next` (taxii2-client) stays within the request-line limit; such a query must then
# be continued with its filters repeated.
MAX_CARRIED_FILTER_BYTES = 512
_CARRIED, _DIGEST = 0, 1
_INVALID = "the next token is not valid"
_DIFFER = ("the filters of this request differ from those of the query the next token continues; send next with "
           "the original filters, or with none")
_ELSEWHERE = "the next token is not valid for this request (it was made for another caller, collection or endpoint)"


@dataclass(frozen=True)
class Place:
    """Where a token may be used: the caller, the collection, the endpoint and (for one object) its id."""

    org_id: str
    collection_id: str
    endpoint: str
    object_id: str = ""

    def key(self) -> bytes:
        return orjson.dumps([self.org_id, self.collection_id, self.endpoint, self.object_id])


@dataclass(frozen=True)
class Continuation:
    """What a token says: continue after `cursor_us` with these filters (or, for long filters, with the
    filters whose digest it holds)."""

    cursor_us: int
    filter: ObjectFilter | None
    digest: bytes = b""


def filter_to_json(flt: ObjectFilter) -> bytes:
    """Every field of the filter, in a canonical form (sets sorted), so equal filters give equal bytes."""
    doc: dict[str, Any] = {}
    for f in dataclasses.fields(flt):
        value = getattr(flt, f.name)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        doc[f.name] = value
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def filter_from_json(data: bytes) -> ObjectFilter:
    """The inverse of `filter_to_json`; a field the token lacks keeps its default (a filter added later)."""
    doc = orjson.loads(data)
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    defaults = ObjectFilter()
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(ObjectFilter):
        if f.name not in doc:
            continue
        value = doc[f.name]
        default = getattr(defaults, f.name)
        if isinstance(default, frozenset):
            value = frozenset(value)
        elif isinstance(default, tuple):
            value = tuple(value)
        kwargs[f.name] = value
    return ObjectFilter(**kwargs)


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the paging key needs at least 16 bytes")
        self._key = key

    def _mac(self, place: Place, body: bytes) -> bytes:
        return hmac.new(self._key, place.key() + b"\0" + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, cursor_us: int, place: Place, flt: ObjectFilter) -> str:
        text = filter_to_json(flt)
        carried = zlib.compress(text, 9)
        mode, payload = (_CARRIED, carried) if len(carried) <= MAX_CARRIED_FILTER_BYTES else (_DIGEST, _digest(text))
        body = bytes([_VERSION, mode]) + cursor_us.to_bytes(8, "big", signed=True) + payload
        return base64.urlsafe_b64encode(body + self._mac(place, body)).decode().rstrip("=")

    def decode(self, token: str, place: Place) -> Continuation:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError, binascii.Error) as exc:
            raise BadRequest(_INVALID) from exc
        if len(raw) < 2 + 8 + _MAC_BYTES or raw[0] != _VERSION or raw[1] not in (_CARRIED, _DIGEST):
            raise BadRequest(_INVALID)
        body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(place, body)):
            raise BadRequest(_ELSEWHERE)
        cursor = int.from_bytes(body[2:10], "big", signed=True)
        if body[1] == _DIGEST:
            return Continuation(cursor, None, body[10:])
        try:
            flt = filter_from_json(zlib.decompress(body[10:]))
        except (ValueError, TypeError, zlib.error) as exc:  # signed by us, so only a key shared with a bug
            raise BadRequest(_INVALID) from exc
        return Continuation(cursor, flt)

    def resume(self, token: str, place: Place, flt: ObjectFilter, filtered: bool) -> Continuation:
        """The query a `next` request continues: the token's filters when the request repeats none, or repeats
        exactly the same ones; a request whose filters differ from the token's is a 400."""
        found = self.decode(token, place)
        if found.filter is None:
            if not filtered:
                raise BadRequest("this query's filters are too long to travel in the next token: send next with "
                                 "the original filters")
            if not hmac.compare_digest(found.digest, _digest(filter_to_json(flt))):
                raise BadRequest(_DIFFER)
            return Continuation(found.cursor_us, flt)
        if filtered and found.filter != flt:
            raise BadRequest(_DIFFER)
        return found


def _digest(text: bytes) -> bytes:
    return hashlib.sha256(text).digest()[:16]
