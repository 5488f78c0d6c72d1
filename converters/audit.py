"""The hub's own checks on a bundle, beyond what stix2-validator knows.

Owns the publication rules stix2-validator cannot check (stix-mapping §1.4.9, §4.3): TLP 2.0 marking ids from
the allow-list on every object, no member identities (only the hub and anonymised `class` identities), no
victim addresses (recipients, victim senders, un-pseudonymised victim Message-IDs, recipient-side headers),
and, when the caller knows them, none of a record's `sensitive_values`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from converters import markings
from converters.anonymisation import RECIPIENT_HEADERS

_NO_MARKINGS = frozenset({"marking-definition"})
_SDO_WITHOUT_CREATOR = frozenset({"marking-definition", "identity"})


@dataclass(frozen=True)
class Finding:
    object_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.object_id}: {self.field}: {self.message}"


def audit_bundle(bundle: Mapping[str, Any], sensitive: Iterable[str] = ()) -> list[Finding]:
    """Every rule violation in `bundle` (empty when it may be published)."""
    objects = [o for o in bundle.get("objects", ()) if isinstance(o, Mapping)]
    by_id = {str(o.get("id")): o for o in objects}
    findings: list[Finding] = []
    creators = {o.get("created_by_ref") for o in objects if o.get("created_by_ref")}
    for obj in objects:
        findings.extend(_markings(obj))
        findings.extend(_identity(obj, creators))
        findings.extend(_email(obj))
    findings.extend(_creators(objects, by_id))
    findings.extend(_addresses(objects))
    findings.extend(_sightings(objects, by_id))
    if sensitive:
        text = orjson.dumps(bundle).decode("utf-8").lower()
        for value in sorted(set(sensitive)):
            if value and value.lower() in text:
                findings.append(Finding("bundle", "(any)", f"contains a sensitive value ({len(value)} chars)"))
    return findings


def _markings(obj: Mapping[str, Any]) -> list[Finding]:
    object_id = str(obj.get("id"))
    if obj.get("type") == "marking-definition":
        if object_id not in markings.ALLOWED_MARKING_IDS:
            return [Finding(object_id, "id", "not a TLP 2.0 marking definition from the allow-list")]
        level = next(k for k, v in markings.TLP2_IDS.items() if v == object_id)
        if obj != markings.marking_definition(level):
            return [Finding(object_id, "(object)", f"differs from the OASIS TLP:{level.upper()} object")]
        return []
    refs = obj.get("object_marking_refs")
    if not refs:
        return [Finding(object_id, "object_marking_refs", "no TLP marking")]
    return [
        Finding(object_id, "object_marking_refs", f"{ref} is not a TLP 2.0 marking from the allow-list")
        for ref in refs
        if ref not in markings.ALLOWED_MARKING_IDS
    ]


def _identity(obj: Mapping[str, Any], creators: set[Any]) -> list[Finding]:
    if obj.get("type") != "identity" or obj.get("identity_class") == "class":
        return []
    if obj.get("id") in creators and obj.get("identity_class") == "organization":
        return []
    return [
        Finding(
            str(obj.get("id")),
            "identity_class",
            f"{obj.get('identity_class')!r} identity that is not the hub: a member identity?",
        )
    ]


def _creators(objects: list[Mapping[str, Any]], by_id: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    hubs = {o.get("created_by_ref") for o in objects if o.get("created_by_ref")}
    findings = []
    if len(hubs) > 1:
        findings.append(Finding("bundle", "created_by_ref", f"{len(hubs)} different creators; only the hub"))
    for obj in objects:
        if obj.get("type") in _SDO_WITHOUT_CREATOR or "created" not in obj:
            continue
        creator = obj.get("created_by_ref")
        if creator is None or by_id.get(str(creator), {}).get("type") != "identity":
            findings.append(Finding(str(obj.get("id")), "created_by_ref", "not created by the hub identity"))
    return findings


def _email(obj: Mapping[str, Any]) -> list[Finding]:
    if obj.get("type") != "email-message":
        return []
    object_id = str(obj.get("id"))
    findings = [
        Finding(object_id, key, "recipient addresses are never published")
        for key in ("to_refs", "cc_refs", "bcc_refs")
        if obj.get(key)
    ]
    headers = obj.get("additional_header_fields") or {}
    findings += [
        Finding(object_id, f"additional_header_fields.{name}", "recipient-side header")
        for name in headers
        if str(name).lower() in RECIPIENT_HEADERS
    ]
    if _role(obj) == "victim-reply":
        findings += [
            Finding(object_id, key, "victim-authored message must be metadata only")
            for key in ("from_ref", "sender_ref", "body", "body_multipart", "received_lines")
            if key in obj
        ]
        message_id = obj.get("message_id")
        if message_id and not str(message_id).endswith("@member.invalid>"):
            findings.append(Finding(object_id, "message_id", "victim Message-ID is not pseudonymised"))
    return findings


def _role(obj: Mapping[str, Any]) -> str | None:
    for extension in (obj.get("extensions") or {}).values():
        if isinstance(extension, Mapping) and "role" in extension:
            return str(extension["role"])
    return None


def _addresses(objects: list[Mapping[str, Any]]) -> list[Finding]:
    """Every email-addr must be an attacker sender (a From of attacker mail, or a phishing account)."""
    allowed: set[str] = set()
    for obj in objects:
        if obj.get("type") == "email-message" and _role(obj) != "victim-reply":
            allowed.update(str(obj[key]) for key in ("from_ref", "sender_ref") if obj.get(key))
    return [
        Finding(str(obj.get("id")), "value", "email address that is not an attacker sender (victim?)")
        for obj in objects
        if obj.get("type") == "email-addr" and obj.get("id") not in allowed
    ]


def _sightings(objects: list[Mapping[str, Any]], by_id: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    findings = []
    for obj in objects:
        if obj.get("type") != "sighting":
            continue
        for ref in obj.get("where_sighted_refs") or ():
            target = by_id.get(str(ref), {})
            if target.get("type") == "identity" and target.get("identity_class") != "class":
                findings.append(
                    Finding(
                        str(obj.get("id")),
                        "where_sighted_refs",
                        "sighted at a named organisation, not an anonymised sector class",
                    )
                )
    return findings
