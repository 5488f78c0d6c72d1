"""The example edge for tests: deploy/nginx/taxii-hub.conf rendered for a temporary directory, in front of a
real `taxii-hub serve --insecure-http` on loopback.

Owns: rewriting the example's deployment-specific values (listen address, upstream port, certificate paths,
max body size, header timeout) and nothing else, failing if the example no longer has exactly one of each;
a main nginx.conf with its own pid, logs and temp paths; starting and stopping nginx and the plain-HTTP hub.

Must not: listen anywhere but 127.0.0.1, wait without a bound, or leave a process behind (each runs in its
own session and is killed as a group if it does not stop when asked).
"""

from __future__ import annotations

import getpass
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.serverproc import CLI, HOST, HubDir, basic, clean_env, free_port

EXAMPLE = Path(__file__).parents[2] / "deploy" / "nginx" / "taxii-hub.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
HEADER_TIMEOUT_S = 2  # the example says 10 s; shortened so the slow-client test stays a few seconds


def _replace_one(text: str, pattern: str, replacement: str) -> str:
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if count != 1:
        raise AssertionError(f"{EXAMPLE.name}: expected exactly one line matching {pattern!r}, found {count}")
    return new


def render_site(*, listen_port: int, upstream_port: int, cert: Path, key: Path, max_body: int,
                header_timeout_s: int) -> str:
    """The example with this machine's values; every other directive exactly as shipped."""
    site = EXAMPLE.read_text()
    site = _replace_one(site, r"^(\s*)listen 443 ssl;$", rf"\g<1>listen {HOST}:{listen_port} ssl;")
    site = _replace_one(site, r"^\s*listen \[::\]:443 ssl;\n", "")
    site = _replace_one(site, r"^(\s*)server 127\.0\.0\.1:8000;", rf"\g<1>server {HOST}:{upstream_port};")
    site = _replace_one(site, r"^(\s*)ssl_certificate\s+\S+;", rf"\g<1>ssl_certificate {cert};")
    site = _replace_one(site, r"^(\s*)ssl_certificate_key\s+\S+;", rf"\g<1>ssl_certificate_key {key};")
    site = _replace_one(site, r"^(    )client_max_body_size 10m;", rf"\g<1>client_max_body_size {max_body};")
    return _replace_one(site, r"^(\s*)client_header_timeout \d+s;", rf"\g<1>client_header_timeout {header_timeout_s}s;")


def main_config(prefix: Path, site: Path) -> str:
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # workers may write to the temp dir
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "".join(f"    {kind}_temp_path {prefix / kind};\n" for kind in kinds)
    return (
        f"daemon off;\nmaster_process on;\nworker_processes 1;\n{user}"
        f"pid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} info;\n"
        "events { worker_connections 256; }\n"
        f"http {{\n    access_log {prefix / 'access.log'};\n{temp}    include {site};\n}}\n"
    )


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)


@dataclass
class PlainHub:
    """`taxii-hub serve --insecure-http` on loopback: the backend behind the edge."""

    hub: HubDir
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, org: str = "alice") -> int:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=5)
        try:
            conn.request("GET", path, headers={"Authorization": basic(org, self.hub.keys[org])})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)


def start_plain_hub(hub: HubDir, workers: int = 2) -> PlainHub:
    port = free_port()
    log_path = hub.root / f"backend-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(CLI), "--config", str(hub.config), "serve", "--insecure-http", "--bind", f"{HOST}:{port}",
             "--workers", str(workers)],
            stdout=log, stderr=subprocess.STDOUT, env=clean_env(), cwd=hub.root, start_new_session=True,
        )
    backend = PlainHub(hub, port, process, log_path)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if backend.get("/taxii2/") == 200:
                return backend
        except OSError:
            pass
        time.sleep(0.1)
    backend.stop()
    raise RuntimeError(f"the hub behind the edge did not start; its log:\n{backend.log()}")


@dataclass
class Edge:
    """nginx with the rendered example, listening on 127.0.0.1:port with the hub's development certificate."""

    port: int
    prefix: Path
    ca_cert: Path
    process: subprocess.Popen[bytes]

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def error_log(self) -> str:
        path = self.prefix / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def connect(self, timeout: float = 10) -> ssl.SSLSocket:
        raw = socket.create_connection((HOST, self.port), timeout=timeout)
        return self.tls_context().wrap_socket(raw, server_hostname=HOST)

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)  # graceful: finish what is in flight, then exit


def start_edge(hub: HubDir, upstream_port: int, *, max_body: int, header_timeout_s: int) -> Edge:
    assert NGINX is not None, "nginx is not installed"
    prefix = hub.root / f"edge-{upstream_port}"
    prefix.mkdir()
    tls = hub.ca_cert.parent
    port = free_port()
    site = prefix / "taxii-hub.conf"
    site.write_text(render_site(listen_port=port, upstream_port=upstream_port, cert=tls / "server.crt",
                                key=tls / "server.key", max_body=max_body, header_timeout_s=header_timeout_s))
    conf = prefix / "nginx.conf"
    conf.write_text(main_config(prefix, site))
    check = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True,
                           timeout=30, check=False)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t refused the rendered example:\n{check.stderr}")
    with (prefix / "stderr.log").open("wb") as out:
        process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf)], stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    edge = Edge(port, prefix, hub.ca_cert, process)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and process.poll() is None:
        try:
            edge.connect(timeout=2).close()
            return edge
        except OSError:
            time.sleep(0.05)
    edge.stop()
    raise RuntimeError(f"nginx did not start; its error log:\n{edge.error_log()}")
