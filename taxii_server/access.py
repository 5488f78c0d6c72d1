"""The access rules, as pure functions of a principal and a collection declaration.

Who may see, read and write a collection, which objects of it a caller sees, and who may add a new version
of an object. These functions decide; `feeds._authorise` is the one place that enforces them.

Selectors in a collection's `read`/`write` lists:
  `org:<id>`    that organisation          `group:<name>`  every organisation of that sector group
  `role:<name>` every organisation with it `members`       every authenticated organisation
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import CollectionDef, ObjectScope, Principal

SELECTOR_KINDS = ("org", "group", "role")


def selector_error(selector: str) -> str | None:
    """Why a selector is malformed, or None when it is fine (used when collections are loaded)."""
    if selector == "members":
        return None
    kind, sep, value = selector.partition(":")
    if not sep or kind not in SELECTOR_KINDS or not value:
        return f"selector {selector!r} must be 'members' or one of org:<id>, group:<name>, role:<name>"
    return None


def matches(selector: str, principal: Principal) -> bool:
    if selector == "members":
        return True
    kind, _, value = selector.partition(":")
    if kind == "org":
        return principal.org_id == value
    if kind == "group":
        return principal.group == value
    if kind == "role":
        return value in principal.roles
    return False


def _any(selectors: Iterable[str], principal: Principal) -> bool:
    return any(matches(s, principal) for s in selectors)


def can_read(principal: Principal, collection: CollectionDef) -> bool:
    return _any(collection.read, principal)


def can_write(principal: Principal, collection: CollectionDef) -> bool:
    return _any(collection.write, principal)


def is_visible(principal: Principal, collection: CollectionDef) -> bool:
    """A collection the caller can neither read nor write does not exist for that caller."""
    return can_read(principal, collection) or can_write(principal, collection)


def object_scope(principal: Principal, collection: CollectionDef) -> ObjectScope:
    """Which rows of the collection the caller sees: in an inbox (`own`), a member sees only its own."""
    partitioned = collection.visibility == "own"
    owner = principal.org_id if partitioned and not principal.is_analyst else None
    return ObjectScope(collection.id, partitioned=partitioned, owner=owner)


def writes_as_hub(principal: Principal) -> bool:
    """Whether what the caller writes is the hub's own word (analysts, administrators): it may use the hub's
    identities, and a member may not."""
    return principal.is_analyst


def is_shared(collection: CollectionDef) -> bool:
    """Whether what one writer adds is read by others: every collection but an inbox, where each member sees
    only its own objects. Shared collections hold writers to `integrity` (no forged creators or identities)."""
    return collection.visibility == "all"


def may_supersede_others(principal: Principal) -> bool:
    """Whether the caller may add a new version of an object another organisation first added."""
    return principal.is_analyst


def may_read_status(principal: Principal, status_org: str) -> bool:
    """A status belongs to the organisation that submitted it; to everyone else it does not exist."""
    return principal.org_id == status_org


def may_read_submission(principal: Principal, submission_org: str) -> bool:
    """A member sees its own reports; hub analysts see everyone's."""
    return principal.org_id == submission_org or principal.is_analyst


def may_manage_allow_list(principal: Principal) -> bool:
    """The hub-local allow-list (values known to be legitimate) is the hub's vetting: analysts and
    administrators read and change it; to members it does not exist."""
    return principal.is_analyst
