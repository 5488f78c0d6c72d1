"""Members never read another member's submissions, nor candidates, publications, statistics or the audit
trail: 404, the same body as for a resource that does not exist. Analysts can. A member's view of its own
submission never names another reporter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hubflow import MEMBERS, ORG_NAMES, DemoHub, drained, principal, submit_campaign

ANALYST = principal("hub-analyst")
MISSING_UUID = "6f0c2a6e-0000-4000-8000-000000000000"


@pytest.fixture
def world(demo_hub: DemoHub) -> dict[str, Any]:
    """The campaign submitted and published; the ids of what exists."""
    submissions = submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    published = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Campaign", "tlp": "amber", "collections": ["member-feed"]})
    assert published.status_code == 201
    by_org = {demo_hub.store.get_submission(s).org_id: s for s in submissions}  # type: ignore[union-attr]
    return {"submissions": by_org, "candidate": candidate.id, "publication": published.json["id"]}


ANALYST_ONLY_ITEMS = [("/campaign-candidates/{candidate}", "/campaign-candidates/cand-0000000000000000"),
                      ("/publications/{publication}", f"/publications/{MISSING_UUID}")]
ANALYST_ONLY_LISTS = ["/campaign-candidates", "/publications", "/stats", "/audit"]


@pytest.mark.parametrize(("existing", "missing"), ANALYST_ONLY_ITEMS, ids=["candidate", "publication"])
def test_a_member_gets_the_same_404_for_an_analyst_resource_as_for_a_missing_one(
    demo_hub: DemoHub, world: dict[str, Any], existing: str, missing: str
) -> None:
    real = demo_hub.api("GET", existing.format(**world), "kita-heavy")
    absent = demo_hub.api("GET", missing, "kita-heavy")
    assert real.status_code == absent.status_code == 404
    assert real.data == absent.data


def test_a_member_gets_for_a_publication_the_404_of_an_unknown_route(
    demo_hub: DemoHub, world: dict[str, Any]
) -> None:
    real = demo_hub.api("GET", f"/publications/{world['publication']}", "higashi-gas")
    unknown = demo_hub.api("GET", "/no-such-route", "higashi-gas")
    assert real.status_code == unknown.status_code == 404
    assert real.data == unknown.data


@pytest.mark.parametrize("path", ANALYST_ONLY_LISTS)
@pytest.mark.parametrize("org", ["kita-heavy", "partner-vendor"])
def test_analyst_lists_do_not_exist_for_members(demo_hub: DemoHub, world: dict[str, Any], path: str, org: str) -> None:
    response = demo_hub.api("GET", path, org)
    assert response.status_code == 404
    assert response.json["http_status"] == "404"
    assert "kita" not in response.data.decode().lower()


@pytest.mark.parametrize("path", ANALYST_ONLY_LISTS)
def test_analysts_read_the_analyst_resources(demo_hub: DemoHub, world: dict[str, Any], path: str) -> None:
    response = demo_hub.api("GET", path, "hub-approver")
    assert response.status_code == 200 and response.json


def test_another_members_submission_is_indistinguishable_from_a_missing_one(
    demo_hub: DemoHub, world: dict[str, Any]
) -> None:
    theirs = demo_hub.api("GET", f"/submissions/{world['submissions']['higashi-gas']}", "kita-heavy")
    absent = demo_hub.api("GET", f"/submissions/{MISSING_UUID}", "kita-heavy")
    assert theirs.status_code == absent.status_code == 404
    assert theirs.data == absent.data


def test_a_member_lists_only_its_own_submissions(demo_hub: DemoHub, world: dict[str, Any]) -> None:
    listed = demo_hub.api("GET", "/submissions", "nishi-chem").json["submissions"]
    assert [s["id"] for s in listed] == [world["submissions"]["nishi-chem"]]


def test_an_outsider_without_submissions_gets_an_empty_list(demo_hub: DemoHub, world: dict[str, Any]) -> None:
    response = demo_hub.api("GET", "/submissions", "partner-vendor")
    assert response.status_code == 200 and response.json == {}


def test_analysts_see_every_submission_with_its_reporter(demo_hub: DemoHub, world: dict[str, Any]) -> None:
    listed = demo_hub.api("GET", "/submissions", "hub-analyst").json["submissions"]
    assert {s["organisation"] for s in listed} == set(world["submissions"])


@pytest.mark.parametrize("org", MEMBERS)
def test_a_members_view_of_its_submission_never_names_another_reporter(
    demo_hub: DemoHub, world: dict[str, Any], org: str
) -> None:
    own = world["submissions"][org]
    for response in (demo_hub.api("GET", f"/submissions/{own}", org), demo_hub.api("GET", "/submissions", org)):
        assert response.status_code == 200
        text = response.data.decode()
        assert response.json.get("status", "published") == "published"
        for other in set(MEMBERS) - {org}:
            assert other not in text and ORG_NAMES[other] not in text
            assert world["submissions"][other] not in text
        assert world["candidate"] not in text


def test_a_member_sees_what_was_published_from_its_report(demo_hub: DemoHub, world: dict[str, Any]) -> None:
    view = demo_hub.api("GET", f"/submissions/{world['submissions']['chuo-oil']}", "chuo-oil").json
    assert view["status"] == "published"
    assert [p["id"] for p in view["publications"]] == [world["publication"]]
    assert "organisation" not in view and "features" not in view


def test_a_publication_into_a_collection_a_member_cannot_read_is_not_named_to_it(demo_hub: DemoHub) -> None:
    """Its name and objects (a campaign, a sighting) would tell the reporter that its report was correlated
    with others' and where the hub sent them: the view and the list say only that the report was published."""
    submissions = submit_campaign(demo_hub)
    (candidate,) = drained(demo_hub).services.campaigns.suggest(ANALYST)
    published = demo_hub.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "Energy only", "tlp": "amber", "collections": ["energy"]})
    assert published.status_code == 201, published.json
    by_org = {demo_hub.store.get_submission(s).org_id: s for s in submissions}  # type: ignore[union-attr]
    outside = demo_hub.api("GET", f"/submissions/{by_org['kita-heavy']}", "kita-heavy")  # heavy industry
    listed = demo_hub.api("GET", "/submissions", "kita-heavy").data.decode()
    page = demo_hub.client().get(f"/console/submissions/{by_org['kita-heavy']}",
                                 headers=demo_hub.auth("kita-heavy", Accept="text/html"))
    assert outside.json["status"] == "published"
    assert "publications" not in outside.json
    for text in (outside.data.decode(), listed, page.data.decode()):
        assert "Energy only" not in text and published.json["id"] not in text
        assert not any(i in text for i in published.json["objects"])
    inside = demo_hub.api("GET", f"/submissions/{by_org['chuo-oil']}", "chuo-oil").json  # petroleum reads energy
    assert [p["id"] for p in inside["publications"]] == [published.json["id"]]
    analyst = demo_hub.api("GET", f"/submissions/{by_org['kita-heavy']}", "hub-analyst").json
    assert [p["id"] for p in analyst["publications"]] == [published.json["id"]]


def test_a_member_cannot_dismiss_even_its_own_submission(demo_hub: DemoHub) -> None:
    from tests.support.hubflow import RECORDS, reporter_of

    path = RECORDS / "case10-unrelated-phishing.json"
    own = demo_hub.submit_file(reporter_of(path), path).json["id"]
    response = demo_hub.api("POST", f"/submissions/{own}/dismissal", reporter_of(path), {"reason": "mine"})
    assert response.status_code == 404
    assert demo_hub.store.get_submission(own).state == "converted"  # type: ignore[union-attr]


@pytest.mark.parametrize("org", ["kita-heavy", "partner-vendor"])
def test_a_member_cannot_publish_or_approve(demo_hub: DemoHub, world: dict[str, Any], org: str) -> None:
    publish = demo_hub.api("POST", "/publications", org, {
        "candidate": world["candidate"], "name": "x", "tlp": "amber", "collections": ["member-feed"]})
    approve = demo_hub.api("POST", f"/publications/{world['publication']}/approval", org)
    assert publish.status_code == approve.status_code == 404
    assert len(demo_hub.store.list_publications()) == 1
