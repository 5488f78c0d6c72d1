"""Fixtures for the console's browser tests: one demo hub served for the module, one headless Chromium, and
a directory for the screenshots (test-artifacts/console/, git-ignored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.consoleproc import CHROMIUM, CHROMIUM_ARGS, REPO, DemoServer, require_chromium, start


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    server = start(tmp_path_factory.mktemp("console-hub"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(demo_server: DemoServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    directory = REPO / "test-artifacts" / "console"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    running = getattr(item, "funcargs", {}).get("demo_server")
    if report.failed and isinstance(running, DemoServer):
        report.sections.append(("taxii-hub server log (last 8000 characters)", running.log()[-8000:]))
