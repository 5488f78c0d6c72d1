"""How the leak check reads a string: every decoded form of it, reduced to comparable tokens.

A protected value is found whatever it travels in: percent-encoding (repeated), HTML entities (repeated),
RFC 2047 encoded words, quoted-printable and base64 fragments, IDN punycode labels, Unicode compatibility
forms and case (NFKC + case folding), and any separators (`kita-heavy` = `kita heavy` = `KitaHeavy` =
`kitaheavy`). Matching is token-aligned: a value matches a run of whole tokens, never a piece inside a word,
so `ops` does not match `shops`. Letters of scripts written without spaces (Han, kana, Hangul) are one token
each, so a Japanese name is found inside a sentence. camelCase words split into their parts.

Pure: no I/O, no knowledge of STIX or of the hub. Decoding is bounded (depth and number of forms), so a
crafted string costs at most a few dozen decodings.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header

MAX_FORMS = 32
MAX_DEPTH = 4
MAX_LENGTH = 200_000  # longer strings are read as they are, without decoding

_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]{1,31});?")
_QP = re.compile(r"=[0-9A-F]{2}")
_QP_RUN = re.compile(r"(?:=[0-9A-F]{2})+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")
_PUNYCODE = re.compile(r"(?i)\bxn--[a-z0-9-]+")
_WORD = re.compile(r"[^\W_]+")
_UNSPACED = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def forms(text: str) -> list[str]:
    """`text` and every distinct string its encodings decode to (breadth first, bounded)."""
    found = [text]
    if len(text) > MAX_LENGTH:
        return found
    seen = {text}
    frontier = [text]
    for _ in range(MAX_DEPTH):
        following: list[str] = []
        for current in frontier:
            for decoded in _decodings(current):
                if decoded not in seen and len(found) < MAX_FORMS:
                    seen.add(decoded)
                    found.append(decoded)
                    following.append(decoded)
        if not following:
            break
        frontier = following
    return found


def _decodings(text: str) -> Iterable[str]:
    if _PERCENT.search(text):
        yield urllib.parse.unquote(text, errors="replace")
    if _ENTITY.search(text):
        yield html.unescape(text)
    if _ENCODED_WORD.search(text):
        try:
            yield str(make_header(decode_header(text)))
        except (HeaderParseError, LookupError, UnicodeError, ValueError):
            pass
    if _QP.search(text):
        yield _QP_RUN.sub(_qp_run, text)
    if _PUNYCODE.search(text):
        yield _PUNYCODE.sub(_punycode_label, text)
    for match in _BASE64.finditer(text):
        yield from _base64_fragment(match.group())


def _qp_run(match: re.Match[str]) -> str:
    """A run of quoted-printable escapes, decoded when it is readable text (`=40` in `u=10` stays)."""
    run = match.group()
    decoded = _utf8(bytes.fromhex(run.replace("=", "")))
    if decoded is not None:
        return decoded
    escapes = [run[i:i + 3] for i in range(0, len(run), 3)]
    return "".join(chr(int(e[1:], 16)) if 0x20 <= int(e[1:], 16) < 0x7F else e for e in escapes)


def _punycode_label(match: re.Match[str]) -> str:
    label = match.group()
    try:
        return label[4:].encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label


def _base64_fragment(fragment: str) -> Iterable[str]:
    """Decodings of a base64 run that are readable text; tried at each of the four alignments, since the
    run may begin with characters that are not part of the encoded value (`u=` glued to it)."""
    body = fragment.rstrip("=")
    for offset in range(4):
        part = body[offset:]
        if len(part) < 8:
            break
        padded = part + "=" * (-len(part) % 4)
        alphabet = b"-_" if ("-" in part or "_" in part) else None
        try:
            raw = base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _utf8(raw)
        if decoded is not None and len(decoded) >= 4:
            yield decoded


def _utf8(raw: bytes) -> str | None:
    """Text only: strict UTF-8 with no control characters other than white space."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\t\r\n" for c in text):
        return None
    return text


def tokens(text: str) -> list[str]:
    """Comparable tokens: NFKC, case folded, split at anything that is not a letter or digit, at camelCase
    humps and around each letter of a script written without spaces. Invisible format characters (zero-width
    spaces and joiners, bidirectional controls) are dropped first."""
    text = unicodedata.normalize("NFKC", "".join(c for c in text if unicodedata.category(c) != "Cf"))
    out: list[str] = []
    for word in _WORD.findall(text):
        for part in _CAMEL.split(word):
            for piece in _split_unspaced(part):
                folded = unicodedata.normalize("NFKC", piece.casefold())
                if folded:
                    out.append(folded)
    return out


def _split_unspaced(word: str) -> list[str]:
    if not _UNSPACED.search(word):
        return [word]
    pieces: list[str] = []
    run = ""
    for char in word:
        if _UNSPACED.match(char):
            if run:
                pieces.append(run)
                run = ""
            pieces.append(char)
        else:
            run += char
    if run:
        pieces.append(run)
    return pieces


@dataclass(frozen=True)
class Needle:
    """A protected value as the matcher sees it: its tokens run together, and, for a value whose separators
    matter (an IP address: `10.1.2.3` is not `101.2.3`), where its tokens end."""

    squashed: str
    cuts: tuple[int, ...] | None = None

    @classmethod
    def of(cls, value: str, strict: bool = False) -> Needle:
        parts = tokens(value)
        cuts: tuple[int, ...] | None = None
        if strict:
            total, found = 0, []
            for part in parts[:-1]:
                total += len(part)
                found.append(total)
            cuts = tuple(found)
        return cls("".join(parts), cuts)


class Haystack:
    """The tokens of one string (in all its decoded forms), run together, with the token boundaries."""

    def __init__(self, text: str) -> None:
        joined: list[str] = []
        bounds: set[int] = set()
        offset = 0
        self.forms = forms(text)
        for form in self.forms:
            bounds.add(offset)
            for token in tokens(form):
                joined.append(token)
                offset += len(token)
                bounds.add(offset)
            joined.append("\x00")  # forms never run into each other
            offset += 1
        self.text = "".join(joined)
        self.bounds = bounds

    def contains(self, needle: Needle) -> bool:
        if not needle.squashed:
            return False
        size = len(needle.squashed)
        start = self.text.find(needle.squashed)
        while start >= 0:
            if start in self.bounds and start + size in self.bounds and self._same_cuts(needle, start):
                return True
            start = self.text.find(needle.squashed, start + 1)
        return False

    def _same_cuts(self, needle: Needle, start: int) -> bool:
        if needle.cuts is None:
            return True
        inside = {b - start for b in self.bounds if start < b < start + len(needle.squashed)}
        return inside == set(needle.cuts)
