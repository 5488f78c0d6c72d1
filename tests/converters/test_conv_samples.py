"""Every shared sample converts, passes stix2-validator in strict mode, and passes the hub's own rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from converters import audit_bundle, load_records, parse_eml, record_to_bundle, sensitive_values
from tests.support.conv_support import EML_SAMPLES, OPTIONS, RECORD_SAMPLES, strict_validation


def test_the_sample_set_is_complete() -> None:
    assert len(RECORD_SAMPLES) == 10
    assert len(EML_SAMPLES) == 7


@pytest.mark.parametrize("path", RECORD_SAMPLES, ids=lambda p: p.name)
def test_record_sample_is_validator_clean_in_strict_mode(path: Path) -> None:
    for record in load_records(path.read_bytes(), path.name):
        bundle = record_to_bundle(record, OPTIONS)
        assert strict_validation(bundle) == []
        assert audit_bundle(bundle, sensitive_values(record)) == []


@pytest.mark.parametrize("path", EML_SAMPLES, ids=lambda p: p.name)
def test_eml_sample_is_validator_clean_in_strict_mode(path: Path) -> None:
    record = parse_eml(path.read_bytes(), path.name)
    bundle = record_to_bundle(record, OPTIONS)
    assert strict_validation(bundle) == []
    assert audit_bundle(bundle, sensitive_values(record)) == []


@pytest.mark.parametrize("path", RECORD_SAMPLES, ids=lambda p: p.name)
def test_every_object_carries_a_tlp2_marking_and_every_sdo_is_created_by_the_hub(path: Path) -> None:
    record = load_records(path.read_bytes(), path.name)[0]
    bundle = record_to_bundle(record, OPTIONS)
    hub = [o for o in bundle["objects"] if o["type"] == "identity" and o["identity_class"] == "organization"]
    assert len(hub) == 1
    for obj in bundle["objects"]:
        if obj["type"] == "marking-definition":
            continue
        assert obj["object_marking_refs"], obj["id"]
        if "created" in obj and obj["id"] != hub[0]["id"]:
            assert obj["created_by_ref"] == hub[0]["id"], obj["id"]
