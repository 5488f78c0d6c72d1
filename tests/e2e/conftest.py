"""Fixtures for the end-to-end tests: one real hub (CLI-built, gunicorn, 2 workers, TLS) for the session.

Starting the server costs a few seconds, so it is shared; tests that need exact contents write to their
own collections (serverproc.E2E_COLLECTIONS). When a test fails, the server's log is attached to its report.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.serverproc import HubServer, build_hub, client_environment, start_server


@pytest.fixture(scope="module", autouse=True)
def clients_trust_only_the_hub() -> Iterator[None]:
    with client_environment():
        yield


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    hub = build_hub(tmp_path_factory.mktemp("e2e-hub"))
    running = start_server(hub, workers=2)
    try:
        yield running
    finally:
        running.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    running = getattr(item, "funcargs", {}).get("server")
    if report.failed and isinstance(running, HubServer):
        report.sections.append(("taxii-hub server log (last 8000 characters)", running.log()[-8000:]))
