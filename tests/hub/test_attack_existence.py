"""Attack: a curious member probes for what exists — collections it cannot see, analyst pages and routes,
whose API key it holds — and compares the answers with those for things that do not exist. Every answer is
exactly the one for something that does not exist."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from taxii_server import access
from tests.support.consoleclient import Console, signed_in
from tests.support.hubflow import HEAVY_INDUSTRY, DemoHub

MEMBER = "higashi-gas"  # group gas: cannot see the heavy-industry collection
MISSING = "0d9c8b7a-6f5e-4d3c-b2a1-908f7e6d5c4b"
TAXII = "application/taxii+json;version=2.1"


def polls(hub: DemoHub, org: str) -> dict[str, Any]:
    found: dict[str, Any] = hub.api("GET", "/polls", org).json
    return found


# -- poll history -------------------------------------------------------------------------------------------------

def test_a_refused_read_of_an_invisible_collection_is_recorded_without_naming_it(demo_hub: DemoHub) -> None:
    assert demo_hub.taxii(f"collections/{HEAVY_INDUSTRY}/objects/", MEMBER).status_code == 404
    [record] = polls(demo_hub, MEMBER)["polls"]
    assert record["status"] == 404 and record["collection"] == "" and record["api_root"] == ""
    assert HEAVY_INDUSTRY not in str(polls(demo_hub, "hub-analyst"))


def test_a_refused_read_of_an_invisible_collection_is_recorded_like_one_of_a_missing_collection(
    demo_hub: DemoHub
) -> None:
    demo_hub.taxii(f"collections/{HEAVY_INDUSTRY}/objects/", MEMBER)
    demo_hub.taxii(f"collections/{MISSING}/objects/", MEMBER)
    first, second = polls(demo_hub, MEMBER)["polls"]
    assert {k: v for k, v in first.items() if k != "at"} == {k: v for k, v in second.items() if k != "at"}


def test_my_polls_never_shows_the_title_of_a_collection_the_member_cannot_see(demo_hub: DemoHub) -> None:
    demo_hub.taxii(f"collections/{HEAVY_INDUSTRY}/objects/", MEMBER)
    demo_hub.taxii(f"collections/{HEAVY_INDUSTRY}/objects/indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f/",
                   MEMBER)
    page = signed_in(demo_hub, MEMBER).get("/console/polls").get_data(as_text=True)
    assert "Heavy-industry group" not in page and HEAVY_INDUSTRY not in page and "8e2e2d2b" not in page


def test_my_polls_hides_the_title_of_a_record_kept_before_this_rule(demo_hub: DemoHub) -> None:
    """A record that names an invisible collection (kept by an older version) shows no title either."""
    from taxii_server.model import PollRecord

    demo_hub.store.add_poll(PollRecord("old", 1, MEMBER, None, "hub", HEAVY_INDUSTRY, "objects", 404))
    page = signed_in(demo_hub, MEMBER).get("/console/polls").get_data(as_text=True)
    assert "Heavy-industry group" not in page


def test_a_visible_collection_is_still_named_in_the_history(demo_hub: DemoHub) -> None:
    assert demo_hub.taxii("collections/energy/objects/", MEMBER).status_code == 200
    [record] = polls(demo_hub, MEMBER)["polls"]
    assert record["collection"] == "631b1323-9a53-4503-a15e-28fffdde0436" and record["api_root"] == "hub"


# -- console pages --------------------------------------------------------------------------------------------------

ANALYST_PAGES = ["/console/queue", "/console/candidates", "/console/candidates/cand-0", "/console/publications",
                 "/console/publications/6f0c2a6e-0000-4000-8000-000000000000", "/console/audit",
                 "/console/stats", "/console/revoke"]


@pytest.mark.parametrize("path", ANALYST_PAGES)
def test_an_analyst_page_gives_a_member_exactly_the_404_of_an_unknown_console_path(
    demo_hub: DemoHub, path: str
) -> None:
    console = signed_in(demo_hub, MEMBER)
    page, unknown = console.get(path), console.get("/console/no-such-page")
    assert page.status_code == unknown.status_code == 404
    assert page.headers["Content-Type"] == unknown.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.data == unknown.data


def test_an_analyst_form_posted_by_a_member_is_the_404_of_an_unknown_path(demo_hub: DemoHub) -> None:
    console = signed_in(demo_hub, MEMBER)
    posted = console.post("/console/revoke", {"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})
    unknown = console.post("/console/no-such-form", {"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"})
    assert posted.status_code == unknown.status_code == 404 and posted.data == unknown.data


def test_before_sign_in_an_analyst_page_and_an_unknown_path_both_lead_to_sign_in(demo_hub: DemoHub) -> None:
    page, unknown = Console(demo_hub).get("/console/audit"), Console(demo_hub).get("/console/no-such-page")
    assert page.status_code == unknown.status_code == 303
    assert page.headers["Location"] == unknown.headers["Location"]


# -- hub API routes -------------------------------------------------------------------------------------------------

MEMBER_REFUSED_ROUTES = [
    ("GET", "/stats", None), ("GET", "/audit", None), ("GET", "/campaign-candidates", None),
    ("GET", "/campaign-candidates/cand-0123456789abcdef", None), ("GET", "/publications", None),
    ("GET", "/publications/6f0c2a6e-0000-4000-8000-000000000000", None),
    ("POST", "/publications", {"name": "x", "tlp": "amber", "collections": ["energy"]}),
    ("POST", "/publications/6f0c2a6e-0000-4000-8000-000000000000/approval", {}),
    ("POST", "/revocations", {"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}),
    ("POST", "/submissions/6f0c2a6e-0000-4000-8000-000000000001/dismissal", {"reason": "x"}),
    ("GET", "/correlation-exclusions", None),
    ("POST", "/correlation-exclusions", {"kind": "c2-domain", "value": "x.example", "reason": "x"}),
    ("POST", "/correlation-exclusions/excl-0123456789abcdef/removal", {"reason": "x"}),
    ("POST", "/campaign-candidates/cand-0123456789abcdef/split", {"submissions": ["x"], "reason": "x"}),
    ("POST", "/campaign-candidates/cand-0123456789abcdef/merge", {"with": "cand-0123456789abcdee", "reason": "x"}),
]


@pytest.mark.parametrize(("method", "path", "body"), MEMBER_REFUSED_ROUTES, ids=lambda v: str(v))
def test_a_route_a_member_may_not_use_answers_exactly_like_an_unknown_route(
    demo_hub: DemoHub, method: str, path: str, body: Any
) -> None:
    refused = demo_hub.api(method, path, MEMBER, body)
    unknown = demo_hub.api(method, "/no-such-route", MEMBER, body)
    assert refused.status_code == unknown.status_code == 404
    assert refused.data == unknown.data
    assert refused.headers["Content-Type"] == unknown.headers["Content-Type"]


def test_every_route_refused_to_members_is_probed_here() -> None:
    hub_side = {view for view, area in access.HUB_API_ROUTES.items() if area in access.HUB_SIDE_AREAS}
    assert len(hub_side) == len(MEMBER_REFUSED_ROUTES)


# -- credentials ----------------------------------------------------------------------------------------------------

def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode(), "Accept": TAXII}


@pytest.mark.parametrize("path", ["/taxii2/", "/hub/v1/submissions"])
def test_basic_with_another_organisations_valid_key_gets_exactly_the_wrong_key_answer(
    demo_hub: DemoHub, path: str
) -> None:
    theirs = demo_hub.keys["kita-heavy"]
    wrong = theirs[:-6] + ("aaaaaa" if not theirs.endswith("aaaaaa") else "bbbbbb")
    other = demo_hub.client().get(path, headers=_basic(MEMBER, theirs))
    unknown = demo_hub.client().get(path, headers=_basic(MEMBER, wrong))
    assert other.status_code == unknown.status_code == 401
    assert other.data == unknown.data
    assert other.headers.getlist("WWW-Authenticate") == unknown.headers.getlist("WWW-Authenticate")
