"""The vocabulary of the storage contract tests (tests/storage): one collection, its shared scope, a base time,
and builders of versions, timestamps, ids and submissions, so every contract module writes the same kind of data."""

from __future__ import annotations

import uuid

import orjson

from taxii_server.model import NewVersion, ObjectScope, Submission
from taxii_server.storage.base import Store
from taxii_server.timestamps import parse_us

COLL = "c0ffee00-0000-4000-8000-000000000001"
SHARED = ObjectScope(COLL)
T0 = 1_700_000_000_000_000


def version(object_id: str, modified: str | None, spec: str = "2.1", **extra: object) -> NewVersion:
    otype = object_id.split("--")[0]
    doc = {"type": otype, "id": object_id, **({"modified": modified} if modified else {}), **extra}
    return NewVersion(object_id, otype, modified, parse_us(modified) if modified else None, spec,
                      orjson.dumps(doc))


def ts(day: int) -> str:
    return f"2021-01-{day:02d}T00:00:00.000Z"


def ind(n: int = 0) -> str:
    return f"indicator--{uuid.UUID(int=n + 1, version=4)}"


def count_versions(store: Store, collection_id: str) -> int:
    """Every stored version of a collection, all partitions (through the bulk-transfer reader: counting is
    not something the hub itself ever needs)."""
    return len(store.export_versions(collection_id, None, 1_000_000))


def submission(n: int, org: str = "org-a", **kw: object) -> Submission:
    values: dict[str, object] = {
        "id": f"sub-{n}", "org_id": org, "received_at_us": T0 + n, "source": "http",
        "media_type": "application/json", "state": "converted", "tlp": "amber",
        "record_ids": (f"REC-{n}",), "features": (("sender-address", "a@x.example"), ("sha256", "ab" * 32)),
    }
    values.update(kw)
    return Submission(**values)  # type: ignore[arg-type]
