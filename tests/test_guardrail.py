"""Guard rail: every service method that takes a collection id refuses an outsider, before doing any work;
every hub API route and console page is declared with its workflow area in `access`, and each one a member
may not use answers exactly like one that does not exist. (The hub services' own guard rail is
tests/hub/test_hub_guardrail.py.)

The methods, routes and pages are enumerated from the service classes and the URL map, not listed by hand,
so a new one that forgets to go through `Feeds._authorise` or `access` fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from taxii_server import access
from taxii_server.errors import NotFound
from taxii_server.feeds import Feeds
from taxii_server.filters import QueryRequest
from taxii_server.model import ObjectFilter, Principal
from tests.support.hubtest import C_MISSING, C_NONE, ROOT, Hub

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


# -- the hub API's routes and the console's pages ----------------------------------------------------------------
# Enumerated from the application's URL map, so a new route or page that is not declared in
# `access.HUB_API_ROUTES` / `access.CONSOLE_PAGES` fails here, and one a member may not use must answer it
# exactly like a route or page that does not exist.

MEMBER = "bob"
_PLACEHOLDER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _routes(hub: Hub, blueprint: str) -> list[tuple[str, str, str]]:
    """(view name, concrete path, method) for every rule of a blueprint, placeholders filled in."""
    found = []
    for rule in hub.app.url_map.iter_rules():
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        path = _PLACEHOLDER.sub(lambda m: f"6f0c2a6e-0000-4000-8000-00000000000{len(m.group(1)) % 10}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint.partition(".")[2], path, method))
    return found


def test_every_hub_api_route_is_declared_in_access(hub: Hub) -> None:
    views = {view for view, _, _ in _routes(hub, "hub_api")}
    assert views and views <= set(access.HUB_API_ROUTES), sorted(views - set(access.HUB_API_ROUTES))


def test_every_console_page_is_declared_in_access(hub: Hub) -> None:
    views = {view for view, _, _ in _routes(hub, "console")} - {"unknown"}
    declared = set(access.CONSOLE_PAGES) | access.PUBLIC_CONSOLE_PAGES
    assert views and views <= declared, sorted(views - declared)


def test_every_declared_area_is_one_access_knows() -> None:
    for area in [*access.HUB_API_ROUTES.values(), *access.CONSOLE_PAGES.values()]:
        assert area in access.AREAS
    with pytest.raises(ValueError, match="unknown workflow area"):
        access.may_use(OUTSIDER, "triag")


def _member_refused(routes: list[tuple[str, str, str]], table: dict[str, str]) -> list[tuple[str, str, str]]:
    return [r for r in routes if not access.may_use_route(OUTSIDER, r[0], table)]


def test_every_hub_api_route_a_member_may_not_use_answers_like_an_unknown_one(hub: Hub) -> None:
    refused = _member_refused(_routes(hub, "hub_api"), access.HUB_API_ROUTES)
    assert {view for view, _, _ in refused} >= {"stats", "audit", "publish", "approve", "revoke", "dismiss"}
    client = hub.client()
    headers = hub.headers(MEMBER, Accept="application/json", **{"Content-Type": "application/json"})
    for view, path, method in refused:
        answer = client.open(path, method=method, data=b"{}", headers=headers)
        unknown = client.open("/hub/v1/no-such-route", method=method, data=b"{}", headers=headers)
        assert (answer.status_code, answer.data) == (unknown.status_code, unknown.data) == (404, unknown.data), view


def test_every_console_page_a_member_may_not_use_is_the_404_of_an_unknown_path(hub: Hub) -> None:
    from tests.support.consoleclient import signed_in

    pages = [r for r in _routes(hub, "console") if r[0] not in access.PUBLIC_CONSOLE_PAGES | {"unknown"}]
    refused = _member_refused(pages, access.CONSOLE_PAGES)
    assert {view for view, _, _ in refused} >= {"queue", "audit", "stats", "revoke", "approve", "publish"}
    console = signed_in(hub, MEMBER)  # type: ignore[arg-type]
    for view, path, method in refused:
        answer = console.get(path) if method == "GET" else console.post(path, {})
        unknown = console.get("/console/no-such-page") if method == "GET" else console.post("/console/nope", {})
        assert answer.status_code == unknown.status_code == 404, view
        assert answer.data == unknown.data, view
