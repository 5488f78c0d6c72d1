"""Fixtures for the hub workflow tests (helpers in tests/support/hubflow.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.hubflow import DemoHub, make_demo_hub


@pytest.fixture
def demo_hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def two_person_hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path, "[hub]\ntwo_person_rule = true\n")
    yield built
    built.store.close()

