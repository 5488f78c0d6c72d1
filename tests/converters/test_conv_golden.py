"""Golden bundles: conversion output is compared byte for byte with committed files in `golden/`.

When a change to the converters is intended, regenerate the files and review the diff:

    TAXII_HUB_TEST_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/converters/test_conv_golden.py

(the test then rewrites each file before comparing, so it passes; `git diff tests/converters/golden` shows
what changed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from converters import bundle_bytes, load_records, merge_bundles, parse_eml, record_to_bundle
from tests.support.conv_support import OPTIONS, SAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = [
    "records/case04-conversation.json",
    "records/case09-lnk-in-zip.json",
    "records/case10-unrelated-phishing.json",
    "eml/cp932-invoice.eml",
    "eml/case04-step9-rar-lhaplus.eml",
]


def _convert(relative: str) -> bytes:
    path = SAMPLES / relative
    if path.suffix == ".eml":
        records = [parse_eml(path.read_bytes(), path.name)]
    else:
        records = load_records(path.read_bytes(), path.name)
    bundle = merge_bundles([record_to_bundle(record, OPTIONS) for record in records], OPTIONS)
    return bundle_bytes(bundle, pretty=True) + b"\n"


@pytest.mark.parametrize("relative", CASES)
def test_conversion_matches_the_golden_bundle_byte_for_byte(relative: str) -> None:
    golden = GOLDEN / (Path(relative).name + ".stix.json")
    produced = _convert(relative)
    if os.environ.get("TAXII_HUB_TEST_REGENERATE_GOLDEN") == "1":
        golden.write_bytes(produced)
    assert golden.read_bytes() == produced
