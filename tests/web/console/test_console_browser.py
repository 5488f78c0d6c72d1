"""The web console in a real browser (headless Chromium) against a real `taxii-hub serve` with the demo data and
the two-person rule on: a member reports, an analyst publishes the five-member campaign with a second
analyst's approval, the member receives it over TAXII; members cannot reach analyst pages or other members'
reports; forms without a CSRF token are refused; the language switch changes the texts.

The tests run in file order and share one hub (the member's upload comes before the analysts' pages).
Screenshots of the main pages are written to test-artifacts/console/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.consoleproc import REPO, DemoServer

pytestmark = pytest.mark.browser

EML = REPO / "tests" / "data" / "samples" / "eml" / "case04-step3-word.eml"
TAXII = "application/taxii+json;version=2.1"
MEMBER = "kita-heavy"
CAMPAIGN_NAME = f"技術資料送付の件 (browser test {uuid.uuid4().hex[:8]})"


def open_page(browser: Any, server: DemoServer, width: int = 1280, height: int = 900) -> Any:
    context = browser.new_context(base_url=server.base_url, ignore_https_errors=True,
                                  viewport={"width": width, "height": height})
    context.set_default_timeout(20_000)  # a cold Chromium on a busy CI machine
    return context.new_page()


def sign_in(browser: Any, server: DemoServer, org: str, **size: int) -> Any:
    page = open_page(browser, server, **size)
    page.goto("/console/login")
    page.fill("#org_id", org)
    page.fill("#secret", server.keys[org])
    page.click("form[action='/console/login'] button[type=submit]")
    page.wait_for_url("**/console/")
    return page


def shot(page: Any, artifacts: Path, name: str, full: bool = True) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=full)


def test_a_member_uploads_an_eml_and_sees_it_converted(browser: Any, demo_server: DemoServer, artifacts: Path) -> None:
    page = open_page(browser, demo_server)
    page.goto("/console/login")
    shot(page, artifacts, "login", full=False)
    page.context.close()
    page = sign_in(browser, demo_server, MEMBER)
    shot(page, artifacts, "member-home")
    page.goto("/console/submit")
    page.set_input_files("#reports", str(EML))
    page.click("form[enctype] button[type=submit]")
    result = page.locator(".results tbody tr").first
    assert result.locator(".state-converted, .state-in-campaign").count() == 1, result.inner_text()
    shot(page, artifacts, "member-submit")
    result.locator("a").click()
    assert page.locator("ol.steps li.current .state-converted, ol.steps li.current .state-in-campaign").count() == 1
    assert page.locator("ol.thread .msg-attack").count() >= 1
    shot(page, artifacts, "member-submission")
    page.goto("/console/submissions")
    shot(page, artifacts, "member-submissions")
    page.context.close()


def test_an_analyst_publishes_the_five_member_campaign_with_a_second_analysts_approval(
    browser: Any, demo_server: DemoServer, artifacts: Path
) -> None:
    page = sign_in(browser, demo_server, "hub-analyst")
    page.goto("/console/queue")
    shot(page, artifacts, "analyst-queue")
    page.goto("/console/candidates")
    five = page.locator("tbody tr").filter(has=page.locator("td:nth-child(3)", has_text=re.compile(r"^5$")))
    assert five.count() == 1
    five.locator("a").click()
    assert page.locator("table tbody tr").count() >= 1  # the evidence
    assert re.search(r"1[0-9]–1[0-9] min", page.locator("dl.facts .latency").inner_text())
    assert page.locator("details.report[open] ol.thread .msg-attack .latency").count() == 1
    shot(page, artifacts, "analyst-candidate")
    page.fill("#p-name", CAMPAIGN_NAME)
    page.fill("#p-description", "ブラウザ試験: 5 組織に届いた同一攻撃者のやり取り型攻撃")
    page.click("form[action$='/preview'] button[type=submit]")
    assert "漏えい検査：合格" in page.locator(".preview .ok").inner_text()
    assert '"type": "campaign"' in page.locator("pre.bundle").inner_text()
    page.locator(".preview").scroll_into_view_if_needed()
    shot(page, artifacts, "analyst-preview", full=False)
    page.click(".preview button.primary")
    page.wait_for_url("**/console/publications/*")
    assert page.locator("dl.facts .state-pending-approval").count() == 1
    assert page.locator("button.primary").count() == 0  # the requester cannot approve their own request
    publication_url = page.url
    page.goto("/console/stats")
    assert page.locator("svg.chart").count() == 4
    shot(page, artifacts, "analyst-stats")
    page.context.close()

    approver = sign_in(browser, demo_server, "hub-approver")
    approver.goto(publication_url)
    approver.click("button.primary")
    assert approver.locator("dl.facts .state-published").count() == 1
    shot(approver, artifacts, "analyst-approved")
    approver.context.close()


def test_the_member_receives_the_published_campaign_over_taxii(demo_server: DemoServer) -> None:
    reply = demo_server.session(MEMBER).get(
        f"{demo_server.base_url}/hub/collections/member-feed/objects/?match[type]=campaign",
        headers={"Accept": TAXII}, timeout=10)
    assert reply.status_code == 200
    assert CAMPAIGN_NAME in [o["name"] for o in reply.json()["objects"]]


def test_the_member_sees_that_read_under_my_polls(browser: Any, demo_server: DemoServer, artifacts: Path) -> None:
    page = sign_in(browser, demo_server, MEMBER)
    page.goto("/console/polls")
    assert "Member feed" in page.locator("table").first.inner_text()
    shot(page, artifacts, "member-polls")
    page.context.close()


@pytest.mark.parametrize("path", ["/console/queue", "/console/candidates", "/console/audit", "/console/stats",
                                  "/console/publications", "/console/revoke"])
def test_a_member_gets_404_for_analyst_pages(browser: Any, demo_server: DemoServer, path: str) -> None:
    page = sign_in(browser, demo_server, MEMBER)
    assert page.goto(path).status == 404
    page.context.close()


def test_a_member_gets_404_for_another_members_submission(browser: Any, demo_server: DemoServer) -> None:
    listed = demo_server.session("hub-analyst").get(f"{demo_server.base_url}/hub/v1/submissions", timeout=10).json()
    other = next(s["id"] for s in listed["submissions"] if s["organisation"] != MEMBER)
    page = sign_in(browser, demo_server, MEMBER)
    assert page.goto(f"/console/submissions/{other}").status == 404
    page.context.close()


def test_posts_without_the_csrf_token_are_refused(browser: Any, demo_server: DemoServer) -> None:
    page = sign_in(browser, demo_server, MEMBER)
    url = f"{demo_server.base_url}/console/keys"
    assert page.request.post(url, form={"label": "no token"}).status == 403
    assert page.request.post(url, form={"label": "wrong token", "csrf": "x" * 43}).status == 403
    page.goto("/console/keys")
    assert "no token" not in page.content() and "wrong token" not in page.content()
    page.context.close()
    anonymous = open_page(browser, demo_server)
    sent = {"org_id": MEMBER, "secret": demo_server.keys[MEMBER]}
    assert anonymous.request.post(f"{demo_server.base_url}/console/login", form=sent).status == 403
    anonymous.context.close()


def test_the_language_switch_changes_the_texts(browser: Any, demo_server: DemoServer, artifacts: Path) -> None:
    page = sign_in(browser, demo_server, MEMBER)
    page.goto("/console/submissions")
    assert page.locator("h1").inner_text() == "自組織の報告" and page.locator("html").get_attribute("lang") == "ja"
    page.select_option("#lang-choice", "en")
    page.click("form[action='/console/language'] button")
    page.wait_for_url("**/console/submissions")
    assert page.locator("h1").inner_text() == "My submissions" and page.locator("html").get_attribute("lang") == "en"
    shot(page, artifacts, "member-submissions-en")
    page.context.close()


def test_the_keyboard_reaches_a_visible_skip_link_first(browser: Any, demo_server: DemoServer) -> None:
    page = sign_in(browser, demo_server, MEMBER)
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.className, getComputedStyle(document.activeElement)"
                            ".outlineStyle]")
    assert focused[0] == "skip" and focused[1] != "none"
    page.context.close()


@pytest.mark.parametrize(("org", "path"), [(MEMBER, "/console/submit"), (MEMBER, "/console/submissions"),
                                           (MEMBER, "/console/polls"), ("hub-analyst", "/console/queue"),
                                           ("hub-analyst", "/console/candidates"), ("hub-analyst", "/console/stats"),
                                           ("hub-analyst", "/console/audit"), ("hub-analyst", "/console/exclusions")])
def test_pages_reflow_at_200_percent_zoom(browser: Any, demo_server: DemoServer, org: str, path: str) -> None:
    """A 640-pixel-wide window is what a 1280-pixel screen shows at 200 % zoom: nothing may need sideways
    scrolling."""
    page = sign_in(browser, demo_server, org, width=640, height=800)
    page.goto(path)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.context.close()
