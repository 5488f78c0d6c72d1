"""Where a request ends, as the serving worker buffers it before a thread takes it (cli/framing.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxii_server.cli.framing import Framing

HEAD = b"POST /x/ HTTP/1.1\r\nHost: h\r\n"


def _fed(data: bytes, max_head: int = 65536) -> tuple[Framing, list[bool]]:
    """Feed `data` one byte more at a time; the completeness answer after each prefix."""
    framing = Framing(max_head)
    return framing, [framing.complete(data[:n]) for n in range(1, len(data) + 1)]


def test_a_request_without_body_is_complete_at_its_blank_line() -> None:
    _, answers = _fed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    assert answers[-1] and not any(answers[:-1])


def test_a_content_length_body_is_complete_when_all_bytes_arrived() -> None:
    _, answers = _fed(HEAD + b"Content-Length: 5\r\n\r\nhello")
    assert answers[-1] and not any(answers[:-1])


def test_a_chunked_body_is_complete_after_the_last_chunk_and_trailers() -> None:
    body = b"5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n"
    framing, answers = _fed(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert answers[-1] and not any(answers[:-1]) and not framing.unframeable


@pytest.mark.parametrize("head", [
    HEAD + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",  # smuggling-shaped
    HEAD + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
    HEAD + b"Content-Length: -1\r\n\r\n",
    HEAD + b"Transfer-Encoding: gzip\r\n\r\n",
    HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
])
def test_what_cannot_be_framed_is_handed_on_for_gunicorn_to_refuse(head: bytes) -> None:
    framing = Framing(65536)
    assert framing.complete(head) and framing.unframeable


def test_a_head_longer_than_the_limit_is_handed_on() -> None:
    framing = Framing(100)
    assert framing.complete(b"GET / HTTP/1.1\r\nX: " + b"a" * 200) and framing.unframeable


def test_expect_100_continue_is_noticed() -> None:
    framing = Framing(65536)
    assert not framing.complete(HEAD + b"Expect: 100-continue\r\nContent-Length: 3\r\n\r\n")
    assert framing.expects_continue


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=6))
def test_any_chunked_body_completes_exactly_at_its_end(pieces: list[bytes]) -> None:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    _, answers = _fed(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + body)
    assert answers[-1] and not any(answers[:-1])
