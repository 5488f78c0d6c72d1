"""File types of attachments: magic-number sniffing, and the STIX `mime_type` / `magic_number_hex` to publish.

Only IANA-registered MIME types are published (validator check 271); Ichitaro and LNK have none, so they get
`application/octet-stream` and rely on `magic_number_hex`. A name from an archive or a mail is never trusted
for the type when the bytes are at hand.
"""

from __future__ import annotations

from dataclasses import dataclass

OLE2 = "D0CF11E0A1B11AE1"
RAR4 = "526172211A0700"
RAR5 = "526172211A070100"
RAR_ANY = "526172211A07"
ZIP = "504B0304"
ZIP_EMPTY = "504B0506"
LNK = "4C000000"
PE = "4D5A"
PDF = "25504446"
SEVEN_ZIP = "377ABCAF271C"
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class FileType:
    kind: str
    magic: str | None


_OLE2_KINDS = {
    ".doc": "word",
    ".dot": "word",
    ".xls": "excel",
    ".xlt": "excel",
    ".ppt": "powerpoint",
    ".pps": "powerpoint",
    ".jtd": "ichitaro",
    ".jtt": "ichitaro",
    ".jtdc": "ichitaro",
    ".jttc": "ichitaro",
    ".jaw": "ichitaro",
    ".jbw": "ichitaro",
    ".juw": "ichitaro",
}
_KIND_MIME = {
    "word": "application/msword",
    "excel": "application/vnd.ms-excel",
    "powerpoint": "application/vnd.ms-powerpoint",
    "pdf": "application/pdf",
    "exe": "application/vnd.microsoft.portable-executable",
    "scr": "application/vnd.microsoft.portable-executable",
    "rar": "application/vnd.rar",
    "zip": "application/zip",
}
# Kinds whose magic number follows from the kind alone (RAR needs the bytes to tell v4 from v5).
_KIND_MAGIC = {"exe": PE, "scr": PE, "lnk": LNK, "pdf": PDF, "zip": ZIP, "7z": SEVEN_ZIP, "rar": RAR_ANY}
ARCHIVE_KINDS = frozenset({"rar", "zip", "7z", "lzh"})
DOCUMENT_KINDS = frozenset({"word", "excel", "powerpoint", "pdf", "ichitaro"})
# IANA-registered types we accept verbatim from a record.
_IANA = frozenset(_KIND_MIME.values()) | {
    OCTET_STREAM,
    "text/plain",
    "text/html",
    "application/rtf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/x-msdownload",
    "application/gzip",
    "application/java-archive",
    "application/hta",
}


def sniff(data: bytes, name: str) -> FileType:
    """The type of `data` from its first bytes; `name` only separates the OLE2 flavours (Word, Ichitaro…)."""
    head = data[:16]
    if head.startswith(bytes.fromhex(OLE2)):
        return FileType(_ole2_kind(name), OLE2)
    if head.startswith(bytes.fromhex(RAR5)):
        return FileType("rar", RAR5)
    if head.startswith(bytes.fromhex(RAR4)):
        return FileType("rar", RAR4)
    if head.startswith(bytes.fromhex(ZIP)) or head.startswith(bytes.fromhex(ZIP_EMPTY)):
        return FileType("zip", head[:4].hex().upper())
    if head.startswith(bytes.fromhex("4C0000000114020000000000C000000000000046")[:8]):
        return FileType("lnk", LNK)
    if head.startswith(b"MZ"):
        return FileType("scr" if name.lower().endswith(".scr") else "exe", PE)
    if head.startswith(b"%PDF"):
        return FileType("pdf", PDF)
    if head.startswith(bytes.fromhex(SEVEN_ZIP)):
        return FileType("7z", SEVEN_ZIP)
    if len(head) >= 7 and head[2:4] == b"-l" and head[6:7] == b"-":
        return FileType("lzh", head[2:7].hex().upper())
    return FileType("other", None)


def _ole2_kind(name: str) -> str:
    lowered = name.lower()
    for suffix, kind in _OLE2_KINDS.items():
        if lowered.endswith(suffix):
            return kind
    return "other"


def published_mime_type(kind: str | None, declared: str | None) -> str:
    """An IANA media type for STIX: the declared one if registered, else from the kind, else octet-stream."""
    if declared:
        base = declared.split(";", 1)[0].strip().lower()
        if base in _IANA:
            return base
    if kind in _KIND_MIME:
        return _KIND_MIME[kind]
    return OCTET_STREAM


def magic_for(kind: str | None, name: str, known: str | None) -> str | None:
    """The magic number to publish: the sniffed one when known, else the one the kind implies."""
    if known:
        return known
    if kind in ("word", "excel", "powerpoint", "ichitaro") and _ole2_kind(name) != "other":
        return OLE2
    if kind is None:
        return None
    return _KIND_MAGIC.get(kind)
