"""Deterministic STIX identifiers (stix-mapping §2).

- SCOs: the spec rule, UUIDv5 in the STIX namespace over the RFC 8785 (JCS) JSON of the id-contributing
  properties, with one hash (MD5 > SHA-1 > SHA-256 > SHA-512) when `hashes` contributes. Bit-compatible with
  the stix2 library.
- email-message: UUIDv5 in the hub's own namespace over (Message-ID, date, from), because the spec's key
  collides for multipart mail and `Re:` chains.
- SDOs/SROs: HMAC-SHA256 of a natural key under the hub's secret, shaped as a UUIDv4 (validator check 103
  passes; outsiders cannot recompute or reverse it).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

STIX_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# The hub's own UUIDv5 namespace for email-message ids (legal because it is not the STIX namespace).
HUB_EMAIL_NAMESPACE = uuid.UUID("6a2f1d0e-3c4b-5e8f-9a1b-2c3d4e5f6a7b")

_HASH_PREFERENCE = ("MD5", "SHA-1", "SHA-256", "SHA-512")

# The ID Contributing Properties of each STIX 2.1 cyber-observable type (STIX 2.1 §6, each SCO's
# "ID Contributing Properties"); `process` has none (the spec recommends UUIDv4 ids for it). A test compares
# this table with the stix2 library's for every SCO type it knows.
ID_CONTRIBUTING_PROPERTIES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "artifact": ("hashes", "payload_bin"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("from_ref", "subject", "body"),
    "file": ("hashes", "name", "parent_directory_ref", "extensions"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"),
    "process": (),
    "software": ("name", "cpe", "swid", "vendor", "version"),
    "url": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
})


def canonical_json(value: Any) -> str:
    """RFC 8785 canonical JSON for the values we hash (strings, ints, bools, lists, dicts with ASCII keys):
    compact, keys sorted, non-ASCII unescaped, control characters as lower-case `\\u00xx`."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def sco_id(object_type: str, contributing: Mapping[str, Any]) -> str:
    """`<type>--UUIDv5(STIX namespace, JCS(contributing properties))`; `hashes` reduced to one."""
    key: dict[str, Any] = {}
    for name, value in contributing.items():
        if value is None:
            continue
        if name == "hashes":
            value = _one_hash(value)
        key[name] = value
    if not key:
        raise ValueError(f"{object_type}: no id-contributing property")
    return f"{object_type}--{uuid.uuid5(STIX_SCO_NAMESPACE, canonical_json(key))}"


def _one_hash(hashes: Mapping[str, str]) -> dict[str, str]:
    for name in _HASH_PREFERENCE:
        if name in hashes:
            return {name: hashes[name]}
    name = sorted(hashes)[0]
    return {name: hashes[name]}


def email_message_id(message_id: str | None, date: str, sender: str | None) -> str:
    key = {"message_id": message_id, "date": date, "from": sender}
    name = canonical_json({k: v for k, v in key.items() if v is not None})
    return f"email-message--{uuid.uuid5(HUB_EMAIL_NAMESPACE, name)}"


class KeyedIds:
    """Keyed ids and pseudonyms under one hub secret."""

    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")

    def digest(self, natural_key: Mapping[str, Any]) -> bytes:
        return hmac.digest(self._key, orjson.dumps(natural_key, option=orjson.OPT_SORT_KEYS), "sha256")

    def sdo_id(self, object_type: str, natural_key: Mapping[str, Any]) -> str:
        """`<type>--` + the first 16 bytes of HMAC-SHA256(key, JCS({type, **natural_key})) as a UUIDv4."""
        raw = bytearray(self.digest({"type": object_type, **natural_key})[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
        raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = raw.hex()
        return f"{object_type}--{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def pseudonym(self, purpose: str, value: str, length: int = 16) -> str:
        """A stable, irreversible hex token for `value` (e.g. a victim Message-ID)."""
        return self.digest({"pseudonym": purpose, "value": value}).hex()[:length]
