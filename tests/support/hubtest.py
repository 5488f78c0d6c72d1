"""Test helpers: a hub built in a temporary directory, with the checklist's collections and principals.

Collections (ids from the checklist §0.2, so FreeTAXII testlab could run unchanged), all in API root `api1`:
  C_RW    alice reads+writes; `reader` reads; `writer` writes; analysts read+write
  C_RO    alice reads; analysts write
  C_WO    alice writes; analysts read
  C_NONE  analysts only (alice, bob, reader, writer: neither right)
  INBOX   every member reads+writes, visibility "own" (a member sees only its own objects)
  CEIL    alice writes and reads, max_tlp green
  C_V20   alice reads+writes, takes STIX 2.0 and 2.1
Organisations: alice, bob (outsider to everything but INBOX), reader, writer, analyst (role analyst).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.app import create_app
from taxii_server.settings import Settings, load_settings
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.mispcheck import PUBLISHED

MT = "application/taxii+json;version=2.1"
ROOT = "api1"
C_RW = "8c49f14d-8ea3-4f03-ab28-19dbca973dde"
C_RO = "22f763c1-e478-4765-8635-e4c32db665ea"
C_WO = "4f7327e2-f5b4-4269-b6e0-3564d174ce69"
C_NONE = "2b4c4e2a-5f43-4c1f-a7a3-0d1b8f6c9e10"
INBOX = "5d0f1c2e-3b4a-4d5e-8f60-718293a4b5c6"
CEIL = "6e1a2b3c-4d5e-4f60-9172-83940a1b2c3d"
C_V20 = "7f2b3c4d-5e6f-4a71-8283-94a5b6c7d8e9"
C_MISSING = "0d9c8b7a-6f5e-4d3c-b2a1-908f7e6d5c4b"

COLLECTIONS: dict[str, dict[str, Any]] = {
    "c-rw": {"id": C_RW, "title": "read-write", "alias": "rw",
             "read": ["org:alice", "org:reader", "role:analyst"], "write": ["org:alice", "org:writer", "role:analyst"]},
    "c-ro": {"id": C_RO, "title": "read-only", "read": ["org:alice"], "write": ["role:analyst"]},
    "c-wo": {"id": C_WO, "title": "write-only", "read": ["role:analyst"], "write": ["org:alice"]},
    "c-none": {"id": C_NONE, "title": "analysts only", "read": ["role:analyst"], "write": ["role:analyst"]},
    "inbox": {"id": INBOX, "title": "inbox", "read": ["members"], "write": ["members"], "visibility": "own"},
    "ceil": {"id": CEIL, "title": "green ceiling", "read": ["org:alice"], "write": ["org:alice"], "max_tlp": "green"},
    "c-v20": {"id": C_V20, "title": "2.0 and 2.1", "read": ["org:alice"], "write": ["org:alice"],
              "media_types": ["application/stix+json;version=2.1", "application/stix+json;version=2.0"]},
}
ORGS = {
    "alice": ("Alice Corp", "heavy-industry", ("member",)),
    "bob": ("Bob Gas", "gas", ("member",)),
    "reader": ("Reader Chemical", "chemical", ("member",)),
    "writer": ("Writer Oil", "petroleum", ("member",)),
    "analyst": ("Hub analyst", "hub", ("analyst",)),
}


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_collections(directory: Path, collections: dict[str, dict[str, Any]], api_root: str = ROOT) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, decl in collections.items():
        lines = [f"api_root = {_toml_value(api_root)}"] + [f"{k} = {_toml_value(v)}" for k, v in decl.items()]
        (directory / f"{name}.toml").write_text("\n".join(lines) + "\n")


def write_config(path: Path, data_dir: Path, collections_dir: Path, extra: str = "") -> Path:
    """Rate limits are off: suites send many bad credentials from 127.0.0.1 on purpose (schemathesis, the
    authorisation matrix); tests of the limits set their own (tests/web/test_rate_limits.py)."""
    path.write_text(
        f'data_dir = "{data_dir}"\ncollections_dir = "{collections_dir}"\nmax_page_size = 100\n'
        f'[storage]\nurl = "sqlite:///{data_dir / "hub.sqlite3"}"\n'
        f'[api_roots.{ROOT}]\ntitle = "API root one"\ndescription = "test root"\nmax_content_length = 65536\n'
        f'[api_roots.api2]\ntitle = "API root two"\n'
        f'[discovery]\ntitle = "test hub"\ndefault = "{ROOT}"\n[limits]\nenabled = false\n' + extra
    )
    return path


@dataclass
class Hub:
    """A hub in a temporary directory: its settings, store, app and one API key per organisation."""

    settings: Settings
    store: SQLiteStore
    app: Flask
    keys: dict[str, str]
    config_path: Path

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def headers(self, org: str | None, **extra: str) -> dict[str, str]:
        headers = {"Accept": MT}
        if org is not None:
            token = base64.b64encode(f"{org}:{self.keys[org]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        headers.update(extra)
        return headers


def new_id(kind: str) -> str:
    return f"{kind}--{uuid.uuid4()}"


def indicator(object_id: str | None = None, modified: str = "2021-01-01T00:00:00.000Z", **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": object_id or new_id("indicator"),
        "created": "2021-01-01T00:00:00.000Z",
        "modified": modified,
        "name": "test indicator",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2021-01-01T00:00:00Z",
    }
    obj.update(extra)
    return obj


def malware(object_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "malware", "spec_version": "2.1", "id": object_id or new_id("malware"),
        "created": "2021-02-01T00:00:00.000Z", "modified": "2021-02-01T00:00:00.000Z",
        "name": "test malware", "is_family": True,
    }


def post_objects(hub: Hub, org: str, collection: str, objects: list[dict[str, Any]], root: str = ROOT) -> Any:
    import orjson

    response = hub.client().post(
        f"/{root}/collections/{collection}/objects/",
        data=orjson.dumps({"objects": objects}),
        headers=hub.headers(org, **{"Content-Type": MT}),
    )
    return response


def make_hub(tmp_path: Path) -> Hub:
    data_dir = tmp_path / "var"
    collections_dir = tmp_path / "collections"
    write_collections(collections_dir, COLLECTIONS)
    config = write_config(tmp_path / "hub.toml", data_dir, collections_dir)
    settings = load_settings(config, env={})
    store = SQLiteStore(data_dir / "hub.sqlite3")
    store.initialise()
    accounts = Accounts(store)
    keys = {}
    for org_id, (name, group, roles) in ORGS.items():
        accounts.add_organisation(OPERATOR, org_id, name, group, roles)
        keys[org_id] = accounts.create_key(OPERATOR, org_id, "test").secret
    return Hub(settings, store, create_app(settings, store, on_published=PUBLISHED), keys, config)


# -- the checklist's §0.2 seed and small request helpers for the HTTP conformance tests ------------------------

X_VERSIONS = ("2021-01-01T00:00:00.000Z", "2021-01-02T00:00:00.000Z", "2021-01-03T00:00:00.000Z")
M_CREATED = "2021-03-01T00:00:00.000Z"
Z_MODIFIED_21 = "2021-04-01T00:00:00.000Z"
Z_MODIFIED_20 = "2021-04-02T00:00:00.000Z"  # the 2.0 version is the newer one, so the spec_version default shows


@dataclass(frozen=True)
class Seed:
    """The checklist §0.2 objects in one collection: X (v1 < v2 < v3, added d1 < d2 < d3), Y, M, S.

    `s_version` is the version the server gave the SCO S (its date_added); `z` is set when seeded into C_V20.
    """

    collection: str
    x: str
    y: str
    m: str
    s: str
    s_version: str
    z: str | None = None


def marking_definition(object_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": object_id or new_id("marking-definition"),
        "created": M_CREATED, "definition_type": "statement", "definition": {"statement": "test marking"},
    }


def ipv4(object_id: str | None = None, value: str = "198.51.100.7") -> dict[str, Any]:
    return {"type": "ipv4-addr", "spec_version": "2.1", "id": object_id or new_id("ipv4-addr"), "value": value}


def identity(object_id: str, spec_version: str) -> dict[str, Any]:
    """Z: an identity as a STIX 2.0 version (no spec_version) or a 2.1 version."""
    obj: dict[str, Any] = {
        "type": "identity", "id": object_id, "created": "2021-04-01T00:00:00.000Z", "name": "Z",
        "identity_class": "organization",
    }
    if spec_version == "2.1":
        obj.update(spec_version="2.1", modified=Z_MODIFIED_21)
    else:
        obj["modified"] = Z_MODIFIED_20
    return obj


def seed(hub: Hub, collection: str = C_RW, org: str = "alice", with_z: bool = False) -> Seed:
    """POST the §0.2 objects one request each, in the order X v1, v2, v3, Y, M, S (then Z 2.1, Z 2.0)."""
    x, y, m, s = new_id("indicator"), new_id("malware"), new_id("marking-definition"), new_id("ipv4-addr")
    objects = [indicator(x, modified=v) for v in X_VERSIONS] + [malware(y), marking_definition(m), ipv4(s)]
    z = new_id("identity") if with_z else None
    if z:
        objects += [identity(z, "2.1"), identity(z, "2.0")]
    s_version = ""
    for obj in objects:
        response = post_objects(hub, org, collection, [obj])
        assert response.status_code == 202 and response.json["success_count"] == 1, response.data
        if obj["id"] == s:
            s_version = response.json["successes"][0]["version"]
    return Seed(collection, x, y, m, s, s_version, z)


def collection_path(collection: str, suffix: str = "", root: str = ROOT) -> str:
    return f"/{root}/collections/{collection}/{suffix}"


def get(hub: Hub, path: str, org: str | None = "alice", **headers: str) -> Any:
    return hub.client().get(path, headers=hub.headers(org, **headers))


def manifest_records(hub: Hub, collection: str, query: str = "", org: str = "alice") -> list[dict[str, Any]]:
    response = get(hub, collection_path(collection, "manifest/") + query, org)
    assert response.status_code == 200, response.data
    records: list[dict[str, Any]] = response.json.get("objects", [])
    return records


def date_added(hub: Hub, collection: str, object_id: str, version: str) -> str:
    """The date_added the manifest reports for one object version."""
    records = manifest_records(hub, collection, f"?match[id]={object_id}&match[version]={version}")
    assert len(records) == 1, records
    found: str = records[0]["date_added"]
    return found
