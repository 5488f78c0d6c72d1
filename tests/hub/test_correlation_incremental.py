"""The incremental correlation step gives exactly what a full rebuild gives (property test).

Histories are generated with few values, organisations and days, so that reports collide, values cross the
over-correlation limits in both directions, and the window cuts links: reports arrive in any order (late
reports of old attacks included), the queue is drained at arbitrary points, reports are dismissed, values
and patterns excluded and exclusions withdrawn, candidates split and merged. After the queue is drained the
stored candidates — members, ids and documents with each value's state — must equal a rebuild's, on SQLite
and on MongoDB.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import mongomock
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from taxii_server.hub.audit import AuditLog
from taxii_server.hub.campaigns import Campaigns
from taxii_server.hub.correlation import DAY_US, Policy, postings_for
from taxii_server.hub.correlator import Correlator
from taxii_server.model import Organisation, Principal, Submission, SubmissionContent
from taxii_server.storage.base import Store
from taxii_server.storage.mongo import MongoStore
from taxii_server.storage.sqlite import SQLiteStore

ANALYST = Principal("hub-analyst", "hub", frozenset({"analyst"}))
ORGS = ("a", "b", "c", "d")
POLICY = Policy(window_us=10 * DAY_US, max_organisations=2, max_span_us=20 * DAY_US, max_reports=3)
VALUES = [("file-hash", "sha256:1"), ("file-hash", "sha256:2"), ("c2-domain", "x.cdn.example"),
          ("c2-domain", "y.cdn.example"), ("url", "https://u.example/"), ("sender-address", "boss@a.example"),
          ("sender-address", "mallory@evil.example"), ("victim-domain", "a.example")]
_counter = itertools.count()

report = st.tuples(st.sampled_from(ORGS), st.integers(0, 30), st.sets(st.sampled_from(VALUES), min_size=1, max_size=3))
operation = st.one_of(
    st.tuples(st.just("drain"), st.integers(0, 3)),
    st.tuples(st.just("dismiss"), st.integers(0, 30)),
    st.tuples(st.just("exclude"), st.sampled_from([("c2-domain", "*.cdn.example", True),
                                                   ("file-hash", "sha256:1", False)])),
    st.tuples(st.just("include"), st.integers(0, 3)),
    st.tuples(st.just("split"), st.integers(0, 5)),
    st.tuples(st.just("merge"), st.integers(0, 5)),
)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """Reports in arrival order with analysts' and workers' operations interleaved."""
    actions: list[tuple[str, Any]] = [("submit", r) for r in draw(st.lists(report, min_size=3, max_size=24))]
    for position, op in draw(st.lists(st.tuples(st.integers(0, 24), operation), max_size=10)):
        actions.insert(min(position, len(actions)), op)
    return actions


def _sqlite(tmp: Path) -> Store:
    return SQLiteStore(tmp / f"h{next(_counter)}.sqlite3")


def _mongo(tmp: Path) -> Store:
    client: Any = mongomock.MongoClient()
    return MongoStore(lambda: client, "prop")


def _run(store: Store, actions: list[tuple[str, Any]]) -> None:
    store.initialise()
    for org in ORGS:
        store.add_organisation(Organisation(org, org, f"g-{org}", ("member",), "2024-01-01T00:00:00Z"))
    correlator = Correlator(store, POLICY, clock=lambda: 1)
    campaigns = Campaigns(store, correlator, AuditLog(store, clock=lambda: 1), clock=lambda: 1)
    submitted: list[str] = []
    for n, (kind, arg) in enumerate(actions):
        if kind == "submit":
            org, day, values = arg
            sid = f"s{n:03d}"
            s = Submission(sid, org, n, "test", "application/json", "converted", "amber",
                           first_seen_us=day * DAY_US, last_seen_us=day * DAY_US + 3600, features=tuple(sorted(values)),
                           content_sha256=sid)
            postings = [dataclasses.replace(p, live=False) for p in postings_for(s)]
            assert store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings, n) is None
            submitted.append(sid)
        elif kind == "drain":
            correlator.drain(limit=arg or None)
        elif kind == "dismiss" and submitted:
            found = store.get_submission(submitted[arg % len(submitted)])
            assert found is not None
            store.update_submission(dataclasses.replace(found, state="dismissed"))
            store.enqueue_correlation([f"s:{found.id}"], n)
        elif kind == "exclude":
            value_kind, value, pattern = arg
            campaigns.exclude(ANALYST, value_kind, value, "test", pattern)
        elif kind == "include":
            current = store.list_exclusions()
            if current:
                campaigns.include(ANALYST, current[arg % len(current)].id, "test")
        elif kind in ("split", "merge"):
            correlator.drain()
            found = store.list_candidates(None, 100)
            if kind == "split" and found:
                c = found[arg % len(found)]
                campaigns.split(ANALYST, c.id, c.members[:1], "test")
            elif kind == "merge" and len(found) >= 2:
                a, b = found[arg % len(found)], found[(arg + 1) % len(found)]
                campaigns.merge(ANALYST, a.id, b.id, "test")
    correlator.drain()
    incremental = store.list_candidates(None, 10_000)
    correlator.rebuild()
    assert store.list_candidates(None, 10_000) == incremental
    correlator.rebuild(reindex=True)
    assert store.list_candidates(None, 10_000) == incremental


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=histories())
def test_incremental_correlation_equals_a_rebuild_on_sqlite(tmp_path: Path, actions: list[tuple[str, Any]]) -> None:
    store = _sqlite(tmp_path)
    try:
        _run(store, actions)
    finally:
        store.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=histories())
def test_incremental_correlation_equals_a_rebuild_on_mongodb(tmp_path: Path, actions: list[tuple[str, Any]]) -> None:
    _run(_mongo(tmp_path), actions)


def test_a_value_crossing_the_organisation_limit_stops_linking_and_is_shown_over_correlating(
        tmp_path: Path) -> None:
    """A positive control for the property: the scenario the guard exists for, step by step."""
    store = _sqlite(tmp_path)
    store.initialise()
    correlator = Correlator(store, POLICY, clock=lambda: 1)
    shared = ("c2-ip", "192.0.2.1")
    for n, org in enumerate(("a", "b")):
        s = Submission(f"s{n}", org, n, "t", "application/json", "converted", "amber", first_seen_us=n * DAY_US,
                       last_seen_us=n * DAY_US, features=(shared,), content_sha256=f"s{n}")
        store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings_for(s), n)
    correlator.drain()
    (linked,) = store.list_candidates(None, 10)
    assert linked.members == ("s0", "s1")
    s = Submission("s2", "c", 2, "t", "application/json", "converted", "amber", first_seen_us=2 * DAY_US,
                   last_seen_us=2 * DAY_US, features=(shared,), content_sha256="s2")
    store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings_for(s), 2)
    correlator.drain()
    assert store.list_candidates(None, 10) == []  # three organisations > max_organisations = 2
    store.close()


def test_a_sender_whose_domain_turns_out_to_be_a_members_stops_linking(tmp_path: Path) -> None:
    """Positive control: a later report naming the sender's domain as a victim's makes that sender a spoofed
    member address; the candidate it alone formed goes."""
    store = _sqlite(tmp_path)
    store.initialise()
    correlator = Correlator(store, POLICY, clock=lambda: 1)
    sender = ("sender-address", "boss@a.example")
    reports = [("s0", "b", (sender,)), ("s1", "c", (sender,)), ("s2", "d", (("victim-domain", "a.example"),))]
    for n, (sid, org, features) in enumerate(reports):
        s = Submission(sid, org, n, "t", "application/json", "converted", "amber", first_seen_us=DAY_US,
                       last_seen_us=DAY_US, features=features, content_sha256=sid)
        store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings_for(s), n)
        correlator.drain()
        if sid == "s1":
            assert [c.members for c in store.list_candidates(None, 10)] == [("s0", "s1")]
    assert store.list_candidates(None, 10) == []
    store.close()
