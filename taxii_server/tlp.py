"""Traffic Light Protocol levels and the STIX marking-definition ids that carry them.

Both TLP 2.0 (OASIS common objects) and the TLP 1.0 ids predefined in STIX 2.1 §7.2.1 are understood, plus
OpenCTI's own AMBER+STRICT id, so that content from other platforms is ranked correctly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from converters.markings import TLP2_IDS, TLP_LEVELS

LEVELS = TLP_LEVELS
RANK = {level: rank for rank, level in enumerate(LEVELS)}

# The TLP 1.0 marking definitions STIX 2.1 predefines (§7.2.1.4), by their TLP 1.0 name.
TLP1_IDS = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}

MARKING_LEVEL: dict[str, str] = {
    **{marking_id: level for level, marking_id in TLP2_IDS.items()},
    **{marking_id: "clear" if level == "white" else level for level, marking_id in TLP1_IDS.items()},
    # OpenCTI's AMBER+STRICT
    "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37": "amber+strict",
}


def parse_level(text: str) -> str:
    """Normalise 'TLP:AMBER+STRICT', 'amber+strict', 'white' … to a TLP 2.0 level; ValueError otherwise."""
    level = text.strip().lower().removeprefix("tlp:")
    level = "clear" if level == "white" else level
    if level not in RANK:
        raise ValueError(f"unknown TLP level {text!r} (one of {', '.join(LEVELS)})")
    return level


_CLAIM = re.compile(r"\bTLP\s*[:_-]?\s*(CLEAR|WHITE|GREEN|AMBER\s*\+\s*STRICT|AMBER|RED)\b", re.IGNORECASE)


def claimed_level(marking: Mapping[str, object]) -> str | None:
    """The most restrictive TLP level a marking-definition claims anywhere a reader would see one: its name,
    a statement, a `tlp` definition, or a TLP 2.0 extension. A marking that says "TLP:RED" counts as RED,
    whatever its id."""
    texts: list[str] = []
    for value in (marking.get("name"), marking.get("definition"), marking.get("extensions")):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, Mapping):
            for key in ("statement", "tlp", "tlp_2_0"):
                if isinstance(value.get(key), str):
                    texts.append(("TLP:" if key != "statement" else "") + str(value[key]))
            texts.extend("TLP:" + str(v["tlp_2_0"]) for v in value.values()
                         if isinstance(v, Mapping) and isinstance(v.get("tlp_2_0"), str))
    levels = (parse_level(re.sub(r"\s+", "", m.group(1))) for t in texts for m in _CLAIM.finditer(t))
    return _max_level(levels)


def highest_level(obj: dict[str, object], defined: Mapping[str, str] | None = None) -> str | None:
    """The most restrictive TLP level among an object's object_marking_refs and granular_markings. `defined`
    adds the levels of non-canonical marking definitions (by id) known to the caller."""
    refs: list[object] = []
    omr = obj.get("object_marking_refs")
    if isinstance(omr, list):
        refs.extend(omr)
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        refs.extend(g.get("marking_ref") for g in granular if isinstance(g, dict))
    known = {**(defined or {}), **MARKING_LEVEL}
    level = _max_level(known.get(r) for r in refs if isinstance(r, str))
    if obj.get("type") == "marking-definition" and obj.get("id") not in MARKING_LEVEL:
        # A known TLP definition only names its level; any other marking carries the level it claims.
        level = _max_level((level, claimed_level(obj)))
    return level


def max_level(levels: Iterable[str | None]) -> str | None:
    """The most restrictive of the levels given (None for none)."""
    return _max_level(levels)


def _max_level(levels: Iterable[str | None]) -> str | None:
    found = [level for level in levels if level is not None]
    return max(found, key=RANK.__getitem__) if found else None


def exceeds(level: str | None, ceiling: str | None) -> bool:
    """True when an object at `level` may not enter a collection whose ceiling is `ceiling`."""
    return ceiling is not None and level is not None and RANK[level] > RANK[ceiling]
