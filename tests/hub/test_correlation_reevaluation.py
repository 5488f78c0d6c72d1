"""A change to the hub's allow-list or to the member register's mail domains re-evaluates the evidence values it
can move between `used` and `over-correlating`: the correlation step alone (no `campaigns rebuild`) leaves the
candidates exactly as a rebuild computes them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from taxii_server.accounts import OPERATOR
from taxii_server.cli import main
from taxii_server.hub.correlation import Candidate
from taxii_server.hub.reevaluation import affected_values, register_jobs
from taxii_server.model import Posting
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
