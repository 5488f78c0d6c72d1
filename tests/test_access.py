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


# -- the hub workflow's rules --------------------------------------------------------------------------------------

ADMIN = Principal("root", "hub", frozenset({"admin"}))
FEED = _coll(read=("members",), write=("role:analyst",))
WORKBENCH = _coll(read=("role:analyst",), write=("role:analyst",))
INBOX = _coll(read=("members",), write=("members",), visibility="own")


@pytest.mark.parametrize("area", sorted(access.AREAS))
def test_each_area_is_open_to_exactly_its_side(area: str) -> None:
    assert access.may_use(ALICE, area) is (area in access.EVERYONE_AREAS)
    assert access.may_use(ANALYST, area) is (area not in access.ADMIN_AREAS)
    assert access.may_use(ADMIN, area) is True


def test_an_undeclared_route_is_open_to_no_one() -> None:
    assert not access.may_use_route(ADMIN, "new_view", access.HUB_API_ROUTES)


def test_approval_needs_a_second_analyst() -> None:
    assert access.approval_refusal(ALICE, "desk") is not None
    assert access.approval_refusal(ANALYST, "desk") is not None
    assert access.approval_refusal(ANALYST, "other-desk") is None


def test_publish_targets() -> None:
    assert access.publish_target_refusal(FEED, restricted_reports=False) is None
    assert "never fanned out" in (access.publish_target_refusal(FEED, restricted_reports=True) or "")
    assert access.publish_target_refusal(WORKBENCH, restricted_reports=True) is None
    assert "inbox" in (access.publish_target_refusal(INBOX, restricted_reports=False) or "")


def test_polls_of_other_organisations_are_for_analysts() -> None:
    assert access.may_read_polls_of(ALICE, "alice") and not access.may_read_polls_of(ALICE, "bob")
    assert not access.may_read_polls_of(ALICE, None) and access.may_read_polls_of(ANALYST, None)


def test_the_history_names_only_visible_collections() -> None:
    assert access.may_name_in_history(ALICE, FEED)
    assert not access.may_name_in_history(ALICE, WORKBENCH) and not access.may_name_in_history(ALICE, None)


@pytest.mark.parametrize(("who", "collection", "rule", "opt_out", "refused"), [
    (ANALYST, FEED, True, False, True), (ADMIN, FEED, True, False, True), (ANALYST, FEED, True, True, False),
    (ANALYST, FEED, False, False, False), (ANALYST, WORKBENCH, True, False, False), (ALICE, INBOX, True, False, False),
    (ANALYST, INBOX, True, False, False),
])
def test_the_two_person_rule_refuses_the_hubs_direct_writes_where_members_read(
    who: Principal, collection: CollectionDef, rule: bool, opt_out: bool, refused: bool
) -> None:
    found = access.direct_write_refusal(who, collection, rule, opt_out)
    assert (found is not None) is refused
    assert found is None or "/hub/v1/publications" in found


@pytest.mark.parametrize(("who", "collection", "watched"), [
    (ANALYST, FEED, True), (ANALYST, WORKBENCH, False), (ANALYST, INBOX, False), (ALICE, INBOX, False),
    (ALICE, _coll(read=("members",), write=("members",)), True),
])
def test_which_direct_writes_are_leak_checked_and_audited(
    who: Principal, collection: CollectionDef, watched: bool
) -> None:
    assert access.watched_write(who, collection) is watched
