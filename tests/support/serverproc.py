"""A real taxii-hub for end-to-end tests: built with the `taxii-hub` CLI, served by gunicorn over TLS.

Owns: laying out a hub directory (config and collections from hubtest), creating organisations and API keys
through the real command line, starting `taxii-hub serve` on 127.0.0.1 with several workers and stopping it,
and telling which gunicorn worker holds a client connection, so a test can prove that a `next` token or a
status made by one worker is honoured by another.

Must not: import the server's own modules (the server is a black box here), listen anywhere but 127.0.0.1,
or wait without a bound. Worker attribution reads Linux /proc: the server-side socket of a connection is
found in /proc/net/tcp by its ports and then among the workers' open file descriptors.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import requests

from bench.procs import children, stop_group
from tests.support.hubtest import COLLECTIONS, MT, ORGS, ROOT, write_collections, write_config

CLI = Path(sys.executable).parent / "taxii-hub"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 30.0
HOST = "127.0.0.1"

# Collections only the end-to-end tests write to, so each test can assert exact contents while sharing
# one server. Only the organisation `feeder` has rights to them; the checklist's organisations keep
# exactly the rights hubtest describes.
FEED = "edc5ee70-be35-4c24-8238-32788fa079d1"      # taxii2-client and stix2 round trips
WALK = "1f259e31-c2d2-499c-8c78-5e10925f12f9"      # `next` pages served by alternating workers
STREAM = "ea88822c-cadb-4a26-adbe-f4e56e00aa90"    # paging while writers add objects
SCRATCH = "b9bcaccb-c61b-4bda-84ee-41da30479820"   # request-size limits and other one-off writes
FEEDER = "feeder"
E2E_COLLECTIONS: dict[str, dict[str, Any]] = {
    name: {"id": cid, "title": name, "read": [f"org:{FEEDER}"], "write": [f"org:{FEEDER}"]}
    for name, cid in (("e2e-feed", FEED), ("e2e-walk", WALK), ("e2e-stream", STREAM), ("e2e-scratch", SCRATCH))
}
E2E_ORGS = {**ORGS, FEEDER: ("Feeder Test Co", "e2e", ("member",))}


@contextmanager
def client_environment() -> Iterator[None]:
    """In-process clients trust only the hub's CA and never go through a proxy to 127.0.0.1.

    taxii2-client builds its own requests.Session, and requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE
    override a session's `verify`, so those variables are removed while an end-to-end module runs.
    """
    with pytest.MonkeyPatch.context() as mp:
        for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
            mp.delenv(name, raising=False)
        for name in ("NO_PROXY", "no_proxy"):
            mp.setenv(name, f"{HOST},localhost")
        yield


def clean_env() -> dict[str, str]:
    """The caller's environment without hub settings (unknown TAXII_HUB_* keys are errors) and proxies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAXII_HUB_")}
    env["NO_PROXY"] = env["no_proxy"] = f"{HOST},localhost"
    return env


def run_cli(config: Path, *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "--config", str(config), *args],
        capture_output=True, text=True, timeout=timeout, env=clean_env(), cwd=config.parent, check=False,
    )


def _checked(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(result.args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def free_port() -> int:
    """A port nobody listens on right now (gunicorn must print the real URL, so port 0 is not an option)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class HubDir:
    root: Path
    config: Path
    ca_cert: Path
    keys: dict[str, str]


def layout(root: Path) -> Path:
    """Write the configuration and collection files of a hub in `root`; return the configuration path."""
    write_collections(root / "collections", {**COLLECTIONS, **E2E_COLLECTIONS})
    return write_config(root / "hub.toml", root / "var", root / "collections")


def build_hub(root: Path, orgs: tuple[str, ...] = tuple(E2E_ORGS)) -> HubDir:
    """A hub made the way an operator makes one: `init`, then `org add` and `key create` per organisation
    (those of `orgs`: each costs two command runs)."""
    config = layout(root)
    init = json.loads(_checked(run_cli(config, "init", "--json")).stdout)

    def enrol(org_id: str) -> str:
        name, group, roles = E2E_ORGS[org_id]
        role_args = [arg for role in roles for arg in ("--role", role)]
        _checked(run_cli(config, "org", "add", org_id, "--name", name, "--group", group, *role_args))
        created = json.loads(_checked(run_cli(config, "key", "create", org_id, "--label", "e2e", "--json")).stdout)
        return str(created["key"])

    # Each CLI run pays the interpreter's start-up, so the organisations are enrolled side by side.
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        keys = dict(zip(orgs, pool.map(enrol, orgs), strict=True))
    return HubDir(root, config, Path(init["ca_cert"]), keys)


def basic(org: str, key: str) -> str:
    return "Basic " + base64.b64encode(f"{org}:{key}".encode()).decode()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Message
    body: bytes
    worker: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HubServer:
    """A running `taxii-hub serve` process (the gunicorn master) and how to reach it."""

    hub: HubDir
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    worker_count: int
    probe_org: str = "alice"  # who asks for discovery while waiting for the workers
    client_cert: tuple[Path, Path] | None = None  # (certificate, key) this helper's own connections present
    _tls: ssl.SSLContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tls = ssl.create_default_context(cafile=str(self.hub.ca_cert))
        if self.client_cert is not None:
            self._tls.load_cert_chain(*self.client_cert)

    # -- addresses and clients -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def ca_cert(self) -> str:
        return str(self.hub.ca_cert)

    @property
    def keys(self) -> dict[str, str]:
        return self.hub.keys

    def url(self, path: str) -> str:
        return self.base_url + path

    def collection_path(self, collection_id: str, rest: str = "") -> str:
        return f"/{ROOT}/collections/{collection_id}/{rest}"

    def session(self, org: str | None = "alice") -> requests.Session:
        """A requests session trusting the hub's CA, ignoring proxy settings, with Basic auth for `org`."""
        s = requests.Session()
        s.trust_env = False
        s.verify = self.ca_cert
        s.headers["Accept"] = MT
        if org is not None:
            s.auth = (org, self.keys[org])
        return s

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_cert)

    # -- workers -------------------------------------------------------------------------------------------

    def workers(self) -> set[int]:
        """The pids of the gunicorn workers: the master's children."""
        return set(children(self.process.pid))

    def worker_of(self, conn: http.client.HTTPSConnection) -> int:
        """Which worker holds the server side of this open connection (0 if none does, e.g. it was closed)."""
        assert conn.sock is not None, "connect first"
        client_port = conn.sock.getsockname()[1]
        inode = _server_socket_inode(self.port, client_port)
        if inode is None:
            return 0
        wanted = f"socket:[{inode}]"
        for pid in self.workers():
            fd_dir = Path(f"/proc/{pid}/fd")
            try:
                fds = list(fd_dir.iterdir())
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == wanted:
                        return pid
                except OSError:
                    continue
        return 0

    def connect(self, worker: int | None = None, attempts: int = 1000) -> http.client.HTTPSConnection:
        """A fresh TLS connection; with `worker`, reconnect until that worker accepted it (bounded). On a busy
        machine one worker can win the accept race many times in a row, hence the generous bound."""
        for attempt in range(attempts):
            conn = http.client.HTTPSConnection(HOST, self.port, context=self._tls, timeout=10)
            conn.connect()
            if worker is None or self.worker_of(conn) == worker:
                return conn
            conn.close()
            if attempt % 50 == 49:
                time.sleep(0.05)  # let the other worker's accept loop come round
        raise AssertionError(f"no connection reached worker {worker} in {attempts} attempts")

    def request(
        self, method: str, path: str, org: str | None = "alice", *, headers: dict[str, str] | None = None,
        body: bytes | None = None, worker: int | None = None,
    ) -> Reply:
        """One request on a fresh connection (optionally on a chosen worker); the reply names its worker."""
        sent = {"Accept": MT}
        if org is not None:
            sent["Authorization"] = basic(org, self.keys[org])
        sent.update(headers or {})
        conn = self.connect(worker)
        try:
            pid = self.worker_of(conn)
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read(), pid)
        finally:
            conn.close()

    # -- lifecycle -----------------------------------------------------------------------------------------

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> bool:
        """Poll until every worker has answered discovery with 200; False if the process died or time ran out."""
        deadline = time.monotonic() + timeout
        answered: set[int] = set()
        for _ in range(2000):
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            try:
                reply = self.request("GET", "/taxii2/", self.probe_org)
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            if reply.status == 200 and reply.worker:
                answered.add(reply.worker)
            if len(answered) >= self.worker_count and answered <= self.workers():
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        """SIGTERM to the master (gunicorn stops its workers); SIGKILL to its process group after a timeout."""
        stop_group(self.process, STOP_TIMEOUT_S)


def _server_socket_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server's end of the TCP connection 127.0.0.1:client_port -> 127.0.0.1:server_port."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rpartition(":")[2], 16)
            remote_port = int(fields[2].rpartition(":")[2], 16)
            if local_port == server_port and remote_port == client_port:
                return int(fields[9])
    return None


def start_server(hub: HubDir, workers: int = 2, attempts: int = 3, probe_org: str = "alice",
                 serve_args: tuple[str, ...] = (), client_cert: tuple[Path, Path] | None = None) -> HubServer:
    """Start `taxii-hub serve` over TLS on a free loopback port and wait until every worker answers
    (asking for discovery as `probe_org`). `serve_args` go on serve's command line; `client_cert` is presented
    on the helper's own connections (the readiness probe needs one with --client-certs required)."""
    server: HubServer | None = None
    for _ in range(attempts):
        port = free_port()
        log_path = hub.root / f"server-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(CLI), "--config", str(hub.config), "serve", "--bind", f"{HOST}:{port}",
                 "--workers", str(workers), *serve_args],
                stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=hub.root, start_new_session=True,
            )
        server = HubServer(hub, port, process, log_path, workers, probe_org, client_cert)
        try:
            ready = server.wait_ready()
        except BaseException:
            server.stop()  # never leave a server behind when waiting itself fails
            raise
        if ready:
            return server
        server.stop()
        if "in use" not in server.log():  # another process took the port in between: try another one
            break
    assert server is not None
    raise RuntimeError(f"taxii-hub serve did not become ready within {START_TIMEOUT_S} s; its log:\n{server.log()}")
