"""Reading untrusted JSON over HTTP: the converters' one strict reader (`converters.strict_json`), with its
refusals as BadRequest (or PayloadTooLarge when a size budget was exceeded).
"""

from __future__ import annotations

from typing import Any

from converters.strict_json import DEFAULT_JSON_LIMITS, MAX_SAFE_INT, JsonLimits, JSONRefused, depth_exceeds
from converters.strict_json import loads as _loads

from .errors import BadRequest, PayloadTooLarge

__all__ = ["DEFAULT_JSON_LIMITS", "MAX_SAFE_INT", "JsonLimits", "depth_exceeds", "loads"]
MAX_DEPTH = DEFAULT_JSON_LIMITS.max_depth
_SIZE_LIMITS = ("max_json_string_chars", "max_json_array_items", "max_json_object_members")


def loads(data: bytes, limits: JsonLimits = DEFAULT_JSON_LIMITS) -> Any:
    try:
        return _loads(data, limits)
    except JSONRefused as exc:
        error = PayloadTooLarge if exc.limit in _SIZE_LIMITS else BadRequest
        raise error(exc.message.replace("the JSON text", "the JSON body").replace("the text", "the body")) from exc
