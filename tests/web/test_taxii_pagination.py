"""Checklist K: pagination (§3.5), the X-TAXII-Date-Added headers (§3.2) and date_added (§5.3.1).

`next` is present whenever `more` is true, on every paged endpoint; tokens are bound to the caller, the
collection, the endpoint and the filters. date_added is unique and strictly increasing per collection, so
the `added_after` fallback with X-TAXII-Date-Added-Last is lossless even after a bulk POST (K9).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.hubtest import (
    C_RO,
    C_RW,
    MT,
    X_VERSIONS,
    Hub,
    collection_path,
    date_added,
    get,
    indicator,
    manifest_records,
    post_objects,
    seed,
)


def _page(hub: Hub, query: str, org: str = "alice", suffix: str = "objects/") -> dict[str, Any]:
    response = get(hub, collection_path(C_RW, suffix + "?" + query), org)
    assert response.status_code == 200, response.data
    body: dict[str, Any] = response.json
    return body


def _walk(hub: Hub, suffix: str, key: str, first_query: str = "limit=1") -> list[Any]:
    """Follow `next` (with the same query options, K3) until `more` is false; more=true needs a token (K2)."""
    body = _page(hub, first_query, suffix=suffix)
    seen = list(body.get(key, []))
    while body.get("more"):
        assert isinstance(body.get("next"), str) and body["next"]
        body = _page(hub, f"{first_query}&next={body['next']}", suffix=suffix)
        seen += body.get(key, [])
    assert "next" not in body
    return seen


def test_k1_more_is_true_when_the_limit_cuts_the_result(hub: Hub) -> None:
    seed(hub)
    assert _page(hub, "limit=1")["more"] is True


def test_k1_more_is_true_when_the_server_maximum_cuts_the_result(hub: Hub) -> None:
    post_objects(hub, "alice", C_RW, [indicator() for _ in range(101)])
    body = _page(hub, "")
    assert len(body["objects"]) == 100
    assert body["more"] is True
    assert body["next"]


@pytest.mark.parametrize(("suffix", "key"), [("objects/", "objects"), ("manifest/", "objects")])
def test_k2_paging_with_next_yields_every_object_exactly_once(hub: Hub, suffix: str, key: str) -> None:
    s = seed(hub)
    ids = [item["id"] for item in _walk(hub, suffix, key)]
    assert sorted(ids) == sorted([s.x, s.y, s.m, s.s])


def test_k2_paging_object_versions_with_next_yields_each_version_once(hub: Hub) -> None:
    s = seed(hub)
    found = _walk(hub, f"objects/{s.x}/", "objects", "limit=1&match[version]=all")
    assert [o["modified"] for o in found] == list(X_VERSIONS)


def test_k2_paging_the_versions_endpoint_with_next_yields_each_version_once(hub: Hub) -> None:
    s = seed(hub)
    assert _walk(hub, f"objects/{s.x}/versions/", "versions") == list(X_VERSIONS)


def test_k3_next_is_used_with_the_same_query_options(hub: Hub) -> None:
    s = seed(hub)
    other = indicator()
    post_objects(hub, "alice", C_RW, [other])
    first = _page(hub, "limit=1&match[type]=indicator")
    second = _page(hub, f"limit=1&match[type]=indicator&next={first['next']}")
    assert [o["id"] for o in first["objects"] + second["objects"]] == [s.x, other["id"]]


def _token(hub: Hub, query: str = "limit=1") -> str:
    seed(hub)
    token: str = _page(hub, query)["next"]
    return token


def test_k4_a_token_replayed_by_another_organisation_is_a_400(hub: Hub) -> None:
    token = _token(hub)
    response = get(hub, collection_path(C_RW, f"objects/?limit=1&next={token}"), "reader")
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT


def test_k4_a_token_replayed_by_an_outsider_reveals_nothing(hub: Hub) -> None:
    token = _token(hub)
    response = get(hub, collection_path(C_RW, f"objects/?limit=1&next={token}"), "bob")
    assert response.status_code == 404
    assert b"objects" not in response.data


@pytest.mark.parametrize("query", ["limit=1&match[type]=malware", "limit=1&added_after=2000-01-01T00:00:00Z",
                                   "limit=1&match[version]=all"])
def test_k4_a_token_with_different_filters_is_a_400(hub: Hub, query: str) -> None:
    token = _token(hub)
    response = get(hub, collection_path(C_RW, f"objects/?{query}&next={token}"))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT


def test_k4_a_token_from_another_collection_is_a_400(hub: Hub) -> None:
    token = _token(hub)
    seed(hub, C_RO, org="analyst")
    response = get(hub, collection_path(C_RO, f"objects/?limit=1&next={token}"))
    assert response.status_code == 400


def test_k4_a_token_from_another_endpoint_is_a_400(hub: Hub) -> None:
    token = _token(hub)
    response = get(hub, collection_path(C_RW, f"manifest/?limit=1&next={token}"))
    assert response.status_code == 400


@pytest.mark.parametrize("token", ["garbage", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "%00"])
def test_k4_an_unknown_or_altered_token_is_a_400(hub: Hub, token: str) -> None:
    seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/?limit=1&next={token}"))
    assert response.status_code == 400
    assert response.headers["Content-Type"] == MT


def test_k6_next_works_without_limit(hub: Hub) -> None:
    s = seed(hub)
    token = _page(hub, "limit=1")["next"]
    rest = _page(hub, f"next={token}")
    assert [o["id"] for o in rest["objects"]] == [s.y, s.m, s.s]
    assert rest["more"] is False


def test_k7_a_page_emptied_by_deletes_is_an_empty_envelope(hub: Hub) -> None:
    s = seed(hub)
    token = _page(hub, f"limit=1&match[id]={s.x},{s.y}")["next"]
    deleted = hub.client().delete(collection_path(C_RW, f"objects/{s.y}/"), headers=hub.headers("alice"))
    assert deleted.status_code == 200
    response = get(hub, collection_path(C_RW, f"objects/?limit=1&match[id]={s.x},{s.y}&next={token}"))
    assert response.status_code == 200
    assert response.data == b"{}"


PAGED = ["objects/", "manifest/", "objects/{x}/", "objects/{x}/versions/"]


@pytest.mark.parametrize("suffix", PAGED)
def test_k8_a_non_empty_answer_has_both_date_added_headers(hub: Hub, suffix: str) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, suffix.format(x=s.x)))
    assert response.status_code == 200
    assert response.headers["X-TAXII-Date-Added-First"]
    assert response.headers["X-TAXII-Date-Added-Last"]


@pytest.mark.parametrize("suffix", PAGED)
def test_k8_an_empty_answer_has_no_date_added_headers(hub: Hub, suffix: str) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, suffix.format(x=s.x) + "?added_after=2999-01-01T00:00:00Z"))
    assert response.status_code == 200
    assert response.data == b"{}"
    assert "X-TAXII-Date-Added-First" not in response.headers
    assert "X-TAXII-Date-Added-Last" not in response.headers


def test_k8_versions_headers_are_the_first_and_last_version_on_the_page(hub: Hub) -> None:
    s = seed(hub)
    response = get(hub, collection_path(C_RW, f"objects/{s.x}/versions/?limit=2"))
    assert response.headers["X-TAXII-Date-Added-First"] == date_added(hub, C_RW, s.x, X_VERSIONS[0])
    assert response.headers["X-TAXII-Date-Added-Last"] == date_added(hub, C_RW, s.x, X_VERSIONS[1])


def test_k9_walking_added_after_with_the_last_header_sees_a_bulk_post_exactly_once(hub: Hub) -> None:
    posted = [indicator() for _ in range(100)]
    assert post_objects(hub, "alice", C_RW, posted).json["success_count"] == 100
    seen: list[str] = []
    query = "limit=1"
    for _ in range(101):
        response = get(hub, collection_path(C_RW, "objects/?" + query))
        if response.data == b"{}":
            break
        seen += [o["id"] for o in response.json["objects"]]
        query = f"limit=1&added_after={response.headers['X-TAXII-Date-Added-Last']}"
    assert seen == [o["id"] for o in posted]


def test_k9_date_added_is_unique_and_strictly_increasing(hub: Hub) -> None:
    post_objects(hub, "alice", C_RW, [indicator() for _ in range(50)])
    stamps = [r["date_added"] for r in manifest_records(hub, C_RW)]
    assert len(stamps) == 50
    assert stamps == sorted(set(stamps))


def test_k10_re_adding_an_exact_duplicate_keeps_its_date_added(hub: Hub) -> None:
    s = seed(hub)
    before = date_added(hub, C_RW, s.x, X_VERSIONS[2])
    assert post_objects(hub, "alice", C_RW, [indicator(s.x, modified=X_VERSIONS[2])]).json["success_count"] == 1
    assert date_added(hub, C_RW, s.x, X_VERSIONS[2]) == before


def test_k3_next_alone_continues_the_filtered_query_as_elastic_pages(hub: Hub) -> None:
    """Elastic's ti_custom (before 1.8.2) sends only next and limit on later pages, dropping added_after."""
    s = seed(hub)
    later = [indicator() for _ in range(3)]
    post_objects(hub, "alice", C_RW, later)
    first = get(hub, collection_path(C_RW, "objects/?limit=1&match[type]=indicator"
                                            f"&added_after={date_added(hub, C_RW, s.x, X_VERSIONS[2])}"))
    assert first.status_code == 200
    seen = [o["id"] for o in first.json["objects"]]
    body = first.json
    while body.get("more"):
        body = _page(hub, f"limit=1&next={body['next']}")
        seen += [o["id"] for o in body.get("objects", [])]
    assert seen == [o["id"] for o in later]


def test_k3_next_with_the_filters_repeated_and_a_new_limit_continues(hub: Hub) -> None:
    s = seed(hub)
    first = _page(hub, "limit=1&match[type]=indicator,malware")
    rest = _page(hub, f"limit=5&match[type]=indicator,malware&next={first['next']}")
    assert [o["id"] for o in first["objects"] + rest["objects"]] == [s.x, s.y]


def test_k4_next_with_a_conflicting_filter_says_so(hub: Hub) -> None:
    token = _token(hub, "limit=1&match[type]=indicator,malware")
    response = get(hub, collection_path(C_RW, f"objects/?match[type]=malware&next={token}"))
    assert response.status_code == 400
    assert "differ" in response.json["description"]
