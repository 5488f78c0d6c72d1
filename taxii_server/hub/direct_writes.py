"""Direct TAXII writes the access rules watch (`access.watched_write`): the leak check for what the hub's side
writes where members read, and the audit entry for every such write — the hub's side's, and a member's own
write into a shared collection, which is that member's attributed disclosure.

Owns which values count as sensitive in a direct write (every member organisation's id and name, and its
aliases and mail domains where the register has them) and the shape of the audit entry. Must not: know HTTP,
log or store a sensitive value itself (a finding names the object and the kind of value only).
"""

from __future__ import annotations

from typing import Any

import orjson

from .. import access
from ..model import CollectionDef, Principal, Status
from ..storage.base import AccountStore
from . import leaks
from .audit import AuditLog

MAX_LISTED = 100  # ids named in one audit entry; the counts are always complete


class DirectWrites:
    def __init__(self, store: AccountStore, audit: AuditLog, min_group_count: int) -> None:
        self.store = store
        self.audit = audit
        self.min_group_count = min_group_count

    def findings(self, principal: Principal, collection: CollectionDef, objects: list[dict[str, Any]]
                 ) -> dict[str, str]:
        sensitive = self._sensitive()
        found: dict[str, str] = {}
        for obj in objects:
            # The leak check's value search, object by object, so each finding is that object's failure.
            hits = leaks.findings({"objects": []}, orjson.dumps(obj), sensitive, self.min_group_count)
            if hits:
                found[str(obj.get("id"))] = "; ".join(hits)
        return found

    def _sensitive(self) -> set[str]:
        values: set[str] = set()
        for org in self.store.list_organisations():
            if set(org.roles) & {"analyst", "admin"}:
                continue  # the hub's own desks are not members: naming them reveals no reporter
            values |= {org.id, org.name}
            for name in ("aliases", "domains"):  # the organisation register, where it has them
                extra = getattr(org, name, ())
                values |= {v for v in extra if isinstance(v, str)}
        return values

    def written(self, principal: Principal, collection: CollectionDef, status: Status) -> None:
        action = "direct-write" if access.writes_as_hub(principal) else "member-disclosure"
        self.audit.record(principal, action, collection.id, {
            "collection": collection.alias or collection.id,
            "added": len(status.successes), "refused": len(status.failures),
            "objects": [d.id for d in status.successes[:MAX_LISTED]],
            "status": status.id,
        })
