"""The correlation commands: `taxii-hub worker --once`, `campaigns exclude|include|exclusions|split|merge|
rebuild` and the backlog in `doctor`; members are refused with one line, bad input too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from tests.support.hubflow import DemoHub, make_demo_hub, submit_campaign
from tests.support.mispcheck import cli_context


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def run(hub: DemoHub, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(hub.config_path), *args], obj=cli_context())


def one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert lines and fragment in lines[-1] and "Traceback" not in result.output, result.output


def test_the_worker_takes_the_queued_reports_into_the_candidates(hub: DemoHub) -> None:
    submit_campaign(hub)
    assert hub.store.count_candidates() == 0
    result = run(hub, "worker", "--once")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("5 correlation jobs") and "0 waiting" in result.stdout
    assert hub.store.count_candidates() == 1


def test_doctor_shows_the_correlation_backlog(hub: DemoHub) -> None:
    submit_campaign(hub)
    result = run(hub, "doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["correlation"]["detail"].startswith("5 jobs waiting for the correlation step")
    run(hub, "worker", "--once")
    checks = {c["name"]: c for c in json.loads(run(hub, "doctor", "--json").stdout)["checks"]}
    assert checks["correlation"]["detail"] == "no reports waiting for the correlation step"


def test_exclude_split_merge_and_rebuild_from_the_command_line(hub: DemoHub) -> None:
    submit_campaign(hub)
    run(hub, "worker", "--once")
    (candidate,) = hub.services.campaigns.suggest(hub.services.campaigns.store.get_organisation(  # type: ignore[union-attr]
        "hub-analyst").principal())
    excluded = run(hub, "campaigns", "exclude", "c2-domain", "news.asia-timeline.example", "--reason", "sinkhole",
                   "--as", "hub-analyst", "--json")
    assert excluded.exit_code == 0, excluded.output
    exclusion = json.loads(excluded.stdout)
    run(hub, "worker", "--once")
    suggested = json.loads(run(hub, "campaigns", "suggest", "--json").stdout)
    states = {(e["kind"], e["value"]): e["state"] for e in suggested[0]["evidence"]}
    assert states[("c2-domain", "news.asia-timeline.example")] == "excluded"
    listed = json.loads(run(hub, "campaigns", "exclusions", "--json").stdout)
    assert [e["id"] for e in listed["exclusions"]] == [exclusion["id"]]
    split = run(hub, "campaigns", "split", suggested[0]["id"], *suggested[0]["submissions"][:1], "--reason",
                "different actor", "--as", "hub-analyst")
    assert split.exit_code == 0, split.output
    rebuilt = run(hub, "campaigns", "rebuild")
    assert rebuilt.exit_code == 0 and "campaign candidates in" in rebuilt.stdout
    assert run(hub, "campaigns", "include", exclusion["id"], "--reason", "gone", "--as", "hub-analyst").exit_code == 0
    assert [e.action for e in hub.store.list_audit() if e.action in ("exclude", "split", "include")] == [
        "exclude", "split", "include"]
    assert candidate.id


def test_a_member_cannot_exclude_and_bad_input_is_one_line(hub: DemoHub) -> None:
    one_line_error(run(hub, "campaigns", "exclude", "c2-domain", "x.example", "--reason", "r", "--as", "kita-heavy"),
                   "no such")
    one_line_error(run(hub, "campaigns", "exclude", "subject", "x", "--reason", "r", "--as", "hub-analyst"),
                   "subject")
    one_line_error(run(hub, "campaigns", "merge", "cand-0000000000000000", "cand-0000000000000001", "--reason", "r",
                       "--as", "hub-analyst"), "no campaign candidate")
