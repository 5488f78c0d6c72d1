from __future__ import annotations

from typing import Any

import pytest

from taxii_server.model import CollectionDef, NewVersion
from taxii_server.validation import Rejected, check, pattern_error
from tests.support.hubtest import indicator, malware

C21 = CollectionDef(id="c", api_root="r", title="t")
AMBER = CollectionDef(id="c", api_root="r", title="t", max_tlp="amber")
RED_2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
RED_1 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _rejection(obj: Any, collection: CollectionDef = C21) -> str:
    result = check(obj, collection)
    assert isinstance(result, Rejected), result
    return result.message


def test_a_valid_indicator_is_accepted_with_its_version() -> None:
    result = check(indicator(modified="2021-03-01T00:00:00.000Z"), C21)
    assert isinstance(result, NewVersion)
    assert (result.version, result.spec_version) == ("2021-03-01T00:00:00.000Z", "2.1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "indicator--nope"}, "id: missing or not a STIX identifier"),
        ({"id": "malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}, "does not match type"),
        ({"type": "Indicator!"}, "type:"),
        ({"created": "yesterday"}, "created:"),
        ({"modified": "2020-01-01T00:00:00.000Z"}, "modified: earlier than created"),
        ({"pattern": "[ipv4-addr:value = "}, "pattern:"),
        ({"pattern": "[file:hashes.'SHA-256' = 'aa']"}, "pattern:"),
        ({"valid_until": "2020-01-01T00:00:00Z"}, "valid_until: must be later"),
        ({"created_by_ref": "someone"}, "created_by_ref: not a STIX identifier"),
        ({"object_marking_refs": []}, "object_marking_refs: must be a non-empty list"),
        ({"revoked": "yes"}, "revoked:"),
        ({"spec_version": "2.2"}, "spec_version: '2.2'"),
        ({"x_deep": _nested(40)}, "nested more than"),
    ],
)
def test_invalid_objects_are_rejected_with_the_property_named(change: dict[str, Any], message: str) -> None:
    assert message in _rejection(indicator(**change))


@pytest.mark.parametrize("missing", ["pattern", "pattern_type", "valid_from", "created", "modified"])
def test_required_properties_of_an_indicator(missing: str) -> None:
    obj = indicator()
    del obj[missing]
    assert _rejection(obj).startswith(f"{missing}: required")


def test_a_stix_20_object_needs_a_collection_that_takes_20() -> None:
    obj = malware()
    del obj["spec_version"]
    assert "STIX 2.0 objects are not accepted" in _rejection(obj)
    takes_20 = CollectionDef(id="c", api_root="r", title="t", media_types=(
        "application/stix+json;version=2.1", "application/stix+json;version=2.0"))
    assert isinstance(check(obj, takes_20), NewVersion)


@pytest.mark.parametrize("marking", [RED_2, RED_1])
def test_objects_above_the_ceiling_are_refused_in_tlp_2_and_1(marking: str) -> None:
    assert "above this collection's ceiling TLP:AMBER" in _rejection(indicator(object_marking_refs=[marking]), AMBER)


def test_a_sco_has_no_version_of_its_own() -> None:
    result = check({"type": "ipv4-addr", "id": "ipv4-addr--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f",
                    "value": "198.51.100.3"}, C21)
    assert isinstance(result, NewVersion) and result.version is None and result.spec_version == "2.1"


def test_the_pattern_checker_contains_parser_crashes() -> None:
    assert pattern_error("(" * 5000 + "[x:y = 1]" + ")" * 5000) is not None
    assert pattern_error("\x00") is not None
    assert pattern_error("[email-addr:value = 'a\\'b@example.com']") is None
