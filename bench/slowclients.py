"""Slow and idle clients against a real `taxii-hub serve` over TLS: does every member keep being served?

    .venv/bin/python -m bench.slowclients            # `make bench` runs it; --quick for `make bench-quick`

The hub (2 workers x 2 threads, its defaults) holds 1,000 objects. Members (8 clients, keep-alive HTTPS, one
first-page request after another) are measured twice for --seconds each: unloaded, then with 100 slow
connections (50 sending a request head one line per second, 50 sending a body a few bytes per second, both
reconnecting when the hub closes them, as an attacker would) and 100 idle TLS handshakes (TCP connections that
never send a ClientHello) held open from 127.0.0.2-127.0.0.9. Reported: first-page p50/p99 and the p99 ratio,
member requests that failed or took longer than the 5 s client timeout, and how long the hub takes (end to
end, the upload included) to refuse a 20 MB incident record with 600,000 recipients, a 20 MB TAXII envelope
with one 2,000,000-item list and a body nested 100,000 levels deep, and to accept an ordinary record.
Bounded: connection counts and durations are fixed; everything is on 127.0.0.1 and stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from . import procs
from .generate import generate
from .hub import CLI, ORG, READ_ID, ROOT, _cli, _env, _layout, _load_direct
from .load import percentile

MEMBERS = 8
TAXII_TYPE = "application/taxii+json;version=2.1"
ATTACK_SOURCES = [f"127.0.0.{n}" for n in range(2, 10)]
CLIENT_TIMEOUT_S = 5.0


class Attack:
    """Holds `slow_heads` + `slow_bodies` trickling connections and `idle` silent ones open until stopped."""

    def __init__(self, port: int, tls: ssl.SSLContext, slow_heads: int, slow_bodies: int, idle: int) -> None:
        self.port, self.tls = port, tls
        self.kinds = ["head"] * slow_heads + ["body"] * slow_bodies + ["idle"] * idle
        self.socks: list[Any] = [None] * len(self.kinds)
        self.reconnects = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self, n: int) -> Any:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.bind((ATTACK_SOURCES[n % len(ATTACK_SOURCES)], 0))
        raw.settimeout(5)
        raw.connect((procs.HOST, self.port))
        if self.kinds[n] == "idle":
            return raw
        sock = self.tls.wrap_socket(raw, server_hostname="localhost")
        if self.kinds[n] == "head":
            sock.sendall(f"GET /{ROOT}/collections/{READ_ID}/objects/ HTTP/1.1\r\nHost: localhost\r\n".encode())
        else:
            sock.sendall(f"POST /{ROOT}/collections/{READ_ID}/objects/ HTTP/1.1\r\nHost: localhost\r\n"
                         "Content-Type: application/taxii+json;version=2.1\r\nContent-Length: 100000\r\n\r\n".encode())
        return sock

    def _run(self) -> None:
        while not self._stop.is_set():
            for n, kind in enumerate(self.kinds):
                try:
                    if self.socks[n] is None:
                        self.socks[n] = self._open(n)
                    elif kind == "head":
                        self.socks[n].sendall(b"X-Slow: a\r\n")
                    elif kind == "body":
                        self.socks[n].sendall(b'{"objects":[ ')
                except OSError:  # closed by the hub (timeout, limit): come back, as an attacker would
                    self._close(n)
                    self.reconnects += 1
            self._stop.wait(1.0)

    def _close(self, n: int) -> None:
        if self.socks[n] is not None:
            try:
                self.socks[n].close()
            except OSError:
                pass
            self.socks[n] = None

    def __enter__(self) -> Attack:
        for n in range(len(self.kinds)):
            try:
                self.socks[n] = self._open(n)
            except OSError:
                self.socks[n] = None
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for n in range(len(self.kinds)):
            self._close(n)


def members(port: int, tls: ssl.SSLContext, auth: str, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    path = f"/{ROOT}/collections/{READ_ID}/objects/?limit=100"
    headers = {"Accept": "application/taxii+json;version=2.1", "Authorization": auth}

    def client() -> None:
        conn: http.client.HTTPSConnection | None = None
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection(procs.HOST, port, context=tls, timeout=CLIENT_TIMEOUT_S)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                with lock:
                    (latencies.append(elapsed) if response.status == 200 else failures.append(str(response.status)))
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(MEMBERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"requests": len(latencies), "failures": len(failures), "failure_kinds": sorted(set(failures)),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None}


def _post(port: int, tls: ssl.SSLContext, auth: str, path: str, body: bytes, media_type: str) -> dict[str, Any]:
    conn = http.client.HTTPSConnection(procs.HOST, port, context=tls, timeout=60)
    conn.connect()  # the TLS handshake is not part of the figure
    started = time.perf_counter()
    conn.request("POST", path, body=body, headers={
        "Authorization": auth, "Accept": media_type, "Content-Type": media_type})
    response = conn.getresponse()
    answer = response.read()
    elapsed = time.perf_counter() - started
    conn.close()
    return {"bytes": len(body), "status": response.status, "seconds": round(elapsed, 3), "answer_bytes": len(answer)}


def _record(recipients: int, record_id: str) -> dict[str, Any]:
    return {"format": "incident-record/1", "id": record_id, "reported_at": "2024-05-07T01:00:00Z", "tlp": "amber",
            "messages": [{"role": "attack", "sent_at": "2024-05-07T01:00:00Z", "subject": "Invoice",
                          "from": {"address": "a@b.example"}, "urls": ["https://bad.example/x"],
                          "to": [{"address": f"v{i}@r.example"} for i in range(recipients)]}]}


def refusals(port: int, tls: ssl.SSLContext, auth: str) -> dict[str, Any]:
    """How long the hub takes, end to end over TLS (upload included), to refuse oversized input and to accept
    an ordinary record (the median of five)."""
    taxii = f"/{ROOT}/collections/{READ_ID}/objects/"
    envelope = (b'{"objects": [{"type": "indicator", "labels": ['
                + b", ".join(b'"l%d"' % n for n in range(2_000_000)) + b"]}]}")
    deep = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    found = {
        "record_600000_recipients": _post(port, tls, auth, "/hub/v1/submissions",
                                          json.dumps(_record(600_000, "big")).encode(), "application/json"),
        "envelope_one_2000000_item_list": _post(port, tls, auth, taxii, envelope, TAXII_TYPE),
        "envelope_nested_100000_deep": _post(port, tls, auth, taxii, deep, TAXII_TYPE),
    }
    accepted = [_post(port, tls, auth, "/hub/v1/submissions", json.dumps(_record(3, f"ok-{n}")).encode(),
                      "application/json") for n in range(5)]
    found["ordinary_record_accepted"] = {**accepted[0], "status": sorted({a["status"] for a in accepted}),
                                         "seconds": sorted(a["seconds"] for a in accepted)[2]}
    return found


def _ready(port: int, tls: ssl.SSLContext) -> bool:
    try:
        conn = http.client.HTTPSConnection(procs.HOST, port, context=tls, timeout=5)
        conn.request("GET", "/taxii2/")
        conn.getresponse().read()
        conn.close()
        return True
    except (OSError, http.client.HTTPException):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5-second phases instead of 15")
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    seconds = args.seconds or (5.0 if args.quick else 15.0)
    if not CLI.exists():
        raise SystemExit(f"{CLI} not found: run `make install` first")
    procs.install_signal_handlers()
    with tempfile.TemporaryDirectory(prefix="taxii-hub-slow-") as scratch:
        root = Path(scratch) / "hub"
        config = _layout(root, 1)
        init = json.loads(_cli(config, "init", "--json"))
        _cli(config, "org", "add", ORG, "--name", "Bench member", "--group", "bench")
        key = json.loads(_cli(config, "key", "create", ORG, "--label", "bench", "--json"))["key"]
        auth = "Basic " + base64.b64encode(f"{ORG}:{key}".encode()).decode()
        _load_direct(config, generate(1000, 7))
        tls = ssl.create_default_context(cafile=init["ca_cert"])
        port = procs.free_port()
        argv = [str(CLI), "--config", str(config), "serve", "--bind", f"{procs.HOST}:{port}", "--workers", "2",
                "--threads", "2"]
        server = procs.start("taxii-hub", argv, root / "server.log", port, lambda p: _ready(p, tls), env=_env(),
                             cwd=root)
        try:
            members(port, tls, auth, 1.0)  # warm-up
            unloaded = members(port, tls, auth, seconds)
            with Attack(port, tls, 50, 50, 100) as attack:
                time.sleep(1.0)
                loaded = members(port, tls, auth, seconds)
                reconnects = attack.reconnects
            refusal = refusals(port, tls, auth)
        finally:
            server.stop()
    ratio = (loaded["p99_ms"] / unloaded["p99_ms"]) if loaded["p99_ms"] and unloaded["p99_ms"] else None
    result = {"seconds_per_phase": seconds, "members": MEMBERS, "unloaded": unloaded,
              "with_100_slow_and_100_idle": {**loaded, "attacker_reconnects": reconnects},
              "p99_ratio": round(ratio, 2) if ratio else None, "refusals": refusal}
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "slowclients.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
