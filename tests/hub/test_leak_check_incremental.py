"""The leak check's knowledge of stored reports is kept incrementally: a report stored after a check protects
its facts from the next check on, and a check reads only the reports stored since the last one (counted through
a store wrapper: no report's content is read twice, and the list of every report is never read)."""

from __future__ import annotations

from typing import Any

import pytest

from taxii_server.hub.leaks import LeakCheck
from taxii_server.model import Submission, SubmissionContent
from tests.support.hubflow import DemoHub, record

VICTIM = "k.tanaka@partner-logistics.example"  # a recipient at no member's domain: only a report protects it


class CountingStore:
    """The hub's store, counting the reads of report contents and of the list of every report."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.contents: list[str] = []
        self.listings = 0

    def get_submission_content(self, submission_id: str) -> SubmissionContent | None:
        self.contents.append(submission_id)
        found: SubmissionContent | None = self._store.get_submission_content(submission_id)
        return found

    def list_submissions(self, org_id: str | None = None) -> list[Submission]:
        self.listings += 1
        found: list[Submission] = self._store.list_submissions(org_id)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture
def counted(demo_hub: DemoHub) -> tuple[CountingStore, LeakCheck]:
    store = CountingStore(demo_hub.store)
    return store, LeakCheck(store, demo_hub.services.publishing.leak_check.options)  # type: ignore[arg-type]


def report(n: int, victim: str) -> dict[str, Any]:
    return record("kita-heavy", f"INC-LEAK-{n}", sender=f"attacker{n}@bad-actor.example", subject=f"請求書 {n}",
                  sent_at=f"2026-01-0{n}T09:00:00Z", victim=victim)


def submit(hub: DemoHub, n: int, victim: str) -> str:
    response = hub.submit_record("kita-heavy", report(n, victim))
    assert response.status_code == 202, response.data
    return str(response.json["id"])


def indicator(text: str) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
            "created": "2026-01-05T00:00:00.000Z", "modified": "2026-01-05T00:00:00.000Z", "description": text,
            "pattern": "[ipv4-addr:value = '198.51.100.1']", "pattern_type": "stix",
            "valid_from": "2026-01-05T00:00:00.000Z"}


def refusals(check: LeakCheck, obj: dict[str, Any]) -> dict[str, str]:
    return check.refusals([obj], lambda ref: False)


def test_a_report_stored_after_the_first_check_is_protected_by_the_next(
    demo_hub: DemoHub, counted: tuple[CountingStore, LeakCheck]
) -> None:
    _, check = counted
    leaking = indicator(f"Write to {VICTIM} for the samples.")
    assert refusals(check, leaking) == {}  # no stored report names the victim yet
    submit(demo_hub, 1, VICTIM)
    refused = refusals(check, leaking)
    assert list(refused) == [leaking["id"]] and VICTIM not in refused[leaking["id"]]


def test_a_check_reads_only_the_reports_stored_since_the_last(
    demo_hub: DemoHub, counted: tuple[CountingStore, LeakCheck]
) -> None:
    store, check = counted
    first = [submit(demo_hub, n, f"staff{n}@partner-logistics.example") for n in (1, 2, 3)]
    clean = indicator("A phishing campaign against the sector.")
    assert refusals(check, clean) == {}
    assert sorted(store.contents) == sorted(first)
    store.contents.clear()
    assert refusals(check, clean) == {}
    assert store.contents == []  # nothing new: nothing read
    later = submit(demo_hub, 4, VICTIM)
    assert list(refusals(check, indicator(f"Write to {VICTIM}."))) == [indicator("")["id"]]
    assert store.contents == [later] and store.listings == 0
