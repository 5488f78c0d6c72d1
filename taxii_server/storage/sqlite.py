"""The embedded SQLite backend: the default for a hub on one machine.

The store is composed of one mixin per concern, like the MongoDB backend: the connection and error
translation (sqlite_connection.py), the schema, its upgrades and `meta` (sqlite_schema.py), object versions
(sqlite_objects.py), organisations and credentials (sqlite_accounts.py), the allow-list
(sqlite_allowlist.py), the hub's records (sqlite_records.py), client certificates (sqlite_certificates.py),
rate limits and poll history (sqlite_limits.py), bulk transfer (sqlite_transfer.py), the feeds'
content versions (sqlite_feed_state.py) and the correlation index, queue and candidates (sqlite_correlation.py).
"""

from __future__ import annotations

from pathlib import Path

from .sqlite_accounts import SQLiteAccounts
from .sqlite_allowlist import SQLiteAllowList
from .sqlite_certificates import SQLiteCertificates
from .sqlite_correlation import SQLiteCorrelation
from .sqlite_feed_state import SQLiteFeedState
from .sqlite_limits import SQLiteLimits
from .sqlite_objects import SQLiteObjects
from .sqlite_records import SQLiteRecords
from .sqlite_schema import SQLiteMigrations
from .sqlite_transfer import SQLiteTransfer


class SQLiteStore(
    SQLiteMigrations,
    SQLiteObjects,
    SQLiteAccounts,
    SQLiteAllowList,
    SQLiteRecords,
    SQLiteCertificates,
    SQLiteLimits,
    SQLiteTransfer,
    SQLiteFeedState,
    SQLiteCorrelation,
):
    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        return cls(Path(url.removeprefix("sqlite://").removeprefix("/")) if url.startswith("sqlite:///") else Path(url))
