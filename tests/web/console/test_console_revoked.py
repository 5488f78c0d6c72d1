"""The console's side of "revocation is final": after an analyst revoked a published object, the preview of
the same campaign names the choice, refuses by default, and publishes new objects only when asked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.consoleclient import signed_in
from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, make_demo_hub, principal, submit_campaign

ANALYST = principal("hub-analyst")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def test_the_preview_offers_new_objects_and_never_un_revokes(hub: DemoHub) -> None:
    submit_campaign(hub)
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    form = {"name": "Campaign", "tlp": "amber", "collections": [MEMBER_FEED]}
    first = hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert first.status_code == 201
    objects = hub.taxii(f"collections/{MEMBER_FEED}/objects/?match[type]=indicator", "kita-heavy").json["objects"]
    revoked = sorted(o["id"] for o in objects)[0]
    assert hub.api("POST", "/revocations", "hub-analyst", {"id": revoked}).status_code == 200
    console = signed_in(hub, "hub-analyst")

    refused = console.post(f"/console/candidates/{candidate.id}/preview", form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200 and f"{revoked}: revoked:" in page
    assert 'name="on_revoked" value="new-objects"' in page
    assert f"/console/candidates/{candidate.id}/publication" not in page  # no publish button while refused

    offered = console.post(f"/console/candidates/{candidate.id}/preview", {**form, "on_revoked": "new-objects"})
    page = offered.get_data(as_text=True)
    assert offered.status_code == 200 and f"{revoked}: revoked:" not in page
    published = console.post(f"/console/candidates/{candidate.id}/publication", {**form, "on_revoked": "new-objects"})
    assert published.status_code in (200, 303), published.get_data(as_text=True)
    latest = hub.taxii(f"collections/{MEMBER_FEED}/objects/?match[id]={revoked}", "higashi-gas").json["objects"]
    assert [o.get("revoked") for o in latest] == [True]
    assert len(hub.store.list_publications()) == 2
