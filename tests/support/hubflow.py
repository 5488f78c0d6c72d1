"""Helpers for the hub workflow tests: an in-process hub with the shipped collections and the demo
organisations, and small builders for synthetic incident records.

The hub uses the repository's `collections/*.toml` (member-feed, inbox, heavy-industry, energy,
analyst-workbench) in the default API root `hub`, and every organisation of `taxii_server.demo.DEMO_ORGS`
with one API key each. Requests go through Flask's test client; nothing listens on a socket.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from flask import Flask
from flask.testing import FlaskClient

from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.app import create_app
from taxii_server.demo import DEMO_ORGS
from taxii_server.hub.services import HubServices
from taxii_server.model import Principal
from taxii_server.settings import Settings, load_settings
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.mispcheck import PUBLISHED

REPO = Path(__file__).resolve().parents[2]
SHIPPED_COLLECTIONS = REPO / "taxii_server" / "skeleton" / "collections"  # the examples `init` writes
SAMPLES = REPO / "tests" / "data" / "samples"
RECORDS = SAMPLES / "records"
EML = SAMPLES / "eml"
CAMPAIGN_FILES = tuple(sorted(RECORDS.glob("case02-campaign-*.json")))
ROOT = "hub"
TAXII = "application/taxii+json;version=2.1"
MEMBER_FEED = "bc5bba2c-fbdf-49b1-9252-46057d616761"
INBOX = "00a80597-a60e-4c3b-954b-b30e9628bbda"
HEAVY_INDUSTRY = "138689d2-9df6-4e00-9b79-366498db28f8"
WORKBENCH = "97043c79-4d83-49f9-a8a3-c1c22e5abbec"
MEMBERS = tuple(d.id for d in DEMO_ORGS if d.roles == ("member",) and d.group != "partner")
ORG_NAMES = {d.id: d.name for d in DEMO_ORGS}


def principal(org_id: str) -> Principal:
    demo = next(d for d in DEMO_ORGS if d.id == org_id)
    return Principal(demo.id, demo.group, frozenset(demo.roles))


def write_config(path: Path, data_dir: Path, extra: str = "") -> Path:
    path.write_text(
        f'data_dir = "{data_dir}"\ncollections_dir = "{SHIPPED_COLLECTIONS}"\n'
        f'[storage]\nurl = "sqlite:///{data_dir / "hub.sqlite3"}"\n'
        f'[discovery]\ntitle = "hub workflow tests"\ndefault = "{ROOT}"\n'
        f'[conversion]\nid_key = "hub-workflow-test-key"\n' + extra
    )
    return path


@dataclass
class DemoHub:
    settings: Settings
    store: SQLiteStore
    app: Flask
    keys: dict[str, str]
    config_path: Path

    @property
    def services(self) -> HubServices:
        found: HubServices = self.app.extensions["taxii_hub"].hub
        return found

    def client(self) -> FlaskClient:
        return self.app.test_client()

    def auth(self, org: str, **extra: str) -> dict[str, str]:
        token = base64.b64encode(f"{org}:{self.keys[org]}".encode()).decode()
        return {"Authorization": f"Basic {token}", **extra}

    def api(self, method: str, path: str, org: str, body: Any = None, **headers: str) -> Any:
        """A /hub/v1 request; a dict or list body is sent as JSON, bytes as they are."""
        data = body if isinstance(body, bytes) or body is None else orjson.dumps(body)
        sent = self.auth(org, Accept="application/json", **headers)
        if data is not None and "Content-Type" not in sent:
            sent["Content-Type"] = "application/json"
        return self.client().open(f"/hub/v1{path}", method=method, data=data, headers=sent)

    def taxii(self, path: str, org: str) -> Any:
        return self.client().get(f"/{ROOT}/{path}", headers=self.auth(org, Accept=TAXII))

    def submit_file(self, org: str, path: Path) -> Any:
        content_type = "message/rfc822" if path.suffix == ".eml" else "application/json"
        return self.api("POST", "/submissions", org, path.read_bytes(), **{"Content-Type": content_type,
                                                                          "X-Filename": path.name})

    def submit_record(self, org: str, record: dict[str, Any]) -> Any:
        return self.api("POST", "/submissions", org, orjson.dumps(record), **{"X-Filename": f"{record['id']}.json"})


def make_demo_hub(tmp_path: Path, extra_config: str = "") -> DemoHub:
    data_dir = tmp_path / "var"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = write_config(tmp_path / "hub.toml", data_dir, extra_config)
    settings = load_settings(config, env={})
    store = SQLiteStore(data_dir / "hub.sqlite3")
    store.initialise()
    accounts = Accounts(store)
    keys = {}
    for d in DEMO_ORGS:
        accounts.add_organisation(OPERATOR, d.id, d.name, d.group, d.roles, aliases=d.aliases, domains=d.domains)
        keys[d.id] = accounts.create_key(OPERATOR, d.id, "test").secret
    return DemoHub(settings, store, create_app(settings, store, on_published=PUBLISHED), keys, config)


def load(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(path.read_bytes())
    return found


def reporter_of(path: Path) -> str:
    return str(load(path)["reporter"])


def submit_campaign(hub: DemoHub) -> list[str]:
    """Submit the five case02 reports over HTTP, each as its reporter; their submission ids."""
    ids = []
    for path in CAMPAIGN_FILES:
        response = hub.submit_file(reporter_of(path), path)
        assert response.status_code == 202, response.data
        assert response.json["status"] in ("converted", "in-campaign"), response.json
        ids.append(response.json["id"])
    return ids


# -- synthetic records --------------------------------------------------------------------------------------

def record(
    reporter: str, ref: str, *, sender: str, subject: str, sent_at: str, victim: str | None = None,
    display_name: str | None = None, attachment: dict[str, Any] | None = None, tlp: str = "amber",
) -> dict[str, Any]:
    """One attack mail reported by `reporter`, with at most one attachment."""
    message: dict[str, Any] = {
        "ref": "#1", "role": "attack", "sent_at": sent_at,
        "from": {"address": sender, **({"display_name": display_name} if display_name else {})},
        "to": [{"address": victim or f"soc@{reporter}.example"}],
        "subject": subject, "body": "本文",
    }
    if attachment is not None:
        message["attachments"] = [copy.deepcopy(attachment)]
    return {
        "format": "incident-record/1", "id": ref, "reporter": reporter, "reported_at": sent_at, "tlp": tlp,
        "lang": "ja", "title": subject, "messages": [message],
    }


def attachment(seed: str, **extra: Any) -> dict[str, Any]:
    """A document attachment whose SHA-256 is derived from `seed` (distinct seeds, distinct hashes)."""
    import hashlib

    return {"name": f"{seed}.doc", "size": 1024, "sha256": hashlib.sha256(seed.encode()).hexdigest(),
            "mime_type": "application/msword", "kind": "word", **extra}


def drained(hub: DemoHub) -> DemoHub:
    """The hub after its correlation step ran every queued job (what `taxii-hub worker` does in the background)."""
    hub.services.campaigns.drain()
    return hub
