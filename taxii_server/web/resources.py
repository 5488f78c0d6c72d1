"""TAXII 2.1 resources as JSON bytes (§3.7, §4.1.1, §4.2.1, §4.3.1, §5.1.1, §5.2.1, §5.3.1, §5.8.1).

Stored objects are served by concatenating their stored JSON text; nothing is parsed and dumped again.
Empty lists are never emitted: an empty envelope is `{}` (§2, checklist C8).
"""

from __future__ import annotations

from typing import Any

import orjson

from ..feeds import Discovery, PageResult
from ..model import ApiRootDef, CollectionView, Status, StatusDetail
from ..timestamps import format_us
from .media import TAXII


def discovery(d: Discovery) -> bytes:
    body: dict[str, Any] = {"title": d.title}
    if d.description:
        body["description"] = d.description
    if d.contact:
        body["contact"] = d.contact
    if d.default:
        body["default"] = f"{d.base_url}/{d.default}/"
    if d.api_roots:
        body["api_roots"] = [f"{d.base_url}/{name}/" for name in d.api_roots]
    return orjson.dumps(body)


def api_root(root: ApiRootDef) -> bytes:
    body: dict[str, Any] = {"title": root.title, "versions": [TAXII], "max_content_length": root.max_content_length}
    if root.description:
        body["description"] = root.description
    return orjson.dumps(body)


def _collection(view: CollectionView) -> dict[str, Any]:
    c = view.definition
    body: dict[str, Any] = {"id": c.id, "title": c.title, "can_read": view.can_read, "can_write": view.can_write,
                            "media_types": list(c.media_types)}
    if c.description:
        body["description"] = c.description
    if c.alias:
        body["alias"] = c.alias
    return body


def collection(view: CollectionView) -> bytes:
    return orjson.dumps(_collection(view))


def collections(views: list[CollectionView]) -> bytes:
    return orjson.dumps({"collections": [_collection(v) for v in views]} if views else {})


def _head(page: PageResult) -> list[bytes]:
    parts = [b'{"more":', b"true" if page.more else b"false"]
    if page.next:
        parts += [b',"next":', orjson.dumps(page.next)]
    return parts


def envelope(page: PageResult) -> bytes:
    if not page.items and not page.more:
        return b"{}"
    parts = _head(page)
    if page.items:
        parts += [b',"objects":[', b",".join(item.raw for item in page.items), b"]"]
    return b"".join([*parts, b"}"])


def manifest(page: PageResult) -> bytes:
    if not page.items and not page.more:
        return b"{}"
    records = [
        {"id": i.id, "date_added": format_us(i.date_added_us), "version": i.version, "media_type": i.media_type}
        for i in page.items
    ]
    parts = _head(page)
    if records:
        parts += [b',"objects":', orjson.dumps(records)]
    return b"".join([*parts, b"}"])


def versions(page: PageResult) -> bytes:
    if not page.items and not page.more:
        return b"{}"
    parts = _head(page)
    if page.items:
        parts += [b',"versions":', orjson.dumps([i.version for i in page.items])]
    return b"".join([*parts, b"}"])


def date_added_headers(page: PageResult) -> dict[str, str]:
    """X-TAXII-Date-Added-First/Last of this page; omitted when it is empty (checklist I5, K8)."""
    if not page.items:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_us(page.items[0].date_added_us),
        "X-TAXII-Date-Added-Last": format_us(page.items[-1].date_added_us),
    }


def _details(items: tuple[StatusDetail, ...]) -> list[dict[str, str]]:
    out = []
    for d in items:
        entry = {"id": d.id, "version": d.version}
        if d.message:
            entry["message"] = d.message
        out.append(entry)
    return out


def status(s: Status) -> bytes:
    body: dict[str, Any] = {
        "id": s.id,
        "status": s.state,
        "request_timestamp": format_us(s.request_timestamp_us),
        "total_count": s.total_count,
        "success_count": len(s.successes),
        "failure_count": len(s.failures),
        "pending_count": len(s.pendings),
    }
    for key, items in (("successes", s.successes), ("failures", s.failures), ("pendings", s.pendings)):
        if items:
            body[key] = _details(items)
    return orjson.dumps(body)
