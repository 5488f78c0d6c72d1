"""The running hub's log is JSON lines: one record per line, whatever a client puts in a path, a User-Agent,
a file name or a submitted mail's subject (spec/security.md T13, EML-02's log part).

gunicorn's access and error logs and the hub's own records all go through taxii_server.logs; the only other
output is the two-line banner `taxii-hub serve` prints before it starts.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.serverproc import HubServer

pytestmark = pytest.mark.slow

BANNERS = ("taxii-hub serving ", "clients trust the development CA: ")
HOSTILE_PATH = '/taxii2/%0D%0A{"level":"critical"}%E2%80%A8%C3%A9"q"/'
DECODED_PATH = '/taxii2/\r\n{"level":"critical"}\u2028é"q"/'
HOSTILE_AGENT = 'agent "1" \\n ① \u2028 {"forged":true}'
HOSTILE_FILENAME = 'report "x" ① \u2028.eml'
SUBJECT_WORD = "=?UTF-8?Q?hi=0D=0ABcc:_evil@example.com_=22q=22_=E2=80=A8?="


def _wire(text: str) -> str:
    """Text as http.client must be given it to put its UTF-8 bytes on the wire (it encodes headers as Latin-1)."""
    return text.encode("utf-8").decode("latin-1")


def _records(server: HubServer) -> list[dict[str, Any]]:
    records = []
    for line in server.log().split("\n"):  # only "\n" ends a line for a log shipper; \u2028 must not occur raw
        if not line or line.startswith(BANNERS):
            continue
        assert line.isascii(), line
        record = json.loads(line)
        assert isinstance(record, dict) and {"time", "level", "logger", "message"} <= set(record)
        records.append(record)
    return records


def _wait_for(server: HubServer, predicate: Any) -> list[dict[str, Any]]:
    for _ in range(50):  # the workers flush per record; allow for the pipe
        found = [r for r in _records(server) if predicate(r)]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_a_hostile_path_and_user_agent_make_exactly_one_access_record(server: HubServer) -> None:
    reply = server.request("GET", HOSTILE_PATH, headers={"User-Agent": _wire(HOSTILE_AGENT)})
    assert reply.status == 404
    found = _wait_for(server, lambda r: r.get("path") == DECODED_PATH)
    assert len(found) == 1
    assert found[0]["user_agent"] == HOSTILE_AGENT
    assert found[0]["logger"] == "gunicorn.access" and found[0]["status"] == 404


def test_a_submitted_mail_with_a_crlf_subject_and_a_hostile_file_name_keeps_the_log_one_record_a_line(
    server: HubServer,
) -> None:
    mail = (f"From: sender@example.net\r\nTo: victim@example.org\r\nSubject: {SUBJECT_WORD}\r\n"
            "Date: Mon, 02 Nov 2026 09:00:00 +0900\r\nMessage-ID: <log-test@example.net>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n").encode()
    reply = server.request("POST", "/hub/v1/submissions", headers={
        "Accept": "application/json", "Content-Type": "message/rfc822", "X-Filename": _wire(HOSTILE_FILENAME),
        "User-Agent": _wire(HOSTILE_AGENT)}, body=mail)
    assert reply.status == 202, reply.body
    submission = reply.json()["id"]
    found = _wait_for(server, lambda r: r.get("submission") == submission)
    assert len(found) == 1
    assert found[0]["filename"] == HOSTILE_FILENAME
    assert found[0]["message"] == "submission received"
    # No line of the log begins with the injected header or the forged record: every line parsed as a record.
    assert not [line for line in server.log().split("\n") if line.startswith(("Bcc:", '{"forged"', '{"level":"crit'))]
