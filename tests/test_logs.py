"""Structured logs (spec/security.md T13, EML-02's log part): one record is one line of ASCII JSON, whatever
the untrusted text in it; gunicorn's access records are structured the same way."""

from __future__ import annotations

import datetime
import io
import json
import logging
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from taxii_server import logs

HOSTILE = [
    "line one\r\nline two",
    "hi\nBcc: evil@example.com",  # the decoded `=?UTF-8?Q?hi=0ABcc:...?=` subject of spec §2.3
    'say "hello" \\ {"level":"critical"}',
    "ends with a lone CR\r",
    "unicode line breaks: \u2028 \u2029 \x85 \x0b \x0c \x1c \x1d \x1e",
    "ANSI \x1b[31mred\x1b[0m and NUL \x00",
    "日本語の件名 ① ㈱ and RTL \u202e",
    "a lone surrogate \ud800",
]


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    # str.splitlines also splits on U+2028, NEL and the other separators some log tools honour.
    return [json.loads(line) for line in text[:-1].splitlines()]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_record_with_hostile_text_is_one_ascii_line_that_round_trips(
    captured: tuple[logging.Logger, io.StringIO], text: str,
) -> None:
    logger, stream = captured
    logger.warning("subject %s", text, extra={logs.FIELDS: {"path": text, "user_agent": text}})
    assert stream.getvalue().isascii()
    [record] = _records(stream)
    assert record["message"] == f"subject {text}"
    assert record["path"] == record["user_agent"] == text
    assert record["level"] == "warning" and record["logger"] == "tests.logs"


def test_a_traceback_stays_inside_its_record(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        logger.exception("failed")
    [record] = _records(stream)
    assert "ValueError: bad\nvalue" in str(record["exception"])


def test_fields_never_overwrite_the_record_s_own_keys(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.info("real", extra={logs.FIELDS: {"message": "forged", "level": "critical", "org": "alice"}})
    [record] = _records(stream)
    assert (record["message"], record["level"], record["org"]) == ("real", "info", "alice")


def test_configure_sends_the_hub_loggers_to_one_json_handler() -> None:
    first, second = io.StringIO(), io.StringIO()
    hub_logger = logging.getLogger(logs.HUB_LOGGER)
    before = list(hub_logger.handlers), hub_logger.level, hub_logger.propagate
    try:
        logs.configure(first)
        logs.configure(second)  # replaces, never stacks
        logging.getLogger("taxii_server.web").info("hello\nworld")
    finally:
        hub_logger.handlers[:] = before[0]
        hub_logger.setLevel(before[1])
        hub_logger.propagate = before[2]
    assert first.getvalue() == ""
    [record] = _records(second)
    assert record["message"] == "hello\nworld"


def _gunicorn_logger(stream: io.StringIO) -> logs.GunicornLogger:
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = logs.GunicornLogger(cfg)
    for handler in logger.access_log.handlers:
        handler.setStream(stream)  # type: ignore[attr-defined]
    return logger


def test_gunicorn_access_records_are_structured_and_escaped() -> None:
    stream = io.StringIO()
    logger = _gunicorn_logger(stream)
    wsgi = lambda text: text.encode("utf-8").decode("latin-1")  # noqa: E731 - how WSGI carries request bytes
    environ = {
        "REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "PATH_INFO": wsgi('/taxii2/\r\n"x"\u2028é/'),
        "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": wsgi('agent "1" ①') + "\xff",
        "HTTP_AUTHORIZATION": "Basic YWxpY2U6c2VjcmV0",
    }
    response = SimpleNamespace(status="404 NOT FOUND", sent=74)
    logger.access(response, None, environ, datetime.timedelta(microseconds=1500))
    [record] = _records(stream)
    assert record["path"] == '/taxii2/\r\n"x"\u2028é/'
    assert record["user_agent"] == 'agent "1" ①\\xff'
    assert (record["status"], record["bytes"], record["duration_ms"], record["query"]) == (404, 74, 1.5, None)
    assert "alice" not in stream.getvalue() and "YWxpY2U" not in stream.getvalue()
