"""Checking one incoming STIX object before it may be stored (TAXII Add Objects, §5.5).

Each object is checked on its own; a bad one becomes a per-object failure and never reaches storage, so
reads can never be poisoned. Checked: identifier form and type prefix, spec version, required properties
of the STIX 2.1 types, RFC 3339 timestamps and their order, reference forms, STIX patterns (stix2-patterns,
with its crashes contained and each distinct pattern judged once per process), nesting depth, the
collection's media types and its TLP ceiling.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from converters.patterns import pattern_error

from . import tlp
from .model import CollectionDef, NewVersion
from .strict_json import depth_exceeds
from .timestamps import parse_us

_TYPE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID = re.compile(rf"^([a-z0-9][a-z0-9-]*[a-z0-9])--{_UUID}$")
MAX_OBJECT_DEPTH = 32
# Per-field caps (spec/security.md §2.1, STIX-05): a bigger value is a per-object failure, so one member's
# megabyte string or 100,000-element list never reaches storage or every poller's page.
MAX_NAME_CHARS = 4 * 1024
MAX_STRING_CHARS = 256 * 1024
MAX_LIST_ITEMS = 10_000

SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})
_REQUIRED_21: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "language-content": ("object_ref", "contents"),
    "extension-definition": ("name", "schema", "version", "extension_types"),
    "email-addr": ("value",),
    "domain-name": ("value",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "url": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "software": ("name",),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "email-message": ("is_multipart",),
    "windows-registry-key": (),
    "x509-certificate": (),
}
_TIMESTAMPS = ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen", "published",
               "first_observed", "last_observed")
_REFS = ("created_by_ref", "source_ref", "target_ref", "sighting_of_ref", "object_ref")
_REF_LISTS = ("object_marking_refs", "object_refs", "where_sighted_refs", "observed_data_refs")


@dataclass(frozen=True)
class Rejected:
    id: str
    version: str
    message: str


def check(obj: Any, collection: CollectionDef, defined: Mapping[str, str] | None = None) -> NewVersion | Rejected:
    """`defined`: the TLP levels claimed by non-canonical marking definitions that travel with the object
    (`defined_levels` of its envelope), so an object marked with a "TLP:RED" statement counts as RED."""
    if not isinstance(obj, dict):
        return Rejected("", "", "not a JSON object")
    oid: str = _unicode(obj["id"]) if isinstance(obj.get("id"), str) else ""
    version = _unicode(_version_text(obj))
    problem = _size_problem(obj) or _problem(obj, collection, defined or {})
    if problem:
        return Rejected(oid, version, problem)
    try:
        raw = orjson.dumps(obj)
    except orjson.JSONEncodeError:  # JSON's \ud800 escapes decode to lone surrogates, which are not Unicode text
        return Rejected(oid, version, "the object contains text that is not valid Unicode (a lone surrogate)")
    otype = obj["type"]
    spec_version = _spec_version(obj)
    version_us = parse_us(version) if version else None
    return NewVersion(oid, otype, version or None, version_us, spec_version, raw)


def _unicode(text: str) -> str:
    """The text as it can be written back in a status (a lone surrogate shown as its escape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _size_problem(obj: dict[str, Any]) -> str | None:
    name = obj.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME_CHARS:
        return f"name: longer than {MAX_NAME_CHARS} characters"
    stack: list[Any] = [obj]
    while stack:
        item = stack.pop()
        values = item.values() if isinstance(item, dict) else item
        if isinstance(item, list) and len(item) > MAX_LIST_ITEMS:
            return f"a list has more than {MAX_LIST_ITEMS} items"
        for value in values:
            if isinstance(value, str) and len(value) > MAX_STRING_CHARS:
                return f"a text value is longer than {MAX_STRING_CHARS} characters"
            if isinstance(value, (dict, list)):
                stack.append(value)
    return None


def _version_text(obj: dict[str, Any]) -> str:
    for key in ("modified", "created"):
        value = obj.get(key)
        if isinstance(value, str):
            return value
    return ""


def _spec_version(obj: dict[str, Any]) -> str:
    value = obj.get("spec_version")
    if isinstance(value, str):
        return value
    return "2.1" if obj.get("type") in SCO_TYPES else "2.0"


def defined_levels(objects: list[Any]) -> dict[str, str]:
    """The TLP level each non-canonical marking definition among `objects` claims (by name or statement)."""
    found: dict[str, str] = {}
    for obj in objects:
        if isinstance(obj, dict) and obj.get("type") == "marking-definition" and isinstance(obj.get("id"), str) \
                and obj["id"] not in tlp.MARKING_LEVEL:
            level = tlp.claimed_level(obj)
            if level is not None:
                found[obj["id"]] = level
    return found


def _problem(obj: dict[str, Any], collection: CollectionDef, defined: Mapping[str, str]) -> str | None:
    otype = obj.get("type")
    if not isinstance(otype, str) or not _TYPE.match(otype):
        return "type: missing or not a valid STIX type name"
    oid = obj.get("id")
    m = _ID.match(oid) if isinstance(oid, str) else None
    if not m:
        return "id: missing or not a STIX identifier (<type>--<UUID>)"
    if m.group(1) != otype:
        return f"id: the prefix {m.group(1)!r} does not match type {otype!r}"
    if depth_exceeds(obj, MAX_OBJECT_DEPTH):
        return f"the object is nested more than {MAX_OBJECT_DEPTH} levels deep"
    spec_version = _spec_version(obj)
    if spec_version not in ("2.0", "2.1"):
        return f"spec_version: {spec_version!r} is not a STIX version this hub stores (2.0, 2.1)"
    if not collection.accepts_spec_version(spec_version):
        return f"spec_version: STIX {spec_version} objects are not accepted by this collection"
    for key in _TIMESTAMPS:
        if key in obj:
            value = obj[key]
            if not isinstance(value, str):
                return f"{key}: must be a timestamp string"
            try:
                parse_us(value)
            except ValueError as exc:
                return f"{key}: {exc}"
    if otype not in SCO_TYPES:
        needed = ("created",) if otype == "marking-definition" else ("created", "modified")
        for key in needed:
            if key not in obj:
                return f"{key}: required for a {otype}"
        if "modified" in obj and parse_us(obj["modified"]) < parse_us(obj["created"]):
            return "modified: earlier than created"
    if spec_version == "2.1":
        for key in _REQUIRED_21.get(otype, ()):
            if key not in obj or obj[key] in (None, "", [], {}):
                return f"{key}: required for a {otype}"
    problem = _refs_problem(obj) or _type_problem(otype, obj)
    if problem:
        return problem
    level = tlp.highest_level(obj, defined)
    if tlp.exceeds(level, collection.max_tlp):
        where = ("this marking definition claims" if otype == "marking-definition" and obj["id"] not in
                 tlp.MARKING_LEVEL and tlp.claimed_level(obj) == level else "object_marking_refs: marked")
        return (f"{where} TLP:{(level or '').upper()}, above this collection's ceiling "
                f"TLP:{(collection.max_tlp or '').upper()}")
    return None


def _refs_problem(obj: dict[str, Any]) -> str | None:
    for key in _REFS:
        if key in obj and (not isinstance(obj[key], str) or not _ID.match(obj[key])):
            return f"{key}: not a STIX identifier"
    for key in _REF_LISTS:
        if key in obj:
            value = obj[key]
            if not isinstance(value, list) or not value or not all(isinstance(r, str) and _ID.match(r) for r in value):
                return f"{key}: must be a non-empty list of STIX identifiers"
    return None


def _type_problem(otype: str, obj: dict[str, Any]) -> str | None:
    if otype == "indicator":
        pattern, pattern_type = obj.get("pattern"), obj.get("pattern_type", "stix")
        if not isinstance(pattern, str):
            return "pattern: must be a string"
        if pattern_type == "stix":
            error = pattern_error(pattern, obj.get("spec_version", "2.0"))
            if error:
                return f"pattern: {error}"
        if "valid_until" in obj and "valid_from" in obj and parse_us(obj["valid_until"]) <= parse_us(obj["valid_from"]):
            return "valid_until: must be later than valid_from"
    if otype in ("observed-data",) and "number_observed" in obj:
        n = obj["number_observed"]
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 999_999_999:
            return "number_observed: must be an integer from 1 to 999999999"
    if "revoked" in obj and not isinstance(obj["revoked"], bool):
        return "revoked: must be true or false"
    return None
