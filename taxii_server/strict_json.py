"""Reading untrusted JSON as I-JSON (RFC 7493): UTF-8 only, no duplicate member names, no NaN or Infinity,
integers within ±(2^53−1), bounded nesting. Every failure is a BadRequest that says where and why.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .errors import BadRequest

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 64


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadRequest(f"the JSON body has a duplicate member name {key!r}")
            seen.add(key)
    return obj


def _int(text: str) -> int:
    if len(text) > 17 or abs(int(text)) > MAX_SAFE_INT:
        raise BadRequest(f"the JSON body has an integer outside ±(2^53−1): {text[:40]}")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BadRequest(f"the JSON body has a number too large to represent: {text[:40]}")
    return value


def _constant(name: str) -> Any:
    raise BadRequest(f"the JSON body uses {name}, which JSON does not allow")


def loads(data: bytes) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(
            text, object_pairs_hook=_pairs, parse_int=_int, parse_float=_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from exc
    except RecursionError as exc:
        raise BadRequest(f"the JSON body is nested more than {MAX_DEPTH} levels deep") from exc
    if depth_exceeds(value, MAX_DEPTH):
        raise BadRequest(f"the JSON body is nested more than {MAX_DEPTH} levels deep")
    return value


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether nesting exceeds `limit`, checked without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
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
