"""What a feed offers: the current objects of the part of a collection one caller may read.

Owns reading the latest version of each object in an ObjectScope (the access rules already turned into the
storage query's filter by `access.object_scope`) page by page, and deciding which of them should be acted on
now: not revoked, and for indicators inside [valid_from, valid_until). Also the instants at which that
decision changes (an indicator starting or expiring), so a feed's validators change exactly then.
Must not: know HTTP, or read outside the scope it is given.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ..model import ObjectFilter, ObjectScope, Page, StoredVersion
from ..timestamps import parse_us

PAGE = 2000


class ObjectReader(Protocol):
    def query(self, scope: ObjectScope, flt: ObjectFilter, after_us: int | None, limit: int) -> Page:
        ...


@dataclass(frozen=True)
class Current:
    stored: StoredVersion
    obj: dict[str, Any]


def latest(store: ObjectReader, scope: ObjectScope, types: tuple[str, ...] = (), *,
           first: bool = False, added_after_us: int | None = None) -> Iterator[Current]:
    """The latest (or, with `first`, the first) version of every object of `types` in the scope, in
    date_added order, parsed. Pages are read one at a time, so memory does not grow with the collection."""
    flt = ObjectFilter(types=types, version_keywords=frozenset({"first" if first else "last"}),
                       added_after_us=added_after_us)
    after: int | None = None
    while True:
        page = store.query(scope, flt, after, PAGE)
        for item in page.items:
            obj = orjson.loads(item.raw)
            if isinstance(obj, dict):
                yield Current(item, obj)
        if not page.more or not page.items:
            return
        after = page.items[-1].date_added_us


def _instant(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if not isinstance(value, str):
        return None
    try:
        return parse_us(value)
    except ValueError:
        return None


def window(obj: dict[str, Any]) -> tuple[int | None, int | None]:
    """An indicator's valid_from and valid_until in microseconds (None when absent or unreadable)."""
    return _instant(obj, "valid_from"), _instant(obj, "valid_until")


def state(obj: dict[str, Any], now_us: int) -> str:
    """'active', 'revoked', 'expired' or 'pending' (an indicator whose valid_from is still to come)."""
    if obj.get("revoked") is True:
        return "revoked"
    if obj.get("type") != "indicator":
        return "active"
    start, until = window(obj)
    if until is not None and until <= now_us:
        return "expired"
    if start is not None and start > now_us:
        return "pending"
    return "active"


@dataclass(frozen=True)
class Changes:
    """When the active set of a scope's current indicators last changed by the clock, and when it next will."""

    previous_us: int | None
    next_us: int | None


def clock_instants(store: ObjectReader, scope: ObjectScope) -> list[int]:
    """Every instant at which one of the scope's current indicators starts or expires, sorted, once each."""
    instants: set[int] = set()
    for c in latest(store, scope, ("indicator",)):
        if c.obj.get("revoked") is True:
            continue
        instants.update(i for i in window(c.obj) if i is not None)
    return sorted(instants)


def changes_at(instants: Sequence[int], now_us: int) -> Changes:
    """The last instant at or before `now_us` and the first after it, of sorted `instants`."""
    n = bisect.bisect_right(instants, now_us)
    return Changes(instants[n - 1] if n else None, instants[n] if n < len(instants) else None)


def clock_changes(store: ObjectReader, scope: ObjectScope, now_us: int) -> Changes:
    return changes_at(clock_instants(store, scope), now_us)
