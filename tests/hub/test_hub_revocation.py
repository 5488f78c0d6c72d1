"""Revocation reaches a poller that only follows `added_after`, and nothing is ever deleted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, principal, submit_campaign

ANALYST = principal("hub-analyst")
OBJECTS = f"collections/{MEMBER_FEED}/objects/"


@pytest.fixture
def published(demo_hub: DemoHub) -> dict[str, Any]:
    submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    response = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert response.status_code == 201, response.data
    body: dict[str, Any] = response.json
    return body


def _an_indicator(hub: DemoHub) -> str:
    objects = hub.taxii(OBJECTS + "?match[type]=indicator", "kita-heavy").json["objects"]
    return str(sorted(o["id"] for o in objects)[0])


def test_a_revocation_reaches_an_added_after_poller(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    first = demo_hub.taxii(OBJECTS, "higashi-gas")
    assert first.status_code == 200 and first.json["objects"]
    last_seen = first.headers["X-TAXII-Date-Added-Last"]
    indicator = _an_indicator(demo_hub)
    revoked = demo_hub.api("POST", "/revocations", "hub-analyst", {"id": indicator, "reason": "false positive"})
    assert revoked.status_code == 200, revoked.data
    assert revoked.json["revoked_in"] == [MEMBER_FEED]
    second = demo_hub.taxii(OBJECTS + f"?added_after={last_seen}", "higashi-gas")
    assert second.status_code == 200
    assert [(o["id"], o.get("revoked")) for o in second.json["objects"]] == [(indicator, True)]
    assert second.json["objects"][0]["modified"] > next(
        o["modified"] for o in first.json["objects"] if o["id"] == indicator)


def test_nothing_is_deleted_by_a_revocation(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    indicator = _an_indicator(demo_hub)
    assert demo_hub.api("POST", "/revocations", "hub-analyst", {"id": indicator}).status_code == 200
    versions = demo_hub.taxii(f"collections/{MEMBER_FEED}/objects/{indicator}/versions/", "chuo-oil")
    assert versions.status_code == 200 and len(versions.json["versions"]) == 2
    every = demo_hub.taxii(OBJECTS + f"?match[id]={indicator}&match[version]=all", "chuo-oil").json["objects"]
    assert sorted(o.get("revoked", False) for o in every) == [False, True]
    assert len(demo_hub.taxii(OBJECTS, "chuo-oil").json["objects"]) == len(published["objects"])


def test_revoking_is_audited_and_a_second_revocation_is_refused(
    demo_hub: DemoHub, published: dict[str, Any]
) -> None:
    indicator = _an_indicator(demo_hub)
    assert demo_hub.api("POST", "/revocations", "hub-analyst", {"id": indicator}).status_code == 200
    again = demo_hub.api("POST", "/revocations", "hub-approver", {"id": indicator})
    assert again.status_code == 404
    entries = [e for e in demo_hub.services.audit.entries(ANALYST) if e.action == "revoke"]
    assert [(e.actor, e.target) for e in entries] == [("hub-analyst", indicator)]


def test_an_observable_cannot_be_revoked(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    sco = next(i for i in published["objects"] if i.startswith("domain-name--"))
    response = demo_hub.api("POST", "/revocations", "hub-analyst", {"id": sco})
    assert response.status_code == 422
    assert "cannot be revoked" in response.json["description"]


def test_a_member_cannot_revoke(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    indicator = _an_indicator(demo_hub)
    response = demo_hub.api("POST", "/revocations", "kita-heavy", {"id": indicator})
    assert response.status_code == 404
    assert all(not o.get("revoked") for o in demo_hub.taxii(OBJECTS, "kita-heavy").json["objects"])


def test_revoking_through_the_cli_reaches_the_poller(demo_hub: DemoHub, published: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from taxii_server.cli import main

    last_seen = demo_hub.taxii(OBJECTS, "nishi-chem").headers["X-TAXII-Date-Added-Last"]
    indicator = _an_indicator(demo_hub)
    demo_hub.store.close()  # the command opens the database itself
    result = CliRunner().invoke(main, ["--config", str(demo_hub.config_path), "revoke", indicator,
                                       "--as", "hub-analyst", "--reason", "expired"])
    assert result.exit_code == 0, result.output
    assert f"{indicator} revoked in {MEMBER_FEED}" in result.output
    after = demo_hub.taxii(OBJECTS + f"?added_after={last_seen}", "nishi-chem").json["objects"]
    assert [(o["id"], o["revoked"]) for o in after] == [(indicator, True)]


def test_the_hubs_own_identity_cannot_be_revoked_and_publishing_goes_on(
    demo_hub: DemoHub, published: dict[str, Any]
) -> None:
    identities = [i for i in published["objects"] if i.startswith("identity--")]
    assert identities
    for identity in identities:
        response = demo_hub.api("POST", "/revocations", "hub-analyst", {"id": identity})
        assert response.status_code == 422, response.json
        assert "hub's own identity" in response.json["description"]
    stored = demo_hub.taxii(OBJECTS + "?match[type]=identity", "kita-heavy").json["objects"]
    assert stored and all(not o.get("revoked") for o in stored)
