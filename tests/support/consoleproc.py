"""A real demo hub for the browser tests, and headless Chromium from Debian's packages to drive its console.

Owns: laying out a hub directory with the shipped collections and the two-person rule on, `taxii-hub init
--demo --samples` (the demo organisations, their keys and the sample reports, the five-member campaign
among them), `taxii-hub serve` over TLS with the development certificate on 127.0.0.1, and launching
/usr/bin/chromium through Playwright. The console's cookies are `Secure`, so the hub is served over TLS and
Chromium is told to accept the development certificate (`--ignore-certificate-errors`; tests only).

Must not: listen anywhere but 127.0.0.1, wait without a bound, or leave a process behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.procs import stop_group

REPO = Path(__file__).resolve().parents[2]
CLI = Path(sys.executable).parent / "taxii-hub"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--ignore-certificate-errors"]
HOST = "127.0.0.1"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXII_HUB_")}
    env["NO_PROXY"] = env["no_proxy"] = f"{HOST},localhost"
    return env


def require_chromium() -> None:
    """The browser tests need Debian's Chromium; without it they fail (never skip) and say how to install it."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium and CJK fonts; as root run "
                    "`apt-get update && apt-get install -y chromium fonts-noto-cjk` (.ci/run does this in CI)",
                    pytrace=False)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class DemoServer:
    root: Path
    config: Path
    ca_cert: Path
    keys: dict[str, str]
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def session(self, org: str) -> requests.Session:
        s = requests.Session()
        s.trust_env = False
        s.verify = str(self.ca_cert)
        s.auth = (org, self.keys[org])
        return s

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def stop(self) -> None:
        stop_group(self.process, STOP_TIMEOUT_S)


def write_config(root: Path) -> Path:
    config = root / "hub.toml"
    config.write_text(
        f'data_dir = "{root / "var"}"\ncollections_dir = "{REPO / "taxii_server" / "skeleton" / "collections"}"\n'
        f'[storage]\nurl = "sqlite:///{root / "var" / "hub.sqlite3"}"\n'
        '[discovery]\ntitle = "console browser tests"\ndefault = "hub"\n'
        '[conversion]\nid_key = "console-browser-test-key"\n'
        '[hub]\ntwo_person_rule = true\n'
    )
    return config


def init_demo(root: Path) -> tuple[Path, dict[str, Any]]:
    config = write_config(root)
    result = subprocess.run(
        [str(CLI), "--config", str(config), "init", "--demo", "--samples", str(REPO / "tests/data/samples/records"),
         "--json"], capture_output=True, text=True, timeout=60, env=clean_env(), cwd=root, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"taxii-hub init --demo failed: {result.stderr}")
    return config, json.loads(result.stdout)


def start(root: Path) -> DemoServer:
    config, init = init_demo(root)
    keys = {org["id"]: org["key"] for org in init["organisations"]}
    port = free_port()
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CLI), "--config", str(config), "serve", "--bind", f"{HOST}:{port}", "--workers", "2"],
            stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=root, start_new_session=True)
    server = DemoServer(root, config, Path(init["ca_cert"]), keys, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    probe = requests.Session()
    probe.trust_env = False
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if probe.get(f"{server.base_url}/console/login", verify=str(server.ca_cert), timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"taxii-hub serve did not answer within {START_TIMEOUT_S} s; its log:\n{server.log()}")
