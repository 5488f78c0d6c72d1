"""The acceptance fixture of spec/security.md §5, built in a temporary directory.

Organisations A (`org-a`) and B (`org-b`), each with an API key. Collections, all in API root `api1`:
  CA  A reads and writes; B sees nothing. For the authorisation matrix CA also has the other kinds of
      caller: `reader` only reads, `writer` only writes, analysts read and write, `outsider` sees nothing.
  CB  B reads and writes.
  CS  shared: A and B read and write.
  CR  shared: A reads and writes, B only reads.
  INBOX  every member reads and writes, each sees only its own objects (used by the hub API).
  BIG (API root `api2`, the default max_content_length of 10 MiB): A reads and writes; for the field caps.

The hub is built with hubtest's `write_collections`/`write_config`, so it is configured like every other test
hub; a test may pass its own store (a shorter busy timeout, a disk that fills up).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.app import create_app
from taxii_server.settings import Settings, load_settings
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.hubtest import MT, ROOT, indicator, write_collections, write_config
from tests.support.mispcheck import PUBLISHED

A, B = "org-a", "org-b"
READER, WRITER, OUTSIDER, ANALYST = "reader", "writer", "outsider", "analyst"
CA = "a0c1a2b3-0000-4aaa-8aaa-00000000000a"
CB = "b0c1a2b3-0000-4bbb-8bbb-00000000000b"
CS = "c0c1a2b3-0000-4ccc-8ccc-00000000000c"
CR = "d0c1a2b3-0000-4ddd-8ddd-00000000000d"
INBOX = "e0c1a2b3-0000-4eee-8eee-00000000000e"
BIG = "f0c1a2b3-0000-4fff-8fff-00000000000f"
ROOT2 = "api2"
MAX_CONTENT_LENGTH = 65536  # what hubtest.write_config gives API root api1

COLLECTIONS: dict[str, dict[str, Any]] = {
    "ca": {"id": CA, "title": "CA", "read": [f"org:{A}", f"org:{READER}", "role:analyst"],
           "write": [f"org:{A}", f"org:{WRITER}", "role:analyst"]},
    "cb": {"id": CB, "title": "CB", "read": [f"org:{B}"], "write": [f"org:{B}"]},
    "cs": {"id": CS, "title": "CS", "read": [f"org:{A}", f"org:{B}"], "write": [f"org:{A}", f"org:{B}"]},
    "cr": {"id": CR, "title": "CR", "read": [f"org:{A}", f"org:{B}"], "write": [f"org:{A}"]},
    "inbox": {"id": INBOX, "title": "inbox", "read": ["members"], "write": ["members"], "visibility": "own"},
}
BIG_COLLECTIONS: dict[str, dict[str, Any]] = {
    "big": {"id": BIG, "title": "BIG", "read": [f"org:{A}"], "write": [f"org:{A}"]},
}
ORGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    A: ("Organisation A", "sector-a", ("member",)),
    B: ("Organisation B", "sector-b", ("member",)),
    READER: ("Reader Co", "sector-r", ("member",)),
    WRITER: ("Writer Co", "sector-w", ("member",)),
    OUTSIDER: ("Outsider Co", "sector-o", ("member",)),
    ANALYST: ("Hub analyst", "hub", ("analyst",)),
}


def missing_uuid() -> str:
    return str(uuid.uuid4())


@dataclass
class AcceptanceHub:
    settings: Settings
    store: SQLiteStore
    app: Flask
    keys: dict[str, str]
    key_ids: dict[str, str]
    accounts: Accounts

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def auth(self, org: str | None) -> dict[str, str]:
        if org is None:
            return {}
        token = base64.b64encode(f"{org}:{self.keys[org]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def request(self, method: str, path: str, org: str | None = A, body: bytes | None = None,
                **headers: str) -> TestResponse:
        sent = {"Accept": MT, **self.auth(org)}
        if body is not None:
            sent["Content-Type"] = MT
        sent.update(headers)
        return self.client().open(path, method=method, data=body, headers=sent)

    def get(self, path: str, org: str | None = A, **headers: str) -> TestResponse:
        return self.request("GET", path, org, **headers)

    def post(self, collection: str, objects: list[dict[str, Any]], org: str = A, root: str = ROOT) -> TestResponse:
        return self.request("POST", objects_path(collection, root), org, orjson.dumps({"objects": objects}))

    def stored(self, collection: str, org: str = A, root: str = ROOT) -> list[dict[str, Any]]:
        """Every version of every object in the collection, as `org` reads it (all pages)."""
        found: list[dict[str, Any]] = []
        query = "?match[version]=all&limit=100"
        for _ in range(1000):
            response = self.get(objects_path(collection, root) + query, org)
            assert response.status_code == 200, response.data
            found += response.json.get("objects", [])
            if not response.json.get("more"):
                return found
            query = f"?match[version]=all&limit=100&next={response.json['next']}"
        raise AssertionError("paging did not end")

    def status_count(self) -> int:
        return len(self.store.export_statuses(None, 100_000))


def collection_path(collection: str, root: str = ROOT) -> str:
    return f"/{root}/collections/{collection}/"


def objects_path(collection: str, root: str = ROOT) -> str:
    return f"/{root}/collections/{collection}/objects/"


def object_path(collection: str, object_id: str, suffix: str = "", root: str = ROOT) -> str:
    return f"/{root}/collections/{collection}/objects/{object_id}/{suffix}"


def build(tmp_path: Path, make_store: Callable[[Path], SQLiteStore] = SQLiteStore) -> AcceptanceHub:
    data_dir = tmp_path / "var"
    collections_dir = tmp_path / "collections"
    write_collections(collections_dir, COLLECTIONS)
    write_collections(collections_dir, BIG_COLLECTIONS, api_root=ROOT2)
    config = write_config(tmp_path / "hub.toml", data_dir, collections_dir)
    settings = load_settings(config, env={})
    store = make_store(data_dir / "hub.sqlite3")
    store.initialise()
    accounts = Accounts(store)
    keys, key_ids = {}, {}
    for org_id, (name, group, roles) in ORGS.items():
        accounts.add_organisation(OPERATOR, org_id, name, group, roles)
        key = accounts.create_key(OPERATOR, org_id, "acceptance")
        keys[org_id], key_ids[org_id] = key.secret, key.credential.id
    return AcceptanceHub(settings, store, create_app(settings, store, on_published=PUBLISHED), keys, key_ids, accounts)


def valid(object_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return indicator(object_id, **extra)


def error_shape_ok(response: TestResponse, status: int) -> bool:
    """A TAXII error: the status, the TAXII media type and a body with title and http_status."""
    body = response.json or {}
    return (response.status_code == status and response.headers["Content-Type"] == MT
            and body.get("http_status") == str(status) and bool(body.get("title")))
