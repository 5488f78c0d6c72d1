"""The one reader of untrusted JSON, for every surface (TAXII, hub API, console, command line, records).

Reads I-JSON (RFC 7493): UTF-8 only, no duplicate member names, no NaN or Infinity, integers within
±(2^53−1), no lone surrogates (`"\\ud800"` cannot be stored or re-encoded as UTF-8), bounded nesting; and
budgets on the size of every string, array and object, checked on the decoded document before anything
else (schema validation, conversion) looks at it. Every failure is a `JSONRefused` whose message names the
place (a JSON path) and the limit, and never quotes the input.

Must not: know HTTP or the hub; callers translate `JSONRefused` into their own errors.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

MAX_SAFE_INT = 2**53 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = 64
    max_json_string_chars: int = 1024 * 1024  # a mail body or a STIX description; the body size bounds the rest
    max_json_array_items: int = 100_000
    max_json_object_members: int = 10_000


DEFAULT_JSON_LIMITS = JsonLimits()


class JSONRefused(ValueError):
    """The input is not JSON the hub reads; `limit` names the exceeded budget, when that was the reason."""

    def __init__(self, message: str, limit: str = "", *, line: int = 0, syntax: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.limit = limit
        self.line = line  # for a syntax error: its line and what the decoder expected
        self.syntax = syntax


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JSONRefused(f"the JSON text has a duplicate member name {_quoted(key)}")
            seen.add(key)
    return obj


def _int(text: str) -> int:
    if len(text) > 17 or abs(int(text)) > MAX_SAFE_INT:
        raise JSONRefused(f"the JSON text has an integer outside ±(2^53−1) ({len(text)} digits)")
    return int(text)


def _float(text: str) -> float:
    if len(text) > 400:
        raise JSONRefused(f"the JSON text has a number of {len(text)} characters (limit 400)")
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise JSONRefused("the JSON text has a number too large to represent")
    return value


def _constant(name: str) -> Any:
    raise JSONRefused(f"the JSON text uses {name}, which JSON does not allow")


def _quoted(text: str) -> str:
    """A member name for a message: short, and escaped so that it can never break a line or a header."""
    shown = text[:40].encode("unicode_escape").decode("ascii")
    return repr(shown + ("…" if len(text) > 40 else ""))


def loads(data: bytes | str, limits: JsonLimits = DEFAULT_JSON_LIMITS) -> Any:
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONRefused(f"the text is not UTF-8 (byte {exc.start})") from exc
    else:
        text = data
    _budget_prepass(text, limits)
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise JSONRefused(f"the text is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                          line=exc.lineno, syntax=exc.msg) from exc
    except RecursionError as exc:
        raise JSONRefused(f"the JSON text is nested more than {limits.max_depth} levels deep", "max_depth") from exc
    except ValueError as exc:  # int() past the interpreter's digit limit, or one of ours
        if isinstance(exc, JSONRefused):
            raise
        raise JSONRefused("the JSON text has a number too long to read") from exc
    check(value, limits)
    return value


def _budget_prepass(text: str, limits: JsonLimits) -> None:
    """An oversized document is refused at orjson's speed, before the slower reader that finds duplicate member
    names: a 20 MB record with 600,000 recipients costs a tenth of a second, not seconds. Whatever orjson cannot
    read is left to the strict reader, which says why."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return
    check(value, limits)


def check(value: Any, limits: JsonLimits = DEFAULT_JSON_LIMITS) -> None:
    """Refuse a decoded document over a budget or holding a lone surrogate; iterative, so any depth is safe."""
    stack: list[tuple[Any, int, tuple[str | int, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, path = stack.pop()
        if isinstance(item, str):
            _check_string(item, path, limits)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > limits.max_depth:
            raise JSONRefused(f"the JSON text is nested more than {limits.max_depth} levels deep", "max_depth")
        if isinstance(item, dict):
            if len(item) > limits.max_json_object_members:
                raise JSONRefused(f"{path_text(path)}: {len(item)} members (limit {limits.max_json_object_members}, "
                                  "max_json_object_members)",
                                  "max_json_object_members")
            for key, child in item.items():
                _check_string(key, (*path, key), limits)
                if isinstance(child, (dict, list, str)):
                    stack.append((child, depth + 1, (*path, key)))
        else:
            if len(item) > limits.max_json_array_items:
                raise JSONRefused(f"{path_text(path)}: {len(item)} items (limit {limits.max_json_array_items}, "
                                  "max_json_array_items)",
                                  "max_json_array_items")
            stack.extend((child, depth + 1, (*path, n)) for n, child in enumerate(item)
                         if isinstance(child, (dict, list, str)))


def _check_string(text: str, path: tuple[str | int, ...], limits: JsonLimits) -> None:
    if len(text) > limits.max_json_string_chars:
        raise JSONRefused(f"{path_text(path)}: a string of {len(text)} characters (limit "
                          f"{limits.max_json_string_chars}, max_json_string_chars)",
                          "max_json_string_chars")
    if _SURROGATE.search(text):
        raise JSONRefused(f"{path_text(path)}: a lone surrogate escape (\\ud800-\\udfff), which is not text")


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
