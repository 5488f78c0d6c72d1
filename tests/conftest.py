"""Shared fixtures; the helpers and the fixture hub's layout are described in tests/support/hubtest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from taxii_server.hub.publishing import Publishing
from tests.support.hubtest import Hub, make_hub
from tests.support.mispcheck import import_errors


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path)
    yield built
    built.store.close()


@pytest.fixture(autouse=True)
def every_publication_imports_into_misp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every publication a test writes is imported with MISP's own importer (misp-stix) when the test ends:
    no error other than an object type MISP cannot represent (tests/support/mispcheck.py). Observation only: the
    publication is written exactly as it would be."""
    made: list[bytes] = []
    write = Publishing._write

    def recording(self: Publishing, publication: Any, serialized: bytes, *args: Any) -> Any:
        written = write(self, publication, serialized, *args)
        made.append(serialized)
        return written

    monkeypatch.setattr(Publishing, "_write", recording)
    yield
    for serialized in made:
        bundle = orjson.loads(serialized)
        assert import_errors(bundle) == [], f"misp-stix could not import publication {bundle['id']}"
