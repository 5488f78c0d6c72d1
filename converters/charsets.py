"""Decoding Japanese (and other) mail text exactly: charsets, RFC 2047 encoded-words, raw 8-bit headers.

Python's codecs are strict where Japanese mail is not: a `Shift_JIS` label usually means CP932 (① ㈱ and the
IBM/NEC extensions), and `ISO-2022-JP` mail often carries half-width katakana or NEC row-13 characters
(CP50220/50221 behaviour). The standard library's header parser then silently substitutes U+FFFD. This module
decodes with the right superset and reports when a fallback was needed. Linear time in the input size.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# Label (lower-case) -> codecs to try in order.
_ALIASES: dict[str, tuple[str, ...]] = {
    "shift_jis": ("cp932",),
    "shift-jis": ("cp932",),
    "sjis": ("cp932",),
    "x-sjis": ("cp932",),
    "ms_kanji": ("cp932",),
    "csshiftjis": ("cp932",),
    "windows-31j": ("cp932",),
    "cp932": ("cp932",),
    "x-ms-cp932": ("cp932",),
    "euc-jp": ("euc_jp", "euc_jis_2004", "cp932"),
    "x-euc-jp": ("euc_jp", "euc_jis_2004"),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "csiso2022jp": ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2"),
    "cp50220": ("iso2022_jp_ext",),
    "cp50221": ("iso2022_jp_ext",),
    "cp50222": ("iso2022_jp_ext",),
    "us-ascii": ("ascii",),
    "ascii": ("ascii",),
    "utf8": ("utf-8",),
    "unknown-8bit": ("utf-8", "cp932"),
}
_ISO2022JP = frozenset({"iso-2022-jp", "csiso2022jp", "cp50220", "cp50221", "cp50222", "iso-2022-jp-ext"})
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
_SPACE_ONLY = re.compile(r"[ \t\r\n]*\Z")


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Text of `data` in `charset`, and a note when a fallback (superset, guess, replacement) was used."""
    label = (charset or "").strip().strip('"').lower().split("*", 1)[0]
    if not label:
        return guess_8bit(data)
    candidates = list(_ALIASES.get(label, (label,)))
    for index, codec in enumerate(candidates):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        note = None if index == 0 else f"charset {label!r} decoded as {codec}"
        return text, note
    if label in _ISO2022JP:
        try:
            return iso2022jp_via_cp932(data), f"charset {label!r} decoded as CP50220-style JIS via cp932"
        except UnicodeDecodeError:
            pass
    if label in ("ascii", "us-ascii"):
        text, note = guess_8bit(data)
        return text, f"8-bit data labelled {label!r}; {note or 'decoded as utf-8'}"
    try:
        codecs.lookup(label)
    except LookupError:
        text, _ = guess_8bit(data)
        return text, f"unknown charset {label!r}; decoded by guess"
    return data.decode(candidates[-1] if candidates else "utf-8", errors="replace"), (
        f"invalid {label!r} data; undecodable bytes replaced"
    )


def guess_8bit(data: bytes) -> tuple[str, str | None]:
    """Unlabelled bytes: ASCII, else UTF-8, else CP932 (the two encodings raw 8-bit Japanese mail uses)."""
    try:
        return data.decode("ascii"), None
    except UnicodeDecodeError:
        pass
    for codec in ("utf-8", "cp932"):
        try:
            return data.decode(codec), f"unlabelled 8-bit text decoded as {codec}"
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace"), "unlabelled 8-bit text; undecodable bytes replaced"


def iso2022jp_via_cp932(data: bytes) -> str:
    """ISO-2022-JP as Microsoft's CP50220 reads it: JIS X 0208 (incl. NEC row 13 and IBM extensions) and
    half-width katakana, re-encoded to Shift_JIS byte pairs and decoded as CP932."""
    out = bytearray()
    mode = "ascii"
    shifted = False
    i = 0
    length = len(data)
    while i < length:
        byte = data[i]
        if byte == 0x1B:
            sequence = data[i + 1 : i + 3]
            if sequence in (b"(B", b"(J"):
                mode = "ascii"
            elif sequence == b"(I":
                mode = "kana"
            elif sequence in (b"$@", b"$B"):
                mode = "kanji"
            else:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 3, "unsupported escape sequence")
            i += 3
            continue
        if byte in (0x0E, 0x0F):  # SO/SI: half-width katakana shift (CP50221)
            shifted = byte == 0x0E
            i += 1
            continue
        if byte in (0x0A, 0x0D) or (mode == "ascii" and not shifted):
            out.append(byte)
            i += 1
        elif mode == "kana" or shifted:
            if not 0x21 <= byte <= 0x5F:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "invalid half-width katakana")
            out.append(byte + 0x80)
            i += 1
        else:
            if i + 1 >= length:
                raise UnicodeDecodeError("iso2022_jp", data, i, i + 1, "truncated double-byte character")
            out += _jis_to_sjis(byte, data[i + 1])
            i += 2
    return out.decode("cp932")


def _jis_to_sjis(first: int, second: int) -> bytes:
    if not (0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E):
        raise UnicodeDecodeError("iso2022_jp", bytes([first, second]), 0, 2, "not a JIS X 0208 code")
    lead = (first + 1) // 2 + (0x70 if first <= 0x5E else 0xB0)
    if first % 2:
        trail = second + 0x1F + (1 if second >= 0x60 else 0)
    else:
        trail = second + 0x7E
    return bytes([lead, trail])


def decode_header(raw: str) -> tuple[str, list[str]]:
    """A header value with RFC 2047 encoded-words and raw 8-bit bytes decoded; notes for any fallback.

    Adjacent encoded-words in the same charset are joined as bytes before decoding (a multi-byte character
    may be split between them); whitespace between encoded-words is dropped (RFC 2047 §6.2). Encoded-words
    inside quoted strings (common in filenames) are decoded too.
    """
    value = re.sub(r"\r?\n(?=[ \t])", "", raw)
    notes: list[str] = []
    pieces: list[str] = []
    pending: list[tuple[str, bytes]] = []
    position = 0

    def flush() -> None:
        while pending:
            charset = pending[0][0]
            chunk = b""
            while pending and pending[0][0] == charset:
                chunk += pending.pop(0)[1]
            text, note = decode_bytes(chunk, charset)
            pieces.append(text)
            if note:
                notes.append(note)

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if not (pending and _SPACE_ONLY.match(between)):
            flush()
            pieces.append(_raw_text(between, notes))
        charset, encoding, payload = match.group(1), match.group(2).upper(), match.group(3)
        pending.append((charset.lower(), _decode_word(encoding, payload, notes)))
        position = match.end()
    flush()
    pieces.append(_raw_text(value[position:], notes))
    return "".join(pieces), notes


def _decode_word(encoding: str, payload: str, notes: list[str]) -> bytes:
    if encoding == "B":
        data = payload.encode("ascii", "replace")
        try:
            return base64.b64decode(data + b"=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            notes.append("invalid base64 in an encoded-word")
            return b""
    out = bytearray()
    text = payload.replace("_", " ").encode("ascii", "replace")
    i = 0
    while i < len(text):
        if text[i : i + 1] == b"=" and re.fullmatch(rb"[0-9A-Fa-f]{2}", text[i + 1 : i + 3]):
            out.append(int(text[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(text[i])
            i += 1
    return bytes(out)


def _raw_text(text: str, notes: list[str]) -> str:
    """Header text outside encoded-words: raw 8-bit bytes arrive as surrogate escapes from the parser."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        decoded, note = guess_8bit(text.encode("utf-8", "surrogateescape"))
        if note:
            notes.append(f"raw 8-bit header: {note}")
        return decoded
    return text
