"""MongoDB's arrival positions (mongo_arrivals.py) for submissions stored before they existed: an upgrade from
schema 4 numbers them, oldest received first, and later submissions arrive after them."""

from __future__ import annotations

import mongomock
import pytest

from taxii_server.model import SubmissionContent
from taxii_server.storage.mongo import MongoStore
from tests.support.contract import submission

pytestmark = pytest.mark.mongo
CONTENT = SubmissionContent(b"raw", b"[]", b"{}")


def test_an_upgrade_numbers_the_submissions_stored_before_positions_existed() -> None:
    client: mongomock.MongoClient = mongomock.MongoClient()
    store = MongoStore(lambda: client, "taxii_hub_arrivals")  # type: ignore[arg-type,return-value]
    store.initialise()
    for n in (2, 1):
        store.add_submission(submission(n), CONTENT)
    client["taxii_hub_arrivals"]["submissions"].update_many({}, {"$unset": {"n": ""}})  # as schema 4 stored them
    client["taxii_hub_arrivals"]["meta"].update_one({"_id": "schema_version"}, {"$set": {"value": "4"}})
    assert store.submissions_arrived_after(0, 10) == []
    store.initialise()
    assert [s.id for _, s in store.submissions_arrived_after(0, 10)] == ["sub-1", "sub-2"]
    store.add_submission(submission(3), CONTENT)
    last = store.submissions_arrived_after(0, 10)[1][0]
    assert [s.id for _, s in store.submissions_arrived_after(last, 10)] == ["sub-3"]
