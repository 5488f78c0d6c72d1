"""Two collections, an analyst and STIX objects for the tests of writing one envelope everywhere
(`Feeds.add_everywhere`: tests/storage/test_write_everywhere_contract.py, test_mongo_transactions.py)."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from taxii_server.catalog import Catalog
from taxii_server.feeds import Feeds
from taxii_server.model import ApiRootDef, AuditEntry, CollectionDef, ObjectFilter, ObjectScope, Principal
from taxii_server.paging import TokenSigner
from taxii_server.settings import DiscoverySettings
from taxii_server.storage.base import Store

ANALYST = Principal("desk", "hub", frozenset({"analyst"}))
FIRST = CollectionDef("11111111-1111-4111-8111-111111111111", "api1", "first", write=("role:analyst",),
                      read=("role:analyst",))
SECOND = CollectionDef("22222222-2222-4222-8222-222222222222", "api1", "second", write=("role:analyst",),
                       read=("role:analyst",))
EVERY = ObjectFilter(version_keywords=frozenset({"all"}), spec_versions=("2.0", "2.1"))
WHEN = "2026-01-05T00:00:00.000Z"


def indicator(n: int, name: str = "x") -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=n + 1, version=4)}",
            "created": WHEN, "modified": WHEN, "name": name, "pattern": "[ipv4-addr:value = '198.51.100.1']",
            "pattern_type": "stix", "valid_from": WHEN}


def envelope(*objects: dict[str, Any]) -> bytes:
    return orjson.dumps({"objects": list(objects)})


def feeds_on(store: Any) -> Feeds:
    catalog = Catalog([FIRST, SECOND], {"api1": ApiRootDef("api1", "one")})
    return Feeds(catalog, store, TokenSigner(b"k" * 32), DiscoverySettings(title="t"))


def held(store: Store, collection: CollectionDef) -> list[str]:
    return [v.id for v in store.query(ObjectScope(collection.id), EVERY, None, 100).items]


def audit_entry(n: int) -> AuditEntry:
    return AuditEntry(f"audit-{n}", 1_767_225_600_000_000 + n, "desk", "publish", "publication-1")
