"""The audit trail: every submission, rejection, dismissal, publication, approval and revocation, with the
acting organisation and the time. Readable by analysts only; to members it does not exist."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

import orjson

from .. import access
from ..errors import NotFound
from ..model import AuditEntry, Principal
from ..storage.base import HubStore
from ..timestamps import now_us


def require(principal: Principal, area: str, what: str) -> None:
    """A workflow area the caller may not use (`access.may_use`) is invisible to it: the same 404 as a
    resource that does not exist."""
    if not access.may_use(principal, area):
        raise NotFound(f"no such {what}")


class AuditLog:
    def __init__(self, store: HubStore, clock: Callable[[], int] = now_us) -> None:
        self.store = store
        self.clock = clock

    def record(self, actor: Principal, action: str, target: str, details: Mapping[str, object] | None = None) -> None:
        text = orjson.dumps(dict(details), option=orjson.OPT_SORT_KEYS).decode() if details else ""
        self.store.add_audit(AuditEntry(str(uuid.uuid4()), self.clock(), actor.org_id, action, target, text))

    def entries(self, principal: Principal, since_us: int | None = None, limit: int = 1000) -> list[AuditEntry]:
        require(principal, "audit", "audit trail")
        return self.store.list_audit(since_us, limit)
