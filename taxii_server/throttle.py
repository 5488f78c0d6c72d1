"""Rate limits: token buckets kept in the store, so every worker and every machine shares them (issue #6, T5).

Owns the decisions "may this organisation make another request" and "may this account name or this client
address try another password now", and raises TooManyRequests (429 with Retry-After over HTTP). Must not:
keep any state in process memory, hash passwords (accounts.py asks here *before* it hashes), or know HTTP.

Buckets (one store operation each):
- `org:<id>`      every authenticated request of an organisation, only when `org_requests_per_minute` > 0;
                  otherwise a request with a valid API key costs no store write at all.
- `acct:<name>`   password attempts for one user name, taken before the hash and given back when the password
                  was right; kept for names that do not exist too, so the throttle does not tell which do.
- `addr:<addr>`   failed authentications from one client address: password attempts (taken before the hash,
                  given back on success) and unknown API keys.

A request with a valid API key never consults the account or address buckets, so one organisation's (or an
attacker's) failures from a shared address can never lock another organisation's key out. Missing or
malformed credentials cost nothing and count for nothing: they cannot be guessing anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .errors import TooManyRequests
from .model import Principal
from .settings import LimitsSettings
from .storage.base import ThrottleStore
from .timestamps import now_us

_KEY_CHARS = 200  # a bucket key never grows with what a client sends


class Throttle:
    def __init__(self, store: ThrottleStore, limits: LimitsSettings, *, clock: Callable[[], int] = now_us,
                 purge_every: int = 256) -> None:
        self.store = store
        self.limits = limits
        self.clock = clock
        self.purge_every = purge_every
        self._takes = 0  # when to drop idle buckets; not a limit, so process-local is fine

    @property
    def _on(self) -> bool:
        return self.limits.enabled

    def admit(self, principal: Principal) -> None:
        """An authenticated request of `principal`'s organisation, within its request rate."""
        per_minute = self.limits.org_requests_per_minute
        if self._on and per_minute:
            self._take(f"org:{principal.org_id}", per_minute, self.limits.org_burst,
                       f"organisation {principal.org_id!r} is over its request rate")

    def key_failed(self, address: str | None) -> None:
        """An unknown or revoked API key from `address`: counted; TooManyRequests once the address is over."""
        if self._on and address and self.limits.address_failures_per_minute:
            self._take(_addr(address), self.limits.address_failures_per_minute, self.limits.address_failure_burst,
                       "too many failed authentications from this address")

    def password_attempt(self, username: str, address: str | None) -> None:
        """Before a password is hashed: one attempt for the account name and the address, or TooManyRequests
        (then nothing is hashed)."""
        if not self._on:
            return
        limits = self.limits
        if limits.account_failures_per_minute:
            self._take(_acct(username), limits.account_failures_per_minute, limits.account_failure_burst,
                       "too many password attempts for this user name")
        if address and limits.address_failures_per_minute:
            try:
                self._take(_addr(address), limits.address_failures_per_minute, limits.address_failure_burst,
                           "too many failed authentications from this address")
            except TooManyRequests:
                self._give_back_account(username)
                raise

    def password_succeeded(self, username: str, address: str | None) -> None:
        """The password was right: the attempt taken before the hash was not a failure."""
        if not self._on:
            return
        self._give_back_account(username)
        if address and self.limits.address_failures_per_minute:
            self._give(_addr(address), self.limits.address_failures_per_minute, self.limits.address_failure_burst)

    # -- the buckets ---------------------------------------------------------------------------------------

    def _give_back_account(self, username: str) -> None:
        if self.limits.account_failures_per_minute:
            self._give(_acct(username), self.limits.account_failures_per_minute, self.limits.account_failure_burst)

    def _take(self, key: str, per_minute: int, burst: int, message: str) -> None:
        now = self.clock()
        per_second = per_minute / 60
        granted, tokens = self.store.take_token(key, 1, per_second, burst, now)
        self._takes += 1
        if self._takes % self.purge_every == 0:
            self.store.purge_buckets(now)
        if not granted:
            raise TooManyRequests(f"{message}; retry later", retry_after=math.ceil((1 - tokens) / per_second))

    def _give(self, key: str, per_minute: int, burst: int) -> None:
        self.store.take_token(key, -1, per_minute / 60, burst, self.clock())


def _acct(username: str) -> str:
    return "acct:" + username[:_KEY_CHARS]


def _addr(address: str) -> str:
    return "addr:" + address[:_KEY_CHARS]
