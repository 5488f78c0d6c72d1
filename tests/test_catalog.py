from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from taxii_server.catalog import Catalog
from taxii_server.errors import ConfigError
from taxii_server.model import ApiRootDef
from tests.support.hubtest import C_RW, COLLECTIONS, ROOT, write_collections

ROOTS = {ROOT: ApiRootDef(ROOT, "root")}
GOOD = {"id": "11111111-1111-4111-8111-111111111111", "title": "t", "read": ["members"]}


def test_collections_load_sorted_by_id_and_resolve_by_alias(tmp_path: Path) -> None:
    write_collections(tmp_path, COLLECTIONS)
    catalog = Catalog.load(tmp_path, ROOTS)
    ids = [c.id for c in catalog.collections(ROOT)]
    assert ids == sorted(ids)
    assert catalog.find(ROOT, "rw") is catalog.find(ROOT, C_RW)


def test_the_shipped_collections_are_valid() -> None:
    from tests.support.hubflow import SHIPPED_COLLECTIONS  # the packaged copy `init` writes out

    catalog = Catalog.load(SHIPPED_COLLECTIONS, {"hub": ApiRootDef("hub", "hub")})
    assert {c.alias for c in catalog.all()} >= {"member-feed", "inbox"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "not-a-uuid"}, "id: 'not-a-uuid' is not a lower-case UUIDv4"),
        ({"id": "11111111-1111-1111-8111-111111111111"}, "is not a lower-case UUIDv4"),
        ({"title": ""}, "title: required"),
        ({"read": ["everyone"]}, "read: selector 'everyone'"),
        ({"write": ["org:"]}, "write: selector 'org:'"),
        ({"visibility": "some"}, "visibility: 'some'"),
        ({"max_tlp": "purple"}, "max_tlp: unknown TLP level 'purple'"),
        ({"colour": "red"}, "colour: unknown key"),
        ({"media_types": ["application/json"]}, "media_types:"),
    ],
)
def test_declaration_errors_name_the_file_and_key(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    write_collections(tmp_path, {"bad": {**GOOD, **change}})
    with pytest.raises(ConfigError) as failed:
        Catalog.load(tmp_path, ROOTS)
    assert "bad.toml" in failed.value.message
    assert message in failed.value.message


def test_unknown_api_root_is_refused(tmp_path: Path) -> None:
    write_collections(tmp_path, {"c": GOOD}, api_root="elsewhere")
    with pytest.raises(ConfigError, match="api_root: 'elsewhere' is not declared"):
        Catalog.load(tmp_path, ROOTS)


def test_duplicate_ids_and_aliases_are_refused(tmp_path: Path) -> None:
    write_collections(tmp_path, {"a": {**GOOD, "alias": "x"}, "b": {**GOOD, "alias": "y"}})
    with pytest.raises(ConfigError, match="already declared"):
        Catalog.load(tmp_path, ROOTS)
    write_collections(tmp_path, {"b": {**GOOD, "id": "22222222-2222-4222-8222-222222222222", "alias": "x"}})
    with pytest.raises(ConfigError, match="alias: 'x' is not unique"):
        Catalog.load(tmp_path, ROOTS)
