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
