"""The analysts' corrections of correlation on the console: each candidate's evidence with its state and a form
to exclude a value, the split and merge forms, and the exclusions page with its add and remove forms. The forms
call the same audited service as the command line and /hub/v1; the correlation step applies them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.hub.correlation import Candidate
from tests.support.consoleclient import Console, signed_in
from tests.support.hubflow import DemoHub, drained, make_demo_hub, principal, record, submit_campaign

ANALYST = "hub-analyst"
SINKHOLE = "news.asia-timeline.example"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    submit_campaign(built)
    yield drained(built)
    built.store.close()


def only_candidate(hub: DemoHub) -> Candidate:
    (found,) = hub.services.campaigns.suggest(principal(ANALYST))
    return found


def row_of(page: str, value: str) -> str:
    found = re.search(r'<tr class="evidence-([a-z-]+)">(?:(?!</tr>).)*?' + re.escape(html.escape(value))
                      + r".*?</tr>", page, re.S)
    assert found, f"no evidence row for {value}"
    return found.group(0)


def test_each_evidence_value_is_shown_with_its_state_and_a_form_to_exclude_it(hub: DemoHub) -> None:
    c = only_candidate(hub)
    page = signed_in(hub, ANALYST).get(f"/console/candidates/{c.id}").get_data(as_text=True)
    for e in c.evidence:
        row = row_of(page, e.value)
        assert row.startswith(f'<tr class="evidence-{e.state}">')
        assert f'action="/console/candidates/{c.id}/exclusion"' in row
        assert f'name="kind" value="{e.kind}"' in row


def test_excluding_a_value_from_the_candidate_page_is_audited_and_applied_by_the_correlation_step(
    hub: DemoHub,
) -> None:
    c = only_candidate(hub)
    console = signed_in(hub, ANALYST)
    sent = console.post(f"/console/candidates/{c.id}/exclusion",
                        {"kind": "c2-domain", "value": SINKHOLE, "reason": "a sinkhole"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/console/candidates/{c.id}?queued=1")
    (made,) = hub.store.list_exclusions()
    assert (made.kind, made.value, made.actor, made.reason) == ("c2-domain", SINKHOLE, ANALYST, "a sinkhole")
    assert [e.target for e in hub.store.list_audit() if e.action == "exclude"] == [made.id]
    drained(hub)
    page = console.get(f"/console/candidates/{c.id}").get_data(as_text=True)
    row = row_of(page, SINKHOLE)
    assert row.startswith('<tr class="evidence-excluded">') and 'href="/console/exclusions"' in row
    assert "/exclusion\"" not in row  # no second exclusion of an excluded value


def test_an_allow_listed_value_is_shown_as_over_correlating(hub: DemoHub) -> None:
    hub.services.allowlist.add(principal(ANALYST), "domain-name", SINKHOLE, "a partner's portal")
    drained(hub)
    c = only_candidate(hub)
    page = signed_in(hub, ANALYST).get(f"/console/candidates/{c.id}").get_data(as_text=True)
    assert row_of(page, SINKHOLE).startswith('<tr class="evidence-over-correlating">')


def test_a_correction_without_the_forms_csrf_token_is_refused(hub: DemoHub) -> None:
    c = only_candidate(hub)
    sent = signed_in(hub, ANALYST).post(f"/console/candidates/{c.id}/exclusion",
                                        {"kind": "c2-domain", "value": SINKHOLE, "reason": "r"}, csrf=False)
    assert sent.status_code == 403 and not hub.store.list_exclusions()


def test_an_exclusion_without_a_reason_is_shown_on_the_candidate_page_and_stores_nothing(hub: DemoHub) -> None:
    c = only_candidate(hub)
    sent = signed_in(hub, ANALYST).post(f"/console/candidates/{c.id}/exclusion",
                                        {"kind": "c2-domain", "value": SINKHOLE, "reason": "  "})
    assert sent.status_code == 200 and 'class="problem" role="alert"' in sent.get_data(as_text=True)
    assert not hub.store.list_exclusions()


def test_splitting_from_the_candidate_page_separates_the_chosen_reports(hub: DemoHub) -> None:
    c = only_candidate(hub)
    console = signed_in(hub, ANALYST)
    page = console.get(f"/console/candidates/{c.id}").get_data(as_text=True)
    assert all(f'name="submissions" value="{sid}"' in page for sid in c.submissions)
    sent = console.post(f"/console/candidates/{c.id}/split", {"submissions": [c.submissions[0]], "reason": "other"})
    assert sent.status_code == 303
    (made,) = hub.store.list_overrides()
    assert made.action == "split" and made.side_a == (c.submissions[0],)
    drained(hub)
    assert all(c.submissions[0] not in after.submissions
               for after in hub.services.campaigns.suggest(principal(ANALYST)))


def test_splitting_off_every_report_is_refused_on_the_page(hub: DemoHub) -> None:
    c = only_candidate(hub)
    sent = signed_in(hub, ANALYST).post(f"/console/candidates/{c.id}/split",
                                        {"submissions": list(c.submissions), "reason": "all"})
    assert sent.status_code == 200 and 'role="alert"' in sent.get_data(as_text=True)
    assert not hub.store.list_overrides()


def test_merging_from_the_candidate_page_joins_the_two(hub: DemoHub) -> None:
    for org in ("kita-heavy", "minami-power"):
        sent = hub.submit_record(org, record(org, f"other-{org}", sender="chief@elsewhere.example",
                                             subject="another lure", sent_at="2024-05-01T09:00:00Z"))
        assert sent.status_code == 202
    first, second = drained(hub).services.campaigns.suggest(principal(ANALYST))
    console = signed_in(hub, ANALYST)
    page = console.get(f"/console/candidates/{first.id}").get_data(as_text=True)
    assert f'<option value="{second.id}">' in page
    assert console.post(f"/console/candidates/{first.id}/merge",
                        {"with": second.id, "reason": "one actor"}).status_code == 303
    (merged,) = drained(hub).services.campaigns.suggest(principal(ANALYST))
    assert set(merged.submissions) == {*first.submissions, *second.submissions}


def test_the_exclusions_page_adds_lists_and_removes_exclusions(hub: DemoHub) -> None:
    console = signed_in(hub, ANALYST)
    sent = console.post("/console/exclusions", {"kind": "c2-domain", "value": "*.asia-timeline.example",
                                                "pattern": "1", "reason": "a CDN"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/console/exclusions?queued=1")
    (made,) = hub.store.list_exclusions()
    assert made.pattern and made.value == "*.asia-timeline.example"
    page = console.get("/console/exclusions").get_data(as_text=True)
    assert "*.asia-timeline.example" in page and f'action="/console/exclusions/{made.id}/removal"' in page
    drained(hub)
    assert {e.state for e in only_candidate(hub).evidence if e.value == SINKHOLE} == {"excluded"}
    removed = console.post(f"/console/exclusions/{made.id}/removal", {"reason": "not a CDN after all"})
    assert removed.status_code == 303 and not hub.store.list_exclusions()
    assert [e.action for e in hub.store.list_audit() if e.action in ("exclude", "include")] == ["exclude", "include"]
    assert f"/console/exclusions/{made.id}/removal" not in console.get("/console/exclusions").get_data(as_text=True)


@pytest.mark.parametrize("form", [
    {"kind": "colour", "value": "x", "reason": "r"},
    {"kind": "c2-domain", "value": "", "reason": "r"},
    {"kind": "c2-domain", "value": "x.example", "reason": ""},
])
def test_a_bad_exclusion_is_shown_on_the_exclusions_page(hub: DemoHub, form: dict[str, str]) -> None:
    sent = signed_in(hub, ANALYST).post("/console/exclusions", form)
    assert sent.status_code == 422 and 'role="alert"' in sent.get_data(as_text=True)
    assert not hub.store.list_exclusions()


def test_removing_an_unknown_exclusion_is_the_consoles_404(hub: DemoHub) -> None:
    sent = signed_in(hub, ANALYST).post("/console/exclusions/excl-0000000000000000/removal", {"reason": "r"})
    assert sent.status_code == 404


def test_a_member_never_sees_the_corrections(hub: DemoHub) -> None:
    member = signed_in(hub, "kita-heavy")
    assert member.get("/console/exclusions").status_code == 404
    assert "/console/exclusions" not in member.get("/console/").get_data(as_text=True)
    assert isinstance(member, Console)
