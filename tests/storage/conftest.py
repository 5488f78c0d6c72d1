"""The backend-parametrised `store` fixture every storage contract test uses (backends: tests/support/backends.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.storage.base import Store
from taxii_server.storage.mongo import MongoStore
from tests.support.backends import BACKENDS


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.mongo] if "mongo" in name else [])
                        for name in sorted(BACKENDS)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = BACKENDS[request.param](tmp_path)
    made.initialise()
    yield made
    if isinstance(made, MongoStore) and request.param == "mongo-server":
        made._db().client.drop_database(made.database_name)
    made.close()
