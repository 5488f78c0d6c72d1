"""What a newcomer does first, run for real: a hub set up in an empty directory with `taxii-hub init --demo`
and served by `taxii-hub serve` on a free port of 127.0.0.1 (the README's commands and the installed wheel).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.support.newcomer import HOST, START_TIMEOUT_S, Served, free_port, newcomer_env


@pytest.fixture(autouse=True)
def clients_trust_the_hub_s_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests (under taxii2-client) lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's `verify`."""
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, f"{HOST},localhost")


@pytest.fixture
def serve_hub() -> Iterator[Callable[[Path, Path], Served]]:
    """Start `CLI serve` in a directory `init` set up; wait until discovery answers; stop it afterwards."""
    started: list[Served] = []

    def start(cli: Path, workdir: Path) -> Served:
        port = free_port()
        log = workdir / "serve.log"
        with log.open("wb") as out:
            process = subprocess.Popen([str(cli), "serve", "--bind", f"{HOST}:{port}", "--workers", "1"],
                                       cwd=workdir, env=newcomer_env(), stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        served = Served(process, port, workdir, log)
        started.append(served)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"https://localhost:{port}/taxii2/", verify=str(served.ca), timeout=5)
                if answer.status_code == 401:  # discovery needs credentials: the hub is up
                    return served
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not come up:\n{served.output()}")

    yield start
    for served in started:
        if served.process.poll() is None:
            os.killpg(served.process.pid, signal.SIGTERM)
            try:
                served.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(served.process.pid, signal.SIGKILL)
                served.process.wait()
