"""Helpers of the newcomer tests: run a command the way a newcomer would (no hub settings in the environment,
no proxy for the loopback), and a served hub's process, port and files."""

from __future__ import annotations

import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def newcomer_env() -> dict[str, str]:
    """The caller's environment without hub settings, CA-bundle overrides or proxies for the loopback."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TAXII_HUB_") and k not in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")}
    env["NO_PROXY"] = env["no_proxy"] = f"{HOST},localhost"
    return env


def run(argv: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=newcomer_env(), capture_output=True, text=True, timeout=timeout,
                          check=False)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    log: Path

    @property
    def ca(self) -> Path:
        return self.workdir / "var" / "tls" / "ca.crt"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


