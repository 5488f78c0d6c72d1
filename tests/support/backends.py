"""The storage backends every contract test runs on, made fresh per test.

`sqlite`; `mongo` (MongoDB through mongomock, always); `mongo-server` (a real MongoDB, only when
TAXII_HUB_TEST_MONGO_URI is set: `make test-mongo`). `pytest -k mongo` selects exactly the MongoDB runs.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import mongomock

from taxii_server.storage.base import Store
from taxii_server.storage.mongo import MongoStore
from taxii_server.storage.sqlite import SQLiteStore


def make_sqlite(tmp_path: Path) -> Store:
    return SQLiteStore(tmp_path / "contract.sqlite3")


def make_mongomock(tmp_path: Path) -> Store:
    client = mongomock.MongoClient()  # one in-memory server per store: tests never share data
    return MongoStore(lambda: client, "taxii_hub_contract")


MONGO_URI = os.environ.get("TAXII_HUB_TEST_MONGO_URI", "")


def make_mongo_server(tmp_path: Path) -> Store:
    """A real server (a replica set for retryable writes): a fresh database per test, dropped afterwards."""
    import pymongo

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(MONGO_URI, serverSelectionTimeoutMS=5000)
    return MongoStore(lambda: client, f"taxii_hub_test_{uuid.uuid4().hex[:12]}")


BACKENDS: dict[str, Callable[[Path], Store]] = {"sqlite": make_sqlite, "mongo": make_mongomock}
if MONGO_URI:
    BACKENDS["mongo-server"] = make_mongo_server


def fresh(tmp_path: Path, kind: str, name: str) -> Store:
    """A new, initialised store of that backend in its own directory (a source or target of a copy)."""
    made = BACKENDS[kind](tmp_path / name)
    made.initialise()
    return made
