"""The order submissions were stored in (`submissions_arrived_after`), on every backend: positions grow in the
order of storing, not of `received_at`; a reader that keeps its last position gets each later submission once;
an import stores a submission anew (a new position); a new state keeps the position."""

from __future__ import annotations

import dataclasses

from taxii_server.model import SubmissionContent
from taxii_server.storage.base import Store
from tests.support.contract import T0, submission

CONTENT = SubmissionContent(b"raw", b"[]", b"{}")


def arrived(store: Store, after: int = 0, limit: int = 100) -> list[str]:
    return [s.id for _, s in store.submissions_arrived_after(after, limit)]


def test_submissions_arrive_in_the_order_they_were_stored_not_received(store: Store) -> None:
    store.add_submission(submission(2), CONTENT)
    store.add_submission(submission(1, received_at_us=T0 - 1_000_000), CONTENT)  # received earlier, stored later
    store.add_submission_once(submission(3, content_sha256="c3"), CONTENT, [], T0)
    positions = [p for p, _ in store.submissions_arrived_after(0, 100)]
    assert arrived(store) == ["sub-2", "sub-1", "sub-3"]
    assert positions == sorted(set(positions)) and positions[0] > 0


def test_a_reader_keeping_its_position_gets_each_later_submission_once(store: Store) -> None:
    store.add_submission(submission(1), CONTENT)
    ((first, _),) = store.submissions_arrived_after(0, 100)
    assert arrived(store, first) == []
    store.add_submission(submission(2), CONTENT)
    store.add_submission(submission(3), CONTENT)
    assert arrived(store, first, limit=1) == ["sub-2"]
    assert arrived(store, first) == ["sub-2", "sub-3"]


def test_a_duplicate_report_stored_once_arrives_once(store: Store) -> None:
    store.add_submission_once(submission(1, content_sha256="same"), CONTENT, [], T0)
    store.add_submission_once(submission(2, content_sha256="same"), CONTENT, [], T0)
    assert arrived(store) == ["sub-1"]


def test_a_new_state_keeps_the_position_and_an_import_stores_anew(store: Store) -> None:
    store.add_submission(submission(1), CONTENT)
    store.add_submission(submission(2), CONTENT)
    ((one, _), (two, _)) = store.submissions_arrived_after(0, 100)
    store.update_submission(dataclasses.replace(submission(1), state="published"))
    assert [p for p, _ in store.submissions_arrived_after(0, 100)] == [one, two]
    store.import_submission(submission(1), CONTENT)
    assert [(s.id, p > two) for p, s in store.submissions_arrived_after(two, 100)] == [("sub-1", True)]
