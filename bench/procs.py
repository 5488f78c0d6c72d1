"""Server processes for the benchmarks: started in their own process group, always stopped.

Owns: starting a server command on 127.0.0.1 with its output in a log file, waiting (bounded) until it answers,
reading the peak RSS of the master and its workers from /proc, and stopping the whole process group. Every
process started here is registered, so `stop_all()` (called by run.py in a `finally`, also on Ctrl-C and
SIGTERM) leaves nothing running.

Must not: listen anywhere but loopback, wait without a bound, or signal a process it did not start.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
STOP_TIMEOUT_S = 10.0

_running: list[ServerProcess] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    stopped: bool = field(default=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def pids(self) -> list[int]:
        """The master and its children (the gunicorn workers)."""
        return [self.process.pid, *children(self.process.pid)]

    def peak_rss_kib(self) -> dict[int, int]:
        """VmHWM (peak resident set) of every process of this server, in KiB."""
        peaks: dict[int, int] = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1])
            except OSError:
                continue
        return peaks

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self) -> None:
        """SIGTERM to the process group, then SIGKILL to it after a bound."""
        if self.stopped:
            return
        self.stopped = True
        # SIGKILL too: workers left behind by a master that died first share its group
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        if self in _running:
            _running.remove(self)


def start(name: str, argv: Sequence[str], log_path: Path, port: int, ready: Callable[[int], bool],
          env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout_s: float = 60.0) -> ServerProcess:
    """Start `argv` (which must bind 127.0.0.1:port) and wait until `ready(port)` is true."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, env=dict(env or os.environ),
                                   cwd=cwd, start_new_session=True)
    server = ServerProcess(name, port, process, log_path)
    _running.append(server)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            server.stop()
            raise RuntimeError(f"{name} exited during start-up; its log:\n{server.log_tail()}")
        if ready(port):
            return server
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{name} did not answer within {timeout_s:.0f} s; its log:\n{server.log_tail()}")


def answers(path: str, headers: Mapping[str, str] | None = None) -> Callable[[int], bool]:
    """A readiness probe: GET path answers with any HTTP status below 500."""
    def probe(port: int) -> bool:
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", path, headers=dict(headers or {}))
            response = conn.getresponse()
            response.read()
            return response.status < 500
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()
    return probe


def stop_all() -> None:
    for server in list(_running):
        server.stop()


def install_signal_handlers() -> None:
    """SIGTERM behaves like Ctrl-C, so `finally: stop_all()` runs."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)


def children(pid: int) -> list[int]:
    """The pids of a process's children, read from /proc (Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def stop_group(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM to a server's master (gunicorn stops its workers); SIGKILL to its process group after a timeout."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout_s)
