"""The one reader of untrusted JSON, for every surface (TAXII, hub API, console, command line, records).

Reads I-JSON (RFC 7493): UTF-8 only, no byte order mark, no duplicate member names, no NaN or Infinity,
integers within ±(2^53−1), no lone surrogates (`"\\ud800"` cannot be stored or re-encoded as UTF-8), bounded
nesting; and budgets on every string, array and object: the generic ones of `JsonLimits` and the per-place
`Caps` of one kind of document (an incident record: recipients, messages, URLs, text sizes).

Everything but the surrogates is checked while the text is read, token by token (ijson's C parser, yajl), and
reading stops at the first exceeded budget: a 20 MB record with 600,000 recipients is refused after its
501st recipient, without decoding the rest. Only a document within every budget is then decoded (orjson,
which also refuses lone surrogates). Every failure is a `JSONRefused` whose message names the place (a JSON
path) and the limit, and never quotes the input.

Must not: know HTTP or the hub; callers translate `JSONRefused` into their own errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ijson
import orjson

MAX_SAFE_INT = 2**53 - 1
# The C parser only: the pure-Python backends differ on surrogates and numbers, and are far slower.
_TOKENS = ijson.get_backend("yajl2_c")
_TOKEN_ERRORS = (ijson.JSONError, UnicodeDecodeError, ValueError)


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = 64
    max_json_string_chars: int = 1024 * 1024  # a mail body or a STIX description; the body size bounds the rest
    max_json_array_items: int = 100_000
    max_json_object_members: int = 10_000


DEFAULT_JSON_LIMITS = JsonLimits()


@dataclass(frozen=True)
class Cap:
    """One budget: at most `limit`, named by its setting (`max_recipients`) in every refusal."""

    limit: int
    setting: str


@dataclass(frozen=True)
class Caps:
    """The per-place budgets of one kind of document, checked while it is read (before the generic ones).

    An array is capped by the name of the member holding it (an array inside an array by the nearest member
    name), a string value by the name of its member (strings in arrays by `string`); `shared` arrays count
    together within one object (`to` and `cc`: the recipients of one message)."""

    arrays: Mapping[str, Cap] = field(default_factory=dict)
    array: Cap | None = None  # any other array
    root_array: Cap | None = None  # the document itself, when it is an array (records in one file)
    strings: Mapping[str, Cap] = field(default_factory=dict)
    string: Cap | None = None  # any other string value
    members: Cap | None = None  # members of any object
    shared: frozenset[str] = frozenset()
    shared_cap: Cap | None = None
    shared_what: str = ""


NO_CAPS = Caps()


class JSONRefused(ValueError):
    """The input is not JSON the hub reads; `limit` names the exceeded budget, when that was the reason."""

    def __init__(self, message: str, limit: str = "", *, line: int = 0, syntax: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.line = line  # for a syntax error: its line and what the decoder expected
        self.syntax = syntax


def loads(data: bytes | str, limits: JsonLimits = DEFAULT_JSON_LIMITS, caps: Caps = NO_CAPS) -> Any:
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JSONRefused("the JSON text has a lone surrogate (\\ud800-\\udfff), which is not text") from exc
    else:
        raw = data
    try:
        _Scan(limits, caps).run(raw)
    except JSONRefused:
        raise
    except _TOKEN_ERRORS as exc:
        raise _syntax_refusal(raw, str(exc)) from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _syntax_refusal(raw, "") from None


class _Frame:
    """One open object or array while reading: what caps it, and where it is (for messages)."""

    __slots__ = ("cap", "count", "is_map", "key", "keys", "name", "place", "shared")

    def __init__(self, is_map: bool, name: str, cap: Cap | None, place: str | int | None) -> None:
        self.is_map = is_map
        self.count = 0
        self.keys: set[str] = set()
        self.key = ""  # an object's current member name
        self.name = name  # the nearest member name (what caps an array)
        self.cap = cap
        self.place = place  # its member name or index in its parent (None: the document)
        self.shared = 0


class _Scan:
    """The token-by-token checks; raises `JSONRefused` at the first failure."""

    def __init__(self, limits: JsonLimits, caps: Caps) -> None:
        self.limits = limits
        self.caps = caps
        self.frames: list[_Frame] = []

    def run(self, raw: bytes) -> None:
        limits, caps, frames = self.limits, self.caps, self.frames
        max_string = limits.max_json_string_chars
        for event, value in _TOKENS.basic_parse(raw, use_float=True):
            top = frames[-1] if frames else None
            if event == "map_key":
                assert top is not None
                if value in top.keys:
                    raise JSONRefused(f"the JSON text has a duplicate member name {_quoted(value)}")
                top.keys.add(value)
                top.key = value
                top.count += 1
                if len(value) > max_string:
                    self._over(max_string, "max_json_string_chars", "a member name of more than")
                if top.count > limits.max_json_object_members:
                    self._over(limits.max_json_object_members, "max_json_object_members", "more than", "members")
                if caps.members is not None and top.count > caps.members.limit:
                    self._over(caps.members.limit, caps.members.setting, "more than", "members")
                continue
            if event == "end_map" or event == "end_array":
                frames.pop()
                continue
            place: str | int | None = None
            if top is not None:
                if top.is_map:
                    place = top.key
                else:
                    top.count += 1
                    place = top.count - 1
                    if type(top) is _SharedArray:
                        _shared_item(self, top)
                    if top.cap is not None and top.count > top.cap.limit:
                        self._over(top.cap.limit, top.cap.setting, "more than", "items", inner=False)
                    if top.count > limits.max_json_array_items:
                        self._over(limits.max_json_array_items, "max_json_array_items", "more than", "items",
                                   inner=False)
            if event == "string":
                if len(value) > max_string:
                    self._over(max_string, "max_json_string_chars", "a string of more than", "characters", place)
                cap = caps.strings.get(place, caps.string) if isinstance(place, str) else caps.string
                if cap is not None and len(value) > cap.limit:
                    self._over(cap.limit, cap.setting, "a string of more than", "characters", place)
            elif event == "number":
                if type(value) is int and not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
                    raise JSONRefused(f"{self._path(place)}: the JSON text has an integer outside ±(2^53−1)")
            elif event == "start_map" or event == "start_array":
                if len(frames) >= limits.max_depth:
                    raise JSONRefused(f"the JSON text is nested more than {limits.max_depth} levels deep",
                                      "max_depth")
                name = place if isinstance(place, str) else (top.name if top is not None else "")
                if event == "start_map":
                    frames.append(_Frame(True, name, None, place))
                    continue
                if top is None:
                    cap = caps.root_array
                else:
                    cap = caps.arrays.get(name, caps.array)
                    if top.is_map and name in caps.shared:
                        frames.append(_SharedArray(top, name, cap, place, caps))
                        continue
                frames.append(_Frame(False, name, cap, place))

    def _path(self, last: str | int | None = None, inner: bool = True) -> str:
        parts = [f.place for f in self.frames if f.place is not None]
        if inner and last is not None:
            parts.append(last)
        return path_text(tuple(parts))

    def _over(self, limit: int, setting: str, what: str, unit: str = "characters",
              place: str | int | None = None, inner: bool = True) -> None:
        raise JSONRefused(f"{self._path(place, inner)}: {what} {limit} {unit} (limit {limit}, {setting})", setting)


class _SharedArray(_Frame):
    """An array whose items also count in its object's shared budget (`to` + `cc` of one message)."""

    __slots__ = ("owner", "shared_cap", "what")

    def __init__(self, owner: _Frame, name: str, cap: Cap | None, place: str | int | None, caps: Caps) -> None:
        super().__init__(False, name, cap, place)
        self.owner = owner
        self.shared_cap = caps.shared_cap
        self.what = caps.shared_what


def _shared_item(scan: _Scan, frame: _SharedArray) -> None:
    owner = frame.owner
    owner.shared += 1
    if frame.shared_cap is not None and owner.shared > frame.shared_cap.limit:
        cap = frame.shared_cap
        parts = [f.place for f in scan.frames[:-1] if f.place is not None]
        raise JSONRefused(f"{path_text(tuple(parts))}: more than {cap.limit} {frame.what} (limit {cap.limit}, "
                          f"{cap.setting})", cap.setting)


def _syntax_refusal(raw: bytes, token_error: str) -> JSONRefused:
    """Why a text that did not read is refused, said without quoting it (the token reader's own messages do)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return JSONRefused(f"the text is not UTF-8 (byte {exc.start})")
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        msg = exc.msg
        found = text[exc.pos:exc.pos + 9].lstrip("-")
        for constant in ("NaN", "Infinity"):
            if found.startswith(constant):
                return JSONRefused(f"the JSON text uses {constant}, which JSON does not allow")
        if "surrogate" in msg:
            return JSONRefused(f"the JSON text has a lone surrogate escape (\\ud800-\\udfff), which is not text "
                               f"(line {exc.lineno}, column {exc.colno})")
        if "infinity" in msg:
            return JSONRefused("the JSON text has a number too large to represent")
        return JSONRefused(f"the text is not valid JSON: {msg} (line {exc.lineno}, column {exc.colno})",
                           line=exc.lineno, syntax=msg)
    if "integer overflow" in token_error:
        return JSONRefused("the JSON text has an integer outside ±(2^53−1)")
    if "overflow" in token_error:
        return JSONRefused("the JSON text has a number too large to represent")
    return JSONRefused("the text is not valid JSON", syntax="not valid JSON")


def _quoted(text: str) -> str:
    """A member name for a message: short, and escaped so that it can never break a line or a header."""
    shown = text[:40].encode("unicode_escape").decode("ascii")
    return repr(shown + ("…" if len(text) > 40 else ""))


def path_text(path: tuple[str | int, ...]) -> str:
    """`messages[0].to` for ("messages", 0, "to"); member names are shortened and escaped."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if len(part) <= 40 and part.isprintable() and part.isascii() else _quoted(part)
            out += f".{name}" if out else name
    return out or "(document)"


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether nesting exceeds `limit`, checked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Any
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
