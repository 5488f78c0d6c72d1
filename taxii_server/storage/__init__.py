"""Storage backends. The only module that names concrete backends: it picks one from the storage URL."""

from __future__ import annotations

from ..errors import ConfigError
from .base import Store


def open_store(url: str) -> Store:
    """A store for a URL: `sqlite:///relative/or/absolute/path.sqlite3`, or
    `mongodb://host1,host2,host3/DATABASE?replicaSet=rs0` (also `mongodb+srv://`). Nothing connects yet."""
    if url.startswith("sqlite://"):
        from .sqlite import SQLiteStore

        return SQLiteStore.from_url(url)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        try:
            from .mongo import MongoStore
        except ImportError as exc:  # the optional dependency: pip install 'taxii-hub[mongo]'
            raise ConfigError(f"storage.url: MongoDB needs pymongo (install taxii-hub[mongo]): {exc}") from exc
        return MongoStore.from_url(url)
    raise ConfigError(
        f"storage.url: unsupported storage URL {url!r} (expected sqlite:///PATH or mongodb://HOSTS/DATABASE)"
    )


__all__ = ["Store", "open_store"]
