"""Reading request bodies with a hard size limit, whatever the transfer encoding."""

from __future__ import annotations

from flask import request

from ..errors import PayloadTooLarge


def read_body(limit: int, setting: str = "max_content_length") -> bytes:
    """Read the request body ourselves, chunked or not, refusing more than `limit` bytes (checklist F4, F5)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the request body ({declared} bytes) exceeds {setting} ({limit} bytes)")
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    remaining = declared if declared is not None else None
    while remaining is None or remaining > 0:
        chunk = stream.read(min(65536, remaining) if remaining is not None else 65536)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body exceeds {setting} ({limit} bytes)")
        chunks.append(chunk)
        if remaining is not None:
            remaining -= len(chunk)
    return b"".join(chunks)
