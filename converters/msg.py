"""Outlook `.msg` files (MS-OXMSG, an OLE2 compound file) -> RFC 5322 bytes the `.eml` parser reads.

Read with `olefile` (BSD-2-Clause), not `extract-msg` (GPL-3.0, incompatible with shipping this Apache-2.0
project with it as a dependency): the format is simple enough that the properties we need are a few
streams. Owns: the transport headers Outlook keeps (`PR_TRANSPORT_MESSAGE_HEADERS`, the mail as received),
or headers rebuilt from the message properties when there are none (a saved draft or sent item); the plain
and HTML bodies; attachments with names, MIME types and Content-IDs; embedded messages (a `.msg` attached to a
`.msg`, what Outlook's "forward as attachment" makes) as `message/rfc822` parts. Nothing is written to disk.
"""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import Header
from email.message import Message as MimePart
from email.mime.application import MIMEApplication
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import HeaderParser
from typing import Any

from converters import charsets
from converters.errors import EmlError, EmlLimitExceeded
from converters.limits import EmlLimits

OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_SUBJECT, _BODY, _HTML, _HEADERS, _MESSAGE_ID = 0x0037, 0x1000, 0x1013, 0x007D, 0x1035
_SENDER_NAME, _SENDER_EMAIL, _SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
_REPRESENTING_NAME, _REPRESENTING_EMAIL, _REPRESENTING_SMTP = 0x0042, 0x0065, 0x5D02
_SUBMIT_TIME, _DELIVERY_TIME, _CREATION_TIME = 0x0039, 0x0E06, 0x3007
_DISPLAY_NAME, _EMAIL, _SMTP, _RECIPIENT_TYPE = 0x3001, 0x3003, 0x39FE, 0x0C15
_ATTACH_DATA, _ATTACH_NAME, _ATTACH_LONG_NAME, _ATTACH_MIME, _ATTACH_CID = 0x3701, 0x3704, 0x3707, 0x370E, 0x3712
_ATTACH_METHOD, _ATTACH_EMBEDDED = 0x3705, 5
_INTERNET_CPID, _MESSAGE_CODEPAGE = 0x3FDE, 0x3FFD
_MAX_EMBEDDED_DEPTH = 8
_SKIPPED_HEADERS = frozenset({"content-type", "content-transfer-encoding", "mime-version", "content-disposition"})


def is_msg(data: bytes) -> bool:
    """An OLE2 compound file that holds an Outlook message (not a Word or Excel file)."""
    if not data.startswith(OLE2_MAGIC):
        return False
    return b"_\x00_\x00s\x00u\x00b\x00s\x00t\x00g\x001\x00.\x000\x00" in data[:1_000_000] or b"__substg1.0" in data


def to_rfc822(data: bytes, source: str, limits: EmlLimits) -> bytes:
    """The mail an Outlook `.msg` holds, as RFC 5322 bytes. Raises `EmlError` when it is not one."""
    if len(data) > limits.max_raw_bytes:
        raise EmlLimitExceeded(source, "max_raw_bytes", f".msg is {len(data)} bytes (limit {limits.max_raw_bytes})")
    import olefile

    if not data.startswith(OLE2_MAGIC):
        raise EmlError(source, "(file)", "not an Outlook .msg (no OLE2 compound-file header)")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
        try:
            return _Reader(ole, source, limits).mail([], 0).as_bytes(policy=policy.compat32)
        finally:
            ole.close()
    except EmlError:
        raise
    except (OSError, ValueError, IndexError, KeyError, struct.error, TypeError, AttributeError,
            NotImplementedError, RecursionError) as exc:
        raise EmlError(source, "(file)", f"not a readable Outlook .msg ({type(exc).__name__}: {exc})") from exc


class _Reader:
    def __init__(self, ole: Any, source: str, limits: EmlLimits) -> None:
        self.ole = ole
        self.source = source
        self.limits = limits
        self.streams = {tuple(entry) for entry in ole.listdir(streams=True, storages=True)}
        self.parts = 0
        fixed = self.fixed([], 32)
        # 8-bit string properties (PT_STRING8) are in the message's code page (CP932 for Japanese Outlook).
        self.codepage = _encoding(fixed.get(_MESSAGE_CODEPAGE) or fixed.get(_INTERNET_CPID), "cp1252")

    # --------------------------------------------------------------------------------------- properties

    def children(self, base: list[str]) -> list[str]:
        """Names of the storages and streams directly under `base`, sorted."""
        depth = len(base)
        return sorted({e[depth] for e in self.streams if len(e) > depth and list(e[:depth]) == base})

    def raw(self, base: list[str], prop: int, kind: str) -> bytes | None:
        path = [*base, f"__substg1.0_{prop:04X}{kind}"]
        if tuple(path) not in self.streams:
            return None
        data: bytes = self.ole.openstream(path).read()
        return data

    def string(self, base: list[str], prop: int) -> str | None:
        data = self.raw(base, prop, "001F")
        if data is not None:
            return data.decode("utf-16-le", "replace").rstrip("\x00") or None
        data = self.raw(base, prop, "001E")
        if data is not None:
            data = data.rstrip(b"\x00")
            try:
                return data.decode(self.codepage) or None
            except UnicodeDecodeError:  # the declared code page is wrong: guess (UTF-8, CP932, …)
                return charsets.guess_8bit(data)[0] or None
        return None

    def fixed(self, base: list[str], header: int) -> dict[int, bytes]:
        """The fixed-size properties of `__properties_version1.0` (id -> 8 value bytes)."""
        path = [*base, "__properties_version1.0"]
        if tuple(path) not in self.streams:
            return {}
        data = self.ole.openstream(path).read()
        out: dict[int, bytes] = {}
        for offset in range(header, len(data) - 15, 16):
            tag = struct.unpack_from("<I", data, offset)[0]
            out[tag >> 16] = data[offset + 8 : offset + 16]
        return out

    # -------------------------------------------------------------------------------------------- mail

    def mail(self, base: list[str], depth: int) -> MimePart:
        if depth > _MAX_EMBEDDED_DEPTH:
            raise EmlLimitExceeded(self.source, "max_mime_depth", "Outlook messages embedded too deeply")
        fixed = self.fixed(base, 32 if depth == 0 else 24)
        out = MIMEMultipart("mixed")
        transport = self.string(base, _HEADERS)
        if transport:
            for name, value in HeaderParser(policy=policy.compat32).parsestr(transport).items():
                if name.lower() not in _SKIPPED_HEADERS:
                    out[name] = value
        else:
            self.rebuilt_headers(out, base, fixed)
        body = self.string(base, _BODY)
        html = self.raw(base, _HTML, "0102")
        alternative = MIMEMultipart("alternative")
        if body:
            alternative.attach(MIMEText(body, "plain", "utf-8"))
        if html:
            alternative.attach(MIMEText(_html_text(html, fixed.get(_INTERNET_CPID)), "html", "utf-8"))
        if alternative.get_payload():
            out.attach(alternative)
        for storage in self.children(base):
            if storage.startswith("__attach_version1.0_"):
                part = self.attachment([*base, storage], depth)
                if part is not None:
                    out.attach(part)
        return out

    def rebuilt_headers(self, out: MimePart, base: list[str], fixed: dict[int, bytes]) -> None:
        name = self.string(base, _REPRESENTING_NAME) or self.string(base, _SENDER_NAME)
        address = next(
            (
                a
                for a in (
                    self.string(base, _REPRESENTING_SMTP),
                    self.string(base, _SENDER_SMTP),
                    self.string(base, _REPRESENTING_EMAIL),
                    self.string(base, _SENDER_EMAIL),
                )
                if a and "@" in a
            ),
            None,
        )
        if address:
            out["From"] = _address(name, address)
        elif name:
            out["From"] = Header(name, "utf-8").encode()
        for kind, header in ((1, "To"), (2, "Cc")):
            values = self.recipients(base, kind)
            if values:
                out[header] = ", ".join(values)
        subject = self.string(base, _SUBJECT)
        if subject:
            out["Subject"] = Header(subject, "utf-8").encode()
        for prop in (_SUBMIT_TIME, _DELIVERY_TIME, _CREATION_TIME):
            when = _filetime(fixed.get(prop))
            if when is not None:
                out["Date"] = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
                break
        message_id = self.string(base, _MESSAGE_ID)
        if message_id:
            out["Message-ID"] = message_id

    def recipients(self, base: list[str], kind: int) -> list[str]:
        out = []
        for storage in self.children(base):
            if not storage.startswith("__recip_version1.0_"):
                continue
            path = [*base, storage]
            recipient_type = self.fixed(path, 8).get(_RECIPIENT_TYPE)
            if recipient_type is not None and struct.unpack_from("<I", recipient_type)[0] != kind:
                continue
            address = self.string(path, _SMTP) or self.string(path, _EMAIL)
            if address and "@" in address:
                out.append(_address(self.string(path, _DISPLAY_NAME), address))
        return out

    def attachment(self, path: list[str], depth: int) -> MimePart | None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise EmlLimitExceeded(self.source, "max_parts", f"more than {self.limits.max_parts} attachments")
        fixed = self.fixed(path, 8)
        name = self.string(path, _ATTACH_LONG_NAME) or self.string(path, _ATTACH_NAME) or "attachment"
        method = fixed.get(_ATTACH_METHOD)
        embedded = [*path, f"__substg1.0_{_ATTACH_DATA:04X}000D"]
        if (method and struct.unpack_from("<I", method)[0] == _ATTACH_EMBEDDED) or any(
            e[: len(embedded)] == tuple(embedded) for e in self.streams
        ):
            return MIMEMessage(self.mail(embedded, depth + 1))
        data = self.raw(path, _ATTACH_DATA, "0102")
        if data is None:
            return None
        mime = (self.string(path, _ATTACH_MIME) or "application/octet-stream").split(";")[0].strip().lower()
        maintype, _, subtype = mime.partition("/")
        part = MIMEApplication(data, _subtype=subtype or "octet-stream")
        if maintype and maintype != "application":
            part.replace_header("Content-Type", f"{maintype}/{subtype or 'octet-stream'}")
        cid = self.string(path, _ATTACH_CID)
        disposition = "inline" if cid and maintype == "image" else "attachment"
        part.add_header("Content-Disposition", disposition, filename=("utf-8", "", name))
        if cid:
            part["Content-ID"] = f"<{cid.strip('<>')}>"
        return part


def _address(name: str | None, address: str) -> str:
    if not name or name == address:
        return address
    return f"{Header(name, 'utf-8').encode()} <{address}>"


def _filetime(value: bytes | None) -> datetime | None:
    if not value or len(value) < 8:
        return None
    ticks = struct.unpack_from("<Q", value)[0]
    if not ticks:
        return None
    try:
        return datetime(1601, 1, 1, tzinfo=UTC) + timedelta(microseconds=ticks // 10)
    except OverflowError:
        return None


def _encoding(value: bytes | None, default: str) -> str:
    """The Python codec for a Windows code page number (PR_INTERNET_CPID / PR_MESSAGE_CODEPAGE)."""
    if not value or len(value) < 4:
        return default
    codepage = struct.unpack_from("<I", value)[0]
    name = {65001: "utf-8", 932: "cp932", 50220: "iso2022_jp", 50221: "iso2022_jp", 50222: "iso2022_jp",
            51932: "euc_jp", 20932: "euc_jp", 1200: "utf-16-le", 20127: "ascii", 28591: "latin-1"}.get(
        codepage, f"cp{codepage}")
    try:
        "".encode(name)
    except LookupError:
        return default
    return name


def _html_text(data: bytes, cpid: bytes | None) -> str:
    return data.decode(_encoding(cpid, "utf-8"), "replace").rstrip("\x00")
