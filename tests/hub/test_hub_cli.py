"""The hub on the command line: submit, submissions, dismiss, campaigns suggest/publish, publish,
publications list/approve, stats (with charts) and audit — acting `--as` an organisation, printing `--json`,
and failing with one line on stderr."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from tests.support.hubflow import CAMPAIGN_FILES, EML, MEMBER_FEED, RECORDS, DemoHub, make_demo_hub, reporter_of
from tests.support.mispcheck import cli_context


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    built.store.close()  # the commands open the database themselves
    yield built
    built.store.close()


@pytest.fixture
def two_person(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path, "[hub]\ntwo_person_rule = true\n")
    built.store.close()
    yield built
    built.store.close()


def run(hub: DemoHub, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(hub.config_path), *args], obj=cli_context())


def ok_json(hub: DemoHub, *args: str) -> Any:
    result = run(hub, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("taxii-hub: ") and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def submit_campaign(hub: DemoHub) -> list[str]:
    ids = []
    for path in CAMPAIGN_FILES:
        (view,) = ok_json(hub, "submit", str(path), "--as", reporter_of(path))
        ids.append(view["id"])
    return ids


def candidate(hub: DemoHub) -> dict[str, Any]:
    (found,) = ok_json(hub, "campaigns", "suggest", "--as", "hub-analyst")
    return dict(found)


# -- submit and submissions ---------------------------------------------------------------------------------

def test_submit_as_a_member_prints_the_submission(hub: DemoHub) -> None:
    (view,) = ok_json(hub, "submit", str(RECORDS / "case10-unrelated-phishing.json"), "--as", "nishi-chem")
    assert view["status"] == "converted" and view["record_ids"] == ["NISHI-2013-0099"]
    assert "organisation" not in view


def test_submit_an_eml(hub: DemoHub) -> None:
    (view,) = ok_json(hub, "submit", str(EML / "case04-step3-word.eml"), "--as", "kita-heavy")
    assert view["status"] == "converted" and view["media_type"] == "message/rfc822"


def test_submit_without_as_is_a_usage_error(hub: DemoHub) -> None:
    result = run(hub, "submit", str(RECORDS / "case10-unrelated-phishing.json"))
    assert result.exit_code == 2 and "--as ORG is required" in result.stderr


def test_submit_for_another_reporter_is_one_line_and_stores_nothing(hub: DemoHub) -> None:
    one_line_error(run(hub, "submit", str(CAMPAIGN_FILES[1]), "--as", "kita-heavy"), "not your organisation")
    assert ok_json(hub, "submissions", "list", "--as", "hub-analyst") == []


def test_submit_a_missing_file_is_one_line(hub: DemoHub, tmp_path: Path) -> None:
    one_line_error(run(hub, "submit", str(tmp_path / "nope.json"), "--as", "kita-heavy"), "no such file")


def test_acting_as_an_unknown_organisation_is_one_line(hub: DemoHub) -> None:
    one_line_error(run(hub, "submissions", "list", "--as", "nobody"), "no organisation 'nobody'")


def test_submitting_the_same_file_again_gives_the_same_submission(hub: DemoHub) -> None:
    path = str(RECORDS / "case10-unrelated-phishing.json")
    (first,) = ok_json(hub, "submit", path, "--as", "nishi-chem")
    (second,) = ok_json(hub, "submit", path, "--as", "nishi-chem")
    assert first["id"] == second["id"]


def test_a_member_lists_only_its_own_submissions(hub: DemoHub) -> None:
    submit_campaign(hub)
    listed = ok_json(hub, "submissions", "list", "--as", "chuo-oil")
    assert [v["record_ids"] for v in listed] == [["CHUO-2013-1003"]]
    assert len(ok_json(hub, "submissions", "list", "--as", "hub-analyst")) == 5


def test_show_another_members_submission_is_one_line(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    one_line_error(run(hub, "submissions", "show", ids[0], "--as", "higashi-gas"), "no such submission")


# -- dismissal ----------------------------------------------------------------------------------------------

def test_an_analyst_dismisses(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    result = run(hub, "dismiss", ids[0], "--as", "hub-analyst", "--reason", "test")
    assert result.exit_code == 0 and result.stdout.strip() == f"{ids[0]} dismissed"
    shown = ok_json(hub, "submissions", "list", "--as", "hub-analyst")
    assert {v["id"]: v["status"] for v in shown}[ids[0]] == "dismissed"


def test_a_member_cannot_dismiss(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    one_line_error(run(hub, "dismiss", ids[0], "--as", "kita-heavy"), "no such submission")


# -- campaigns and publishing -------------------------------------------------------------------------------

def test_campaigns_suggest_lists_the_campaign_with_its_evidence(hub: DemoHub) -> None:
    submit_campaign(hub)
    found = candidate(hub)
    assert len(found["organisations"]) == 5
    assert {"file-hash", "c2-domain", "c2-ip"} <= {e["kind"] for e in found["evidence"]}
    human = run(hub, "campaigns", "suggest")
    assert human.exit_code == 0 and f"{found['id']}  5 reports from 5 organisations" in human.stdout


def test_campaigns_suggest_as_a_member_is_one_line(hub: DemoHub) -> None:
    submit_campaign(hub)
    one_line_error(run(hub, "campaigns", "suggest", "--as", "kita-heavy"), "no such campaign candidate")


def test_campaigns_publish_writes_to_the_member_feed(hub: DemoHub) -> None:
    submit_campaign(hub)
    published = ok_json(hub, "campaigns", "publish", candidate(hub)["id"], "--name", "Campaign", "--tlp", "amber",
                        "--to", "member-feed", "--as", "hub-analyst")
    assert published["status"] == "published" and published["collections"] == [MEMBER_FEED]
    served = hub.taxii(f"collections/{MEMBER_FEED}/objects/", "minami-power").json["objects"]
    assert {o["id"] for o in served} == set(published["objects"])
    listed = ok_json(hub, "publications", "list")
    assert [p["id"] for p in listed] == [published["id"]]


def test_publications_show_prints_the_publication_and_its_bundle(hub: DemoHub) -> None:
    submit_campaign(hub)
    published = ok_json(hub, "campaigns", "publish", candidate(hub)["id"], "--name", "Campaign", "--tlp", "amber",
                        "--to", "member-feed", "--as", "hub-analyst")
    result = run(hub, "publications", "show", published["id"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["id"] == published["id"] and shown["status"] == "published"
    assert {o["id"] for o in shown["bundle"]["objects"]} >= set(published["objects"])


def test_publications_show_of_an_unknown_id_is_one_line(hub: DemoHub) -> None:
    one_line_error(run(hub, "publications", "show", "publication--00000000-0000-4000-8000-000000000000"),
                   "publication")


def test_publish_preview_prints_the_bundle_and_writes_nothing(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    result = run(hub, "publish", ids[0], "--name", "One", "--tlp", "amber", "--to", "member-feed",
                 "--as", "hub-analyst", "--preview")
    assert result.exit_code == 0, result.output
    preview = json.loads(result.stdout)
    assert preview["findings"] == [] and preview["bundle"]["type"] == "bundle"
    assert ok_json(hub, "publications", "list") == []


def test_publish_refused_by_the_leak_check_is_one_line(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    one_line_error(run(hub, "publish", ids[0], "--name", "Kita Heavy Industries (demo)", "--tlp", "amber",
                       "--to", "member-feed", "--as", "hub-analyst"), "refused by the leak check")
    assert ok_json(hub, "publications", "list") == []


def test_publish_above_the_ceiling_is_one_line(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    one_line_error(run(hub, "publish", ids[0], "--name", "x", "--tlp", "red", "--to", "member-feed",
                       "--as", "hub-analyst"), "at most TLP:AMBER")


def test_two_person_rule_on_the_command_line(two_person: DemoHub) -> None:
    submit_campaign(two_person)
    pending = ok_json(two_person, "campaigns", "publish", candidate(two_person)["id"], "--name", "C",
                      "--tlp", "amber", "--to", "member-feed", "--as", "hub-analyst")
    assert pending["status"] == "pending-approval"
    one_line_error(run(two_person, "publications", "approve", pending["id"], "--as", "hub-analyst"),
                   "different analyst")
    approved = ok_json(two_person, "publications", "approve", pending["id"], "--as", "hub-approver")
    assert approved["status"] == "published" and approved["approved_by"] == "hub-approver"


def test_approved_by_at_publish_time_publishes_at_once(two_person: DemoHub) -> None:
    submit_campaign(two_person)
    published = ok_json(two_person, "campaigns", "publish", candidate(two_person)["id"], "--name", "C",
                        "--tlp", "amber", "--to", "member-feed", "--as", "hub-analyst",
                        "--approved-by", "hub-approver")
    assert published["status"] == "published"


def test_approved_by_the_same_analyst_is_refused(two_person: DemoHub) -> None:
    submit_campaign(two_person)
    one_line_error(run(two_person, "campaigns", "publish", candidate(two_person)["id"], "--name", "C",
                       "--tlp", "amber", "--to", "member-feed", "--as", "hub-analyst",
                       "--approved-by", "hub-analyst"), "different analyst")
    assert ok_json(two_person, "publications", "list") == []


# -- stats and audit ----------------------------------------------------------------------------------------

def test_stats_json_and_charts(hub: DemoHub, tmp_path: Path) -> None:
    for path in sorted(RECORDS.glob("*.json")):
        ok_json(hub, "submit", str(path), "--as", reporter_of(path))
    charts = tmp_path / "charts"
    stats = ok_json(hub, "stats", "--charts", str(charts))
    assert stats["reports_received"] == 10 and stats["c2_countries"] == {"HK": 5, "JP": 2, "US": 1}
    assert len(stats["charts"]) == 4
    for name in stats["charts"]:
        assert Path(name).parent == charts and Path(name).read_text().startswith("<svg ")


def test_stats_with_a_bad_date_is_a_usage_error(hub: DemoHub) -> None:
    result = run(hub, "stats", "--since", "someday")
    assert result.exit_code == 2 and "--since" in result.stderr


def test_stats_as_a_member_is_one_line(hub: DemoHub) -> None:
    one_line_error(run(hub, "stats", "--as", "kita-heavy"), "no such statistics")


def test_audit_lists_who_did_what(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    run(hub, "dismiss", ids[0], "--as", "hub-analyst")
    rows = ok_json(hub, "audit")
    assert [r["action"] for r in rows].count("submit") == 5
    assert {"actor": "hub-analyst", "action": "dismiss", "target": ids[0]}.items() <= next(
        r for r in rows if r["action"] == "dismiss").items()
    one_line_error(run(hub, "audit", "--as", "kita-heavy"), "no such audit trail")
