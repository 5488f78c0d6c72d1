"""A MongoDB client for tests that fails on demand: mongomock underneath, a switch on top.

Injected through MongoStore's client factory (never by patching the store), it makes every collection
operation raise the driver exception a real replica set would (no reachable server, not primary, a timeout)
while `switch.error` is set, and behaves normally again once it is cleared, as a database that comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mongomock


@dataclass
class Switch:
    error: Exception | None = None
    calls: int = 0
    # per (collection, method): a callable run before the real method; it may raise or act first
    before: dict[tuple[str, str], Callable[[], None]] = field(default_factory=dict)


class FaultyCollection:
    def __init__(self, real: Any, switch: Switch) -> None:
        self._real = real
        self._switch = switch

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._switch.calls += 1
            if self._switch.error is not None:
                raise self._switch.error
            hook = self._switch.before.pop((self._real.name, name), None)
            if hook is not None:
                hook()
            return attr(*args, **kwargs)

        return call


class FaultyDatabase:
    def __init__(self, real: Any, switch: Switch) -> None:
        self._real = real
        self._switch = switch
        self.client = real.client

    def __getitem__(self, name: str) -> FaultyCollection:
        return FaultyCollection(self._real[name], self._switch)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._switch.error is not None:
                raise self._switch.error
            return attr(*args, **kwargs)

        return call


class FaultyClient:
    def __init__(self, switch: Switch, real: Any | None = None) -> None:
        self._real = real if real is not None else mongomock.MongoClient()
        self._switch = switch

    def get_database(self, name: str, **options: Any) -> FaultyDatabase:
        return FaultyDatabase(self._real.get_database(name, **options), self._switch)

    def close(self) -> None:
        self._real.close()
