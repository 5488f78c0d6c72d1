"""Guard rail: every service method that takes a collection id refuses an outsider, before doing any work.

The methods are enumerated from the service classes, not listed by hand, so a new method that forgets to
go through `Feeds._authorise` fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from hubtest import C_MISSING, C_NONE, ROOT, Hub

from taxii_server.errors import NotFound
from taxii_server.feeds import Feeds
from taxii_server.filters import QueryRequest
from taxii_server.model import ObjectFilter, Principal

OUTSIDER = Principal("bob", "gas", frozenset({"member"}))


def _collection_methods() -> list[str]:
    return sorted(
        name for name, member in inspect.getmembers(Feeds, inspect.isfunction)
        if not name.startswith("_")
        and {"collection_id", "collection_ref"} & set(inspect.signature(member).parameters)
    )


def test_the_enumeration_finds_the_taxii_collection_operations() -> None:
    assert set(_collection_methods()) >= {
        "collection", "get_objects", "get_manifest", "get_object", "get_versions", "add_objects", "delete_object",
        "writable",
    }


def _arguments(method: Callable[..., Any], collection_id: str, touched: list[str]) -> dict[str, Any]:
    def read_body() -> bytes:
        touched.append("body")
        return b'{"objects": []}'

    values: dict[str, Any] = {
        "principal": OUTSIDER,
        "api_root": ROOT,
        "collection_id": collection_id,
        "collection_ref": collection_id,
        "object_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "req": QueryRequest(ObjectFilter(), None, None),
        "read_body": read_body,
    }
    params = [p for p in inspect.signature(method).parameters if p != "self"]
    missing = [p for p in params if p not in values]
    assert not missing, f"guard rail does not know how to call {method.__name__} (parameters {missing})"
    return {p: values[p] for p in params}


@pytest.mark.parametrize("method_name", _collection_methods())
@pytest.mark.parametrize("collection_id", [C_NONE, C_MISSING], ids=["invisible", "missing"])
def test_every_collection_operation_refuses_an_outsider_like_a_missing_collection(
    hub: Hub, method_name: str, collection_id: str
) -> None:
    feeds = hub.app.extensions["taxii_hub"].feeds
    method = getattr(feeds, method_name)
    touched: list[str] = []
    with pytest.raises(NotFound) as refused:
        method(**_arguments(method, collection_id, touched))
    assert refused.value.message == "no such collection in this API root"
    assert touched == [], "the request body was read before the caller was authorised"
