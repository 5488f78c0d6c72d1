"""Acceptance cases BODY-01, -03..-06, STIX-01..-05 and QUERY-01, -02 (spec/security.md §5): hostile bodies,
objects and queries get a TAXII error or a per-object failure, never a 500, and nothing of them is stored."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import orjson
import pytest

from taxii_server.web.services import EXTENSION
from tests.support.acceptance_hub import (
    BIG,
    CA,
    CB,
    MAX_CONTENT_LENGTH,
    ROOT2,
    A,
    AcceptanceHub,
    B,
    error_shape_ok,
    object_path,
    objects_path,
    valid,
)
from tests.support.hubtest import MT, ROOT, new_id


def _post_raw(acc: AcceptanceHub, body: bytes, collection: str = CA, root: str = ROOT, **headers: str) -> Any:
    return acc.request("POST", objects_path(collection, root), A, body, **headers)


def _nothing_stored(acc: AcceptanceHub, statuses_before: int, collection: str = CA, root: str = ROOT) -> bool:
    return acc.stored(collection, A, root) == [] and acc.status_count() == statuses_before


# -- request bodies ----------------------------------------------------------------------------------------

def _envelope_of_size(size: int) -> bytes:
    body = orjson.dumps({"objects": [valid()]})
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_body_01_a_body_of_exactly_max_content_length_is_processed_one_byte_more_is_413(acc: AcceptanceHub) -> None:
    exact = _post_raw(acc, _envelope_of_size(MAX_CONTENT_LENGTH))
    assert exact.status_code == 202 and exact.json["success_count"] == 1
    statuses = acc.status_count()
    stored = len(acc.stored(CA))
    over = _post_raw(acc, _envelope_of_size(MAX_CONTENT_LENGTH + 1))
    assert error_shape_ok(over, 413)
    assert len(acc.stored(CA)) == stored and acc.status_count() == statuses


MALFORMED_BODIES = {
    "truncated": b'{"objects": [',
    "trailing-garbage": orjson.dumps({"objects": [valid()]}) + b" garbage",
    "utf-16": '{"objects": []}'.encode("utf-16"),
    "utf-8-bom": b"\xef\xbb\xbf" + orjson.dumps({"objects": [valid()]}),
    "latin-1": '{"objects": [{"name": "caf\xe9"}]}'.encode("latin-1"),
}
I_JSON_VIOLATIONS = {
    "nan": b'{"objects": [{"x": NaN}]}',
    "minus-infinity": b'{"objects": [{"x": -Infinity}]}',
    "huge-float": b'{"objects": [{"x": 1e400}]}',
    "duplicate-keys": b'{"objects": [{"id": "a", "id": "b"}]}',
    "5000-digit-int": b'{"objects": [{"x": ' + b"9" * 5000 + b"}]}",
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
def test_body_03_malformed_or_non_utf8_json_is_a_400_and_stores_nothing(acc: AcceptanceHub, body: bytes) -> None:
    assert error_shape_ok(_post_raw(acc, body), 400)
    assert _nothing_stored(acc, 0)


@pytest.mark.parametrize("body", list(I_JSON_VIOLATIONS.values()), ids=list(I_JSON_VIOLATIONS))
def test_body_04_i_json_violations_are_a_400_and_store_nothing(acc: AcceptanceHub, body: bytes) -> None:
    assert error_shape_ok(_post_raw(acc, body), 400)
    assert _nothing_stored(acc, 0)


def test_body_05_deep_nesting_is_refused_within_a_second_and_others_are_served(acc: AcceptanceHub) -> None:
    started = time.monotonic()
    response = _post_raw(acc, b"[" * 100_000, collection=BIG, root=ROOT2)  # under the 10 MiB default limit
    assert time.monotonic() - started < 1
    assert response.status_code in (400, 413) and error_shape_ok(response, response.status_code)
    assert acc.get(objects_path(CB), B).status_code == 200


def test_body_06_wrong_content_type_is_415_and_html_accept_is_406(acc: AcceptanceHub) -> None:
    body = orjson.dumps({"objects": [valid()]})
    assert error_shape_ok(_post_raw(acc, body, **{"Content-Type": "application/json"}), 415)
    assert error_shape_ok(acc.get(objects_path(CA), A, Accept="text/html"), 406)
    assert _nothing_stored(acc, 0)


# -- STIX content ------------------------------------------------------------------------------------------

INVALID_OBJECTS: dict[str, dict[str, Any]] = {
    "bad-id": valid("indicator--not-a-uuid"),
    "id-prefix-not-type": valid("malware--6f0c2a6e-0000-4000-8000-000000000000"),
    "modified-empty": valid(modified=""),
    "modified-yesterday": valid(modified="yesterday"),
    "modified-month-13": valid(modified="2021-13-01T00:00:00.000Z"),
    "modified-no-z": valid(modified="2021-01-01T00:00:00.000"),
    "pattern-empty": valid(pattern=""),
    "pattern-brackets": valid(pattern="[[["),
    "pattern-2000-parens": valid(pattern="(" * 2000 + "[ipv4-addr:value = '1.2.3.4']" + ")" * 2000),
    "pattern-bad-regex": valid(pattern="[file:name MATCHES '((']"),
    "lone-surrogate": valid(name="\ud800"),
}


def _envelope_bytes(objects: list[dict[str, Any]]) -> bytes:
    # orjson refuses lone surrogates, so they are written as JSON escapes, the way a hostile client sends them
    return ('{"objects": [' + ", ".join(_json(o) for o in objects) + "]}").encode("utf-8")


def _json(obj: dict[str, Any]) -> str:
    return json.dumps(obj)


@pytest.mark.parametrize("obj", list(INVALID_OBJECTS.values()), ids=list(INVALID_OBJECTS))
def test_stix_01_an_invalid_object_fails_on_its_own_and_never_poisons_reads(
    acc: AcceptanceHub, obj: dict[str, Any]
) -> None:
    response = _post_raw(acc, _envelope_bytes([obj]))
    if response.status_code == 400:  # a lone surrogate may be refused with the whole body
        assert error_shape_ok(response, 400)
    else:
        assert response.status_code == 202, response.data
        assert (response.json["success_count"], response.json["failure_count"]) == (0, 1)
        assert response.json["failures"][0]["message"]
    assert acc.stored(CA) == []
    assert acc.get(objects_path(CA)).status_code == 200
    assert acc.get(objects_path(CA), A, **{"Accept": MT}).json == {}


def test_stix_02_a_mixed_envelope_stores_exactly_the_valid_objects_and_its_status_is_kept(acc: AcceptanceHub) -> None:
    good = [valid() for _ in range(3)]
    response = acc.post(CA, [good[0], INVALID_OBJECTS["bad-id"], good[1], INVALID_OBJECTS["modified-empty"], good[2]])
    assert response.status_code == 202
    assert (response.json["success_count"], response.json["failure_count"]) == (3, 2)
    assert sorted(o["id"] for o in acc.stored(CA)) == sorted(o["id"] for o in good)
    status_path = f"/{ROOT}/status/{response.json['id']}/"
    feeds = acc.app.extensions[EXTENSION].feeds
    real_clock = feeds.clock
    day_us = 24 * 3600 * 1_000_000

    def purge_as_of(offset_us: int) -> None:
        """Post until the hub's occasional purge of old statuses ran with its clock moved ahead (bounded)."""
        feeds.clock = lambda: real_clock() + offset_us
        try:
            for _ in range(400):
                if acc.post(CA, [valid()]).json["id"].startswith("0"):
                    return
            raise AssertionError("no purge ran")
        finally:
            feeds.clock = real_clock

    purge_as_of(day_us + 1_000_000)
    assert acc.get(status_path).status_code == 200  # ≥ 24 h (TAXII §4.3)
    purge_as_of(feeds.status_retention_us + day_us)
    assert error_shape_ok(acc.get(status_path), 404)


def test_stix_03_duplicates_sequential_and_concurrent_are_successes_stored_once(acc: AcceptanceHub) -> None:
    obj = valid()
    answers: list[tuple[int, int, int]] = []
    lock = threading.Lock()

    def post_many(n: int) -> None:
        for _ in range(n):
            response = acc.post(CA, [obj])
            with lock:
                answers.append((response.status_code, response.json["success_count"], response.json["failure_count"]))

    post_many(50)
    threads = [threading.Thread(target=post_many, args=(50,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [(202, 1, 0)] * 450
    assert [o["id"] for o in acc.stored(CA)] == [obj["id"]]
    manifest = acc.get(objects_path(CA).replace("objects/", "manifest/") + "?match[version]=all").json["objects"]
    assert len(manifest) == 1


def test_stix_04_same_id_and_version_with_other_content_is_a_conflict_and_leaves_the_first(acc: AcceptanceHub) -> None:
    o = new_id("indicator")
    acc.post(CA, [valid(o, name="first")])
    response = acc.post(CA, [valid(o, name="second")])
    assert response.json["failure_count"] == 1 and "different object" in response.json["failures"][0]["message"]
    assert [x["name"] for x in acc.get(object_path(CA, o)).json["objects"]] == ["first"]


CAPPED = {
    "10-MB-description": lambda: [valid(description="x" * 10_000_000)],
    "100k-element-list": lambda: [valid(labels=["l"] * 100_000)],
    "long-name": lambda: [valid(name="n" * 5000)],
    "envelope-over-the-object-cap": lambda: [valid() for _ in range(10_001)],
}


@pytest.mark.parametrize("objects", list(CAPPED.values()), ids=list(CAPPED))
def test_stix_05_oversized_fields_and_envelopes_fail_per_object_or_413(acc: AcceptanceHub, objects: Any) -> None:
    response = acc.request("POST", objects_path(BIG, ROOT2), A, orjson.dumps({"objects": objects()}))
    if response.status_code == 202:
        assert response.json["success_count"] == 0 and response.json["failures"][0]["message"]
    else:
        assert error_shape_ok(response, 413), response.data
    assert acc.stored(BIG, A, ROOT2) == []


# -- queries -----------------------------------------------------------------------------------------------

BAD_QUERIES = ["limit=-1", "limit=0", "limit=abc", "added_after=garbage", "added_after=2020-13-45T99:00:00Z",
               "match[version]=garbage", "match[version]=",
               "added_after=2021-01-01T00:00:00Z&added_after=2021-01-02T00:00:00Z"]


# The versions endpoint takes no match[version] (TAXII §5.8), so those pairs are not asked of it.
QUERY_CASES = [(suffix, query) for suffix in ("objects/", "manifest/", "objects/{o}/versions/") for query in BAD_QUERIES
               if not ("match[version]" in query and "versions" in suffix)]


@pytest.mark.parametrize(("suffix", "query"), QUERY_CASES)
def test_query_01_malformed_filters_are_a_400(acc: AcceptanceHub, suffix: str, query: str) -> None:
    o = new_id("indicator")
    acc.post(CA, [valid(o)])
    path = f"/{ROOT}/collections/{CA}/" + suffix.format(o=o)
    assert error_shape_ok(acc.get(f"{path}?{query}"), 400)


@pytest.mark.parametrize("suffix", ["objects/", "manifest/"])
def test_query_01_a_limit_beyond_any_integer_is_clamped_or_refused_never_an_error(acc: AcceptanceHub,
                                                                                 suffix: str) -> None:
    response = acc.get(f"/{ROOT}/collections/{CA}/{suffix}?limit=99999999999999999999")
    assert response.status_code in (200, 400)


EXPLOSIONS = {
    "1000-types": "match[type]=" + ",".join(f"type-{n}" for n in range(1000)),
    "5000-ids": "match[id]=" + ",".join(new_id("indicator") for _ in range(5000)),
    "100-KB-query": "match[type]=" + "a" * 100_000,
}


@pytest.mark.parametrize("query", list(EXPLOSIONS.values()), ids=list(EXPLOSIONS))
def test_query_02_filter_explosions_are_refused_above_a_cap(acc: AcceptanceHub, query: str) -> None:
    response = acc.get(f"{objects_path(CA)}?{query}")
    assert response.status_code in (400, 414) and error_shape_ok(response, response.status_code)
