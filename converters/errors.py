"""The converter error tree.

Every failure a caller can see derives from `ConversionError` and renders as one line that names the
source file and the field at fault, so the CLI and the hub can show it as is. Nothing here knows about HTTP
or exit codes.
"""

from __future__ import annotations


class ConversionError(Exception):
    """A record, mail or bundle could not be converted.

    `source` is the file name the caller gave, `field` points at the offending part (a JSON path, a header
    name, a limit name) and `message` says what is wrong. `str()` is one line: ``source: field: message``.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        super().__init__(self._line())

    def _line(self) -> str:
        text = f"{self.source}: {self.field}: {self.message}"
        # One line, always: the message may quote hostile input (a header with a newline in it).
        return text.replace("\r", "\\r").replace("\n", "\\n")

    def __str__(self) -> str:
        return self._line()


class RecordError(ConversionError):
    """An incident record is not valid `incident-record/1`.

    `record_id` is the record's own `id` (or ``record #N`` when the id itself is missing or broken) and `path`
    the JSON path inside the record, e.g. ``messages[2].attachments[0].sha256``.
    """

    def __init__(self, source: str, record_id: str, path: str, message: str) -> None:
        self.record_id = record_id
        self.path = path
        field = f"{record_id}: {path}" if path else record_id
        super().__init__(source, field, message)


class RecordLimitExceeded(RecordError):
    """A record (or a file of records) exceeds a budget of `RecordLimits`; `limit` names it. Checked before
    schema validation, so the refusal is fast and never quotes the content."""

    def __init__(self, source: str, record_id: str, path: str, message: str, limit: str) -> None:
        self.limit = limit
        super().__init__(source, record_id, path, message)


class EmlError(ConversionError):
    """A mail could not be parsed, or was refused because it exceeded a limit (see `EmlLimits`)."""


class EmlLimitExceeded(EmlError):
    """A hostile-input limit was exceeded; `limit` names it: an `EmlLimits` field, or `max_header_nesting`
    when the standard library's address parser hit Python's recursion bound."""

    def __init__(self, source: str, limit: str, message: str) -> None:
        self.limit = limit
        super().__init__(source, limit, message)


class PatternError(ConversionError):
    """A STIX pattern built from record values failed validation (a bug or a value we cannot express)."""
