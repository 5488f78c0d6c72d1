"""The gunicorn worker `taxii-hub serve` runs: gthread, with gunicorn's own error answers in TAXII's shape.

gunicorn answers some requests before the application sees them: a request line over `limit_request_line`
(414), too many or too large header fields (431), and HTTP it cannot parse (400). It writes those as HTML.
TAXII wants every error as a TAXII error message (§3.6.1, checklist B1), so while gunicorn writes such an
answer the client socket is wrapped and the HTML is replaced by a TAXII error with the same status. gunicorn
keeps deciding the status, logging, and closing the connection.

Must not: echo anything of the rejected request (gunicorn's HTML quotes it) or import the application.
"""

from __future__ import annotations

import contextlib
import errno
import selectors
import ssl
import time
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import unquote

import orjson
from gunicorn import http
from gunicorn import sock as gunicorn_sock
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import TConn, ThreadWorker

from ..web.media import TAXII
from .framing import Framing

# The longest request head buffered before gunicorn judges it (its own limits: request line, 64 fields of 8190).
LIMIT_HEAD = 8190 + 64 * (8190 + 2) + 4
DESCRIPTIONS = {
    400: "the request is not valid HTTP/1.1",
    414: "the request line (method, path and query) is longer than this server accepts",
    431: "the request has more header fields, or a longer header field, than this server accepts",
}


def taxii_error_response(gunicorn_answer: bytes) -> bytes:
    """The TAXII error for the status gunicorn's own answer carries (its status line is kept, its body not)."""
    status_line = gunicorn_answer.split(b"\r\n", 1)[0].decode("latin-1")
    code_text, _, reason = status_line.partition(" ")[2].partition(" ")
    code = int(code_text) if code_text.isdigit() else 400
    reason = reason or "Bad Request"
    body = orjson.dumps({
        "title": reason,
        "description": DESCRIPTIONS.get(code, reason.lower()),
        "http_status": str(code),
    })
    head = (
        f"HTTP/1.1 {code} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {TAXII}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


class _TaxiiErrorSocket:
    """The client socket, except that what gunicorn sends through it is rewritten as a TAXII error."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(taxii_error_response(bytes(data)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class TaxiiThreadWorker(ThreadWorker):  # type: ignore[misc]
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _TaxiiErrorSocket(client), addr, exc)


@dataclass(frozen=True)
class BodyLimit:
    """The largest body requests under a path prefix may send, the setting that says so, and the media type
    of that surface's errors (TAXII or the hub API's JSON)."""

    prefix: str
    limit: int
    setting: str
    media_type: str


def too_large_response(declared: int, limit: BodyLimit) -> bytes:
    """The 413 the application would give for this declared length (web/body.py), without reading the body."""
    body = orjson.dumps({
        "title": "Payload Too Large",
        "description": f"the request body ({declared} bytes) exceeds {limit.setting} ({limit.limit} bytes)",
        "http_status": "413",
    })
    head = (
        "HTTP/1.1 413 Payload Too Large\r\n"
        "Connection: close\r\n"
        f"Content-Type: {limit.media_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Cache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


# How long a refused body is still read (and thrown away) so that the client, still sending, gets the 413
# rather than a reset connection.
DISCARD_SECONDS = 5.0


class BufferedUnreader(SocketUnreader):  # type: ignore[misc]
    """gunicorn's socket reader, serving first the bytes the event loop already read, 64 KiB at a time.

    gunicorn's own `unread()` keeps them in one buffer that each read copies whole: reading a 20 MB body
    64 KiB at a time (web/body.py) copied it 300 times (5 s). Here each read costs its own size."""

    piece = 64 * 1024

    def __init__(self, sock: Any, data: bytes) -> None:
        super().__init__(sock)
        self._pending = memoryview(data)

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self._pending:
            piece = self._pending[:self.piece].tobytes()
            self._pending = self._pending[self.piece:]
            return piece
        chunk: bytes = super().chunk() if size_hint is None else super().chunk(size_hint)  # gunicorn < 27: no hint
        return chunk


class _Reading:
    """One connection whose next request is being read by the worker's event loop, before any thread."""

    def __init__(self, conn: Any, address: str, deadline: float, max_head: int) -> None:
        self.conn = conn
        self.address = address
        self.deadline = deadline
        self.buf = bytearray()
        self.framing = Framing(max_head)
        self.handshaking = False
        self.continued = False
        self.body_started = False
        self.discarding = 0  # bytes of a refused body still to be read and thrown away
        self.events = selectors.EVENT_READ


class BufferingThreadWorker(TaxiiThreadWorker):
    """gthread whose event loop reads each request — the TLS handshake, the head and the body — before a
    thread is committed to it, so a slow or idle client costs a socket and a buffer, never a thread.

    A connection that does not finish its handshake and request head within `header_timeout` seconds, or its
    body within `body_timeout` more, is closed; so is one beyond `max_reading_per_address` connections from the
    same client address still being read (per worker process). The TLS context is gunicorn's own (the same
    certificates, client-certificate policy and ciphers), so the application reads the client certificate
    from the TLS connection exactly as before (`gunicorn.socket`, web/auth.py). A body larger than
    `max_buffered_bytes` is handed on once that much has arrived: the application refuses it (413) from its
    length. A request whose declared Content-Length exceeds the limit of its surface (`body_limits`: a TAXII
    API root's max_content_length, [limits] max_submission_bytes) is answered 413 here as soon as its head is
    in, before its body is read: a client that sent `Expect: 100-continue` never sends it; from any other,
    what it still sends is thrown away for at most DISCARD_SECONDS, then the connection is closed. The class
    attributes are set by `taxii-hub serve` (buffering_worker()).
    """

    header_timeout = 10.0
    body_timeout = 60.0
    max_reading_per_address = 32
    max_buffered_bytes = 32 * 1024 * 1024
    body_limits: tuple[BodyLimit, ...] = ()  # longest prefix first

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: dict[int, _Reading] = {}  # by id(conn)
        self._per_address: dict[str, int] = {}
        self._tls: ssl.SSLContext | None = None
        self._max_head = LIMIT_HEAD

    def init_process(self) -> None:
        if self.cfg.is_ssl:
            self._tls = gunicorn_sock.ssl_context(self.cfg)
        super().init_process()

    # -- entering the reading stage -------------------------------------------------------------------------

    def accept(self, listener: Any) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        address = str(client_addr[0]) if isinstance(client_addr, tuple) else "unix"
        if self._per_address.get(address, 0) >= self.max_reading_per_address:
            self._drop(conn)
            return
        reading = _Reading(conn, address, time.monotonic() + self.header_timeout, self._max_head)
        if self._tls is not None:
            try:
                conn.sock = self._tls.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False,
                                                  suppress_ragged_eofs=self.cfg.suppress_ragged_eofs)
            except (OSError, ValueError):
                self._drop(conn)
                return
            reading.handshaking = True
        self._start(reading)

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection sends its next request: read it here too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        address = str(conn.client[0]) if isinstance(conn.client, tuple) else "unix"
        self._start(_Reading(conn, address, time.monotonic() + self.header_timeout, self._max_head))

    def _start(self, reading: _Reading) -> None:
        self._per_address[reading.address] = self._per_address.get(reading.address, 0) + 1
        self._reading[id(reading.conn)] = reading
        reading.conn.sock.setblocking(False)
        self.poller.register(reading.conn.sock, selectors.EVENT_READ, partial(self._on_readable, reading))
        self._on_readable(reading, reading.conn.sock)  # a client that sent at once is served at once

    # -- reading --------------------------------------------------------------------------------------------

    def _on_readable(self, reading: _Reading, _sock: Any) -> None:
        sock = reading.conn.sock
        try:
            if reading.handshaking:
                sock.do_handshake()
                reading.handshaking = False
            while True:
                chunk = sock.recv(262144)
                if not chunk:
                    self._finish(reading, None)
                    return
                if reading.discarding:
                    reading.discarding -= len(chunk)
                    if reading.discarding <= 0:
                        self._finish(reading, None)
                        return
                    continue
                reading.buf += chunk
                if self._ready(reading):
                    return
        except ssl.SSLWantReadError:
            self._want(reading, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            self._want(reading, selectors.EVENT_WRITE)
        except (BlockingIOError, InterruptedError):
            self._want(reading, selectors.EVENT_READ)
        except (OSError, ValueError):  # reset, a failed handshake (no or a refused certificate), closed
            self._finish(reading, None)

    def _ready(self, reading: _Reading) -> bool:
        """Hand the request on once whole (or once only gunicorn should judge it); True when handed on."""
        framing = reading.framing
        if not framing.complete(reading.buf):
            if framing.head_end >= 0:
                if not reading.body_started and self._refused_by_length(reading):
                    return True
                if framing.expects_continue and not reading.continued:
                    reading.continued = True
                    with contextlib.suppress(OSError, ValueError):
                        reading.conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                if not reading.body_started:  # the head is in: the body has its own time
                    reading.body_started = True
                    reading.deadline = time.monotonic() + self.body_timeout
                if framing.body_bytes(reading.buf) < self.max_buffered_bytes:
                    return False
            else:
                return False
        self._finish(reading, bytes(reading.buf))
        return True

    def _refused_by_length(self, reading: _Reading) -> bool:
        """Answer 413 now when the declared body exceeds its surface's limit; True when answered."""
        framing = reading.framing
        declared = framing.body_length
        if not declared or framing.chunked:
            return False
        path = unquote(framing.target.split(b"?", 1)[0].decode("latin-1"))  # as the application routes it
        limit = next((b for b in self.body_limits if path.startswith(b.prefix)), None)
        if limit is None or declared <= limit.limit:
            return False
        with contextlib.suppress(OSError, ValueError):
            reading.conn.sock.send(too_large_response(declared, limit))
        self.log.info("refused a request body of %d bytes over %s before reading it", declared, limit.setting)
        left = declared - framing.body_bytes(reading.buf)
        if framing.expects_continue or left <= 0:
            self._finish(reading, None)
        else:
            reading.discarding = left
            reading.buf = bytearray()
            reading.deadline = min(reading.deadline, time.monotonic() + DISCARD_SECONDS)
        return True

    def _want(self, reading: _Reading, events: int) -> None:
        if events != reading.events:
            reading.events = events
            self.poller.modify(reading.conn.sock, events, partial(self._on_readable, reading))

    def _finish(self, reading: _Reading, data: bytes | None) -> None:
        """Leave the reading stage: to a thread with the buffered request, or closed (data None)."""
        conn = reading.conn
        self._reading.pop(id(conn), None)
        left = self._per_address.get(reading.address, 1) - 1
        if left > 0:
            self._per_address[reading.address] = left
        else:
            self._per_address.pop(reading.address, None)
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        if data is None:
            self._drop(conn)
            return
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        held = conn.parser.unreader.buf.getvalue()  # anything gunicorn read ahead stays first
        conn.parser.unreader = BufferedUnreader(conn.sock, held + data if held else data)
        conn.initialized = True
        conn.data_ready = True
        self.enqueue_req(conn)

    def _drop(self, conn: Any) -> None:
        self.nr_conns -= 1
        with contextlib.suppress(OSError):
            conn.close()

    def murder_pending(self) -> None:
        """Besides gunicorn's own: close every connection past its header or body deadline."""
        super().murder_pending()
        now = time.monotonic()
        for reading in [r for r in self._reading.values() if r.deadline <= now]:
            self._finish(reading, None)


def buffering_worker(header_timeout: float, body_timeout: float, max_reading_per_address: int,
                     max_buffered_bytes: int, body_limits: tuple[BodyLimit, ...] = ()) -> type[BufferingThreadWorker]:
    """The worker class `serve` runs, with the configured limits (class attributes survive the fork)."""
    return type("HubWorker", (BufferingThreadWorker,), {
        "header_timeout": float(header_timeout), "body_timeout": float(body_timeout),
        "max_reading_per_address": max_reading_per_address, "max_buffered_bytes": max_buffered_bytes,
        "body_limits": tuple(sorted(body_limits, key=lambda b: len(b.prefix), reverse=True)),
    })
