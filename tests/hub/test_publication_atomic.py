"""Publishing into several collections is all or nothing: when the write fails in the second collection, no
object reached the first, the publication is not recorded as published, its reports keep their state, and the
audit trail says it was refused."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from taxii_server.errors import Conflict, StorageUnavailable
from taxii_server.hub.publishing import Publishing, PublishRequest
from taxii_server.model import NewVersion, ObjectFilter, ObjectScope
from taxii_server.timestamps import parse_us
from tests.support.hubflow import HEAVY_INDUSTRY, MEMBER_FEED, DemoHub, drained, principal, submit_campaign

ANALYST = principal("hub-analyst")
EVERY = ObjectFilter(version_keywords=frozenset({"all"}), spec_versions=("2.0", "2.1"))


class FailingSecondWrite:
    """The hub's store, except that the second add_versions call fails as a lost database would."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls = 0

    def add_versions(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 2:
            raise StorageUnavailable("the database went away")
        return self._store.add_versions(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def request(hub: DemoHub) -> PublishRequest:
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    return PublishRequest(name="技術資料送付の件", tlp="amber", collections=("member-feed", "heavy-industry"),
                          candidate_id=candidate.id, description="One attacker, five members.")


def held(hub: DemoHub, collection_id: str) -> int:
    return len(hub.store.query(ObjectScope(collection_id), EVERY, None, 1000).items)


def failing_publishing(hub: DemoHub) -> Publishing:
    """The hub's publishing service over a feeds whose store loses the database at the second collection."""
    real = hub.services.publishing
    feeds = copy.copy(real.feeds)
    feeds.store = FailingSecondWrite(hub.store)  # type: ignore[assignment]
    return Publishing(real.store, feeds, real.campaigns, real.audit, real.options, real.policy, real.leak_check,
                      real.clock)


def test_a_publication_that_fails_in_its_second_collection_leaves_nothing(demo_hub: DemoHub) -> None:
    submitted = submit_campaign(demo_hub)
    states = {s: demo_hub.store.get_submission(s).state for s in submitted}  # type: ignore[union-attr]
    with pytest.raises(StorageUnavailable):
        failing_publishing(demo_hub).publish(ANALYST, request(demo_hub))
    assert held(demo_hub, MEMBER_FEED) == 0 and held(demo_hub, HEAVY_INDUSTRY) == 0
    assert demo_hub.store.list_publications() == []
    assert {s: demo_hub.store.get_submission(s).state for s in submitted} == states  # type: ignore[union-attr]
    assert "publish" not in [e.action for e in demo_hub.services.audit.entries(ANALYST)]


def test_the_same_publication_then_succeeds_in_both_collections(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    with pytest.raises(StorageUnavailable):
        failing_publishing(demo_hub).publish(ANALYST, request(demo_hub))
    published = demo_hub.services.publishing.publish(ANALYST, request(demo_hub))
    assert held(demo_hub, MEMBER_FEED) == held(demo_hub, HEAVY_INDUSTRY) == len(published.object_ids) > 0


def test_a_per_object_refusal_in_one_collection_refuses_the_publication(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    real = demo_hub.services.publishing
    at_noon = Publishing(real.store, real.feeds, real.campaigns, real.audit, real.options, real.policy,
                         real.leak_check, clock=lambda: 1_767_268_800_000_000)  # the same bundle every time
    first = next(o for o in at_noon.preview(ANALYST, request(demo_hub)).bundle["objects"]
                 if o["type"] == "indicator")
    # the second collection already holds a different object under that id and version
    clash = {**first, "name": "a different object under the same id and version"}
    demo_hub.store.add_versions(ObjectScope(HEAVY_INDUSTRY), "hub-analyst", True, [_version(clash)], 0)
    with pytest.raises(Conflict, match="publication refused"):
        at_noon.publish(ANALYST, request(demo_hub))
    assert held(demo_hub, MEMBER_FEED) == 0 and held(demo_hub, HEAVY_INDUSTRY) == 1
    assert demo_hub.store.list_publications() == []
    assert "refuse-publication" in [e.action for e in demo_hub.services.audit.entries(ANALYST)]


def _version(obj: dict[str, Any]) -> NewVersion:
    return NewVersion(obj["id"], obj["type"], obj["modified"], parse_us(obj["modified"]), "2.1", orjson.dumps(obj))
