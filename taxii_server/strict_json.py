"""Reading untrusted JSON over HTTP: the converters' one strict reader (`converters.strict_json`), with its
refusals as BadRequest (or PayloadTooLarge when a size budget was exceeded).
"""

from __future__ import annotations

from typing import Any

from converters.strict_json import (
    DEFAULT_JSON_LIMITS,
    MAX_SAFE_INT,
    NO_CAPS,
    Caps,
    JsonLimits,
    JSONRefused,
    depth_exceeds,
)
from converters.strict_json import loads as _loads

from .errors import BadRequest, PayloadTooLarge

__all__ = ["DEFAULT_JSON_LIMITS", "MAX_SAFE_INT", "NO_CAPS", "Caps", "JsonLimits", "depth_exceeds", "loads"]
MAX_DEPTH = DEFAULT_JSON_LIMITS.max_depth


def loads(data: bytes, limits: JsonLimits = DEFAULT_JSON_LIMITS, caps: Caps = NO_CAPS) -> Any:
    """The document, or BadRequest; PayloadTooLarge when a size budget (generic or of `caps`) was exceeded."""
    try:
        return _loads(data, limits, caps)
    except JSONRefused as exc:
        error = PayloadTooLarge if exc.limit and exc.limit != "max_depth" else BadRequest
        raise error(exc.message.replace("the JSON text", "the JSON body").replace("the text", "the body")) from exc
