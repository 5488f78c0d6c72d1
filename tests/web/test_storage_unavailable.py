"""A database that cannot be reached (security.md §3.2): every endpoint answers 503 with Retry-After and a TAXII
error body, quickly, and the same app serves again once the database is back. The app runs on the MongoDB
backend over a client that fails on demand (tests/support/mongofake.py), injected through create_app."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient
from pymongo.errors import NotPrimaryError, ServerSelectionTimeoutError

from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.app import create_app
from taxii_server.settings import load_settings
from taxii_server.storage.mongo import MongoStore
from tests.support.hubtest import C_RW, COLLECTIONS, MT, ORGS, ROOT, indicator, write_collections, write_config
from tests.support.mongofake import FaultyClient, Switch

pytestmark = pytest.mark.mongo


@dataclass
class MongoHub:
    client: FlaskClient
    switch: Switch
    auth: str


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[MongoHub]:
    write_collections(tmp_path / "collections", COLLECTIONS)
    settings = load_settings(write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections"), env={})
    switch = Switch()
    client = FaultyClient(switch)
    store = MongoStore(lambda: client, "taxii_hub")
    store.initialise()
    name, group, roles = ORGS["alice"]
    accounts = Accounts(store)
    accounts.add_organisation(OPERATOR, "alice", name, group, roles)
    key = accounts.create_key(OPERATOR, "alice", "test").secret
    app = create_app(settings, store)
    yield MongoHub(app.test_client(), switch, f"Bearer {key}")
    store.close()


REQUESTS = [
    ("GET", "/taxii2/"),
    ("GET", f"/{ROOT}/collections/"),
    ("GET", f"/{ROOT}/collections/{C_RW}/objects/"),
    ("GET", f"/{ROOT}/collections/{C_RW}/manifest/"),
    ("POST", f"/{ROOT}/collections/{C_RW}/objects/"),
    ("GET", f"/{ROOT}/status/2d086da7-4bdc-4f91-900e-d77486753710/"),
]


def send(hub: MongoHub, method: str, path: str) -> tuple[int, dict[str, str], dict[str, object]]:
    headers = {"Accept": MT, "Authorization": hub.auth}
    body = None
    if method == "POST":
        headers["Content-Type"] = MT
        body = orjson.dumps({"objects": [indicator()]})
    response = hub.client.open(path, method=method, headers=headers, data=body)
    return response.status_code, dict(response.headers), orjson.loads(response.data)


@pytest.mark.parametrize(("method", "path"), REQUESTS)
@pytest.mark.parametrize("error", [ServerSelectionTimeoutError("no primary"), NotPrimaryError("stepped down")],
                         ids=["unreachable", "stepping-down"])
def test_an_unavailable_database_is_a_503_with_retry_after_and_a_taxii_error(
    hub: MongoHub, method: str, path: str, error: Exception
) -> None:
    hub.switch.error = error
    started = time.monotonic()
    status, headers, body = send(hub, method, path)
    assert time.monotonic() - started < 5
    assert status == 503
    assert int(headers["Retry-After"]) > 0
    assert headers["Content-Type"] == MT
    assert body["http_status"] == "503" and body["title"] == "Service Unavailable"


def test_the_hub_serves_again_when_the_database_returns_without_a_restart(hub: MongoHub) -> None:
    hub.switch.error = ServerSelectionTimeoutError("no primary")
    assert send(hub, "POST", f"/{ROOT}/collections/{C_RW}/objects/")[0] == 503
    hub.switch.error = None
    status, _, body = send(hub, "POST", f"/{ROOT}/collections/{C_RW}/objects/")
    assert status == 202 and body["success_count"] == 1
    assert send(hub, "GET", f"/{ROOT}/collections/{C_RW}/objects/")[0] == 200
