"""Direct TAXII writes the access rules watch (`access.watched_write`): the leak check for what the hub's side
writes where members read, and the audit entry for every such write — the hub's side's, and a member's own
write into a shared collection, which is that member's attributed disclosure.

The leak check is the publishing workflow's own (`leaks.LeakCheck.refusals`: the organisation register and
the facts of every stored report, dangling references included); this module owns the shape of the audit
entry. Must not: know HTTP, log or store a sensitive value (a finding names the object, the property and the
kind of value only).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import access
from ..model import CollectionDef, Principal, Status
from .audit import AuditLog

Refusals = Callable[[Sequence[Mapping[str, Any]], Callable[[str], bool]], dict[str, str]]

MAX_LISTED = 100  # ids named in one audit entry; the counts are always complete


class DirectWrites:
    def __init__(self, refusals: Refusals, audit: AuditLog) -> None:
        self.refusals = refusals
        self.audit = audit

    def findings(self, principal: Principal, collection: CollectionDef, objects: list[dict[str, Any]],
                 resolves: Callable[[str], bool]) -> dict[str, str]:
        return self.refusals(objects, resolves)

    def written(self, principal: Principal, collection: CollectionDef, status: Status) -> None:
        action = "direct-write" if access.writes_as_hub(principal) else "member-disclosure"
        self.audit.record(principal, action, collection.id, {
            "collection": collection.alias or collection.id,
            "added": len(status.successes), "refused": len(status.failures),
            "objects": [d.id for d in status.successes[:MAX_LISTED]],
            "status": status.id,
        })
