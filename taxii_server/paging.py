"""Stateless `next` tokens: a signed keyset cursor bound to one caller, collection, endpoint and filter set.

The token holds only the `date_added` of the last row served; the query itself is rebuilt from the request
and the caller's rights every time, so a token can never widen what a caller sees (TAXII App. B). A token
from another organisation, collection, endpoint or filter set, or an altered one, is refused. Tokens need no
server memory, so any worker or machine that shares the signing key accepts them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from .errors import BadRequest
from .model import ObjectFilter

_SEP = "."


class TokenSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the paging key needs at least 16 bytes")
        self._key = key

    @staticmethod
    def binding(org_id: str, collection_id: str, endpoint: str, flt: ObjectFilter, object_id: str = "") -> bytes:
        text = repr((org_id, collection_id, endpoint, object_id, flt.added_after_us, flt.ids, flt.types,
                     sorted(flt.version_keywords), flt.version_instants, flt.spec_versions))
        return hashlib.sha256(text.encode("utf-8")).digest()[:12]

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()[:16]

    def encode(self, cursor_us: int, binding: bytes) -> str:
        body = cursor_us.to_bytes(8, "big", signed=True) + binding
        mac = self._mac(body)
        return base64.urlsafe_b64encode(cursor_us.to_bytes(8, "big", signed=True) + mac).decode().rstrip("=")

    def decode(self, token: str, binding: bytes) -> int:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError) as exc:
            raise BadRequest("the next token is not valid") from exc
        if len(raw) != 24:
            raise BadRequest("the next token is not valid")
        cursor, mac = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, self._mac(cursor + binding)):
            raise BadRequest("the next token is not valid for this request (different caller, collection or filters)")
        return int.from_bytes(cursor, "big", signed=True)
