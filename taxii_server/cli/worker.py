"""The gunicorn worker `taxii-hub serve` runs: gthread, with gunicorn's own error answers in TAXII's shape.

gunicorn answers some requests before the application sees them: a request line over `limit_request_line`
(414), too many or too large header fields (431), and HTTP it cannot parse (400). It writes those as HTML.
TAXII wants every error as a TAXII error message (§3.6.1, checklist B1), so while gunicorn writes such an
answer the client socket is wrapped and the HTML is replaced by a TAXII error with the same status. gunicorn
keeps deciding the status, logging, and closing the connection.

Must not: echo anything of the rejected request (gunicorn's HTML quotes it) or import the application.
"""

from __future__ import annotations

from typing import Any

import orjson
from gunicorn.workers.gthread import ThreadWorker

from ..web.media import TAXII

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
