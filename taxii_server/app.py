"""The composition root: settings → storage → catalogue → services → web.

`create_app` is the only place these pieces meet. It does no work at import time; the storage connection
is opened lazily by each process (so gunicorn workers open their own after fork).
"""

from __future__ import annotations

import secrets

from flask import Flask

from .accounts import Accounts
from .catalog import Catalog
from .feeds import Feeds
from .paging import TokenSigner
from .settings import Settings, load_settings
from .storage import Store, open_store
from .web import init_app
from .web.services import Services


def build_services(settings: Settings, store: Store | None = None) -> Services:
    store = store if store is not None else open_store(settings.storage.url)
    catalog = Catalog.load(settings.collections_dir, settings.api_roots)
    paging_key = store.get_or_create_meta("paging_key", secrets.token_hex(32))
    feeds = Feeds(
        catalog,
        store,
        TokenSigner(bytes.fromhex(paging_key)),
        settings.discovery,
        max_page_size=settings.max_page_size,
        status_retention_s=settings.status_retention_seconds,
    )
    return Services(feeds=feeds, accounts=Accounts(store))


def create_app(settings: Settings | None = None, store: Store | None = None) -> Flask:
    settings = settings if settings is not None else load_settings()
    app = Flask("taxii_server")
    app.config["JSON_SORT_KEYS"] = False
    init_app(app, build_services(settings, store))
    return app
