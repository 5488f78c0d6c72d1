"""The load client: HTTP/1.1 keep-alive requests over loopback, timed per request.

Owns: a fixed number of client threads hammering one URL for a bounded time (requests/s, p50/p99 latency),
a `next` walk of a collection with the time of every page, and POST ingest until the status is complete.
Uses http.client directly (one persistent connection per client thread) so that the client costs as little
CPU as possible on a machine it shares with the server; every server is measured with the same client.

Must not: loop without a bound in count and time, or follow anything but the server under test on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .procs import HOST
from .target import MT_TAXII


class ServerFailed(Exception):
    """The server answered with an error, returned something unusable, or took longer than allowed."""


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    seconds: float


def request(conn: http.client.HTTPConnection, method: str, path: str, headers: Mapping[str, str],
            body: bytes | None = None, sink: bytearray | None = None) -> Reply:
    """One request, its whole answer read. With `sink`, the body is streamed through that buffer (as a product
    that parses a feed while it downloads it) and not kept: the Reply's body holds only its last block."""
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=dict(headers))
    response = conn.getresponse()
    if sink is None:
        data = response.read()
    else:
        view, got = memoryview(sink), -1
        while got:
            got = response.readinto(view)
        data = bytes(view[:min(64, len(sink))])
    return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data,
                 time.perf_counter() - started)


def connect(port: int, timeout_s: float) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=timeout_s)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: p99 of 100 samples is the 99th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class RateResult:
    requests: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    errors: list[str]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 0.50) if self.latencies_ms else float("nan")

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies_ms, 0.99) if self.latencies_ms else float("nan")


def hammer(port: int, path: str, headers: Mapping[str, str], clients: int, duration_s: float,
           max_requests: int, timeout_s: float, ok_status: int = 200, stream: bool = False) -> RateResult:
    """`clients` threads GET `path` back to back until `duration_s` passed or `max_requests` were sent;
    an answer other than `ok_status` counts as an error. With `stream`, each client reads bodies through one
    reused 1 MiB buffer instead of keeping each (large) body in memory.

    A request still running at the deadline is waited for (bounded by `timeout_s`) and counted."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    sent = [0]
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client() -> None:
        conn = connect(port, timeout_s)
        mine: list[float] = []
        sink = bytearray(1 << 20) if stream else None
        try:
            start.wait()
            while time.perf_counter() < deadline[0]:
                with lock:
                    if sent[0] >= max_requests:
                        break
                    sent[0] += 1
                try:
                    reply = request(conn, "GET", path, headers, sink=sink)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    conn.close()
                    conn = connect(port, timeout_s)
                    if isinstance(exc, TimeoutError):
                        break
                    continue
                if reply.status != ok_status:
                    with lock:
                        errors.append(f"HTTP {reply.status}: {reply.body[:200]!r}")
                    continue
                mine.append(reply.seconds * 1000)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + duration_s
    start.wait()
    for thread in threads:
        thread.join(duration_s + timeout_s + 5)
    elapsed = time.perf_counter() - began
    return RateResult(len(latencies), elapsed, latencies, errors)


@dataclass
class WalkResult:
    objects: int
    page_ms: list[float]
    seconds: float
    added_last: list[str]  # X-TAXII-Date-Added-Last of every page, when the server sent it

    def depth_ratio(self) -> float:
        """Mean page time of the last 10 % of pages over the first 10 % (at least one page each)."""
        tenth = max(1, len(self.page_ms) // 10)
        first = statistics.fmean(self.page_ms[:tenth])
        last = statistics.fmean(self.page_ms[-tenth:])
        return last / first

    def first_ms(self) -> float:
        return statistics.fmean(self.page_ms[: max(1, len(self.page_ms) // 10)])

    def last_ms(self) -> float:
        return statistics.fmean(self.page_ms[-max(1, len(self.page_ms) // 10):])


def walk(port: int, path: str, headers: Mapping[str, str], limit: int, timeout_s: float, max_pages: int) -> WalkResult:
    """Follow `next` from the first page to the last (bounded by `max_pages`)."""
    conn = connect(port, timeout_s)
    page_ms: list[float] = []
    added_last: list[str] = []
    objects = 0
    began = time.perf_counter()
    query = {"limit": str(limit)}
    try:
        for _ in range(max_pages):
            reply = request(conn, "GET", f"{path}?{urllib.parse.urlencode(query)}", headers)
            if reply.status != 200:
                raise ServerFailed(f"page {len(page_ms) + 1}: HTTP {reply.status}: {reply.body[:200]!r}")
            page_ms.append(reply.seconds * 1000)
            envelope = json.loads(reply.body) if reply.body.strip() else {}
            objects += len(envelope.get("objects", []))
            if "x-taxii-date-added-last" in reply.headers:
                added_last.append(reply.headers["x-taxii-date-added-last"])
            token = envelope.get("next")
            if not envelope.get("more") or not token:
                break
            query = {"limit": str(limit), "next": str(token)}
        else:
            raise ServerFailed(f"more than {max_pages} pages")
    except (OSError, http.client.HTTPException) as exc:
        raise ServerFailed(f"page {len(page_ms) + 1}: {type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    return WalkResult(objects, page_ms, time.perf_counter() - began, added_last)


@dataclass
class IngestResult:
    objects: int
    seconds: float
    envelopes: int

    @property
    def objects_per_s(self) -> float:
        return self.objects / self.seconds


def ingest(port: int, path: str, status_prefix: str, headers: Mapping[str, str], envelopes: Sequence[bytes],
           timeout_s: float, status_polls: int = 600) -> IngestResult:
    """POST each envelope, then poll its status until complete; time from the first POST to the last
    complete status. Counts the successes the status reports."""
    conn = connect(port, timeout_s)
    sent = {**headers, "Content-Type": MT_TAXII}
    objects = 0
    began = time.perf_counter()
    try:
        for body in envelopes:
            reply = request(conn, "POST", path, sent, body)
            if reply.status != 202:
                raise ServerFailed(f"POST: HTTP {reply.status}: {reply.body[:300]!r}")
            status = json.loads(reply.body)
            for _ in range(status_polls):
                if status.get("status") == "complete":
                    break
                time.sleep(0.01)
                polled = request(conn, "GET", f"{status_prefix}{status['id']}/", headers)
                if polled.status != 200:
                    raise ServerFailed(f"status: HTTP {polled.status}: {polled.body[:300]!r}")
                status = json.loads(polled.body)
            else:
                raise ServerFailed(f"status {status.get('id')} not complete after {status_polls} polls")
            if int(status.get("failure_count", 0)):
                raise ServerFailed(f"{status['failure_count']} objects failed: {str(status.get('failures'))[:300]}")
            objects += int(status.get("success_count", 0))
    except (OSError, http.client.HTTPException) as exc:
        raise ServerFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        conn.close()
    return IngestResult(objects, time.perf_counter() - began, len(envelopes))
