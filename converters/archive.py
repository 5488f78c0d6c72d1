"""Listing and hashing zip members in memory, on a budget.

Nothing is ever extracted to disk and no path is derived from a member name: names are data. The budget is
checked on the declared sizes before any byte is decompressed (this also exposes overlapping-entry bombs,
which Python 3.11.7's zipfile does not detect), and again while streaming. RAR, 7z and LZH are typed by
their magic number only.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass

from converters import filetypes
from converters.limits import EmlLimits
from converters.record import Attachment

_CHUNK = 1024 * 1024


class ArchiveBudgetExceeded(Exception):
    def __init__(self, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(message)


@dataclass(frozen=True)
class Digest:
    size: int
    md5: str
    sha1: str
    sha256: str


def digest(data: bytes) -> Digest:
    return Digest(
        len(data),
        # Identification digests, not security: MD5/SHA-1 are what indicators and consumers match on.
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha1(data, usedforsecurity=False).hexdigest(),
        hashlib.sha256(data).hexdigest(),
    )


def zip_members(
    data: bytes,
    name: str,
    limits: EmlLimits,
    password: str | None = None,
    depth: int = 1,
    notes: list[str] | None = None,
) -> tuple[Attachment, ...]:
    """The members of a zip archive, hashed and typed; an empty tuple (and a note) when it cannot be listed.

    Raises `ArchiveBudgetExceeded` when a budget is exceeded (callers keep the archive without members).
    """
    notes = notes if notes is not None else []
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        notes.append(f"{name}: zip not listable ({exc})")
        return ()
    if len(infos) > limits.max_archive_entries:
        raise ArchiveBudgetExceeded(
            "max_archive_entries", f"{name}: {len(infos)} entries (limit {limits.max_archive_entries})"
        )
    declared = sum(info.file_size for info in infos)
    if declared > limits.max_archive_bytes:
        raise ArchiveBudgetExceeded(
            "max_archive_bytes", f"{name}: {declared} bytes declared (limit {limits.max_archive_bytes})"
        )
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_archive_ratio * max(info.compress_size, 1):
            raise ArchiveBudgetExceeded(
                "max_archive_ratio",
                f"{name}: entry {info.filename!r} expands {info.file_size // max(info.compress_size, 1)}:1 "
                f"(limit {limits.max_archive_ratio}:1)",
            )
    members = []
    budget = [limits.max_archive_bytes]
    for info in infos:
        if info.is_dir():
            continue
        content = _read(archive, info, password, budget, name, notes)
        if content is None:
            continue
        kind = filetypes.sniff(content, info.filename)
        nested: tuple[Attachment, ...] = ()
        if kind.kind == "zip" and depth < limits.max_archive_depth:
            nested = zip_members(content, info.filename, limits, password, depth + 1, notes)
        members.append(file_facts(info.filename, content, kind, None, nested))
    return tuple(members)


def file_facts(
    name: str,
    content: bytes,
    kind: filetypes.FileType,
    content_type: str | None,
    members: tuple[Attachment, ...],
    password: str | None = None,
    opens_with: str | None = None,
) -> Attachment:
    """One file's facts: size and hashes, sniffed type, the MIME type published for it, and its members."""
    sums = digest(content)
    return Attachment(
        name=name,
        size=sums.size,
        md5=sums.md5,
        sha1=sums.sha1,
        sha256=sums.sha256,
        mime_type=filetypes.published_mime_type(kind.kind, content_type),
        kind=kind.kind,
        password=password,
        opens_with=opens_with,
        members=members,
        magic=kind.magic,
    )


def _read(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    password: str | None,
    budget: list[int],
    name: str,
    notes: list[str],
) -> bytes | None:
    encrypted = bool(info.flag_bits & 0x1)
    if encrypted and not password:
        notes.append(f"{name}: {info.filename!r} is encrypted and no password was stated")
        return None
    chunks = []
    try:
        with archive.open(info, pwd=password.encode("utf-8") if encrypted and password else None) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise ArchiveBudgetExceeded("max_archive_bytes", f"{name}: more data than declared")
                chunks.append(chunk)
    except (
        zipfile.BadZipFile,
        RuntimeError,
        NotImplementedError,
        zlib.error,
        EOFError,
        ValueError,
        OSError,
    ) as exc:
        notes.append(f"{name}: {info.filename!r} not readable ({exc})")
        return None
    return b"".join(chunks)
