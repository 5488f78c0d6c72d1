"""HTTP limits at gunicorn, against a real `taxii-hub serve` (spec/security.md HTTP-02).

A 10 KB request line is a 414, 150 header fields or one 10 KB header field a 431, each answered by gunicorn
before the application, but in TAXII's shape (a TAXII error body with the TAXII media type), and the workers
that answered them keep serving.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.support.hubtest import MT
from tests.support.serverproc import HOST, HubServer, basic

pytestmark = pytest.mark.slow


def _exchange(server: HubServer, request: bytes) -> tuple[str, dict[str, str], bytes]:
    """Send raw bytes over TLS and read the whole answer (gunicorn closes after an error)."""
    conn = server.connect()
    try:
        assert conn.sock is not None
        conn.sock.sendall(request)
        received = b""
        for _ in range(1000):
            chunk = conn.sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        conn.close()
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return status_line, headers, body


def _request(server: HubServer, target: str = "/taxii2/", extra: bytes = b"") -> bytes:
    head = (f"GET {target} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nAccept: {MT}\r\n"
            f"Authorization: {basic('alice', server.keys['alice'])}\r\n")
    return head.encode() + extra + b"Connection: close\r\n\r\n"


def _long_request_line(server: HubServer) -> bytes:
    return _request(server, "/taxii2/?match[id]=" + "a" * 10 * 1024)


def _many_headers(server: HubServer) -> bytes:
    return _request(server, extra=b"".join(b"X-Filler-%d: %d\r\n" % (i, i) for i in range(150)))


def _long_header(server: HubServer) -> bytes:
    return _request(server, extra=b"X-Filler: " + b"a" * 10 * 1024 + b"\r\n")


@pytest.mark.parametrize(("build", "status"), [
    (_long_request_line, "414 URI Too Long"),
    (_many_headers, "431 Request Header Fields Too Large"),
    (_long_header, "431 Request Header Fields Too Large"),
], ids=["10KB-request-line", "150-headers", "10KB-header"])
def test_requests_over_the_http_limits_get_a_taxii_error_and_workers_survive(
    server: HubServer, build: Callable[[HubServer], bytes], status: str,
) -> None:
    workers_before = server.workers()
    status_line, headers, body = _exchange(server, build(server))
    assert status_line == f"HTTP/1.1 {status}"
    assert headers["content-type"] == MT
    error = json.loads(body)
    assert error["http_status"] == status.split()[0]
    assert isinstance(error["title"], str)
    # The same workers (none restarted by the arbiter) still answer an honest request.
    for _ in range(4):
        assert server.request("GET", "/taxii2/").status == 200
    assert server.workers() == workers_before


def test_a_request_just_inside_the_limits_is_served(server: HubServer) -> None:
    """40 header fields of 4 KB each and a 4 KB query string are within what real clients send."""
    extra = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"a" * 4000) for i in range(40))
    status_line, _, _ = _exchange(server, _request(server, "/taxii2/?x=" + "a" * 4000, extra))
    assert status_line == "HTTP/1.1 200 OK"
