"""The access rules, as pure functions of a principal and a collection declaration or a workflow area.

Who may see, read and write a collection, which objects of it a caller sees, and who may add a new version
of an object; and for the hub workflow, which areas (triage, candidates, publications, approval, revocation,
statistics, audit, administration…) a caller may use, where the hub may publish, who may approve, whose polls
a caller may read. These functions decide; `feeds._authorise` enforces the collection rules,
`hub.audit.require` the workflow's areas in the services, and the hub API and the console ask `may_use`
before a view runs, so an area a caller may not use answers exactly like an unknown route or page.

Selectors in a collection's `read`/`write` lists:
  `org:<id>`    that organisation          `group:<name>`  every organisation of that sector group
  `role:<name>` every organisation with it `members`       every authenticated organisation
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import CollectionDef, ObjectScope, Principal

SELECTOR_KINDS = ("org", "group", "role")
HUB_ONLY_SELECTORS = frozenset({"role:analyst", "role:admin"})

# The hub workflow's areas. Every signed-in organisation uses its own submissions, polls, keys and the home
# page; the hub's side (analysts, administrators) everything of the workflow; administrators also administer.
EVERYONE_AREAS = frozenset({"home", "submissions", "polls", "keys"})
HUB_SIDE_AREAS = frozenset({"triage", "candidates", "publications", "approval", "revocation", "statistics", "audit",
                            "allow-list"})
ADMIN_AREAS = frozenset({"administration"})
AREAS = EVERYONE_AREAS | HUB_SIDE_AREAS | ADMIN_AREAS

# Which area each route of the hub API (/hub/v1) and each page of the console belongs to, by view name. A
# route or page missing here is refused to everyone like an unknown one (fail closed); a guard-rail test
# checks that every registered route and page is listed.
HUB_API_ROUTES: dict[str, str] = {
    "submit": "submissions", "list_submissions": "submissions", "get_submission": "submissions",
    "polls": "polls", "dismiss": "triage", "candidates": "candidates", "candidate": "candidates",
    "split": "candidates", "merge": "candidates", "exclusions": "candidates", "exclude": "candidates",
    "include": "candidates", "publish": "publications", "publications": "publications", "publication": "publications",
    "approve": "approval", "revoke": "revocation", "stats": "statistics", "audit": "audit",
}
CONSOLE_PAGES: dict[str, str] = {
    "home": "home", "submit": "submissions", "submissions": "submissions", "submission": "submissions",
    "polls": "polls", "keys": "keys", "revoke_key": "keys", "logout": "home", "connect": "home", "feeds": "home",
    "queue": "triage", "dismiss": "triage", "candidates": "candidates", "candidate": "candidates",
    "exclude_value": "candidates", "split_candidate": "candidates", "merge_candidates": "candidates",
    "exclusions": "candidates", "add_exclusion": "candidates", "remove_exclusion": "candidates",
    "preview": "publications", "publish": "publications", "publications": "publications",
    "publication": "publications", "approve": "approval", "revoke": "revocation", "audit": "audit",
    "stats": "statistics",
}
PUBLIC_CONSOLE_PAGES = frozenset({"login", "language", "static"})  # before sign-in


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


def readable(principal: Principal, collections: Iterable[CollectionDef]) -> list[CollectionDef]:
    """The collections of `collections` the caller may read, in their order."""
    return [c for c in collections if can_read(principal, c)]


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


# -- the hub workflow --------------------------------------------------------------------------------------------

def may_use(principal: Principal, area: str) -> bool:
    """Whether the caller may use an area of the hub workflow; an unknown area is a programming error (a typo
    must never open anything)."""
    if area in EVERYONE_AREAS:
        return True
    if area in HUB_SIDE_AREAS:
        return principal.is_analyst
    if area in ADMIN_AREAS:
        return principal.is_admin
    raise ValueError(f"unknown workflow area {area!r} (known: {', '.join(sorted(AREAS))})")


def may_use_route(principal: Principal, view: str, routes: dict[str, str]) -> bool:
    """Whether the caller may use a hub API route or console page (`HUB_API_ROUTES`, `CONSOLE_PAGES`)."""
    area = routes.get(view)
    return area is not None and may_use(principal, area)


def may_manage_credentials_of(principal: Principal, org_id: str) -> bool:
    """An organisation manages its own API keys and certificates; administrators everyone's."""
    return principal.org_id == org_id or may_use(principal, "administration")


def sees_everyones_submissions(principal: Principal) -> bool:
    """Analysts see every organisation's reports and what correlation derived from them; a member only its own
    reports, and never anything derived from other organisations' data (no correlation oracle)."""
    return may_use(principal, "triage")


def members_read(collection: CollectionDef) -> bool:
    """Whether organisations outside the hub's side read the collection (so the hub's writes there are
    publications: vetted, leak-checked and audited)."""
    return not set(collection.read) <= HUB_ONLY_SELECTORS


def publish_target_refusal(collection: CollectionDef, restricted_reports: bool) -> str | None:
    """Why the hub may not publish into a collection, or None. An inbox is never a target (each organisation
    sees only what it added there); TLP:AMBER+STRICT and RED reports never go where members read."""
    if restricted_reports and members_read(collection):
        return "is readable by members, and TLP:AMBER+STRICT or RED reports are never fanned out to members"
    if collection.visibility == "own":
        return "is an inbox for reports; publish to a feed"
    return None


def approval_refusal(approver: Principal, requester_org: str) -> str | None:
    """Why a caller may not approve a publication requested by `requester_org`, or None (two-person rule)."""
    if not may_use(approver, "approval"):
        return f"organisation {approver.org_id!r} is not a hub analyst and cannot approve"
    if approver.org_id == requester_org:
        return "the approving analyst must be a different analyst (two-person rule)"
    return None


def may_read_polls_of(principal: Principal, org_id: str | None) -> bool:
    """A member reads its own poll history; analysts everyone's (`None`: all organisations)."""
    return principal.is_analyst or org_id == principal.org_id


def may_name_in_history(principal: Principal, collection: CollectionDef | None) -> bool:
    """Whether a poll record may name the collection a read asked for: only one the reader can see, so a
    refused read of a collection it cannot see records nothing that names or describes that collection."""
    return collection is not None and is_visible(principal, collection)


def watched_write(principal: Principal, collection: CollectionDef) -> bool:
    """Whether a direct write is leak-checked (the hub's side) and audited: the hub's side writing where
    members read, or a member writing into a shared collection (its own, attributed disclosure)."""
    if writes_as_hub(principal):
        return members_read(collection) and collection.visibility != "own"
    return is_shared(collection)


def direct_write_refusal(principal: Principal, collection: CollectionDef, two_person_rule: bool,
                         direct_writes: bool) -> str | None:
    """Why the hub's side may not write into a collection directly over TAXII, or None. With the two-person
    rule, what members read is published through /hub/v1/publications (approved by a second analyst),
    unless the collection opts out with `direct_writes = true`."""
    if not (two_person_rule and writes_as_hub(principal) and members_read(collection)) or direct_writes:
        return None
    if collection.visibility == "own":
        return None
    return ("with the two-person rule, the hub's side publishes into collections members read through "
            "POST /hub/v1/publications (approved by a second analyst), not by writing to them directly")


def may_manage_allow_list(principal: Principal) -> bool:
    """The hub-local allow-list (values known to be legitimate) is the hub's vetting: analysts and
    administrators read and change it; to members it does not exist."""
    return may_use(principal, "allow-list")
