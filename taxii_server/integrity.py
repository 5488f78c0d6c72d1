"""What a writer may claim in a collection others read: the integrity rules of shared collections.

`validation` checks that an object is well-formed STIX; this module checks that it does not forge what
readers trust. Each rule is a pure function of the object and a `WriterRules` the feeds build per request:
- a canonical TLP 1.0 or 2.0 marking-definition id carries only its canonical content;
- the hub's identity ids (`reserved_identities`) are written only by the hub's side;
- in a shared collection, a member's `created_by_ref` is its own identity or absent;
- another organisation's identity id is not written by a member (it would speak for that organisation);
- an SCO whose id is deterministic (a UUIDv5) has exactly the id its id-contributing properties give (STIX 2.1
  §2.9; which properties contribute is the stix2 library's knowledge, a runtime dependency);
- `created` and `modified` lie at most `future_skew_us` after the server's clock.
"A revoked object accepts no further versions" needs the stored versions and is enforced by `feeds`; "a
marking that claims a TLP level counts as that level" is `tlp.claimed_level`, applied by `validation`.
Nothing here reads the store or knows HTTP.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from converters.ids import ID_CONTRIBUTING_PROPERTIES, sco_id
from converters.markings import marking_definition

from .timestamps import format_us, parse_us
from .tlp import LEVELS, TLP1_IDS

TLP1_CANONICAL: dict[str, dict[str, Any]] = {  # STIX 2.1 §7.2.1.4, the four predefined TLP 1.0 objects
    mid: {"type": "marking-definition", "spec_version": "2.1", "id": mid, "created": "2017-01-20T00:00:00.000Z",
          "definition_type": "tlp", "name": f"TLP:{level.upper()}", "definition": {"tlp": level}}
    for level, mid in TLP1_IDS.items()
}
TLP2_CANONICAL: dict[str, dict[str, Any]] = {d["id"]: d for d in (marking_definition(level) for level in LEVELS)}
CANONICAL_MARKINGS = {**TLP1_CANONICAL, **TLP2_CANONICAL}
# STIX 2.0 wrote the TLP 1.0 objects without spec_version and name; both forms are the canonical content.
_OPTIONAL_IN_TLP1 = ("spec_version", "name")


@dataclass(frozen=True)
class WriterRules:
    """What one writer may claim in one collection, decided by `access` and built by the feeds."""

    hub_side: bool  # an analyst or administrator: the hub itself
    shared: bool  # other organisations read what is written here
    own_identity: str | None  # the writer's identity id (Organisation.identity_id), when it has one
    reserved_identities: frozenset[str]  # the hub's identity ids and other organisations' identity ids
    now_us: int
    future_skew_us: int


def problem(obj: Mapping[str, Any], rules: WriterRules) -> str | None:
    """Why a well-formed object may not be written by this writer, or None."""
    return (_marking_problem(obj) or _identity_problem(obj, rules) or _sco_problem(obj)
            or _future_problem(obj, rules))


def _marking_problem(obj: Mapping[str, Any]) -> str | None:
    oid = obj.get("id")
    canonical = CANONICAL_MARKINGS.get(oid) if isinstance(oid, str) else None
    if canonical is None:
        return None
    optional = _OPTIONAL_IN_TLP1 if oid in TLP1_CANONICAL else ("spec_version",)
    stripped = {k: v for k, v in canonical.items() if k not in optional}
    given = {k: v for k, v in obj.items() if not (k in optional and canonical.get(k) == v)}
    if given.get("created") != stripped["created"] and _same_instant(given.get("created"), stripped["created"]):
        given["created"] = stripped["created"]  # "…00Z" and "…00.000Z" are one instant
    if given != stripped:
        return (f"id: {oid} is the canonical {canonical['name']} marking definition and must carry exactly its "
                "canonical content (use your own id for another marking)")
    return None


def _same_instant(a: Any, b: str) -> bool:
    try:
        return isinstance(a, str) and parse_us(a) == parse_us(b)
    except ValueError:
        return False


def _identity_problem(obj: Mapping[str, Any], rules: WriterRules) -> str | None:
    if rules.hub_side:
        return None
    oid = obj.get("id")
    if oid in rules.reserved_identities:
        return f"id: {oid} is an identity reserved for the hub or another organisation"
    if not rules.shared:
        return None
    creator = obj.get("created_by_ref")
    if creator is not None and creator != rules.own_identity:
        return ("created_by_ref: in a shared collection it must be your organisation's own identity "
                f"({rules.own_identity or 'none is registered'}) or absent")
    return None


def _sco_problem(obj: Mapping[str, Any]) -> str | None:
    otype, oid = obj.get("type"), obj.get("id")
    if not isinstance(otype, str) or not isinstance(oid, str):
        return None
    contributing = id_contributing_properties(otype)
    if not contributing or uuid.UUID(oid.partition("--")[2]).version != 5:
        return None  # a UUIDv4 id claims nothing about the object's content
    present = {name: obj[name] for name in contributing if obj.get(name) is not None}
    if not present:
        return None
    try:
        expected = sco_id(otype, present)
    except (TypeError, ValueError, AttributeError):
        return f"id: the id-contributing properties ({', '.join(contributing)}) cannot be hashed into an id"
    if expected != oid:
        return (f"id: a deterministic {otype} id must be computed from its id-contributing properties "
                f"({', '.join(contributing)}); these give {expected}")
    return None


def id_contributing_properties(otype: str) -> tuple[str, ...]:
    """The id-contributing properties of a STIX 2.1 SCO type (empty for any other type)."""
    return ID_CONTRIBUTING_PROPERTIES.get(otype, ())


def _future_problem(obj: Mapping[str, Any], rules: WriterRules) -> str | None:
    latest = rules.now_us + rules.future_skew_us
    for key in ("created", "modified"):
        value = obj.get(key)
        if isinstance(value, str) and parse_us(value) > latest:
            return (f"{key}: {value} lies in the future (more than {rules.future_skew_us // 1_000_000} s after "
                    f"the hub's clock, {format_us(rules.now_us)})")
    return None
