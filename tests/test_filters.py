from __future__ import annotations

import pytest

from taxii_server.errors import BadRequest
from taxii_server.filters import parse
from taxii_server.timestamps import parse_us

IND = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"


def test_filters_are_parsed() -> None:
    req = parse({"added_after": ["2021-01-01T00:00:00Z"], "match[type]": ["indicator,malware"],
                 "match[id]": [IND], "limit": ["5"], "next": ["tok"], "match[version]": ["first,last"],
                 "match[spec_version]": ["2.0,2.1"]}, "objects")
    assert req.filter.added_after_us == parse_us("2021-01-01T00:00:00Z")
    assert req.filter.types == ("indicator", "malware")
    assert req.filter.ids == (IND,)
    assert req.filter.version_keywords == frozenset({"first", "last"})
    assert req.filter.spec_versions == ("2.0", "2.1")
    assert (req.limit, req.next) == (5, "tok")


def test_default_version_is_last_and_delete_defaults_to_all() -> None:
    assert parse({}, "objects").filter.version_keywords == frozenset({"last"})
    assert parse({}, "delete").filter.all_versions
    assert parse({"match[version]": ["last"]}, "delete").filter.version_keywords == frozenset({"last"})


def test_unknown_match_fields_and_endpoint_foreign_fields_are_ignored() -> None:
    assert parse({"match[foo]": ["bar"]}, "objects").filter == parse({}, "objects").filter
    assert parse({"match[type]": ["malware"]}, "object").filter.types == ()


@pytest.mark.parametrize(
    "args",
    [
        {"limit": ["0"]}, {"limit": ["-1"]}, {"limit": ["abc"]}, {"limit": ["1.5"]}, {"limit": [""]},
        {"added_after": ["garbage"]}, {"added_after": ["2021-01-01T00:00:00Z", "2021-01-02T00:00:00Z"]},
        {"match[version]": ["garbage"]}, {"match[version]": ["all,last"]}, {"match[version]": ["first,first"]},
        {"match[type]": ["Indicator"]}, {"match[type]": [""]}, {"match[id]": ["not-an-id"]},
        {"match[spec_version]": ["two"]}, {"next": [""]},
    ],
)
def test_c6_malformed_parameters_are_bad_requests(args: dict[str, list[str]]) -> None:
    with pytest.raises(BadRequest):
        parse(args, "objects")
