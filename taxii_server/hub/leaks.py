"""The last gate before anything is published: does the bundle reveal who reported or who was attacked?

Refuses (returns findings for) a bundle that contains any organisation id or name, any victim address or
member mail domain, a victim Message-ID, a member-internal Received hop, a sector breakdown that would single
out a member (a group sighting counting fewer reporters than the configured minimum), or anything the
converters' own audit finds (TLP 2.0 ids from the allow-list, no member identities). Values are searched in
the serialized bundle, case-insensitively, as whole tokens, so short ids do not match inside hashes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from converters import audit_bundle


def _token(value: str) -> re.Pattern[str]:
    return re.compile(r"(?<![0-9A-Za-z])" + re.escape(value) + r"(?![0-9A-Za-z])", re.IGNORECASE)


def findings(
    bundle: Mapping[str, Any], serialized: bytes, sensitive: Iterable[str], min_group_count: int
) -> list[str]:
    text = serialized.decode("utf-8")
    found: list[str] = []
    for value in sorted({v.strip() for v in sensitive if v and len(v.strip()) >= 3}):
        if _token(value).search(text):
            found.append(f"the bundle contains a protected value ({_hint(value)})")
    identities = {o["id"]: o for o in bundle.get("objects", ()) if o.get("type") == "identity"}
    for obj in bundle.get("objects", ()):
        if obj.get("type") != "sighting":
            continue
        for ref in obj.get("where_sighted_refs", ()):
            if identities.get(ref, {}).get("sectors") and int(obj.get("count", 0)) < min_group_count:
                found.append(f"{obj['id']}: a sector group with {obj.get('count')} reporting member(s) would "
                             f"single them out (minimum {min_group_count})")
    found.extend(str(f) for f in audit_bundle(bundle))
    return found


def _hint(value: str) -> str:
    """Say what kind of value leaked without repeating it in full."""
    kind = "address" if "@" in value else "identifier or name"
    return f"{kind} beginning {value[:3]!r}"
