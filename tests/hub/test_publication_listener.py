"""The publication listener (`Publishing(on_published=...)`, `create_app(on_published=...)`): told of every
publication once it is written, with the exact bytes stored, never of one that was refused or only requested,
and never able to turn a written publication into a failed one."""

from __future__ import annotations

import pytest

from taxii_server.errors import StorageUnavailable, Unprocessable
from taxii_server.hub.publishing import Publishing, PublishRequest
from taxii_server.model import Publication
from tests.support.hubflow import MEMBER_FEED, DemoHub, drained, principal, submit_campaign
from tests.support.mispcheck import PUBLISHED

ANALYST = principal("hub-analyst")
APPROVER = principal("hub-approver")


class Heard:
    def __init__(self) -> None:
        self.publications: list[tuple[Publication, bytes]] = []

    def __call__(self, publication: Publication, serialized: bytes) -> None:
        self.publications.append((publication, serialized))


def listening(hub: DemoHub, listener: Heard | None = None, *, fail: bool = False) -> Publishing:
    real = hub.services.publishing

    def broken(publication: Publication, serialized: bytes) -> None:
        raise StorageUnavailable("the listener's own sink is down")

    return Publishing(real.store, real.feeds, real.campaigns, real.audit, real.options, real.policy,
                      real.leak_check, real.clock, on_published=broken if fail else listener)


def campaign_request(hub: DemoHub, name: str = "Campaign") -> PublishRequest:
    submit_campaign(hub)
    (candidate,) = drained(hub).services.campaigns.suggest(ANALYST)
    return PublishRequest(name=name, tlp="amber", collections=(MEMBER_FEED,), candidate_id=candidate.id)


def test_the_listener_hears_each_written_publication_once_with_its_stored_bytes(demo_hub: DemoHub) -> None:
    heard = Heard()
    published = listening(demo_hub, heard).publish(ANALYST, campaign_request(demo_hub))
    stored = demo_hub.store.get_publication(published.id)
    assert stored is not None
    assert [(p.id, p.state) for p, _ in heard.publications] == [(published.id, "published")]
    assert heard.publications[0][1] == stored[1]


def test_a_publication_the_leak_check_refuses_is_not_heard(demo_hub: DemoHub) -> None:
    heard = Heard()
    with pytest.raises(Unprocessable, match="leak check"):
        listening(demo_hub, heard).publish(ANALYST, campaign_request(demo_hub, "Kita Heavy Industries (demo)"))
    assert heard.publications == []


def test_a_requested_publication_is_heard_when_approved_not_before(two_person_hub: DemoHub) -> None:
    heard = Heard()
    publishing = listening(two_person_hub, heard)
    pending = publishing.publish(ANALYST, campaign_request(two_person_hub))
    assert pending.state == "pending-approval" and heard.publications == []
    publishing.approve(APPROVER, pending.id)
    assert [(p.id, p.state, p.approver) for p, _ in heard.publications] == [(pending.id, "published",
                                                                              "hub-approver")]


def test_a_failing_listener_does_not_fail_a_written_publication(demo_hub: DemoHub) -> None:
    published = listening(demo_hub, fail=True).publish(ANALYST, campaign_request(demo_hub))
    assert published.state == "published"
    assert [p.id for p in demo_hub.store.list_publications()] == [published.id]


def test_the_test_hubs_report_their_publications_to_the_misp_check(demo_hub: DemoHub) -> None:
    """tests/conftest.py imports with misp-stix what PUBLISHED heard: the helpers' hubs must keep reporting."""
    published = demo_hub.services.publishing.publish(ANALYST, campaign_request(demo_hub))
    stored = demo_hub.store.get_publication(published.id)
    assert stored is not None and PUBLISHED.bundles == [stored[1]]
