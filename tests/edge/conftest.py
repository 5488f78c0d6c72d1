"""Fixtures for the edge tests (`make test-edge`): one CLI-built hub served over plain HTTP on loopback, the
example nginx configuration in front of it, and a second copy of the edge whose upstream is down.

Skipped when nginx is not installed (`make test-edge` installs Debian's package). The helpers of the
end-to-end tests (tests/support/serverproc.py) build the hub.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.edgeproc import HEADER_TIMEOUT_S, NGINX, Edge, PlainHub, start_edge, start_plain_hub
from tests.support.serverproc import HubDir, build_hub, free_port

MAX_CONTENT_LENGTH = 65536  # api1's max_content_length in hubtest.write_config; the edge must match it


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if NGINX is None:
        skip = pytest.mark.skip(reason="nginx is not installed; `make test-edge` installs it (Debian's nginx-light)")
        for item in items:
            if "tests/edge/" in str(item.path).replace("\\", "/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def hub_dir(tmp_path_factory: pytest.TempPathFactory) -> HubDir:
    return build_hub(tmp_path_factory.mktemp("edge-hub"))


@pytest.fixture(scope="session")
def backend(hub_dir: HubDir) -> Iterator[PlainHub]:
    running = start_plain_hub(hub_dir)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def edge(hub_dir: HubDir, backend: PlainHub) -> Iterator[Edge]:
    running = start_edge(hub_dir, backend.port, max_body=MAX_CONTENT_LENGTH, header_timeout_s=HEADER_TIMEOUT_S)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def dead_edge(hub_dir: HubDir) -> Iterator[Edge]:
    """The same edge in front of a port where nothing listens: what clients see while the hub is down."""
    running = start_edge(hub_dir, free_port(), max_body=MAX_CONTENT_LENGTH, header_timeout_s=HEADER_TIMEOUT_S)
    try:
        yield running
    finally:
        running.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed:
        args = getattr(item, "funcargs", {})
        for name in ("edge", "dead_edge"):
            if isinstance(args.get(name), Edge):
                report.sections.append((f"nginx error log ({name})", args[name].error_log()[-6000:]))
        if isinstance(args.get("backend"), PlainHub):
            report.sections.append(("taxii-hub log", args["backend"].log()[-6000:]))
