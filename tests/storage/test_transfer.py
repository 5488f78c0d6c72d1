"""Export, import and migration (storage/transfer.py): exact copies between SQLite, MongoDB (mongomock) and a
directory, verified; resumable; never over a non-empty target without force."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mongomock
import pytest

from taxii_server.errors import Conflict
from taxii_server.model import (
    AuditEntry,
    Credential,
    ObjectFilter,
    ObjectScope,
    Organisation,
    Publication,
    Status,
    StatusDetail,
    Submission,
    SubmissionContent,
)
from taxii_server.storage.base import Store
from taxii_server.storage.mongo import MongoStore
from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.storage.transfer import (
    MARKER,
    TransferFailed,
    copy_store,
    export_directory,
    import_directory,
    read_stream,
    stream_names,
)
from tests.support.contract import COLL, SHARED, T0, count_versions, ind, ts, version

INBOX = "c0ffee00-0000-4000-8000-0000000000bb"
EVERY = ObjectFilter(version_keywords=frozenset({"all"}))


def sqlite(tmp_path: Path, name: str = "hub") -> Store:
    store = SQLiteStore(tmp_path / f"{name}.sqlite3")
    store.initialise()
    return store


def mongo(tmp_path: Path, name: str = "hub") -> Store:
    client = mongomock.MongoClient()
    store = MongoStore(lambda: client, name)
    store.initialise()
    return store


MAKERS = {"sqlite": sqlite, "mongo": mongo}


def fill(store: Store) -> None:
    """Some of everything a hub keeps, versions deleted and superseded included."""
    store.add_versions(SHARED, "org-a", False, [version(ind(n), ts(1 + n % 3)) for n in range(30)], T0)
    store.add_versions(SHARED, "hub", True, [version(ind(1), ts(9))], T0 + 10)
    store.add_versions(SHARED, "org-a", False, [version("ipv4-addr--00000000-0000-4000-8000-000000000009", None,
                                                        value="198.51.100.9")], T0 + 20)
    store.delete(SHARED, ind(2), EVERY)
    inbox = ObjectScope(INBOX, partitioned=True)
    store.add_versions(inbox, "org-a", False, [version(ind(1), ts(1))], T0)
    store.add_versions(inbox, "org-b", False, [version(ind(1), ts(1), name="b")], T0)
    store.add_organisation(Organisation("org-a", "A", "gas", ("member",), "2021-01-01T00:00:00.000000Z"))
    store.add_organisation(Organisation("hub", "Hub", "hub", ("analyst", "admin"), "2021-01-01T00:00:00.000000Z"))
    store.set_password("org-a", "scrypt$x")
    store.add_credential(Credential("k1", "org-a", "poller", "2021-01-02T00:00:00.000000Z"), "aa" * 32)
    store.add_credential(Credential("k2", "hub", "desk", "2021-01-02T00:00:00.000000Z"), "bb" * 32)
    store.revoke_credential("k2", "2021-01-03T00:00:00.000000Z")
    store.save_status(Status("st-1", "api1", COLL, "org-a", T0, successes=(StatusDetail(ind(1), ts(1)),)))
    store.get_or_create_meta("paging_key", "ab" * 32)
    sub = Submission("sub-1", "org-a", T0, "http", "message/rfc822", "converted", "amber",
                     features=(("sha256", "cd" * 32),))
    store.add_submission(sub, SubmissionContent(b"\x00\xffbinary mail", b"[]", b'{"type":"bundle"}'))
    store.save_publication(Publication("pub-1", "Campaign", "", "green", (COLL,), ("sub-1",), None, "hub", None,
                                       "published", T0), b'{"type":"bundle","objects":[]}')
    for n in range(3):
        store.add_audit(AuditEntry(f"au-{n}", T0 - n, "hub", "publish", "pub-1"))


def everything(store: Store) -> dict[str, list[Any]]:
    return {name: list(read_stream(store, name)) for name in stream_names(store, None)}


@pytest.mark.parametrize(("source_kind", "target_kind"), [("sqlite", "mongo"), ("mongo", "sqlite"),
                                                          ("sqlite", "sqlite")])
def test_migrate_copies_a_whole_hub_exactly(tmp_path: Path, source_kind: str, target_kind: str) -> None:
    source, target = MAKERS[source_kind](tmp_path, "src"), MAKERS[target_kind](tmp_path, "dst")
    fill(source)
    summary = copy_store(source, target)
    assert everything(target) == everything(source)
    assert summary.versions() == count_versions(source, COLL) + count_versions(source, INBOX)


def test_a_migrated_hub_serves_the_same_pages_and_keeps_its_rules(tmp_path: Path) -> None:
    source, target = sqlite(tmp_path), mongo(tmp_path)
    fill(source)
    copy_store(source, target)
    for flt in (ObjectFilter(), EVERY, ObjectFilter(version_keywords=frozenset({"first"}))):
        assert target.query(SHARED, flt, None, 100) == source.query(SHARED, flt, None, 100)
    assert target.find_credential("aa" * 32) == source.find_credential("aa" * 32)
    [hijack] = target.add_versions(SHARED, "org-b", False, [version(ind(3), ts(8))], T0 + 99)
    assert hijack.outcome == "not_owner"
    [new] = target.add_versions(SHARED, "org-a", False, [version(ind(99), ts(1))], T0)
    last = target.query(SHARED, EVERY, None, 100).items
    assert last[-1].id == ind(99) and last[-1].date_added_us > last[-2].date_added_us and new.outcome == "added"


@pytest.mark.parametrize("target_kind", sorted(MAKERS))
def test_export_then_import_restores_the_hub_exactly(tmp_path: Path, target_kind: str) -> None:
    source = sqlite(tmp_path, "src")
    fill(source)
    export_directory(source, tmp_path / "export")
    target = MAKERS[target_kind](tmp_path, "dst")
    import_directory(tmp_path / "export", target)
    assert everything(target) == everything(source)


def test_the_export_is_json_lines_one_file_per_collection_with_a_manifest(tmp_path: Path) -> None:
    source = sqlite(tmp_path)
    fill(source)
    export_directory(source, tmp_path / "export")
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["streams"][f"collections/{COLL}.jsonl"]["count"] == count_versions(source, COLL)
    lines = (tmp_path / "export" / "collections" / f"{COLL}.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert json.loads(first["raw"])["id"] == first["id"] and first["date_added"] < json.loads(lines[1])["date_added"]
    assert "aa" * 32 in (tmp_path / "export" / "credentials.jsonl").read_text()


def test_one_collection_can_be_exported_and_restored_into_a_hub_without_it(tmp_path: Path) -> None:
    source = sqlite(tmp_path, "src")
    fill(source)
    export_directory(source, tmp_path / "export", collection_id=INBOX)
    target = mongo(tmp_path, "dst")
    target.add_organisation(Organisation("other", "O", "g", ("member",), "t"))
    import_directory(tmp_path / "export", target)
    assert target.export_versions(INBOX, None, 10) == source.export_versions(INBOX, None, 10)
    assert target.transfer_collections() == [INBOX]


def test_a_non_empty_target_is_refused_without_force(tmp_path: Path) -> None:
    source, target = sqlite(tmp_path, "src"), mongo(tmp_path, "dst")
    fill(source)
    target.add_versions(SHARED, "someone", False, [version(ind(500), ts(1))], T0)
    with pytest.raises(Conflict, match="not empty; use --force"):
        copy_store(source, target)
    assert count_versions(target, COLL) == 1


def test_force_replaces_the_target_entirely(tmp_path: Path) -> None:
    source, target = sqlite(tmp_path, "src"), mongo(tmp_path, "dst")
    fill(source)
    target.add_versions(SHARED, "someone", False, [version(ind(500), ts(1))], T0)
    copy_store(source, target, force=True)
    assert everything(target) == everything(source)


class Interrupted(Exception):
    pass


class FailingAfter:
    """A target store that fails after `n` bulk imports, as a copy killed half-way."""

    def __init__(self, store: Store, n: int) -> None:
        self.store = store
        self.left = n

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.store, name)
        if not name.startswith("import_"):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.left -= 1
            if self.left < 0:
                raise Interrupted
            return attr(*args, **kwargs)

        return call


def test_an_interrupted_migration_resumes_without_force_and_verifies(tmp_path: Path) -> None:
    source, target = sqlite(tmp_path, "src"), mongo(tmp_path, "dst")
    fill(source)
    with pytest.raises(Interrupted):
        copy_store(source, FailingAfter(target, 6))  # type: ignore[arg-type]
    assert target.export_meta()[MARKER]
    copy_store(source, target)
    assert everything(target) == everything(source)
    assert target.export_meta()[MARKER] == ""


def test_a_copy_that_does_not_verify_is_reported(tmp_path: Path) -> None:
    source, target = sqlite(tmp_path, "src"), sqlite(tmp_path, "dst")
    fill(source)

    class LosingVersions(FailingAfter):
        def import_versions(self, collection_id: str, versions: Any) -> int:
            return self.store.import_versions(collection_id, versions[1:])

    with pytest.raises(TransferFailed, match=f"verification failed for collections/{COLL}"):
        copy_store(source, LosingVersions(target, 1000))  # type: ignore[arg-type]


def test_a_damaged_export_is_refused_before_anything_is_imported(tmp_path: Path) -> None:
    source = sqlite(tmp_path, "src")
    fill(source)
    export_directory(source, tmp_path / "export")
    path = tmp_path / "export" / "collections" / f"{COLL}.jsonl"
    path.write_text(path.read_text().replace("indicator", "malware", 1))
    target = sqlite(tmp_path, "dst")
    with pytest.raises(TransferFailed, match="does not match the manifest"):
        import_directory(tmp_path / "export", target)
    assert target.transfer_collections() == []
