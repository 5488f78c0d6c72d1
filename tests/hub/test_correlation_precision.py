"""Precision and recall of correlation against the ground truth of a generated history (bench/corrgen.py):
every planted campaign is found whole, and no candidate joins two campaigns, a campaign and a decoy, or
anything through a popular benign value. The history arrives out of order, through the real intake path of
the store, and is taken in by the queued correlation step; a full rebuild then gives the same candidates."""

from __future__ import annotations

import random

import orjson
import pytest

from bench import corrgen
from taxii_server.hub.correlation import Policy, postings_for
from taxii_server.hub.correlator import Correlator
from taxii_server.model import Organisation, SubmissionContent
from taxii_server.storage.sqlite import SQLiteStore

SIZE = 1500


@pytest.fixture(scope="module")
def correlated(tmp_path_factory: pytest.TempPathFactory) -> tuple[SQLiteStore, corrgen.History, Correlator]:
    store = SQLiteStore(tmp_path_factory.mktemp("precision") / "hub.sqlite3")
    store.initialise()
    for org_id, group in corrgen.groups().items():
        store.add_organisation(Organisation(org_id, org_id, group, ("member",), "2024-01-01T00:00:00Z"))
    history = corrgen.generate(SIZE, seed=5)
    arrivals = list(history.submissions)
    random.Random(5).shuffle(arrivals)  # out of order: late reports of old campaigns arrive after newer ones
    correlator = Correlator(store, Policy())
    for start in range(0, len(arrivals), 97):
        with store.atomic():  # one commit per 97 reports: the test waits less for the disk
            for n, s in enumerate(arrivals[start:start + 97], start):
                store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings_for(s), n)
        correlator.drain()
    return store, history, correlator


def _found(store: SQLiteStore) -> list[set[str]]:
    return [set(c.members) for c in store.list_candidates(None, 100_000)]


def test_every_planted_campaign_is_found_whole(correlated: tuple[SQLiteStore, corrgen.History, Correlator]) -> None:
    store, history, _ = correlated
    found = _found(store)
    planted = history.campaigns()
    assert len(planted) > 10
    missing = [n for n, members in planted.items() if members not in found]
    assert missing == []


def test_no_candidate_joins_campaigns_decoys_or_popular_values(
        correlated: tuple[SQLiteStore, corrgen.History, Correlator]) -> None:
    store, history, _ = correlated
    planted = [members for members in history.campaigns().values()]
    stray = [members for members in _found(store) if members not in planted]
    assert stray == []


def test_popular_values_are_shown_as_over_correlating_never_used(
        correlated: tuple[SQLiteStore, corrgen.History, Correlator]) -> None:
    store, _, _ = correlated
    popular = {(kind, value) for kind, value, _ in corrgen.POPULAR}
    states = {(e["kind"], e["value"]): e["state"] for c in store.list_candidates(None, 100_000)
              for e in orjson.loads(c.doc)["evidence"]}
    shown = {key: state for key, state in states.items() if key in popular}
    assert shown and set(shown.values()) == {"over-correlating"}


def test_a_full_rebuild_of_the_history_gives_the_same_candidates(
        correlated: tuple[SQLiteStore, corrgen.History, Correlator]) -> None:
    store, _, correlator = correlated
    before = store.list_candidates(None, 100_000)
    assert correlator.rebuild() == len(before)
    assert store.list_candidates(None, 100_000) == before


def test_the_benchs_bulk_loaded_history_correlates_as_the_intake_path_does(
        correlated: tuple[SQLiteStore, corrgen.History, Correlator], tmp_path_factory: pytest.TempPathFactory) -> None:
    """bench/correlation.py writes its histories straight into the tables (set-up at a million reports): the
    store must read them as its own (same submissions, same candidates after a rebuild)."""
    from bench.correlation import load

    store, history, _ = correlated
    path = tmp_path_factory.mktemp("bulk") / "hub.sqlite3"
    truth = load(path, SIZE, seed=5)
    assert truth == history.campaign_of
    bulk = SQLiteStore(path)
    bulk.initialise()
    assert Correlator(bulk, Policy()).rebuild() == store.count_candidates()
    assert sorted(map(sorted, _found(bulk))) == sorted(map(sorted, _found(store)))
    some = history.submissions[len(history.submissions) // 2]
    assert bulk.get_submission(some.id) == some
    bulk.close()
