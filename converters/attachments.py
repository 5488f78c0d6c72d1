"""One attached file -> its `Attachment` facts: hashes, sniffed type, the zip's members, and the archive
password and archiver the mail's body states (Japanese and English phrasings). Pure; reads only the part's bytes.
"""

from __future__ import annotations

import re
from email.message import Message as MimePart

from converters import archive, filetypes
from converters.limits import EmlLimits
from converters.record import Attachment

_ARCHIVERS = (
    "Lhaplus",
    "Lhasa",
    "+Lhaca",
    "Explzh",
    "7-Zip",
    "WinRAR",
    "WinZip",
    "CubeICE",
    "Lhaz",
    "Bandizip",
)
_PASSWORD = re.compile(
    r"(?:パスワード|パスワ－ド|解凍キー|暗証番号|(?i:\bpass(?:word|wd)?\b)|\bPW\b)"
    r"\s*(?:は|:|：|=|(?i:is))?\s*[「『\"']?([\x21-\x7e]{2,64}?)[」』\"']?(?=\s|$|です|。|、|\)|）)"
)


def read_attachment(
    leaf: MimePart, name: str, content_type: str, body: str, limits: EmlLimits, notes: list[str]
) -> Attachment:
    """The facts of one attached part; what cannot be read (a zip over its budgets) becomes a note."""
    data = leaf.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    sums = archive.digest(data)
    kind = filetypes.sniff(data, name)
    password = _stated_password(body) if kind.kind in filetypes.ARCHIVE_KINDS else None
    opens_with = _archiver(body) if kind.kind in filetypes.ARCHIVE_KINDS else None
    members: tuple[Attachment, ...] = ()
    if kind.kind == "zip":
        try:
            members = archive.zip_members(data, name, limits, password, notes=notes)
        except archive.ArchiveBudgetExceeded as exc:
            notes.append(f"{exc.limit}: {exc}; members not listed")
    return Attachment(
        name=name[:1024],
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


def _stated_password(body: str) -> str | None:
    match = _PASSWORD.search(body)
    return match.group(1).rstrip(".,") if match else None


def _archiver(body: str) -> str | None:
    lowered = body.lower()
    for name in _ARCHIVERS:
        if name.lower() in lowered:
            return name
    return None
