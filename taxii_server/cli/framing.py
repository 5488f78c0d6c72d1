"""Where an HTTP/1.1 request ends, read from bytes as they arrive (RFC 9112 §6): the head up to its blank line,
then a body of Content-Length bytes or chunked up to its last chunk and trailers.

The serving worker (worker.py) buffers each request with it before any thread is committed to the request.
It never decides whether a request is valid: anything it cannot frame (conflicting or malformed length
headers, an oversized head) is handed on as it is, and gunicorn's parser answers it with a 4xx from the bytes
already buffered. Must not: import the application, or block.
"""

from __future__ import annotations

from dataclasses import dataclass

HEAD_END = b"\r\n\r\n"


@dataclass
class Framing:
    """The state of one request being buffered. `feed` the bytes received so far (the whole buffer)."""

    max_head: int
    head_end: int = -1  # offset just past the blank line, once seen
    body_length: int | None = None  # Content-Length, when the body is framed by it
    chunked: bool = False
    expects_continue: bool = False
    unframeable: bool = False  # hand on as it is: gunicorn answers it
    target: bytes = b""  # the request target (path and query) of the request line, once the head is in
    _scan: int = 0  # chunked: where the next chunk-size line starts

    def complete(self, buf: bytes | bytearray) -> bool:
        """Whether `buf` holds at least one whole request (or something only gunicorn should judge)."""
        if self.head_end < 0:
            end = buf.find(HEAD_END)
            if end < 0:
                if len(buf) > self.max_head:
                    self.unframeable = True
                    return True
                return False
            self.head_end = end + len(HEAD_END)
            self._read_head(bytes(buf[:end]))
            self._scan = self.head_end
            if self.unframeable:
                return True
        if self.chunked:
            return self._chunks_done(buf)
        return len(buf) - self.head_end >= (self.body_length or 0)

    def body_bytes(self, buf: bytes | bytearray) -> int:
        return max(0, len(buf) - self.head_end) if self.head_end >= 0 else 0

    def _read_head(self, head: bytes) -> None:
        lengths: list[bytes] = []
        encodings: list[bytes] = []
        lines = head.split(b"\r\n")
        request_line = lines[0].split(b" ")
        if len(request_line) == 3:
            self.target = request_line[1]
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            key = name.strip().lower()
            if key == b"content-length":
                lengths.append(value.strip())
            elif key == b"transfer-encoding":
                encodings.append(value.strip().lower())
            elif key == b"expect" and value.strip().lower() == b"100-continue":
                self.expects_continue = True
        if encodings:
            if lengths or encodings[-1].split(b",")[-1].strip() != b"chunked":
                self.unframeable = True  # smuggling-shaped or not chunked: gunicorn refuses it
            self.chunked = True
            return
        if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            self.unframeable = True
            return
        self.body_length = int(lengths[0]) if lengths else 0

    def _chunks_done(self, buf: bytes | bytearray) -> bool:
        while True:
            line_end = buf.find(b"\r\n", self._scan)
            if line_end < 0:
                if len(buf) - self._scan > 4096:
                    self.unframeable = True
                    return True
                return False
            size_text = bytes(buf[self._scan:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.unframeable = True
                return True
            if size == 0:  # the last chunk, then trailers up to a blank line
                if buf.startswith(b"\r\n", line_end + 2):
                    return True
                return buf.find(HEAD_END, line_end) >= 0
            end = line_end + 2 + size + 2
            if len(buf) < end:
                return False
            self._scan = end
