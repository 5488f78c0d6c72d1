"""Slow and idle clients against a real `taxii-hub serve` (one worker, two threads, TLS): while 24 slowloris
connections trickle request heads or bodies and 16 connections sit in an unfinished TLS handshake, a member's
requests are all answered; those connections are closed at their deadlines; and one client address cannot
hold more than `reading_per_address` connections being read. Figures under load: bench/slowclients.py."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator

import pytest

from tests.support.hubtest import C_RW, ROOT
from tests.support.serverproc import HOST, HubServer, build_hub, client_environment, start_server

pytestmark = pytest.mark.slow
HEADER_TIMEOUT = 8  # longer than a member waits (3 s): a starved member would time out, not wait it out
PER_ADDRESS = 12


@pytest.fixture(scope="module", autouse=True)
def _clients() -> Iterator[None]:
    with client_environment():
        yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    hub = build_hub(tmp_path_factory.mktemp("slow"), orgs=("alice",))  # the one member these tests need
    with hub.config.open("a") as config:
        config.write(f"[server]\nheader_timeout = {HEADER_TIMEOUT}\nbody_timeout = {HEADER_TIMEOUT}\n"
                     f"reading_per_address = {PER_ADDRESS}\n")
    running = start_server(hub, workers=1, serve_args=("--threads", "2"))
    yield running
    running.stop()


def _connect(server: HubServer, source: str, tls: bool) -> socket.socket:
    raw = socket.create_connection((HOST, server.port), timeout=5, source_address=(source, 0))
    if not tls:
        return raw
    context = ssl.create_default_context(cafile=server.ca_cert)
    return context.wrap_socket(raw, server_hostname="localhost")


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_members_are_served_while_slow_and_idle_connections_are_open(server: HubServer) -> None:
    slow: list[socket.socket] = []
    idle: list[socket.socket] = []
    try:
        for n in range(12):  # slow heads from two addresses, within each one's bound
            s = _connect(server, f"127.0.0.{2 + n % 2}", tls=True)
            s.sendall(f"GET /{ROOT}/collections/{C_RW}/objects/ HTTP/1.1\r\nHost: localhost\r\n".encode())
            slow.append(s)
        for n in range(12):  # slow bodies
            s = _connect(server, f"127.0.0.{4 + n % 2}", tls=True)
            s.sendall(f"POST /{ROOT}/collections/{C_RW}/objects/ HTTP/1.1\r\nHost: localhost\r\n"
                      "Content-Type: application/taxii+json;version=2.1\r\nContent-Length: 5000\r\n\r\n{".encode())
            slow.append(s)
        idle += [_connect(server, f"127.0.0.{6 + n % 2}", tls=False) for n in range(16)]  # no ClientHello
        opened = time.monotonic()
        session = server.session("alice")
        for _ in range(10):
            for s in slow[:12]:
                s.sendall(b"X-Slow: a\r\n")
            response = session.get(server.url(server.collection_path(C_RW, "objects/")), timeout=3)
            assert response.status_code == 200
        # At their deadline the hub closes them, however much they still trickle.
        time.sleep(max(0.0, opened + HEADER_TIMEOUT + 1.5 - time.monotonic()))
        assert all(_closed_by_server(s, 2.0) for s in slow + idle)
    finally:
        for s in slow + idle:
            s.close()


def test_one_address_cannot_hold_more_than_its_bound_of_connections_being_read(server: HubServer) -> None:
    held = [_connect(server, "127.0.0.9", tls=False) for _ in range(PER_ADDRESS + 4)]
    try:
        time.sleep(1.0)
        closed = [s for s in held if _closed_by_server(s, 0.01)]
        assert len(closed) == 4
        other = server.session("alice").get(server.url("/taxii2/"), timeout=5)  # another address is unaffected
        assert other.status_code == 200
    finally:
        for s in held:
            s.close()


def test_a_chunked_request_sent_in_pieces_is_buffered_and_answered(server: HubServer) -> None:
    body = b'{"objects": []}'
    s = _connect(server, "127.0.0.8", tls=True)
    try:
        s.sendall(f"POST /{ROOT}/collections/{C_RW}/objects/ HTTP/1.1\r\nHost: localhost\r\n".encode())
        s.sendall(b"Content-Type: application/taxii+json;version=2.1\r\nAccept: application/taxii+json;version=2.1"
                  b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for piece in (body[:5], body[5:]):
            s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            time.sleep(0.2)
        s.sendall(b"0\r\n\r\n")
        s.settimeout(5)
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 401")  # read whole, then answered (no credentials were sent)
    finally:
        s.close()
