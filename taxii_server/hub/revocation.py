"""Revocation: an analyst withdraws a published object by publishing a new version with `revoked: true` in
every collection that holds it, so pollers following `added_after` receive the revocation. Nothing is
hard-deleted. Observables (SCOs) cannot be revoked in STIX 2.1; revoke the indicator that points at them.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from ..errors import NotFound, Unprocessable
from ..feeds import Feeds
from ..model import Principal
from ..timestamps import format_us, now_us, parse_us
from ..validation import SCO_TYPES
from .audit import AuditLog, require


class Revocation:
    """`reserved`: the hub's own identity ids (the hub and its sector identities), which every publication is
    created by or sighted for: they are not revocable, or every later publication would be refused."""

    def __init__(self, feeds: Feeds, audit: AuditLog, clock: Callable[[], int] = now_us,
                 reserved: frozenset[str] = frozenset()) -> None:
        self.feeds = feeds
        self.audit = audit
        self.clock = clock
        self.reserved = reserved

    def revoke(self, principal: Principal, object_id: str, reason: str = "") -> list[str]:
        """Revoke the object everywhere the analyst can write it; the ids of the collections touched."""
        require(principal, "revocation", "object")
        if object_id.split("--", 1)[0] in SCO_TYPES | {"marking-definition"}:
            raise Unprocessable(f"{object_id} cannot be revoked (STIX 2.1 has no revoked property for it)")
        if object_id in self.reserved:
            raise Unprocessable(f"{object_id} is the hub's own identity, which every publication names; it cannot "
                                "be revoked (revoke the objects it created instead)")
        touched: list[str] = []
        for collection, stored in self.feeds.holdings(principal, object_id):
            current = orjson.loads(stored.raw)
            if current.get("revoked") is True:
                continue
            modified = max(self.clock(), parse_us(current.get("modified", current["created"])) + 1000)
            revoked = {**current, "revoked": True, "modified": _stix_ms(modified)}
            envelope = orjson.dumps({"objects": [revoked]})
            status = self.feeds.add_vetted_objects(principal, collection.api_root, collection.id, _body(envelope))
            if status.failures:
                raise Unprocessable(f"collection {collection.id} refused the revocation: {status.failures[0].message}")
            touched.append(collection.id)
        if not touched:
            raise NotFound(f"no collection you can write holds an unrevoked {object_id}")
        self.audit.record(principal, "revoke", object_id, {"reason": reason, "collections": touched})
        return touched


def _body(envelope: bytes) -> Callable[[], bytes]:
    return lambda: envelope


def _stix_ms(us: int) -> str:
    """Millisecond precision, rounded up so the new version is always later than the one it replaces."""
    ms = -(-us // 1000)
    text = format_us(ms * 1000)
    return text[:-4] + "Z"
