"""Rate limits (throttle.py): token buckets in the store with an injected clock, shared between processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server.errors import ConfigError, TooManyRequests
from taxii_server.model import Principal
from taxii_server.settings import LimitsSettings, load_settings
from taxii_server.storage.sqlite import SQLiteStore
from taxii_server.throttle import Throttle

T0 = 1_700_000_000_000_000
ALICE = Principal("alice", "g", frozenset({"member"}), "key-1")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    made = SQLiteStore(tmp_path / "hub.sqlite3")
    made.initialise()
    return made


def throttle(store: SQLiteStore, clock: Clock, **limits: object) -> Throttle:
    return Throttle(store, LimitsSettings(**limits), clock=clock)  # type: ignore[arg-type]


def test_an_organisation_gets_its_burst_then_429_with_the_seconds_until_the_next_token(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), org_requests_per_minute=30, org_burst=3)
    for _ in range(3):
        t.admit(ALICE)
    with pytest.raises(TooManyRequests) as refused:
        t.admit(ALICE)
    assert refused.value.retry_after == 2  # 30 a minute: one token every 2 s


def test_the_bucket_refills_with_time(store: SQLiteStore) -> None:
    clock = Clock()
    t = throttle(store, clock, org_requests_per_minute=60, org_burst=1)
    t.admit(ALICE)
    with pytest.raises(TooManyRequests):
        t.admit(ALICE)
    clock.advance(1)
    t.admit(ALICE)


def test_without_an_organisation_rate_a_request_writes_nothing(tmp_path: Path) -> None:
    class NoWrites:
        def take_token(self, *args: object) -> tuple[bool, float]:
            raise AssertionError("a store write for a request with a valid key")

        def purge_buckets(self, now_us: int) -> int:
            raise AssertionError("unexpected")

    Throttle(NoWrites(), LimitsSettings()).admit(ALICE)


def test_disabled_limits_never_refuse(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), enabled=False, org_requests_per_minute=1, org_burst=1)
    for _ in range(20):
        t.admit(ALICE)
        t.password_attempt("alice", "192.0.2.1")


def test_two_workers_on_one_database_share_the_bucket(tmp_path: Path) -> None:
    clock = Clock()
    worker_1, worker_2 = SQLiteStore(tmp_path / "hub.sqlite3"), SQLiteStore(tmp_path / "hub.sqlite3")
    worker_1.initialise()
    limits = {"org_requests_per_minute": 6, "org_burst": 4}
    t1, t2 = throttle(worker_1, clock, **limits), throttle(worker_2, clock, **limits)
    for t in (t1, t2, t1, t2):
        t.admit(ALICE)
    for t in (t1, t2):
        with pytest.raises(TooManyRequests):
            t.admit(ALICE)


def test_password_attempts_are_counted_per_account_name_whether_it_exists_or_not(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), account_failures_per_minute=6, account_failure_burst=2)
    for name in ("alice", "no-such-org"):
        t.password_attempt(name, "192.0.2.1")
        t.password_attempt(name, "192.0.2.2")
        with pytest.raises(TooManyRequests) as refused:
            t.password_attempt(name, "192.0.2.3")
        assert refused.value.retry_after == 10


def test_a_right_password_gives_its_attempt_back(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), account_failures_per_minute=1, account_failure_burst=1)
    for _ in range(5):
        t.password_attempt("alice", "192.0.2.1")
        t.password_succeeded("alice", "192.0.2.1")


def test_an_address_over_its_failures_is_refused_for_every_account_name(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), address_failures_per_minute=1, address_failure_burst=2)
    t.password_attempt("a", "192.0.2.1")
    t.key_failed("192.0.2.1")
    with pytest.raises(TooManyRequests):
        t.password_attempt("b", "192.0.2.1")
    t.password_attempt("b", "192.0.2.9")  # another address is not affected


def test_refused_by_its_address_an_attempt_does_not_use_up_the_account(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), address_failures_per_minute=1, address_failure_burst=1,
                 account_failures_per_minute=1, account_failure_burst=2)
    t.password_attempt("alice", "192.0.2.1")
    with pytest.raises(TooManyRequests):
        t.password_attempt("alice", "192.0.2.1")
    t.password_attempt("alice", "192.0.2.2")  # the account still had its second attempt


def test_unknown_keys_are_counted_per_address(store: SQLiteStore) -> None:
    t = throttle(store, Clock(), address_failures_per_minute=1, address_failure_burst=3)
    for _ in range(3):
        t.key_failed("192.0.2.1")
    with pytest.raises(TooManyRequests):
        t.key_failed("192.0.2.1")


def test_limits_can_be_turned_off_from_the_environment_for_benchmarks() -> None:
    assert load_settings(env={"TAXII_HUB_LIMITS__ENABLED": "false"}).limits.enabled is False


@pytest.mark.parametrize("table", ["[limits]\norg_burst = 0\n", "[limits]\naccount_failures_per_minute = -1\n",
                                   "[limits]\nper_second = 5\n"], ids=["zero-burst", "negative-rate", "unknown-key"])
def test_bad_limits_fail_loudly(tmp_path: Path, table: str) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(table)
    with pytest.raises(ConfigError, match="limits"):
        load_settings(config, env={})
