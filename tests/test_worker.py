"""gunicorn's own error answers (request line or headers over the limits, unparsable HTTP) become TAXII
errors with the same status (spec/security.md HTTP-02; checklist B1). Over the wire: e2e/test_e2e_limits.py."""

from __future__ import annotations

import json

import pytest

from taxii_server.cli.worker import taxii_error_response


@pytest.mark.parametrize(("status_line", "code"), [
    ("HTTP/1.1 414 URI Too Long", 414),
    ("HTTP/1.1 431 Request Header Fields Too Large", 431),
    ("HTTP/1.1 400 Bad Request", 400),
])
def test_gunicorn_s_own_error_answers_become_taxii_errors(status_line: str, code: int) -> None:
    html = f"{status_line}\r\nContent-Type: text/html\r\n\r\n<html>Invalid header 'X-&lt;script&gt;'</html>"
    answer = taxii_error_response(html.encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == status_line
    assert "Content-Type: application/taxii+json;version=2.1" in lines
    assert f"Content-Length: {len(body)}" in lines
    error = json.loads(body)
    assert error["http_status"] == str(code) and error["title"] == status_line.split(" ", 2)[2]
    assert b"<html>" not in answer and b"X-&lt;" not in answer


def test_a_buffered_request_is_read_in_pieces_then_from_the_socket() -> None:
    """The event loop's bytes come first, 64 KiB at a time (never the whole rest copied per read); what the
    client sends later comes from the socket."""
    import socket

    from gunicorn import http
    from gunicorn.config import Config

    from taxii_server.cli.worker import BufferedUnreader

    body = bytes(range(256)) * 8192  # 2 MiB
    head = b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (len(body) + 5)
    ours, theirs = socket.socketpair()
    try:
        theirs.sendall(b"tail!")  # the end of the body arrives after the event loop handed the request on
        parser = http.get_parser(Config(), ours, ("127.0.0.1", 1))
        unreader = BufferedUnreader(ours, head + body)
        parser.unreader = unreader
        pieces = []
        original = unreader.chunk
        unreader.chunk = lambda size_hint=None: pieces.append(original(size_hint)) or pieces[-1]  # type: ignore[method-assign]
        request = next(parser)
        read = b"".join(iter(lambda: request.body.read(65536), b""))
        assert read == body + b"tail!"
        assert max(len(p) for p in pieces) <= 64 * 1024
    finally:
        ours.close()
        theirs.close()
