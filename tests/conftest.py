"""Shared fixtures; the helpers and the fixture hub's layout are described in hubtest.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hubtest import Hub, make_hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    built = make_hub(tmp_path)
    yield built
    built.store.close()
