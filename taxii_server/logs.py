"""Structured logs: one JSON object per record, one record per line, every field escaped (spec T13, CWE-117).

Owns the JSON formatter, the set-up of the hub's own loggers for `taxii-hub serve`, and the gunicorn logger
class that writes gunicorn's access and error logs in the same shape.

Untrusted text (request paths, user agents, file names, anything a member sent) only ever appears as a JSON
string value. The output is pure ASCII: CR, LF, the other control characters, quotes, backslashes and every
non-ASCII character are escaped, including U+2028, U+2029 and NEL, which some tools read as line breaks. A
record therefore cannot spill onto a second line or forge a record of its own, and a log reader recovers the
exact text with any JSON parser.

Must not: read settings or the environment, or log credentials: the Authorization header and the Basic user
name are never fields.
"""

from __future__ import annotations

import datetime
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from gunicorn import glogging

from .timestamps import format_us

FIELDS = "fields"  # the `extra` key that carries a record's structured fields: extra={FIELDS: {...}}
HUB_LOGGER = "taxii_server"  # the package's loggers and Flask's app.logger (the app is named after the package)
_OURS = "_taxii_hub_json"  # marks the handlers configure() installed, so a second call replaces them


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "pid", "message", …fields, "exception"?}` as one ASCII line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": format_us(round(record.created * 1_000_000)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, Mapping):
            entry.update((str(k), v) for k, v in fields.items() if k not in entry)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str, separators=(",", ":"))


def configure(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send the hub's own records (logger `taxii_server` and below, Flask's app logger included) to `stream`
    (stderr) as JSON lines. Call before the application is created, so Flask adds no handler of its own."""
    logger = logging.getLogger(HUB_LOGGER)
    for old in [h for h in logger.handlers if getattr(h, _OURS, False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _OURS, True)
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def wsgi_text(value: object) -> str | None:
    """A WSGI string as the text the client sent: WSGI carries bytes as Latin-1, clients send UTF-8; bytes that
    are not UTF-8 are kept visible as \\xNN escapes rather than replaced."""
    if value is None:
        return None
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger with JSON output: error-log records through JsonFormatter, and one structured access
    record per request instead of the Apache-style line (whose fields gunicorn does not escape)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp: Any, req: Any, environ: Mapping[str, Any], request_time: datetime.timedelta) -> None:
        status = resp.status
        code = status.split(None, 1)[0] if isinstance(status, str) else status
        fields = {
            "remote_addr": environ.get("REMOTE_ADDR"),
            "method": wsgi_text(environ.get("REQUEST_METHOD")),
            "path": wsgi_text(environ.get("PATH_INFO")),
            "query": wsgi_text(environ.get("QUERY_STRING")) or None,
            "protocol": environ.get("SERVER_PROTOCOL"),
            "status": int(code) if str(code).isdigit() else str(code),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 3),
            "user_agent": wsgi_text(environ.get("HTTP_USER_AGENT")),
        }
        self.access_log.info("request", extra={FIELDS: fields})
