"""SQLite schema versions: an older database is upgraded in place after a backup copy; a newer one is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from taxii_server.errors import ConfigError
from taxii_server.model import AllowedValue, ObjectFilter, Organisation, Submission, SubmissionContent
from taxii_server.storage.base import SCHEMA_VERSION
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.contract import SHARED, T0, ind, ts, version


def craft(path: Path, schema_version: int) -> None:
    """A database as a hub of `schema_version` left it: schema 1 lacked the (collection, id) index, schema 2
    the organisations' aliases and domains and the allow-list, schema 3 the correlation index, schema 4 the
    submissions' arrival order."""
    store = SQLiteStore(path)
    store.initialise()
    store.add_versions(SHARED, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_organisation(Organisation("org-a", "A", "gas", ("member",), "t"))
    for n in (2, 1):  # stored in this order, received in the other
        store.add_submission(Submission(f"sub-{n}", "org-a", T0 + n, "http", "application/json", "converted", "amber"),
                             SubmissionContent(b"raw", b"[]", b"{}"))
    store.close()
    with sqlite3.connect(path) as conn:
        if schema_version < 2:
            conn.execute("DROP INDEX object_versions_id")
        if schema_version < 3:
            conn.execute("ALTER TABLE organisations DROP COLUMN aliases")
            conn.execute("ALTER TABLE organisations DROP COLUMN domains")
            conn.execute("DROP TABLE allowlist")
        if schema_version < 4:
            for table in ("submission_digests", "corr_postings", "corr_queue", "corr_lease", "corr_candidates",
                          "corr_members", "corr_candidate_values", "corr_exclusions", "corr_overrides",
                          "corr_override_members"):
                conn.execute(f"DROP TABLE {table}")
        if schema_version < 5:
            conn.execute("DROP INDEX submissions_arrival")
            conn.execute("ALTER TABLE submissions DROP COLUMN arrival")
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(schema_version),))


def indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def schema_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])


def test_an_older_database_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, 1)
    store = SQLiteStore(path)
    store.initialise()
    assert schema_of(path) == SCHEMA_VERSION
    assert "object_versions_id" in indexes(path)
    assert [i.id for i in store.query(SHARED, ObjectFilter(), None, 10).items] == [ind(1)]


@pytest.mark.parametrize("old", [1, 4])
def test_an_upgrade_numbers_the_stored_submissions_in_the_order_they_were_stored(tmp_path: Path, old: int) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, old)
    store = SQLiteStore(path)
    store.initialise()
    assert [s.id for _, s in store.submissions_arrived_after(0, 10)] == ["sub-2", "sub-1"]
    store.add_submission(Submission("sub-3", "org-a", T0, "http", "application/json", "converted", "amber"),
                         SubmissionContent(b"raw", b"[]", b"{}"))
    last = store.submissions_arrived_after(0, 10)[1][0]  # sub-1's, the last stored before the upgrade
    assert [s.id for _, s in store.submissions_arrived_after(last, 10)] == ["sub-3"]


@pytest.mark.parametrize("old", [1, 2])
def test_an_upgrade_gives_existing_organisations_an_empty_register_and_adds_the_allow_list(
    tmp_path: Path, old: int
) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, old)
    store = SQLiteStore(path)
    store.initialise()
    assert store.get_organisation("org-a") == Organisation("org-a", "A", "gas", ("member",), "t")
    assert store.update_organisation(Organisation("org-a", "A", "gas", ("member",), "t", ("A Corp",), ("a.example",)))
    assert store.list_organisations()[0].domains == ("a.example",)
    assert store.add_allowed(AllowedValue("domain-name", "example.org", "why", "hub", "t"))


def test_the_upgrade_leaves_a_backup_copy_of_the_old_database(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, 1)
    SQLiteStore(path).initialise()
    [backup] = tmp_path.glob("hub.sqlite3.schema-1.backup*")
    assert schema_of(backup) == 1
    assert "object_versions_id" not in indexes(backup)
    with sqlite3.connect(backup) as conn:
        assert conn.execute("SELECT count(*) FROM object_versions").fetchone()[0] == 1


def test_a_current_database_is_not_copied_again(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, SCHEMA_VERSION)
    SQLiteStore(path).initialise()
    assert list(tmp_path.glob("*.backup*")) == []


def test_a_newer_database_is_refused_with_a_clear_message_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    craft(path, SCHEMA_VERSION + 1)
    with pytest.raises(ConfigError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than this taxii-hub"):
        SQLiteStore(path).initialise()
    assert schema_of(path) == SCHEMA_VERSION + 1
    assert list(tmp_path.glob("*.backup*")) == []


def test_an_upgrade_to_the_correlation_index_keys_and_queues_the_submissions_already_stored(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    store = SQLiteStore(path)
    store.initialise()
    stored = Submission("s1", "org-a", 5, "http", "application/json", "converted", "amber", first_seen_us=5,
                        last_seen_us=5, features=(("file-hash", "sha256:aa"),), content_sha256="d1")
    store.add_submission(stored, SubmissionContent(b"", b"[]", b"{}"))
    store.close()
    craft_keep = sqlite3.connect(path)
    with craft_keep as conn:
        for table in ("submission_digests", "corr_postings", "corr_queue", "corr_lease", "corr_candidates",
                      "corr_members", "corr_candidate_values", "corr_exclusions", "corr_overrides",
                      "corr_override_members"):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP INDEX submissions_arrival")
        conn.execute("ALTER TABLE submissions DROP COLUMN arrival")
        conn.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    craft_keep.close()
    store = SQLiteStore(path)
    store.initialise()
    assert store.submission_by_digest("org-a", "d1") == stored
    job = store.next_correlation_job()
    assert job is not None and job.job == "s:s1"
