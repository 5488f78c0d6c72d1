"""Correlation: the sample campaign forms one candidate with its evidence; decoy patterns never link
reports on their own; the result is deterministic."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from taxii_server.hub.correlation import Candidate
from tests.support.hubflow import (
    CAMPAIGN_FILES,
    RECORDS,
    DemoHub,
    attachment,
    principal,
    record,
    reporter_of,
    submit_campaign,
)

ANALYST = principal("hub-analyst")


def _submit(hub: DemoHub, rec: dict[str, Any]) -> str:
    s = hub.services.intake.submit(principal(rec["reporter"]), orjson.dumps(rec), "application/json", "test",
                                   f"{rec['id']}.json")
    assert s.state in ("converted", "in-campaign"), s.errors
    return s.id


def _candidates(hub: DemoHub) -> list[Candidate]:
    hub.services.campaigns.drain()
    return hub.services.campaigns.suggest(ANALYST)


def _submit_samples(hub: DemoHub, *names: str) -> dict[str, str]:
    ids = {}
    for name in names:
        path = RECORDS / name
        response = hub.submit_file(reporter_of(path), path)
        assert response.status_code == 202, response.data
        ids[name] = response.json["id"]
    return ids


def test_the_five_campaign_reports_form_one_candidate_of_five_organisations(demo_hub: DemoHub) -> None:
    ids = submit_campaign(demo_hub)
    found = _candidates(demo_hub)
    assert len(found) == 1
    assert sorted(found[0].submissions) == sorted(ids)
    assert found[0].organisations == ("chuo-oil", "higashi-gas", "kita-heavy", "minami-power", "nishi-chem")
    assert len(found[0].groups) == 5


def test_the_recon_burst_and_the_unrelated_phishing_do_not_join_the_campaign(demo_hub: DemoHub) -> None:
    campaign = set(submit_campaign(demo_hub))
    others = _submit_samples(demo_hub, "case01-recon-burst.json", "case10-unrelated-phishing.json")
    found = _candidates(demo_hub)
    assert [set(c.submissions) for c in found] == [campaign]
    assert not set(others.values()) & {s for c in found for s in c.submissions}


def test_every_sample_submitted_still_gives_exactly_the_campaign(demo_hub: DemoHub) -> None:
    campaign = set(submit_campaign(demo_hub))
    rest = [p.name for p in sorted(RECORDS.glob("*.json")) if p not in CAMPAIGN_FILES]
    _submit_samples(demo_hub, *rest)
    assert [set(c.submissions) for c in _candidates(demo_hub)] == [campaign]


@pytest.mark.parametrize("kind", ["file-hash", "c2-domain", "c2-ip", "password+subject", "display-name+subject"])
def test_the_evidence_names_what_linked_the_campaign(demo_hub: DemoHub, kind: str) -> None:
    submit_campaign(demo_hub)
    (candidate,) = _candidates(demo_hub)
    assert kind in {e.kind for e in candidate.evidence}
    for e in candidate.evidence:
        assert len(e.submissions) >= 2 and set(e.submissions) <= set(candidate.submissions)


def test_the_campaign_evidence_carries_the_shared_values(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    (candidate,) = _candidates(demo_hub)
    values = {(e.kind, e.value): len(e.submissions) for e in candidate.evidence}
    assert values[("c2-domain", "news.asia-timeline.example")] == 5
    assert values[("c2-ip", "198.51.100.23")] == 5
    assert values[("password+subject", "1114|技術資料送付の件")] == 3
    assert values[("display-name+subject", "山本 拓也|共同研究のご相談")] == 2


def test_analysts_see_the_campaign_reports_in_campaign_and_their_reporters_see_them_converted(
        demo_hub: DemoHub) -> None:
    ids = submit_campaign(demo_hub)
    (candidate,) = _candidates(demo_hub)
    for sid in ids:
        analyst_view = demo_hub.api("GET", f"/submissions/{sid}", "hub-analyst").json
        assert (analyst_view["status"], analyst_view["candidate"]) == ("in-campaign", candidate.id)
        reporter = analyst_view["organisation"]
        member_view = demo_hub.api("GET", f"/submissions/{sid}", reporter).json
        assert member_view["status"] == "converted" and "candidate" not in member_view


# -- decoys: each alone never links two members' reports; each has a positive control beside it ------------

def test_a_shared_free_mail_provider_alone_links_nothing(demo_hub: DemoHub) -> None:
    _submit(demo_hub, record("kita-heavy", "K-1", sender="alpha.one@freemail.example", subject="見積依頼",
                             sent_at="2024-05-01T10:00:00+09:00", attachment=attachment("a")))
    _submit(demo_hub, record("higashi-gas", "H-1", sender="beta.two@freemail.example", subject="会議の日程",
                             sent_at="2024-05-02T10:00:00+09:00", attachment=attachment("b")))
    assert _candidates(demo_hub) == []


def test_a_common_subject_word_alone_links_nothing(demo_hub: DemoHub) -> None:
    _submit(demo_hub, record("kita-heavy", "K-1", sender="alpha@one.example", subject="請求書",
                             sent_at="2024-05-01T10:00:00+09:00", attachment=attachment("a", password="x1")))
    _submit(demo_hub, record("higashi-gas", "H-1", sender="beta@two.example", subject="Re: 請求書",
                             sent_at="2024-05-02T10:00:00+09:00", attachment=attachment("b", password="y2")))
    assert _candidates(demo_hub) == []


def test_a_sender_at_a_members_mail_domain_alone_links_nothing(demo_hub: DemoHub) -> None:
    spoofed = "president@kita-heavy.example"
    _submit(demo_hub, record("kita-heavy", "K-1", sender=spoofed, subject="至急確認", victim="staff@kita-heavy.example",
                             sent_at="2024-05-01T10:00:00+09:00", attachment=attachment("a")))
    _submit(demo_hub, record("higashi-gas", "H-1", sender=spoofed, subject="取引のご連絡",
                             victim="buyer@higashi-gas.example", sent_at="2024-05-02T10:00:00+09:00",
                             attachment=attachment("b")))
    assert _candidates(demo_hub) == []


def test_a_member_domain_known_only_from_another_report_still_is_no_evidence(demo_hub: DemoHub) -> None:
    _submit(demo_hub, record("kita-heavy", "K-0", sender="x@elsewhere.example", subject="別件",
                             victim="desk@kita-heavy.example", sent_at="2024-01-01T10:00:00+09:00"))
    spoofed = "president@kita-heavy.example"
    _submit(demo_hub, record("higashi-gas", "H-1", sender=spoofed, subject="取引のご連絡",
                             sent_at="2024-05-01T10:00:00+09:00", attachment=attachment("a")))
    _submit(demo_hub, record("nishi-chem", "N-1", sender=spoofed, subject="ご挨拶",
                             sent_at="2024-05-02T10:00:00+09:00", attachment=attachment("b")))
    assert _candidates(demo_hub) == []


def test_reports_further_apart_than_the_window_are_not_linked(demo_hub: DemoHub) -> None:
    assert demo_hub.settings.hub.correlation_window_days == 90
    _submit(demo_hub, record("kita-heavy", "K-1", sender="same@attacker.example", subject="一",
                             sent_at="2024-01-01T10:00:00+09:00", attachment=attachment("shared")))
    _submit(demo_hub, record("higashi-gas", "H-1", sender="same@attacker.example", subject="二",
                             sent_at="2024-04-15T10:00:00+09:00", attachment=attachment("shared")))
    assert _candidates(demo_hub) == []


@pytest.mark.parametrize("shared", ["sender", "hash", "password+subject", "display-name+subject"])
def test_positive_control_one_real_link_within_the_window_makes_a_candidate(demo_hub: DemoHub, shared: str) -> None:
    # (the hashes of files holding just "a" or "b" are on a MISP warning list: seeds that are not)
    a: dict[str, Any] = {"sender": "one@attacker.example", "subject": "見積依頼", "attachment": attachment("lure-a")}
    b: dict[str, Any] = {"sender": "two@attacker.example", "subject": "会議の日程", "attachment": attachment("lure-b")}
    if shared == "sender":
        b["sender"] = a["sender"]
    elif shared == "hash":
        b["attachment"] = attachment("lure-a")
    elif shared == "password+subject":
        a["attachment"], b["attachment"] = attachment("lure-a", password="p4ss"), attachment("lure-b", password="p4ss")
        b["subject"] = "Re: 見積依頼"
    else:
        a["display_name"] = b["display_name"] = "鈴木 一郎"
        b["subject"] = "Fw: 見積依頼"
    _submit(demo_hub, record("kita-heavy", "K-1", sent_at="2024-05-01T10:00:00+09:00", **a))
    _submit(demo_hub, record("higashi-gas", "H-1", sent_at="2024-06-20T10:00:00+09:00", **b))
    (candidate,) = _candidates(demo_hub)
    assert candidate.organisations == ("higashi-gas", "kita-heavy")


def test_linked_reports_of_one_organisation_are_no_candidate(demo_hub: DemoHub) -> None:
    for n in (1, 2):
        _submit(demo_hub, record("kita-heavy", f"K-{n}", sender="same@attacker.example", subject=f"件名{n}",
                                 sent_at=f"2024-05-0{n}T10:00:00+09:00"))
    assert _candidates(demo_hub) == []


# -- determinism --------------------------------------------------------------------------------------------

def test_a_full_rebuild_gives_the_same_candidates_as_the_incremental_step(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    _submit_samples(demo_hub, "case01-recon-burst.json", "case10-unrelated-phishing.json",
                    "case04-conversation.json", "case07-repeat-ichitaro.json")
    expected = _candidates(demo_hub)
    assert len(expected) == 1
    assert demo_hub.services.campaigns.correlator.rebuild() == 1
    assert demo_hub.services.campaigns.suggest(ANALYST) == expected
    assert demo_hub.services.campaigns.correlator.rebuild(reindex=True) == 1
    assert demo_hub.services.campaigns.suggest(ANALYST) == expected


def test_asking_again_gives_the_same_candidate_ids(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    demo_hub.services.campaigns.drain()
    first = demo_hub.api("GET", "/campaign-candidates", "hub-analyst").json
    second = demo_hub.api("GET", "/campaign-candidates", "hub-approver").json
    assert first == second
    assert first["candidates"][0]["id"].startswith("cand-")


def test_submitting_in_reverse_order_gives_the_same_grouping(tmp_path: Any) -> None:
    from tests.support.hubflow import make_demo_hub

    groupings = []
    for n, files in enumerate((CAMPAIGN_FILES, tuple(reversed(CAMPAIGN_FILES)))):
        hub = make_demo_hub(tmp_path / f"h{n}")
        try:
            by_record = {}
            for path in (*files, RECORDS / "case10-unrelated-phishing.json"):
                s = hub.submit_file(reporter_of(path), path).json
                by_record[s["id"]] = path.name
            groupings.append([sorted(by_record[i] for i in c.submissions) for c in _candidates(hub)])
        finally:
            hub.store.close()
    assert groupings[0] == groupings[1] == [sorted(p.name for p in CAMPAIGN_FILES)]


def test_listing_candidates_is_a_read_and_shows_the_correlation_backlog(demo_hub: DemoHub) -> None:
    submit_campaign(demo_hub)
    waiting = demo_hub.api("GET", "/campaign-candidates", "hub-analyst").json
    assert "candidates" not in waiting and waiting["correlation"]["queued"] == 5
    assert demo_hub.store.correlation_backlog()[0] == 5  # listing ran no correlation job
    assert demo_hub.services.campaigns.drain() == 5
    done = demo_hub.api("GET", "/campaign-candidates", "hub-analyst").json
    assert len(done["candidates"]) == 1
    assert done["correlation"] == {"queued": 0, "oldest_seconds": None}


def test_candidates_are_listed_a_page_at_a_time(demo_hub: DemoHub) -> None:
    for n in range(3):
        for org in ("kita-heavy", "higashi-gas"):
            _submit(demo_hub, record(org, f"{org}-{n}", sender=f"s{n}@attacker{n}.example", subject=f"件名{n}",
                                     sent_at=f"2024-05-0{n + 1}T10:00:00+09:00"))
    demo_hub.services.campaigns.drain()
    first = demo_hub.api("GET", "/campaign-candidates?limit=2", "hub-analyst").json
    assert len(first["candidates"]) == 2
    rest = demo_hub.api("GET", f"/campaign-candidates?limit=2&next={first['next']}", "hub-analyst").json
    assert len(rest["candidates"]) == 1 and "next" not in rest
    seen = [c["first_seen"] for c in first["candidates"] + rest["candidates"]]
    assert seen == sorted(seen, reverse=True)
    assert demo_hub.api("GET", "/campaign-candidates?next=garbage", "hub-analyst").status_code == 400
    assert demo_hub.api("GET", "/campaign-candidates", "kita-heavy").status_code == 404
