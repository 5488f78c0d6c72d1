"""Running stix2-validator (strict) on a bundle, as one list of one-line messages.

Not on the conversion hot path (about 2 ms per object): for `taxii-hub validate`, CI and tests. The
validator is imported on first use, so importing `converters` stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def stix_validator_messages(bundle: Mapping[str, Any]) -> list[str]:
    """Errors and warnings from stix2-validator in strict mode (warnings are errors there), one line each.

    Options: `--strict --strict-properties --enforce-refs` for STIX 2.1, without `--strict-types`, which
    flags every 2.1 SCO (stix-mapping §3.2, finding 21).
    """
    from stix2validator import ValidationOptions, validate_instance
    from stix2validator.errors import ValidationError

    options = ValidationOptions(version="2.1", strict=True, strict_properties=True, enforce_refs=True)
    try:
        results = validate_instance(dict(bundle), options)
    except ValidationError as exc:
        return [" ".join(str(exc).split())]
    except (TypeError, AttributeError, KeyError, ValueError) as exc:
        # The validator assumes a well-formed bundle; a malformed one is a finding, not a crash.
        return [f"malformed bundle ({type(exc).__name__}: {exc})"]
    messages = [str(item) for item in (*results.errors, *results.warnings)]
    return [" ".join(message.split()) for message in messages]
