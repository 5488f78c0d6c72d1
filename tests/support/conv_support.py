"""Helpers for the converter tests: the copied samples, fixed conversion options, the strict validator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from converters import ConversionOptions, bundle_bytes, stix_validator_messages

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
RECORD_SAMPLES = sorted((SAMPLES / "records").glob("*.json"))
EML_SAMPLES = sorted((SAMPLES / "eml").glob("*.eml"))

# The shared samples' reporters and the sector groups the hub registry would give them.
SECTOR_GROUPS = {
    "kita-heavy": "heavy-industry",
    "higashi-gas": "energy",
    "nishi-chem": "chemical",
    "chuo-oil": "petroleum",
    "minami-power": "energy",
}
OPTIONS = ConversionOptions(id_key="converter-tests-key", sector_groups=SECTOR_GROUPS)


def strict_validation(bundle: dict[str, Any]) -> list[str]:
    """stix2-validator in strict mode over the serialised bundle (what consumers will read)."""
    return stix_validator_messages(json.loads(bundle_bytes(bundle)))


def objects_of(bundle: dict[str, Any], object_type: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == object_type]
