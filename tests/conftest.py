"""Shared fixtures; the helpers and the fixture hub's layout are described in tests/support/hubtest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.support.hubtest import Hub, make_hub
from tests.support.mispcheck import PUBLISHED, import_errors


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path)
    yield built
    built.store.close()


@pytest.fixture(autouse=True)
def every_publication_imports_into_misp() -> Iterator[None]:
    """Every publication a test writes through the helpers' hubs is imported with MISP's own importer (misp-stix)
    when the test ends: no error other than an object type MISP cannot represent (tests/support/mispcheck.py).
    Observation only: the hubs hear of each publication through their publication listener, after writing it."""
    PUBLISHED.drain()
    yield
    for serialized in PUBLISHED.drain():
        bundle = orjson.loads(serialized)
        assert import_errors(bundle) == [], f"misp-stix could not import publication {bundle['id']}"
