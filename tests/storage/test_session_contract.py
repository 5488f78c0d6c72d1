"""The console-session part of the storage contract (SessionStore), run on every backend like the rest, and the
session service's timeouts on top of it."""

from __future__ import annotations

from taxii_server.model import ConsoleSession, Principal
from taxii_server.sessions import ConsoleSessions
from taxii_server.storage.base import Store

T0 = 1_700_000_000_000_000
ALICE = Principal("alice", "heavy-industry", frozenset({"member"}), "cred-1")


def session(sid: str, seen_us: int) -> ConsoleSession:
    return ConsoleSession(sid, "alice", None, "csrf", "ja", T0, seen_us)


def test_sessions_are_saved_replaced_and_deleted(store: Store) -> None:
    store.save_session(session("s1", T0))
    store.save_session(session("s1", T0 + 5))
    assert store.get_session("s1") == session("s1", T0 + 5)
    store.delete_session("s1")
    assert store.get_session("s1") is None


def test_purging_removes_only_sessions_seen_before_the_instant(store: Store) -> None:
    store.save_session(session("old", T0))
    store.save_session(session("new", T0 + 10))
    assert store.purge_sessions(T0 + 10) == 1
    assert store.get_session("old") is None and store.get_session("new") is not None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def test_the_store_keeps_only_a_digest_of_the_cookie_secret(store: Store) -> None:
    secret, opened = ConsoleSessions(store, clock=Clock()).open(ALICE, "en")
    assert opened.id != secret and store.get_session(secret) is None and store.get_session(opened.id) == opened


def test_a_session_ends_after_idling_and_lives_while_used(store: Store) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store, idle_timeout_s=600, clock=clock)
    secret, _ = sessions.open(ALICE, "ja")
    for _ in range(3):
        clock.now += 500 * 1_000_000
        assert sessions.resume(secret) is not None
    clock.now += 601 * 1_000_000
    assert sessions.resume(secret) is None


def test_a_session_ends_at_the_absolute_limit_even_when_used(store: Store) -> None:
    clock = Clock()
    sessions = ConsoleSessions(store, idle_timeout_s=600, absolute_timeout_s=1000, clock=clock)
    secret, _ = sessions.open(ALICE, "ja")
    clock.now += 500 * 1_000_000
    assert sessions.resume(secret) is not None
    clock.now += 501 * 1_000_000
    assert sessions.resume(secret) is None


def test_an_unknown_language_falls_back_to_japanese(store: Store) -> None:
    _, opened = ConsoleSessions(store, clock=Clock()).open(ALICE, "fr")
    assert opened.lang == "ja"
