"""The domain error tree.

Errors say what went wrong in the hub's own words; they carry no HTTP status codes. The one table that maps
them to HTTP lives in `web/errors.py`; the command line prints their message as one line.
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class BadRequest(HubError):
    """The request is malformed: bad query parameters, unreadable body, forged pagination token."""


class Unprocessable(HubError):
    """The request is well-formed but its content cannot be processed (e.g. an envelope without objects)."""


class NotAuthenticated(HubError):
    """No credentials, or credentials that do not identify an organisation."""


class Forbidden(HubError):
    """The caller may see the resource but not do this with it."""


class NotFound(HubError):
    """The resource does not exist, or the caller may not know that it exists."""


class NotAcceptable(HubError):
    """No media type the caller accepts can be produced."""


class UnsupportedMediaType(HubError):
    """The request body's media type is not one this endpoint takes."""


class PayloadTooLarge(HubError):
    """The request body is larger than the API root's max_content_length."""


class Conflict(HubError):
    """The request conflicts with the hub's state (e.g. an organisation id that already exists)."""


class StorageUnavailable(HubError):
    """The database cannot be reached or is busy; the caller may retry."""

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyRequests(HubError):
    """The caller (an organisation, an address or an account name) is over its rate limit; it may retry after
    `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class StorageFull(StorageUnavailable):
    """The database has no room left (disk full or its size limit reached); nothing of the request was stored."""


class ConfigError(HubError):
    """The configuration or a collection definition is invalid."""
