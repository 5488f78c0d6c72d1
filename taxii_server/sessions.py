"""Web console sessions: opening one after a successful sign-in, finding it again from the cookie's secret,
ending it on sign-out or after idling, and its CSRF token and language.

The secret travels only in the cookie; the store keeps its SHA-256 as the session id, so a copy of the store
lets nobody resume a session. State lives in the store, never in process memory, so every gunicorn worker
and every machine on a shared store sees the same sessions. Must not: know HTTP or cookies (web/console does),
or decide what a signed-in organisation may do (the services decide, with the principal this yields).
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Callable

from .model import ConsoleSession, Principal
from .storage.base import SessionStore
from .timestamps import now_us

IDLE_TIMEOUT_S = 30 * 60
ABSOLUTE_TIMEOUT_S = 12 * 3600
# A session's last-seen time is written at most this often, so reading pages is not a write per request.
TOUCH_EVERY_S = 60
LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ConsoleSessions:
    def __init__(
        self,
        store: SessionStore,
        idle_timeout_s: int = IDLE_TIMEOUT_S,
        absolute_timeout_s: int = ABSOLUTE_TIMEOUT_S,
        clock: Callable[[], int] = now_us,
    ) -> None:
        self.store = store
        self.idle_us = idle_timeout_s * 1_000_000
        self.absolute_us = absolute_timeout_s * 1_000_000
        self.clock = clock

    def open(self, principal: Principal, lang: str) -> tuple[str, ConsoleSession]:
        """A new session for an authenticated principal: the cookie's secret and the stored session."""
        now = self.clock()
        self.store.purge_sessions(now - self.idle_us)  # the sign-in is rare enough to tidy up at
        secret = secrets.token_urlsafe(32)
        session = ConsoleSession(
            id=_digest(secret), org_id=principal.org_id, credential_id=principal.credential_id,
            csrf=secrets.token_urlsafe(32), lang=lang if lang in LANGUAGES else DEFAULT_LANGUAGE,
            created_us=now, seen_us=now,
        )
        self.store.save_session(session)
        return secret, session

    def resume(self, secret: str) -> ConsoleSession | None:
        """The live session for a cookie's secret, its last-seen time refreshed; None once it idled out,
        outlived the absolute limit, or was ended."""
        if not secret or len(secret) > 128:
            return None
        found = self.store.get_session(_digest(secret))
        if found is None:
            return None
        now = self.clock()
        if now - found.seen_us > self.idle_us or now - found.created_us > self.absolute_us:
            self.store.delete_session(found.id)
            return None
        if now - found.seen_us >= TOUCH_EVERY_S * 1_000_000:
            found = dataclasses.replace(found, seen_us=now)
            self.store.save_session(found)
        return found

    def set_language(self, session: ConsoleSession, lang: str) -> ConsoleSession:
        changed = dataclasses.replace(session, lang=lang if lang in LANGUAGES else session.lang)
        self.store.save_session(changed)
        return changed

    def close(self, session: ConsoleSession) -> None:
        self.store.delete_session(session.id)
