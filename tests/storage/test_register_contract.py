"""The organisation register (aliases, mail domains) and the hub-local allow-list: their part of the storage
contract, run on every backend, and their place in export, import and migration."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from taxii_server.errors import Conflict
from taxii_server.model import AllowedValue, Credential, Organisation
from taxii_server.storage.base import Store
from taxii_server.storage.transfer import copy_store, export_directory, import_directory, read_stream
from tests.support.backends import BACKENDS, fresh

CREATED = "2021-01-01T00:00:00.000000Z"
KITA = Organisation("kita-heavy", "Kita Heavy", "heavy-industry", ("member",), CREATED,
                    aliases=("KitaHeavy", "北重工, 株式会社"), domains=("kita-heavy.example", "xn--djr64w755b.example"))


def allowed(kind: str, value: str, reason: str = "vendor portal") -> AllowedValue:
    return AllowedValue(kind, value, reason, "hub-analyst", CREATED)


def test_aliases_and_domains_are_kept_in_order_with_the_organisation(store: Store) -> None:
    store.add_organisation(KITA)
    assert store.get_organisation("kita-heavy") == KITA
    assert store.list_organisations() == [KITA]


def test_an_organisation_without_a_register_has_empty_aliases_and_domains(store: Store) -> None:
    store.add_organisation(Organisation("org-a", "A", "gas", ("member",), CREATED))
    found = store.get_organisation("org-a")
    assert found is not None and (found.aliases, found.domains) == ((), ())


def test_an_update_replaces_the_register_and_keeps_creation_time_and_password(store: Store) -> None:
    store.add_organisation(KITA)
    store.set_password("kita-heavy", "scrypt$hash")
    changed = replace(KITA, name="Kita Heavy Industries", aliases=(), domains=("kita.example",),
                      created="2099-01-01T00:00:00.000000Z")
    assert store.update_organisation(changed) is True
    assert store.get_organisation("kita-heavy") == replace(changed, created=CREATED)
    assert store.get_password("kita-heavy") == "scrypt$hash"


def test_updating_an_unknown_organisation_changes_nothing(store: Store) -> None:
    assert store.update_organisation(KITA) is False
    assert store.get_organisation("kita-heavy") is None


def test_the_register_comes_with_the_organisation_a_credential_finds(store: Store) -> None:
    store.add_organisation(KITA)
    store.add_credential(Credential("key-1", "kita-heavy", "poller", CREATED), "ab" * 32)
    found = store.find_credential("ab" * 32)
    assert found is not None and found[1] == KITA


def test_an_allowed_value_is_stored_once_and_the_first_reason_stays(store: Store) -> None:
    assert store.add_allowed(allowed("domain-name", "example.org")) is True
    assert store.add_allowed(allowed("domain-name", "example.org", "another reason")) is False
    assert store.list_allowed() == [allowed("domain-name", "example.org")]


def test_allowed_values_are_listed_by_kind_then_value(store: Store) -> None:
    entries = [allowed("url", "https://b.example/"), allowed("domain-name", "z.example"),
               allowed("domain-name", "a.example"), allowed("ipv4-addr", "192.0.2.0/24")]
    for e in entries:
        store.add_allowed(e)
    assert [(e.kind, e.value) for e in store.list_allowed()] == [
        ("domain-name", "a.example"), ("domain-name", "z.example"), ("ipv4-addr", "192.0.2.0/24"),
        ("url", "https://b.example/")]
    assert store.list_allowed("domain-name") == [allowed("domain-name", "a.example"),
                                                 allowed("domain-name", "z.example")]
    assert store.list_allowed("md5") == []


def test_the_same_value_under_two_kinds_is_two_entries(store: Store) -> None:
    store.add_allowed(allowed("domain-name", "example.org"))
    store.add_allowed(allowed("url", "example.org"))
    assert store.remove_allowed("url", "example.org") is True
    assert store.list_allowed() == [allowed("domain-name", "example.org")]


def test_removing_an_absent_value_says_so(store: Store) -> None:
    store.add_allowed(allowed("domain-name", "example.org"))
    assert store.remove_allowed("domain-name", "example.com") is False
    assert store.remove_allowed("domain-name", "example.org") is True
    assert store.list_allowed() == []


def test_erasing_the_hub_empties_the_allow_list(store: Store) -> None:
    store.add_allowed(allowed("sha256", "ab" * 32))
    store.erase_everything()
    assert store.list_allowed() == []


def _filled(tmp_path: Path, kind: str, name: str) -> Store:
    made = BACKENDS[kind](tmp_path / name)
    made.initialise()
    made.add_organisation(KITA)
    made.add_organisation(Organisation("org-b", "B", "gas", ("member",), CREATED))
    made.add_allowed(allowed("domain-name", "example.org"))
    made.add_allowed(allowed("ipv6-addr", "2001:db8::/32", "documentation range"))
    return made


@pytest.mark.parametrize(("source_kind", "target_kind"), [("sqlite", "mongo"), ("mongo", "sqlite")])
def test_migration_copies_the_register_and_the_allow_list(tmp_path: Path, source_kind: str,
                                                          target_kind: str) -> None:
    source, target = _filled(tmp_path, source_kind, "src"), fresh(tmp_path, target_kind, "dst")
    summary = copy_store(source, target)
    assert target.list_organisations() == source.list_organisations()
    assert target.list_allowed() == source.list_allowed()
    assert summary.streams["allowlist.jsonl"]["count"] == 2


def test_export_and_import_restore_the_register_and_the_allow_list(tmp_path: Path) -> None:
    source = _filled(tmp_path, "sqlite", "src")
    export_directory(source, tmp_path / "export")
    assert "2001:db8::/32" in (tmp_path / "export" / "allowlist.jsonl").read_text()
    target = fresh(tmp_path, "mongo", "dst")
    import_directory(tmp_path / "export", target)
    assert target.get_organisation("kita-heavy") == KITA
    assert list(read_stream(target, "allowlist.jsonl")) == list(read_stream(source, "allowlist.jsonl"))


def test_an_export_made_before_the_register_existed_still_imports_and_verifies(tmp_path: Path) -> None:
    old = Organisation("org-b", "B", "gas", ("member",), CREATED)
    source = fresh(tmp_path, "sqlite", "src")
    source.add_organisation(old)
    export = tmp_path / "export"
    export_directory(source, export)
    # what an older hub wrote: no allow-list stream, organisation lines without aliases or domains
    manifest = json.loads((export / "manifest.json").read_text())
    del manifest["streams"]["allowlist.jsonl"]
    (export / "allowlist.jsonl").unlink()
    (export / "manifest.json").write_text(json.dumps(manifest))
    assert "aliases" not in (export / "organisations.jsonl").read_text()
    target = fresh(tmp_path, "mongo", "dst")
    import_directory(export, target)
    assert target.list_organisations() == [old]
    assert target.list_allowed() == []


def test_a_hub_holding_only_allowed_values_is_not_an_empty_target(tmp_path: Path) -> None:
    source = _filled(tmp_path, "sqlite", "src")
    target = fresh(tmp_path, "mongo", "dst")
    target.add_allowed(allowed("md5", "0" * 32))
    with pytest.raises(Conflict):
        copy_store(source, target)

