"""Fixtures for the hub workflow tests (helpers in hubflow.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubflow import DemoHub, make_demo_hub


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


# The end-to-end module reuses the real-server helpers of tests/e2e (serverproc), which pytest puts on the
# import path only when it collects that directory.
_E2E = str(Path(__file__).resolve().parents[1] / "e2e")
if _E2E not in sys.path:
    sys.path.append(_E2E)
