"""The example edge (deploy/nginx/taxii-hub.conf) in front of a real hub, over the wire (spec/security.md §5:
TLS-01, HTTP-01, HTTP-02 at the edge, BODY-01/02 at the edge, AUTHN-06, HDR-01..03 through the chain, and
LOAD-01's slow-client part, bounded: a handful of sockets for a few seconds).

Requests are written byte by byte on TLS sockets, so no client library repairs or adds anything.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.edgeproc import HEADER_TIMEOUT_S, Edge, PlainHub
from tests.support.serverproc import HOST, basic

pytestmark = pytest.mark.edge

MT = "application/taxii+json;version=2.1"
HSTS = "max-age=31536000"
MAX_BODY = 65536  # conftest.MAX_CONTENT_LENGTH


class Answer:
    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status_line = status_line
        parts = status_line.split(" ")
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        self.headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def json(self) -> dict[str, object]:
        doc = json.loads(self.body)
        assert isinstance(doc, dict)
        return doc


def exchange(edge: Edge, request: bytes, timeout: float = 10) -> Answer:
    """One request on a fresh TLS connection; read until the edge closes it (every request here says close)."""
    with edge.connect(timeout) as tls:
        tls.sendall(request)
        received = b""
        for _ in range(10_000):
            try:
                chunk = tls.recv(65536)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not chunk:
                break
            received += chunk
    return Answer(received)


def head(edge: Edge, method: str = "GET", path: str = "/taxii2/", org: str | None = "alice",
         keys: dict[str, str] | None = None, extra: str = "") -> str:
    auth = f"Authorization: {basic(org, keys[org])}\r\n" if org and keys else ""
    return (f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{edge.port}\r\nAccept: {MT}\r\n{auth}{extra}"
            "Connection: close\r\n")


def get(edge: Edge, backend: PlainHub, path: str = "/taxii2/", org: str | None = "alice", extra: str = "") -> Answer:
    return exchange(edge, (head(edge, "GET", path, org, backend.hub.keys, extra) + "\r\n").encode())


def assert_taxii_error(answer: Answer, status: int) -> None:
    assert answer.status == status, answer.status_line
    assert answer.headers["content-type"] == MT
    error = answer.json()
    assert error["http_status"] == str(status) and isinstance(error["title"], str)
    assert answer.headers.get("strict-transport-security") == HSTS


# -- TLS-01 ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["TLSv1.2", "TLSv1.3"])
def test_tls_1_2_and_1_3_are_served(edge: Edge, version: ssl.TLSVersion) -> None:
    context = edge.tls_context()
    context.minimum_version = context.maximum_version = version
    with socket.create_connection((HOST, edge.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_tls_below_1_2_is_refused(edge: Edge) -> None:
    context = edge.tls_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # asking for TLS 1.0/1.1 is the point
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection((HOST, edge.port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname=HOST)


def test_tls_1_2_without_forward_secret_aead_suites_is_refused(edge: Edge) -> None:
    context = edge.tls_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA384")
    with socket.create_connection((HOST, edge.port), timeout=10) as raw, pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname=HOST)


# -- through the chain: hygiene and identity -------------------------------------------------------------------

def test_a_request_through_the_edge_is_served_with_hsts_and_no_store(edge: Edge, backend: PlainHub) -> None:
    answer = get(edge, backend)
    assert answer.status == 200
    assert answer.headers["content-type"] == MT
    assert answer.headers["strict-transport-security"] == HSTS
    assert answer.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("spoof", [
    "X-User: alice\r\n",
    "X-SSL-Client-S-DN: CN=alice,O=Alice Corp\r\n",
    "X-User: alice\r\nX-SSL-Client-S-DN: CN=alice\r\nX-Remote-User: alice\r\nX-SSL-Client-Verify: SUCCESS\r\n",
], ids=["x-user", "x-ssl-client-s-dn", "all"])
def test_identity_headers_have_no_effect(edge: Edge, backend: PlainHub, spoof: str) -> None:
    """AUTHN-06: without Authorization, claiming to be alice in a header is a 401."""
    answer = get(edge, backend, org=None, extra=spoof)
    assert answer.status == 401
    assert answer.headers["content-type"] == MT
    assert "www-authenticate" in answer.headers


def test_discovery_through_the_edge_ignores_host_and_forwarded_headers(edge: Edge, backend: PlainHub) -> None:
    """HDR-03 through nginx: the edge forwards a fixed Host and drops X-Forwarded-Host; the hub ignores both."""
    honest = get(edge, backend).json()
    answer = exchange(edge, (
        f"GET /taxii2/ HTTP/1.1\r\nHost: evil.example\r\nAccept: {MT}\r\n"
        f"Authorization: {basic('alice', backend.hub.keys['alice'])}\r\nX-Forwarded-Host: evil.example\r\n"
        "X-Forwarded-Proto: http\r\nForwarded: host=evil.example\r\nConnection: close\r\n\r\n").encode())
    assert answer.status == 200
    assert answer.json() == honest
    assert b"evil" not in answer.body


# -- bodies (BODY-01/02 at the edge) ----------------------------------------------------------------------------

def _post(edge: Edge, backend: PlainHub, body: bytes, *, chunked: bool) -> Answer:
    path = "/api1/collections/8c49f14d-8ea3-4f03-ab28-19dbca973dde/objects/"
    framing = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {len(body)}\r\n"
    headers = head(edge, "POST", path, "alice", backend.hub.keys, f"Content-Type: {MT}\r\n{framing}")
    request = (headers + "\r\n").encode()
    if chunked:
        payload = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 8192]), body[i:i + 8192])
                           for i in range(0, len(body), 8192)) + b"0\r\n\r\n"
    else:
        payload = body
    return exchange(edge, request + payload)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_max_content_length_is_a_taxii_413_at_the_edge(
    edge: Edge, backend: PlainHub, chunked: bool,
) -> None:
    before = backend.log().count('"method":"POST"')
    answer = _post(edge, backend, b'{"objects":[' + b" " * MAX_BODY + b"]}", chunked=chunked)
    assert_taxii_error(answer, 413)
    assert backend.log().count('"method":"POST"') == before  # never forwarded


def test_a_body_of_exactly_max_content_length_passes_the_edge(edge: Edge, backend: PlainHub) -> None:
    """BODY-01: the limit is inclusive; the hub answers (here: no objects, 422), not the edge."""
    body = b'{"objects":[]' + b" " * (MAX_BODY - 14) + b"}"
    assert len(body) == MAX_BODY
    answer = _post(edge, backend, body, chunked=False)
    assert answer.status == 422, answer.body
    assert answer.headers["content-type"] == MT


# -- HTTP-01: smuggling is refused at the edge -----------------------------------------------------------------

SMUGGLED = "GET /smuggled-by-the-test/ HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.mark.parametrize(("framing", "status"), [
    (f"Content-Length: {len(SMUGGLED) + 5}\r\nTransfer-Encoding: chunked\r\n", 400),
    (f"Content-Length: 5\r\nContent-Length: {len(SMUGGLED) + 5}\r\n", 400),
    ("Transfer-Encoding : chunked\r\n", 400),
    ("X-Bare-CR: a\rb\r\n", 400),
    # A coding nginx does not implement is a 501 (RFC 9112 §6.1), equally refused before the hub.
    ("Transfer-Encoding: chunked, identity\r\n", 501),
    ("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", 400),
], ids=["CL+TE", "duplicate-CL", "TE-space-colon", "bare-CR", "TE-chunked-identity", "two-TE"])
def test_ambiguous_framing_is_refused_at_the_edge_and_never_reaches_the_hub(
    edge: Edge, backend: PlainHub, framing: str, status: int,
) -> None:
    request = (f"POST /taxii2/ HTTP/1.1\r\nHost: {HOST}\r\nAccept: {MT}\r\n{framing}Connection: keep-alive\r\n\r\n"
               f"0\r\n\r\n{SMUGGLED}").encode()
    answer = exchange(edge, request)
    assert_taxii_error(answer, status)
    time.sleep(0.2)
    assert "smuggled-by-the-test" not in backend.log()


# -- HTTP-02 at the edge -----------------------------------------------------------------------------------------

def test_a_10kb_request_line_is_a_taxii_414_at_the_edge(edge: Edge, backend: PlainHub) -> None:
    assert_taxii_error(get(edge, backend, "/taxii2/?match[id]=" + "a" * 10 * 1024), 414)


def test_a_10kb_header_is_a_taxii_400_at_the_edge(edge: Edge, backend: PlainHub) -> None:
    """nginx answers an oversized header field with 400 (its 494 internally), not 431."""
    assert_taxii_error(get(edge, backend, extra="X-Filler: " + "a" * 10 * 1024 + "\r\n"), 400)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("TRACE", "/taxii2/", 405),
    ("GET", "/.taxii-hub-errors/413", 404),
], ids=["TRACE", "internal-error-page"])
def test_what_nginx_refuses_on_its_own_is_a_taxii_error(edge: Edge, backend: PlainHub, method: str, path: str,
                                                       status: int) -> None:
    answer = exchange(edge, (head(edge, method, path, "alice", backend.hub.keys) + "\r\n").encode())
    assert_taxii_error(answer, status)


def test_the_hub_being_down_is_a_taxii_502(dead_edge: Edge, backend: PlainHub) -> None:
    answer = get(dead_edge, backend)
    assert_taxii_error(answer, 502)
    assert answer.headers.get("retry-after") == "10"


# -- LOAD-01, bounded: slow clients are the edge's problem -------------------------------------------------------

SLOW_SOCKETS = 8


def _slow_client(edge: Edge, stop_after_s: float) -> float:
    """Send a request head one header every 0.5 s; return how long the edge let it dangle before closing."""
    started = time.monotonic()
    with edge.connect(timeout=stop_after_s) as tls:
        tls.sendall(f"GET /taxii2/ HTTP/1.1\r\nHost: {HOST}\r\n".encode())
        for i in range(int(stop_after_s / 0.5)):
            try:
                tls.sendall(b"X-Slow-%d: %d\r\n" % (i, i))
                tls.settimeout(0.5)
                if tls.recv(1) == b"":
                    break
            except TimeoutError:
                continue
            except (OSError, ssl.SSLError):
                break
    return time.monotonic() - started


def test_slow_header_clients_are_cut_off_while_a_legitimate_client_is_served(edge: Edge, backend: PlainHub) -> None:
    limit = HEADER_TIMEOUT_S + 4.0
    with ThreadPoolExecutor(max_workers=SLOW_SOCKETS) as pool:
        slow = [pool.submit(_slow_client, edge, limit + 2.0) for _ in range(SLOW_SOCKETS)]
        time.sleep(0.5)
        started = time.monotonic()
        answer = get(edge, backend)
        served_in = time.monotonic() - started
        held = [f.result(timeout=limit + 10) for f in slow]
    assert answer.status == 200
    assert served_in < 1.0
    assert all(h < limit for h in held), held
