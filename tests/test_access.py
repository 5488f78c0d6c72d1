from __future__ import annotations

import pytest

from taxii_server import access
from taxii_server.model import CollectionDef, Principal

ALICE = Principal("alice", "gas", frozenset({"member"}))
ANALYST = Principal("desk", "hub", frozenset({"analyst"}))


def _coll(**kw: object) -> CollectionDef:
    return CollectionDef(id="c", api_root="r", title="t", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [("members", True), ("org:alice", True), ("org:bob", False), ("group:gas", True), ("group:oil", False),
     ("role:member", True), ("role:analyst", False)],
)
def test_selectors_match_organisation_group_role_or_everyone(selector: str, expected: bool) -> None:
    assert access.matches(selector, ALICE) is expected


def test_a_collection_without_rights_is_invisible() -> None:
    c = _coll(read=("org:bob",), write=("role:analyst",))
    assert not access.is_visible(ALICE, c)
    assert access.is_visible(ANALYST, c)


def test_write_only_is_visible_but_not_readable() -> None:
    c = _coll(read=("org:bob",), write=("org:alice",))
    assert access.is_visible(ALICE, c) and access.can_write(ALICE, c) and not access.can_read(ALICE, c)


def test_in_an_inbox_a_member_sees_only_its_own_and_analysts_see_all() -> None:
    inbox = _coll(read=("members",), write=("members",), visibility="own")
    assert access.object_scope(ALICE, inbox).owner == "alice"
    assert access.object_scope(ANALYST, inbox).owner is None
    assert access.object_scope(ALICE, inbox).partitioned
    assert access.object_scope(ALICE, _coll(read=("members",))).owner is None


def test_only_analysts_supersede_other_organisations_objects() -> None:
    assert access.may_supersede_others(ANALYST) and not access.may_supersede_others(ALICE)


def test_a_status_belongs_only_to_its_submitter() -> None:
    assert access.may_read_status(ALICE, "alice")
    assert not access.may_read_status(ANALYST, "alice")
