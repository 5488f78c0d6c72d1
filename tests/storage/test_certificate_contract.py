"""The client-certificate part of the storage contract (CertificateStore), run on every backend, and its place
in export, import and migration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from taxii_server.errors import Conflict
from taxii_server.model import ClientCertificate, Organisation
from taxii_server.storage.base import Store
from taxii_server.storage.transfer import copy_store, export_directory, import_directory, read_stream
from tests.support.backends import BACKENDS, fresh

CREATED = "2021-01-01T00:00:00.000000Z"


def certificate(serial: str, org: str = "org-a", issued: str = "2021-01-02T00:00:00.000000Z") -> ClientCertificate:
    return ClientCertificate(serial, org, f"CN={org},O={org}", serial * 2, "2021-01-01T00:00:00.000000Z",
                             "2022-01-01T00:00:00.000000Z", issued)


def with_orgs(made: Store) -> Store:
    for org in ("org-a", "org-b"):
        made.add_organisation(Organisation(org, org.upper(), "gas", ("member",), CREATED))
    return made


def test_a_certificate_is_found_by_its_serial(store: Store) -> None:
    with_orgs(store).add_certificate(certificate("0a1b"))
    assert store.get_certificate("0a1b") == certificate("0a1b")
    assert store.get_certificate("ffff") is None


def test_a_serial_is_recorded_once(store: Store) -> None:
    with_orgs(store).add_certificate(certificate("0a1b"))
    with pytest.raises(Conflict):
        store.add_certificate(certificate("0a1b", "org-b"))
    assert store.get_certificate("0a1b") == certificate("0a1b")


def test_certificates_are_listed_in_issue_order_per_organisation_or_all(store: Store) -> None:
    with_orgs(store)
    later = certificate("01", issued="2021-03-01T00:00:00.000000Z")
    earlier = certificate("02", issued="2021-02-01T00:00:00.000000Z")
    other = certificate("03", "org-b", issued="2021-02-15T00:00:00.000000Z")
    for c in (later, earlier, other):
        store.add_certificate(c)
    assert store.list_certificates() == [earlier, other, later]
    assert store.list_certificates("org-a") == [earlier, later]
    assert store.list_certificates("org-c") == []


def test_revocation_is_recorded_once(store: Store) -> None:
    with_orgs(store).add_certificate(certificate("0a1b"))
    assert store.revoke_certificate("0a1b", "2021-06-01T00:00:00.000000Z") is True
    assert store.revoke_certificate("0a1b", "2021-07-01T00:00:00.000000Z") is False
    assert store.revoke_certificate("ffff", "2021-07-01T00:00:00.000000Z") is False
    found = store.get_certificate("0a1b")
    assert found is not None and found.revoked == "2021-06-01T00:00:00.000000Z"


def test_import_inserts_or_replaces_revoked_ones_included(store: Store) -> None:
    with_orgs(store)
    store.import_certificate(certificate("0a1b"))
    revoked = replace(certificate("0a1b"), revoked="2021-06-01T00:00:00.000000Z")
    store.import_certificate(revoked)
    assert store.list_certificates() == [revoked]


def test_erasing_the_hub_removes_its_certificates(store: Store) -> None:
    with_orgs(store).add_certificate(certificate("0a1b"))
    store.erase_everything()
    assert store.list_certificates() == []


def _filled(tmp_path: Path, kind: str, name: str) -> Store:
    made = BACKENDS[kind](tmp_path / name)
    made.initialise()
    with_orgs(made).add_certificate(certificate("0a1b"))
    made.add_certificate(certificate("0c0d", "org-b"))
    made.revoke_certificate("0c0d", "2021-06-01T00:00:00.000000Z")
    return made


@pytest.mark.parametrize(("source_kind", "target_kind"), [("sqlite", "mongo"), ("mongo", "sqlite")])
def test_migration_copies_the_certificates_revocations_included(tmp_path: Path, source_kind: str,
                                                                 target_kind: str) -> None:
    source, target = _filled(tmp_path, source_kind, "src"), fresh(tmp_path, target_kind, "dst")
    summary = copy_store(source, target)
    assert target.list_certificates() == source.list_certificates()
    assert summary.streams["certificates.jsonl"]["count"] == 2


def test_export_and_import_restore_the_certificates(tmp_path: Path) -> None:
    source = _filled(tmp_path, "sqlite", "src")
    export_directory(source, tmp_path / "export")
    assert "0c0d" in (tmp_path / "export" / "certificates.jsonl").read_text()
    target = fresh(tmp_path, "mongo", "dst")
    import_directory(tmp_path / "export", target)
    assert list(read_stream(target, "certificates.jsonl")) == list(read_stream(source, "certificates.jsonl"))


def test_a_hub_holding_only_certificates_is_not_an_empty_target(tmp_path: Path) -> None:
    source = _filled(tmp_path, "sqlite", "src")
    target = fresh(tmp_path, "mongo", "dst")  # MongoDB has no foreign keys: certificates without organisations
    target.import_certificate(certificate("0e0f"))
    with pytest.raises(Conflict):
        copy_store(source, target)
