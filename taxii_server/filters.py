"""TAXII 2.1 query parameters (§3.4, §3.4.1): parsed strictly into an ObjectFilter, or a 400 that says why.

Malformed or repeated parameters are refused (checklist C6, J2); unknown `match[<field>]` are ignored (J7);
timestamps are read leniently (0–9 fractional digits, checklist J3). Percent-decoding happened before this.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from .errors import BadRequest
from .model import ObjectFilter
from .timestamps import parse_us

Endpoint = Literal["objects", "object", "manifest", "versions", "delete"]

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_STIX_ID = re.compile(rf"^[a-z0-9][a-z0-9-]*[a-z0-9]--{_UUID}$")
_STIX_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
_SPEC_VERSION = re.compile(r"^\d+\.\d+$")
STORED_SPEC_VERSIONS = ("2.0", "2.1")  # every STIX version the hub stores (validation refuses the rest)
# A match[...] list is bounded (spec/security.md T15, QUERY-02): longer lists are a 400, not an unbounded query.
MAX_MATCH_VALUES = 100
MAX_VALUE_LENGTH = 256  # a STIX type has at most 250 characters, an identifier fewer

# Which parameters each endpoint honours; the rest of the match[...] family is ignored there (checklist §3 #11).
_HONOURED: dict[str, frozenset[str]] = {
    "objects": frozenset({"added_after", "limit", "next", "id", "type", "version", "spec_version"}),
    "manifest": frozenset({"added_after", "limit", "next", "id", "type", "version", "spec_version"}),
    "object": frozenset({"added_after", "limit", "next", "version", "spec_version"}),
    "versions": frozenset({"added_after", "limit", "next", "spec_version"}),
    "delete": frozenset({"version", "spec_version"}),
}
_FILTERS = ("added_after", "id", "type", "version", "spec_version")


@dataclass(frozen=True)
class QueryRequest:
    filter: ObjectFilter
    limit: int | None
    next: str | None
    filtered: bool = False  # whether any filter parameter was given (a `next` alone continues its own query)


def parse(args: Mapping[str, Sequence[str]], endpoint: Endpoint) -> QueryRequest:
    honoured = _HONOURED[endpoint]
    values: dict[str, str] = {}
    for name, given in args.items():
        field = name[6:-1] if name.startswith("match[") and name.endswith("]") else name
        if field not in honoured:
            continue
        if len(given) != 1:
            raise BadRequest(f"query parameter {name} may be given only once")
        values[field] = given[0]

    flt_kwargs: dict[str, object] = {}
    if "added_after" in values:
        flt_kwargs["added_after_us"] = _timestamp("added_after", values["added_after"])
    if "id" in values:
        flt_kwargs["ids"] = _list("match[id]", values["id"], _STIX_ID, "a STIX identifier")
    if "type" in values:
        flt_kwargs["types"] = _list("match[type]", values["type"], _STIX_TYPE, "a STIX type")
    if "spec_version" in values:
        flt_kwargs["spec_versions"] = _list("match[spec_version]", values["spec_version"], _SPEC_VERSION,
                                            "a STIX spec version like 2.1")
    if endpoint in ("versions",):
        flt_kwargs["version_keywords"] = frozenset({"all"})
    elif endpoint == "delete" and "version" not in values:
        flt_kwargs["version_keywords"] = frozenset({"all"})  # DELETE without match[version]: every version
        flt_kwargs.setdefault("spec_versions", STORED_SPEC_VERSIONS)  # ... of every spec version (P5)
    elif "version" in values:
        keywords, instants = _versions(values["version"])
        flt_kwargs["version_keywords"] = keywords
        flt_kwargs["version_instants"] = instants
    limit = _limit(values["limit"]) if "limit" in values else None
    token = values.get("next")
    if token is not None and not token:
        raise BadRequest("query parameter next must not be empty")
    filtered = any(name in values for name in _FILTERS)
    return QueryRequest(ObjectFilter(**flt_kwargs), limit, token, filtered)  # type: ignore[arg-type]


def _timestamp(name: str, value: str) -> int:
    try:
        return parse_us(value, allow_offset=True)
    except ValueError as exc:
        raise BadRequest(f"query parameter {name}: {exc}") from exc


def _list(name: str, value: str, pattern: re.Pattern[str], what: str) -> tuple[str, ...]:
    items = value.split(",")
    if len(items) > MAX_MATCH_VALUES:
        raise BadRequest(f"query parameter {name}: more than {MAX_MATCH_VALUES} values")
    for item in items:
        if len(item) > MAX_VALUE_LENGTH or not pattern.match(item):
            raise BadRequest(f"query parameter {name}: {item!r} is not {what}")
    if len(set(items)) != len(items):
        raise BadRequest(f"query parameter {name}: a value is repeated")
    return tuple(items)


def _versions(value: str) -> tuple[frozenset[str], tuple[int, ...]]:
    items = value.split(",")
    if len(items) > MAX_MATCH_VALUES:
        raise BadRequest(f"query parameter match[version]: more than {MAX_MATCH_VALUES} values")
    if len(set(items)) != len(items):
        raise BadRequest("query parameter match[version]: a value is repeated")
    keywords = frozenset(i for i in items if i in ("first", "last", "all"))
    if "all" in keywords and len(items) > 1:
        raise BadRequest("query parameter match[version]: 'all' cannot be combined with other values")
    instants = tuple(_timestamp("match[version]", i) for i in items if i not in keywords)
    return keywords, instants


def _limit(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:  # not '²' (isdigit, but int() fails)
        raise BadRequest(f"query parameter limit: {value!r} is not a positive integer")
    return int(value)
