"""The over-correlation guard on a demo hub: values on the hub's allow-list, the MISP warning lists or the
member register never link reports; analysts' exclusions, splits and merges are applied, audited, shown in
the evidence and survive a full rebuild. Each refusal has a positive control beside it."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from taxii_server.errors import NotFound, Unprocessable
from taxii_server.hub.correlation import Candidate
from taxii_server.model import AllowedValue
from tests.support.hubflow import DemoHub, attachment, principal, record

ANALYST = principal("hub-analyst")


def _submit(hub: DemoHub, org: str, ref: str, day: int, **fields: Any) -> str:
    rec = record(org, ref, subject=f"件名 {ref}", sent_at=f"2024-05-{day:02d}T10:00:00+09:00", **fields)
    reply = hub.submit_record(org, rec)
    assert reply.status_code == 202 and reply.json["status"] == "converted", reply.data
    return str(reply.json["id"])


def _pair(hub: DemoHub, c2: str, sender: str = "one@attacker.example") -> list[str]:
    """Two members' reports that share a C2 domain (and nothing else)."""
    return [_submit(hub, org, f"{org}-{c2}", 1 + n, sender=f"{n}{sender}",
                    attachment=attachment(f"{org}-{c2}", c2=[{"domain": c2}]))
            for n, org in enumerate(("kita-heavy", "higashi-gas"))]


def _candidates(hub: DemoHub) -> list[Candidate]:
    hub.services.campaigns.drain()
    return hub.services.campaigns.suggest(ANALYST)


def test_positive_control_a_shared_c2_domain_links_two_members(demo_hub: DemoHub) -> None:
    ids = _pair(demo_hub, "c2.attacker.example")
    (found,) = _candidates(demo_hub)
    assert sorted(found.submissions) == sorted(ids)
    assert [(e.kind, e.state) for e in found.evidence] == [("c2-domain", "used")]


def test_a_value_on_the_hubs_allow_list_links_nothing(demo_hub: DemoHub) -> None:
    demo_hub.store.add_allowed(AllowedValue("domain-name", "partner-portal.example", "vendor portal", "hub-admin",
                                            "2024-01-01T00:00:00Z"))
    _pair(demo_hub, "files.partner-portal.example")
    assert _candidates(demo_hub) == []


def test_a_value_on_a_misp_warning_list_links_nothing(demo_hub: DemoHub) -> None:
    _pair(demo_hub, "www.google.com")
    assert _candidates(demo_hub) == []


def test_a_sender_at_a_registered_member_domain_links_nothing(demo_hub: DemoHub) -> None:
    org = demo_hub.store.get_organisation("nishi-chem")
    assert org is not None
    demo_hub.store.update_organisation(dataclasses.replace(org, domains=("nishi-group.example",)))
    for n, reporter in enumerate(("kita-heavy", "higashi-gas")):
        _submit(demo_hub, reporter, f"R-{n}", 1 + n, sender="president@nishi-group.example",
                attachment=attachment(f"own-{n}"))
    assert _candidates(demo_hub) == []


def test_an_excluded_value_is_shown_excluded_and_no_longer_links(demo_hub: DemoHub) -> None:
    ids = _pair(demo_hub, "c2.attacker.example")
    (linked,) = _candidates(demo_hub)
    exclusion = demo_hub.services.campaigns.exclude(ANALYST, "c2-domain", "c2.attacker.example", "sinkholed")
    assert _candidates(demo_hub) == []
    entries = [e for e in demo_hub.store.list_audit() if e.action == "exclude"]
    assert [(e.actor, e.target) for e in entries] == [("hub-analyst", exclusion.id)]
    assert "sinkholed" in entries[0].details
    demo_hub.services.campaigns.include(ANALYST, exclusion.id, "no longer sinkholed")
    (again,) = _candidates(demo_hub)
    assert again == linked and sorted(again.submissions) == sorted(ids)


def test_a_pattern_exclusion_covers_every_matching_value_and_other_evidence_still_links(demo_hub: DemoHub) -> None:
    for n, org in enumerate(("kita-heavy", "higashi-gas")):
        _submit(demo_hub, org, f"{org}-p", 1 + n, sender="same@attacker.example",
                attachment=attachment(f"{org}-p", c2=[{"domain": f"n{n}.cdn.example"}, {"domain": "x.cdn.example"}]))
    demo_hub.services.campaigns.exclude(ANALYST, "c2-domain", "*.cdn.example", "a CDN", pattern=True)
    (found,) = _candidates(demo_hub)
    assert {(e.kind, e.value, e.state) for e in found.evidence} == {
        ("c2-domain", "x.cdn.example", "excluded"), ("sender-address", "same@attacker.example", "used")}


@pytest.mark.parametrize(("kind", "value", "reason"), [("subject", "x", "r"), ("c2-domain", " ", "r"),
                                                       ("c2-domain", "x.example", " ")])
def test_an_exclusion_needs_an_evidence_kind_a_value_and_a_reason(demo_hub: DemoHub, kind: str, value: str,
                                                                  reason: str) -> None:
    with pytest.raises(Unprocessable):
        demo_hub.services.campaigns.exclude(ANALYST, kind, value, reason)


def test_a_member_cannot_exclude(demo_hub: DemoHub) -> None:
    with pytest.raises(NotFound):
        demo_hub.services.campaigns.exclude(principal("kita-heavy"), "c2-domain", "x.example", "mine")


def test_a_split_survives_new_reports_and_a_rebuild_and_a_merge_joins_two_candidates(demo_hub: DemoHub) -> None:
    first = _pair(demo_hub, "c2.one.example")
    second = _pair(demo_hub, "c2.two.example", sender="two@attacker.example")
    a, b = sorted(_candidates(demo_hub), key=lambda c: c.submissions)
    merged = demo_hub.services.campaigns.merge(ANALYST, a.id, b.id, "one actor, two infrastructures")
    (joined,) = _candidates(demo_hub)
    assert sorted(joined.submissions) == sorted(first + second)
    demo_hub.services.campaigns.split(ANALYST, joined.id, list(a.submissions), "not the same actor after all")
    parts = {frozenset(c.submissions) for c in _candidates(demo_hub)}
    assert parts == {frozenset(first), frozenset(second)}
    demo_hub.services.campaigns.correlator.rebuild()
    assert {frozenset(c.submissions) for c in demo_hub.services.campaigns.suggest(ANALYST)} == parts
    actions = [e.action for e in demo_hub.store.list_audit() if e.action in ("merge", "split")]
    assert actions == ["merge", "split"] and merged.id in demo_hub.store.list_audit()[-2].details


def test_the_evidence_explains_each_value_in_the_api(demo_hub: DemoHub) -> None:
    _pair(demo_hub, "c2.attacker.example")
    demo_hub.services.campaigns.drain()
    (found,) = demo_hub.api("GET", "/campaign-candidates", "hub-analyst").json["candidates"]
    assert found["evidence"] == [{"kind": "c2-domain", "value": "c2.attacker.example", "state": "used",
                                  "submissions": sorted(found["submissions"])}]
    assert orjson.loads(orjson.dumps(found))["evidence"][0]["state"] == "used"
