"""TLP 2.0 marking definitions (OASIS common objects, stix-mapping §1.4.9).

The five objects are not predefined by the STIX spec, so every bundle ships the ones it uses. The ids are an
allow-list: stix2-validator accepts any id here, so the hub checks them itself (`converters.audit`).
"""

from __future__ import annotations

from typing import Any

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
ALLOWED_MARKING_IDS = frozenset(TLP2_IDS.values())

# The TLP 2.0 levels from least to most restrictive: the one definition of their order (taxii_server.tlp too).
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")


def stricter(*levels: str) -> str:
    """The most restrictive of the given TLP levels."""
    return max(levels, key=TLP_LEVELS.index)


def marking_definition(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def refs(level: str) -> list[str]:
    return [TLP2_IDS[level]]
