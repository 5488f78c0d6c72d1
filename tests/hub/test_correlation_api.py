"""The analysts' corrections of correlation over /hub/v1: exclusions (a value or a pattern), splits and merges.

The routes call the same service as `taxii-hub campaigns exclude|include|split|merge`, so each change is audited
the same way and applied by the correlation step; members cannot tell the routes exist; bad input is a JSON
error, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.consoleclient import signed_in
from tests.support.hubflow import DemoHub, drained, submit_campaign

ANALYST = "hub-analyst"
MEMBER = "kita-heavy"
SINKHOLE = "news.asia-timeline.example"


def candidates(hub: DemoHub) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = hub.api("GET", "/campaign-candidates", ANALYST).json.get("candidates", [])
    return found


def states(candidate: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(e["kind"], e["value"]): e["state"] for e in candidate["evidence"]}


@pytest.fixture
def campaign(demo_hub: DemoHub) -> DemoHub:
    submit_campaign(demo_hub)
    return drained(demo_hub)


def test_an_exclusion_made_over_http_is_audited_listed_and_applied_by_the_correlation_step(campaign: DemoHub) -> None:
    made = campaign.api("POST", "/correlation-exclusions", ANALYST,
                        {"kind": "c2-domain", "value": SINKHOLE, "reason": "a sinkhole"})
    assert made.status_code == 201, made.data
    assert made.json["kind"] == "c2-domain" and made.json["value"] == SINKHOLE and made.json["pattern"] is False
    assert made.json["by"] == ANALYST
    listed = campaign.api("GET", "/correlation-exclusions", ANALYST).json
    assert [e["id"] for e in listed["exclusions"]] == [made.json["id"]]
    drained(campaign)
    (candidate,) = candidates(campaign)
    assert states(candidate)[("c2-domain", SINKHOLE)] == "excluded"
    (entry,) = [e for e in campaign.store.list_audit() if e.action == "exclude"]
    assert (entry.actor, entry.target) == (ANALYST, made.json["id"])


def test_a_pattern_exclusion_covers_every_matching_value(campaign: DemoHub) -> None:
    made = campaign.api("POST", "/correlation-exclusions", ANALYST,
                        {"kind": "c2-domain", "value": "*.asia-timeline.example", "pattern": True, "reason": "cdn"})
    assert made.status_code == 201 and made.json["pattern"] is True
    drained(campaign)
    assert states(candidates(campaign)[0])[("c2-domain", SINKHOLE)] == "excluded"


def test_removing_an_exclusion_makes_the_value_link_again(campaign: DemoHub) -> None:
    made = campaign.api("POST", "/correlation-exclusions", ANALYST,
                        {"kind": "c2-domain", "value": SINKHOLE, "reason": "a sinkhole"}).json
    drained(campaign)
    removed = campaign.api("POST", f"/correlation-exclusions/{made['id']}/removal", ANALYST, {"reason": "mistake"})
    assert removed.status_code == 200 and removed.json["id"] == made["id"]
    assert campaign.api("GET", "/correlation-exclusions", ANALYST).json == {}
    drained(campaign)
    assert states(candidates(campaign)[0])[("c2-domain", SINKHOLE)] == "used"
    assert [e.action for e in campaign.store.list_audit() if e.action in ("exclude", "include")] == [
        "exclude", "include"]
    again = campaign.api("POST", f"/correlation-exclusions/{made['id']}/removal", ANALYST, {"reason": "twice"})
    assert again.status_code == 404 and again.headers["Content-Type"] == "application/json"


def test_a_split_over_http_separates_the_reports_and_survives_a_rebuild(campaign: DemoHub) -> None:
    (candidate,) = candidates(campaign)
    side = candidate["submissions"][:1]
    made = campaign.api("POST", f"/campaign-candidates/{candidate['id']}/split", ANALYST,
                        {"submissions": side, "reason": "a different actor"})
    assert made.status_code == 201, made.data
    assert made.json["action"] == "split" and made.json["side_a"] == side
    drained(campaign)
    after = candidates(campaign)
    assert all(side[0] not in c["submissions"] for c in after)
    campaign.services.campaigns.correlator.rebuild()
    assert candidates(campaign) == after
    listed = campaign.api("GET", "/correlation-exclusions", ANALYST).json
    assert [o["id"] for o in listed["overrides"]] == [made.json["id"]]
    assert [e.action for e in campaign.store.list_audit() if e.action == "split"] == ["split"]


def test_a_merge_over_http_joins_two_candidates(demo_hub: DemoHub) -> None:
    from tests.support.hubflow import record

    for n, (a, b) in enumerate((("kita-heavy", "minami-power"), ("higashi-gas", "chuo-oil"))):
        for org in (a, b):
            sent = demo_hub.submit_record(org, record(org, f"m{n}-{org}", sender=f"boss{n}@lure{n}.example",
                                                      subject=f"lure {n}", sent_at="2024-05-01T09:00:00Z"))
            assert sent.status_code == 202, sent.data
    first, second = candidates(drained(demo_hub))
    made = demo_hub.api("POST", f"/campaign-candidates/{first['id']}/merge", ANALYST,
                        {"with": second["id"], "reason": "same actor, infrastructure rotated"})
    assert made.status_code == 201, made.data
    (merged,) = candidates(drained(demo_hub))
    assert sorted(merged["submissions"]) == sorted(first["submissions"] + second["submissions"])
    assert [e.action for e in demo_hub.store.list_audit() if e.action == "merge"] == ["merge"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/correlation-exclusions", None),
    ("POST", "/correlation-exclusions", {"kind": "c2-domain", "value": SINKHOLE, "reason": "r"}),
    ("POST", "/correlation-exclusions/excl-0000000000000000/removal", {"reason": "r"}),
    ("POST", "/campaign-candidates/cand-0000000000000000/split", {"submissions": ["x"], "reason": "r"}),
    ("POST", "/campaign-candidates/cand-0000000000000000/merge", {"with": "cand-1", "reason": "r"}),
])
def test_to_a_member_the_routes_answer_like_an_unknown_one(campaign: DemoHub, method: str, path: str,
                                                           body: Any) -> None:
    answer = campaign.api(method, path, MEMBER, body)
    unknown = campaign.api(method, "/no-such-route", MEMBER, body)
    assert (answer.status_code, answer.data) == (unknown.status_code, unknown.data)
    assert answer.status_code == 404
    assert not campaign.store.list_exclusions() and not campaign.store.list_overrides()


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"kind": "c2-domain", "value": SINKHOLE}, 400, "reason"),
    ({"kind": "colour", "value": "x", "reason": "r"}, 422, "kind must be one of"),
    ({"kind": "c2-domain", "value": " ", "reason": "r"}, 422, "value"),
    ({"kind": "c2-domain", "value": SINKHOLE, "reason": "  "}, 422, "reason"),
    ({"kind": "c2-domain", "value": SINKHOLE, "reason": "r", "pattern": "yes"}, 400, "pattern"),
    ({"kind": "c2-domain", "value": SINKHOLE, "reason": "r", "colour": 1}, 400, "unknown field"),
    ([1, 2], 400, "JSON object"),
    (b'{"kind": "c2-domain", "kind": "url"}', 400, ""),
    (b"\xff\xfe", 400, ""),
])
def test_bad_exclusions_are_json_errors_and_change_nothing(campaign: DemoHub, body: Any, status: int,
                                                           fragment: str) -> None:
    answer = campaign.api("POST", "/correlation-exclusions", ANALYST, body)
    assert answer.status_code == status, answer.data
    assert answer.headers["Content-Type"] == "application/json"
    assert fragment in answer.json["description"]
    assert not campaign.store.list_exclusions()


@pytest.mark.parametrize(("body", "status"), [
    ({"submissions": [], "reason": "r"}, 422),
    ({"submissions": "one", "reason": "r"}, 400),
    ({"submissions": ["sub-not-in-it"], "reason": "r"}, 422),
    ({"reason": "r"}, 400),
])
def test_a_bad_split_is_a_json_error(campaign: DemoHub, body: Any, status: int) -> None:
    (candidate,) = candidates(campaign)
    answer = campaign.api("POST", f"/campaign-candidates/{candidate['id']}/split", ANALYST, body)
    assert answer.status_code == status, answer.data
    assert answer.headers["Content-Type"] == "application/json"
    assert not campaign.store.list_overrides()


def test_merging_a_candidate_with_itself_or_an_unknown_one_is_refused(campaign: DemoHub) -> None:
    (candidate,) = candidates(campaign)
    path = f"/campaign-candidates/{candidate['id']}/merge"
    assert campaign.api("POST", path, ANALYST, {"with": candidate["id"], "reason": "r"}).status_code == 422
    assert campaign.api("POST", path, ANALYST, {"with": "cand-0000000000000000", "reason": "r"}).status_code == 404
    assert not campaign.store.list_overrides()


def test_the_routes_answer_json_only(campaign: DemoHub) -> None:
    answer = campaign.client().get("/hub/v1/correlation-exclusions", headers=campaign.auth(ANALYST, Accept="text/html"))
    assert answer.status_code == 406 and answer.headers["Content-Type"] == "application/json"
    sent = campaign.api("POST", "/correlation-exclusions", ANALYST, b"kind=c2-domain",
                        **{"Content-Type": "application/x-www-form-urlencoded"})
    assert sent.status_code == 415


@pytest.mark.parametrize("token", ["99999999999999999999.cand-0000000000000000",
                                   "9223372036854775808.cand-0000000000000000", "x.cand-0000000000000000",
                                   "1.cand-zz"])
def test_a_next_token_no_listing_gave_is_a_400_on_the_api_and_the_console(demo_hub: DemoHub, token: str) -> None:
    response = demo_hub.api("GET", f"/campaign-candidates?next={token}", ANALYST)
    assert response.status_code == 400 and response.content_type.startswith("application/json"), response.data
    assert "next" in response.json["description"]
    page = signed_in(demo_hub, ANALYST).get(f"/console/candidates?next={token}")
    assert page.status_code == 400, page.status_code
