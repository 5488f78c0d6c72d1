"""Fixtures for the acceptance suite of spec/security.md §5 (the hub's layout is in acceptance_hub.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.acceptance_hub import AcceptanceHub, build


@pytest.fixture
def acc(tmp_path: Path) -> Iterator[AcceptanceHub]:
    built = build(tmp_path)
    yield built
    built.store.close()
