"""The "connect a product" page: the addresses an organisation pastes into its TAXII client or product — the
discovery URL, each API root, and each collection it may use by its id (products built on taxii2-client refuse
a collection whose URL does not contain its id, so aliases are shown as names for people only).

URLs are absolute under `[server] public_url` (never derived from the request's Host or X-Forwarded-* headers);
without it they are paths, and the page says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template

from ...model import CollectionView
from ..services import services
from . import guard
from .blueprint import bp


@dataclass(frozen=True)
class _Row:
    view: CollectionView
    url: str


@bp.get("/connect")
def connect() -> str:
    caller = guard.principal()
    feeds = services().feeds
    found = feeds.discovery(caller)
    roots = [(name, feeds.api_root_url(name),
              [_Row(v, feeds.collection_url(v.definition)) for v in feeds.collections(caller, name)])
             for name in found.api_roots]
    return render_template("console/connect.html", discovery_url=f"{found.base_url}/taxii2/", roots=roots,
                           absolute=bool(found.base_url), org_id=caller.org_id)
