"""Objects the hub publishes are objects it regenerates, never a member's objects passed on verbatim.

Each published type keeps a fixed set of structured properties (patterns, vocabularies, times, references);
everything else — `external_references` other than an ATT&CK technique id, `x_*` properties, extensions,
granular markings, confidence from outside the hub — is dropped. Objects from a member's own STIX submission
lose their free text as well: descriptions, labels, aliases and names are replaced by names the hub writes,
except a malware family's name (it is the intelligence; the leak check still reads it). Observables get the
id STIX 2.1 computes from their value, so a member cannot smuggle a chosen id.

Pure: no I/O; the caller keeps the ids consistent with `new_ids`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from converters import patterns
from converters.attack import TECHNIQUES
from converters.ids import sco_id

_COMMON = ("type", "spec_version", "id", "created", "modified")
_HUB_TEXT = ("name", "description", "lang")
STRUCTURED: Mapping[str, tuple[str, ...]] = {
    "indicator": ("pattern", "pattern_type", "pattern_version", "valid_from", "valid_until", "indicator_types",
                  "kill_chain_phases"),
    "malware": ("is_family", "malware_types", "capabilities", "sample_refs", "kill_chain_phases", "first_seen",
                "last_seen", "architecture_execution_envs", "implementation_languages"),
    "attack-pattern": ("kill_chain_phases",),
    "infrastructure": ("infrastructure_types", "first_seen", "last_seen", "kill_chain_phases"),
    "location": ("country", "region"),
    "relationship": ("relationship_type", "source_ref", "target_ref", "start_time", "stop_time"),
    "domain-name": ("value",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "url": ("value",),
}
HUB_EXTRA: Mapping[str, tuple[str, ...]] = {  # text the hub's own converters write
    "indicator": ("confidence",),
    "infrastructure": ("labels",),
}
_ATTACK_ID = re.compile(r"^T[0-9]{4}(\.[0-9]{3})?$")
_VOCABULARY_ITEM = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def regenerate(obj: Mapping[str, Any], member_supplied: bool) -> dict[str, Any] | None:
    """The object the hub republishes for `obj`; None when there is nothing it can regenerate (an
    attack-pattern without an ATT&CK technique id from a member)."""
    otype = str(obj.get("type"))
    keep = (*_COMMON, *STRUCTURED.get(otype, ()))
    if not member_supplied:
        keep = (*keep, *_HUB_TEXT, *HUB_EXTRA.get(otype, ()))
    out = {k: obj[k] for k in keep if k in obj}
    if otype == "attack-pattern":
        technique = _technique(obj)
        if technique is None:
            return None
        out["external_references"] = [{"source_name": "mitre-attack", "external_id": technique}]
        if member_supplied or "name" not in out:
            known = TECHNIQUES.get(technique)
            out["name"] = known.name if known else f"ATT&CK technique {technique}"
    elif member_supplied:
        _member_names(obj, out)
    return out


def _technique(obj: Mapping[str, Any]) -> str | None:
    for ref in obj.get("external_references") or ():
        if (isinstance(ref, Mapping) and ref.get("source_name") == "mitre-attack"
                and isinstance(ref.get("external_id"), str) and _ATTACK_ID.match(ref["external_id"])):
            return str(ref["external_id"])
    return None


def _member_names(obj: Mapping[str, Any], out: dict[str, Any]) -> None:
    otype = out["type"]
    for key in ("indicator_types", "malware_types", "infrastructure_types", "capabilities"):
        if key in out:
            out[key] = [v for v in out[key] if isinstance(v, str) and _VOCABULARY_ITEM.match(v)] or ["unknown"]
    if otype == "indicator":
        inspection = patterns.inspect(str(out.get("pattern", "")))
        observed = inspection.comparisons[0].object_type if inspection and inspection.comparisons else "pattern"
        out["name"] = f"Indicator ({observed})"
    elif otype == "malware":
        if out.get("is_family") and isinstance(obj.get("name"), str):
            out["name"] = obj["name"]
        elif out.get("is_family"):
            out["name"] = "Malware family"
    elif otype == "infrastructure":
        out["name"] = f"Infrastructure ({', '.join(out.get('infrastructure_types') or ['unknown'])})"


def new_ids(objects: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Observables whose id is not the one STIX 2.1 computes from their value: old id -> computed id."""
    moved: dict[str, str] = {}
    for oid, obj in objects.items():
        if obj.get("type") in ("domain-name", "ipv4-addr", "ipv6-addr", "url") and isinstance(obj.get("value"), str):
            computed = sco_id(str(obj["type"]), {"value": obj["value"]})
            if computed != oid:
                moved[oid] = computed
    return moved
