from __future__ import annotations

import pytest

from taxii_server.web.media import accepts_taxii, is_taxii_content


@pytest.mark.parametrize(
    "header",
    [
        None,
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/taxii+json",
        'application/taxii+json;version="2.1"',
        "Application/TAXII+JSON;Version=2.1",
        "application/taxii+json;version=2.1,application/stix+json;version=2.1",
        "application/json;q=0.5, application/taxii+json;version=2.1;q=0.9",
        "*/*",
        "application/json, text/plain, */*",
    ],
)
def test_b2_b4_acceptable(header: str | None) -> None:
    assert accepts_taxii(header)


@pytest.mark.parametrize(
    "header",
    ["", "application/foo", "application/taxii+json;version=2.0", "application/taxii+json;q=0",
     "application/vnd.oasis.taxii+json; version=2.0", "application/stix+json;version=2.1"],
)
def test_b3_not_acceptable(header: str) -> None:
    assert not accepts_taxii(header)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        ("application/taxii+json;version=2.1", True),
        ("application/taxii+json", True),
        ("application/taxii+json; charset=utf-8; version=2.1", True),
        ("application/json", False),
        ("application/stix+json;version=2.1", False),
        ("application/taxii+json;version=2.0", False),
        ("application/taxii+json;charset=latin-1", False),
        (None, False),
    ],
)
def test_b5_b6_content_types(header: str | None, ok: bool) -> None:
    assert is_taxii_content(header) is ok
