"""Storage backends. The only module that names concrete backends: it picks one from the storage URL."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Store


def open_store(url: str) -> Store:
    """A store for a URL: `sqlite:///relative/or/absolute/path.sqlite3` (or `mongodb://…` once available)."""
    if url.startswith("sqlite://"):
        from .sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    raise ConfigError(f"storage.url: unsupported storage URL {url!r} (expected sqlite:///PATH)")


__all__ = ["Store", "open_store"]
