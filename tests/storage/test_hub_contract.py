"""The hub-record part of the storage contract (submissions, publications, audit), run on every backend."""

from __future__ import annotations

import pytest

from taxii_server.model import AuditEntry, Publication, SubmissionContent
from taxii_server.storage.base import Store
from tests.support.contract import T0, submission


def test_submissions_round_trip_with_their_content(store: Store) -> None:
    sub = submission(1, first_seen_us=T0 - 5, last_seen_us=T0 - 1)
    store.add_submission(sub, SubmissionContent(b"raw", b"[]", b"{}"))
    assert store.get_submission("sub-1") == sub
    assert store.get_submission_content("sub-1") == SubmissionContent(b"raw", b"[]", b"{}")
    assert store.get_submission("sub-2") is None


def test_updating_a_submission_keeps_its_content(store: Store) -> None:
    store.add_submission(submission(1), SubmissionContent(b"raw", b"[]", b"{}"))
    store.update_submission(submission(1, state="published", publications=("pub-1",)))
    assert store.get_submission("sub-1").publications == ("pub-1",)  # type: ignore[union-attr]
    assert store.get_submission_content("sub-1").raw == b"raw"  # type: ignore[union-attr]


def test_submissions_are_listed_oldest_first_and_per_organisation(store: Store) -> None:
    for n, org in ((3, "org-b"), (1, "org-a"), (2, "org-a")):
        store.add_submission(submission(n, org), SubmissionContent(b"", b"[]", b"{}"))
    assert [s.id for s in store.list_submissions()] == ["sub-1", "sub-2", "sub-3"]
    assert [s.id for s in store.list_submissions("org-a")] == ["sub-1", "sub-2"]


def test_publications_round_trip_and_can_be_replaced(store: Store) -> None:
    pending = Publication("pub-1", "Campaign", "desc", "amber", ("c1",), ("sub-1",), "cand-1", "desk", None,
                          "pending-approval", T0)
    store.save_publication(pending, b"{}")
    published = Publication(**{**pending.__dict__, "state": "published", "approver": "desk2", "published_us": T0 + 1,
                               "object_ids": ("indicator--1",)})
    store.save_publication(published, b'{"type":"bundle"}')
    assert store.get_publication("pub-1") == (published, b'{"type":"bundle"}')
    assert store.list_publications() == [published]


def test_audit_entries_keep_their_order(store: Store) -> None:
    entries = [AuditEntry(f"a{n}", T0 + n, "desk", "publish", f"pub-{n}", "{}") for n in range(5)]
    for e in entries:
        store.add_audit(e)
    assert store.list_audit() == entries
    assert store.list_audit(since_us=T0 + 3) == entries[3:]
    assert store.list_audit(limit=2) == entries[:2]


@pytest.mark.parametrize("state", ["received", "rejected", "dismissed"])
def test_any_state_round_trips(store: Store, state: str) -> None:
    store.add_submission(submission(1, state=state, errors=("x: bad",)), SubmissionContent(b"", b"[]", b"{}"))
    assert store.get_submission("sub-1").state == state  # type: ignore[union-attr]
