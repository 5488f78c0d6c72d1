"""A change to the hub's allow-list or to the member register's mail domains re-evaluates the evidence values it
can move between `used` and `over-correlating`: the correlation step alone (no `campaigns rebuild`) leaves the
candidates exactly as a rebuild computes them."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.cli import main
from taxii_server.hub.allowlist import AllowListAdmin
from taxii_server.hub.audit import AuditLog
from taxii_server.hub.correlation import DAY_US, Candidate, Policy, postings_for
from taxii_server.hub.correlator import Correlator
from taxii_server.hub.reevaluation import Reevaluation, affected_values, register_jobs
from taxii_server.model import Posting, Principal, Submission, SubmissionContent
from taxii_server.register import RegisterChange
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.hubflow import DemoHub, attachment, drained, make_demo_hub, principal, record, submit_campaign

ANALYST = "hub-analyst"
SINKHOLE = "news.asia-timeline.example"
SENDER = "boss@new-partner.example"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def candidates(hub: DemoHub) -> list[Candidate]:
    return sorted(hub.services.campaigns.suggest(principal(ANALYST)), key=lambda c: c.id)


def state_of(hub: DemoHub, kind: str, value: str) -> set[str]:
    return {e.state for c in candidates(hub) for e in c.evidence if (e.kind, e.value) == (kind, value)}


def assert_same_as_a_rebuild(hub: DemoHub) -> None:
    incremental = candidates(hub)
    hub.services.campaigns.correlator.rebuild()
    assert candidates(hub) == incremental


def test_allow_listing_a_domain_makes_its_evidence_over_correlating_without_a_rebuild(hub: DemoHub) -> None:
    submit_campaign(hub)
    assert state_of(drained(hub), "c2-domain", SINKHOLE) == {"used"}
    entry = hub.services.allowlist.add(principal(ANALYST), "domain-name", SINKHOLE, "a partner portal")
    assert hub.store.correlation_backlog()[0] == 1
    assert state_of(drained(hub), "c2-domain", SINKHOLE) == {"over-correlating"}
    assert_same_as_a_rebuild(hub)
    hub.services.allowlist.remove(principal(ANALYST), entry.kind, entry.value)
    assert state_of(drained(hub), "c2-domain", SINKHOLE) == {"used"}
    assert_same_as_a_rebuild(hub)


def test_allow_listing_the_only_link_dissolves_the_candidate_and_removing_it_restores_it(hub: DemoHub) -> None:
    lure = attachment("lure")
    for org in ("kita-heavy", "minami-power"):
        sent = hub.submit_record(org, record(org, f"r-{org}", sender=f"x@{org}-lure.example", subject=f"s {org}",
                                             sent_at="2024-05-01T09:00:00Z", attachment=lure))
        assert sent.status_code == 202
    (before,) = candidates(drained(hub))
    hub.services.allowlist.add(principal(ANALYST), "sha256", lure["sha256"], "a common installer")
    assert candidates(drained(hub)) == []
    assert_same_as_a_rebuild(hub)
    hub.services.allowlist.remove(principal(ANALYST), "sha256", lure["sha256"])
    assert candidates(drained(hub)) == [before]


def _shared_sender(hub: DemoHub, sender: str = SENDER) -> Candidate:
    for org in ("kita-heavy", "minami-power"):
        sent = hub.submit_record(org, record(org, f"r-{org}", sender=sender, subject=f"s {org}",
                                             sent_at="2024-05-01T09:00:00Z"))
        assert sent.status_code == 202
    (found,) = candidates(drained(hub))
    return found


def test_a_mail_domain_added_to_the_register_stops_its_senders_linking_reports(hub: DemoHub) -> None:
    _shared_sender(hub)
    accounts = hub.app.extensions["taxii_hub"].accounts
    accounts.change_register(OPERATOR, "partner-vendor", RegisterChange(add_domains=("new-partner.example",)))
    assert candidates(drained(hub)) == []
    assert_same_as_a_rebuild(hub)
    accounts.change_register(OPERATOR, "partner-vendor", RegisterChange(remove_domains=("new-partner.example",)))
    assert len(candidates(drained(hub))) == 1
    assert_same_as_a_rebuild(hub)


def test_a_registered_domain_covers_the_senders_at_its_subdomains(hub: DemoHub) -> None:
    (evidence,) = _shared_sender(hub, "boss@mail.new-partner.example").evidence
    assert evidence.state == "used"
    accounts = hub.app.extensions["taxii_hub"].accounts
    accounts.change_register(OPERATOR, "partner-vendor", RegisterChange(add_domains=("new-partner.example",)))
    assert candidates(drained(hub)) == []
    assert_same_as_a_rebuild(hub)


def test_the_register_commands_queue_the_re_evaluation_too(hub: DemoHub) -> None:
    _shared_sender(hub)
    result = CliRunner().invoke(main, ["--config", str(hub.config_path), "org", "set", "partner-vendor",
                                       "--domain", "new-partner.example"])
    assert result.exit_code == 0, result.output
    assert candidates(drained(hub)) == []
    added = CliRunner().invoke(main, ["--config", str(hub.config_path), "org", "add", "newcomer", "--name", "N",
                                      "--group", "gas", "--domain", "other-new.example"])
    assert added.exit_code == 0, added.output
    assert hub.store.correlation_backlog()[0] == 2
    assert_same_as_a_rebuild(hub)


def test_register_jobs_name_only_the_domains_that_changed() -> None:
    assert register_jobs(("a.example", "b.example"), ("b.example",)) == [
        "v:sender-address\t*@a.example", "v:sender-address\t*@*.a.example"]
    assert register_jobs(("a.example",), ("a.example",)) == []
    assert register_jobs((), ("we[ir]d*.example",)) == [
        "v:sender-address\t*@we[[]ir]d[*].example", "v:sender-address\t*@*.we[[]ir]d[*].example"]


def test_an_allow_list_entry_matches_the_evidence_values_of_every_kind_it_speaks_for(hub: DemoHub) -> None:
    submit_campaign(hub)
    drained(hub)
    found = set(affected_values(hub.store, "domain-name", "asia-timeline.example"))
    assert ("c2-domain", SINKHOLE) in found
    assert all(kind in ("c2-domain", "url", "c2-url", "sender-address") and "asia-timeline.example" in value
               for kind, value in found)
    assert affected_values(hub.store, "domain-name", "nowhere.example") == []


INDEXED = [
    ("url", "https://NEWS.Asia-Timeline.example/a?b=1"), ("url", "http://ｗｗｗ.asia-timeline.example/"),
    ("url", "https://xn--r8jz45g.example/p"), ("url", "http://192.0.2.7:8080/x"), ("url", "http://[2001:db8::7]/"),
    ("c2-domain", "c2.asia-timeline.example"), ("c2-domain", "notasia-timeline.example"),
    ("c2-ip", "192.0.2.9"), ("c2-ip", "198.51.100.1"), ("sender-address", "boss@mail.asia-timeline.example"),
    ("sender-address", "x@例え.example"), ("file-hash", "sha256:" + "ab" * 32),
]


@pytest.mark.parametrize(("kind", "value", "wanted"), [
    ("domain-name", "asia-timeline.example", {
        ("url", "https://NEWS.Asia-Timeline.example/a?b=1"), ("url", "http://ｗｗｗ.asia-timeline.example/"),
        ("c2-domain", "c2.asia-timeline.example"), ("sender-address", "boss@mail.asia-timeline.example")}),
    ("domain-name", "xn--r8jz45g.example", {("url", "https://xn--r8jz45g.example/p"),
                                            ("sender-address", "x@例え.example")}),
    ("ipv4-addr", "192.0.2.0/24", {("url", "http://192.0.2.7:8080/x"), ("c2-ip", "192.0.2.9")}),
    ("ipv6-addr", "2001:db8::/32", {("url", "http://[2001:db8::7]/")}),
    ("email-addr", "boss@mail.asia-timeline.example", {("sender-address", "boss@mail.asia-timeline.example")}),
    ("url", "https://news.asia-timeline.example/a?b=1", {("url", "https://NEWS.Asia-Timeline.example/a?b=1")}),
    ("sha256", "ab" * 32, {("file-hash", "sha256:" + "ab" * 32)}),
])
def test_an_allow_list_entry_finds_every_indexed_value_it_matches_whatever_its_case_width_or_script(
    tmp_path: Path, kind: str, value: str, wanted: set[tuple[str, str]],
) -> None:
    store = SQLiteStore(tmp_path / "index.sqlite3")
    store.initialise()
    try:
        for n, (evidence, indexed) in enumerate(INDEXED):
            store.set_postings(f"sub-{n}", [Posting(evidence, indexed, f"sub-{n}", "org", 1, 1, True)])
        assert set(affected_values(store, kind, value)) == wanted
    finally:
        store.close()


# -- property: any history of reports, allow-list and register changes ends as a rebuild -----------------------

ORGS = ("org-a", "org-b", "org-c")
POLICY = Policy(window_us=10 * DAY_US, max_organisations=2, max_span_us=20 * DAY_US, max_reports=3)
VALUES = [("c2-domain", "x.cdn.example"), ("c2-domain", "y.cdn.example"), ("url", "https://u.example/p"),
          ("sender-address", "mallory@evil.example"), ("sender-address", "boss@mail.evil.example"),
          ("file-hash", "sha256:" + "c" * 64)]
ALLOWED = [("domain-name", "cdn.example"), ("domain-name", "u.example"), ("email-addr", "mallory@evil.example"),
           ("sha256", "c" * 64)]
_stores = itertools.count()
submit = st.tuples(st.just("submit"), st.tuples(st.sampled_from(ORGS), st.integers(0, 15),
                                              st.sets(st.sampled_from(VALUES), min_size=1, max_size=3)))
change = st.one_of(st.tuples(st.just("allow"), st.sampled_from(ALLOWED)),
                   st.tuples(st.just("register"), st.sampled_from(["evil.example", "cdn.example"])))


@st.composite
def history(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Reports taken in by the step, then changes to the lists interleaved with more reports and partial
    drains (a change after the reports' jobs ran is the case a missed re-evaluation gets wrong)."""
    first = draw(st.lists(submit, min_size=2, max_size=12))
    later = draw(st.lists(st.one_of(change, change, submit, st.tuples(st.just("drain"), st.integers(0, 2))),
                          min_size=1, max_size=8))
    return [*first, ("drain", 0), *later]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=history())
def test_after_allow_list_and_register_changes_the_step_alone_ends_as_a_rebuild(
    tmp_path: Path, actions: list[tuple[str, Any]],
) -> None:
    store = SQLiteStore(tmp_path / f"p{next(_stores)}.sqlite3")
    store.initialise()
    try:
        reevaluation = Reevaluation(store, clock=lambda: 1)
        accounts = Accounts(store, on_register_change=reevaluation.register_changed)
        for org in ORGS:
            accounts.add_organisation(OPERATOR, org, org, f"g-{org}")
        accounts.add_organisation(OPERATOR, "hub-desk", "hub", "hub", ("analyst",))
        allow = AllowListAdmin(store, AuditLog(store), on_change=reevaluation.allow_list_changed)
        correlator = Correlator(store, POLICY, clock=lambda: 1)
        hub = Principal("hub-desk", "hub", frozenset({"analyst"}))
        for n, (kind, arg) in enumerate(actions):
            if kind == "submit":
                org, day, values = arg
                s = Submission(f"s{n:03d}", org, n, "test", "application/json", "converted", "amber",
                               first_seen_us=day * DAY_US, last_seen_us=day * DAY_US + 3600,
                               features=tuple(sorted(values)), content_sha256=f"s{n:03d}")
                postings = [dataclasses.replace(p, live=False) for p in postings_for(s)]
                assert store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings, n) is None
            elif kind == "drain":
                correlator.drain(limit=arg or None)
            elif kind == "allow":
                if any(e.kind == arg[0] for e in store.list_allowed(arg[0]) if e.value == arg[1]):
                    allow.remove(hub, *arg)
                else:
                    allow.add(hub, *arg, "test")
            elif kind == "register":
                owned = store.get_organisation("org-c")
                assert owned is not None
                change = RegisterChange(remove_domains=(arg,)) if arg in owned.domains else RegisterChange(
                    add_domains=(arg,))
                accounts.change_register(OPERATOR, "org-c", change)
        correlator.drain()
        incremental = store.list_candidates(None, 10_000)
        correlator.rebuild()
        assert store.list_candidates(None, 10_000) == incremental
    finally:
        store.close()
