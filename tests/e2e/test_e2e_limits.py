"""HTTP limits at gunicorn, against a real `taxii-hub serve` (spec/security.md HTTP-02).

A 10 KB request line is a 414, 150 header fields or one 10 KB header field a 431, each answered by gunicorn
before the application, but in TAXII's shape (a TAXII error body with the TAXII media type), and the workers
that answered them keep serving.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.hubtest import C_RW, MT, ROOT
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


def _read_answer(sock: Any) -> tuple[str, dict[str, str], bytes]:
    received = b""
    while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < int(
            received.lower().partition(b"content-length:")[2].split(b"\r\n", 1)[0] or b"0"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    return status_line, headers, body


@pytest.mark.parametrize(("target", "declared", "media_type", "message"), [
    (f"/{ROOT}/collections/{C_RW}/objects/", 10_000_000, MT,
     "the request body (10000000 bytes) exceeds max_content_length (65536 bytes)"),
    ("/hub/v1/submissions", 30_000_000, "application/json",
     "the request body (30000000 bytes) exceeds [limits] max_submission_bytes (20971520 bytes)"),
], ids=["taxii", "hub-api"])
@pytest.mark.parametrize("expect", [True, False], ids=["expect-100-continue", "no-expect"])
def test_a_body_over_its_surface_limit_is_refused_from_its_length_before_it_is_read(
        server: HubServer, target: str, declared: int, media_type: str, message: str, expect: bool) -> None:
    conn = server.connect()
    try:
        sock = conn.sock
        assert sock is not None
        sock.sendall((f"POST {target} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nContent-Type: {media_type}\r\n"
                      f"Accept: {media_type}\r\nAuthorization: {basic('alice', server.keys['alice'])}\r\n"
                      f"Content-Length: {declared}\r\n" + ("Expect: 100-continue\r\n" if expect else "") +
                      "\r\n").encode())
        status_line, headers, body = _read_answer(sock)  # answered with no byte of the body sent
        assert status_line == "HTTP/1.1 413 Payload Too Large"
        assert headers["content-type"] == media_type and headers["connection"] == "close"
        assert json.loads(body)["description"] == message
        if not expect:  # a client that sends its body anyway is read to its end (not reset), then closed
            sock.sendall(b"x" * declared)
            sock.settimeout(10)
            assert sock.recv(1) == b""
    finally:
        conn.close()
