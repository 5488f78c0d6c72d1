"""Organisations and their credentials: creating them, issuing and revoking API keys, and authenticating.

Authentication answers only "which organisation is this"; what it may do is decided in `access.py`.
Administrative operations take the acting principal first, like every service method; the local operator
of the command line acts as `OPERATOR`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from . import access, credentials, register
from .errors import BadRequest, Conflict, Forbidden, NotAuthenticated, NotFound
from .model import ROLES, Credential, NewKey, Organisation, Principal
from .storage.base import AccountStore
from .throttle import Throttle
from .timestamps import format_us, now_us

ORG_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
OPERATOR = Principal(org_id="hub-operator", group="hub", roles=frozenset({"admin", "analyst"}))


def _now() -> str:
    return format_us(now_us())


# (password, stored hash or None) → whether they match; always one full hash (credentials.verify_password).
PasswordCheck = Callable[[str, str | None], bool]
# An organisation's mail domains before and after a change of the register (correlation re-evaluates the
# sender addresses at the domains that changed).
RegisterHook = Callable[[tuple[str, ...], tuple[str, ...]], None]


def _no_hook(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    return None


class Accounts:
    """`throttle` (rate limits) is consulted before any password is hashed; `address` is the client address the
    web layer resolved for this request (`at`), None elsewhere. `check_password` is injectable for tests that
    count the hashes. `on_register_change` is told of every change of an organisation's mail domains."""

    def __init__(self, store: AccountStore, *, throttle: Throttle | None = None,
                 check_password: PasswordCheck = credentials.verify_password, address: str | None = None,
                 on_register_change: RegisterHook = _no_hook) -> None:
        self.store = store
        self.throttle = throttle
        self.check_password = check_password
        self.address = address
        self.on_register_change = on_register_change

    def at(self, address: str | None) -> Accounts:
        """The same accounts, authenticating a request from `address` (the rate limits count per address)."""
        return Accounts(self.store, throttle=self.throttle, check_password=self.check_password, address=address,
                        on_register_change=self.on_register_change)

    def admit(self, principal: Principal) -> None:
        """An authenticated request, within its organisation's request rate (TooManyRequests otherwise)."""
        if self.throttle is not None:
            self.throttle.admit(principal)

    # -- administration ------------------------------------------------------------------------------------

    def add_organisation(
        self, actor: Principal, org_id: str, name: str, group: str, roles: tuple[str, ...] = ("member",), *,
        aliases: Iterable[str] = (), domains: Iterable[str] = (),
    ) -> Organisation:
        """A new organisation with its register (mail domains and aliases, normalised: see `register`)."""
        self._require_admin(actor)
        if not ORG_ID.match(org_id):
            raise BadRequest(f"organisation id {org_id!r} must be 2–63 lower-case letters, digits or '-'")
        if not name.strip():
            raise BadRequest("organisation name must not be empty")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", group):
            raise BadRequest(f"group {group!r} must be lower-case letters, digits or '-'")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise BadRequest(f"unknown role {unknown[0]!r} (one of {', '.join(ROLES)})")
        org = Organisation(org_id, name.strip(), group, tuple(dict.fromkeys(roles or ("member",))), _now(),
                           register.merge_aliases((), aliases), register.merge_domains((), domains))
        self._refuse_shared_domains(org)
        self.store.add_organisation(org)
        if org.domains:
            self.on_register_change((), org.domains)
        return org

    def change_register(self, actor: Principal, org_id: str, change: register.RegisterChange) -> Organisation:
        """Apply a change to the organisation's mail domains and aliases (administrators only)."""
        self._require_admin(actor)
        org = self.organisation(actor, org_id)
        changed = change.apply(org)
        if changed == org:
            return org
        self._refuse_shared_domains(changed)
        if not self.store.update_organisation(changed):
            raise NotFound(f"no organisation {org_id!r}")
        if changed.domains != org.domains:
            self.on_register_change(org.domains, changed.domains)
        return changed

    def _refuse_shared_domains(self, org: Organisation) -> None:
        """A mail domain belongs to one organisation: the register tells whose envelope a mail is in."""
        for other in self.store.list_organisations():
            if other.id == org.id:
                continue
            clash = register.overlapping_domain(org.domains, other.domains)
            if clash is not None:
                raise Conflict(f"mail domain {clash[0]!r} overlaps {clash[1]!r}, registered to organisation "
                               f"{other.id!r}")

    def organisation(self, actor: Principal, org_id: str) -> Organisation:
        if actor.org_id != org_id:
            self._require_admin(actor)
        org = self.store.get_organisation(org_id)
        if org is None:
            raise NotFound(f"no organisation {org_id!r}")
        return org

    def organisations(self, actor: Principal) -> list[Organisation]:
        self._require_admin(actor)
        return self.store.list_organisations()

    def set_password(self, actor: Principal, org_id: str, password: str) -> None:
        self.organisation(actor, org_id)
        if len(password) < 12:
            raise BadRequest("a password needs at least 12 characters")
        self.store.set_password(org_id, credentials.hash_password(password))

    def create_key(self, actor: Principal, org_id: str, label: str = "") -> NewKey:
        self.organisation(actor, org_id)
        secret = credentials.new_api_key()
        cred = Credential(credentials.new_credential_id(), org_id, label, _now())
        self.store.add_credential(cred, credentials.key_digest(secret))
        return NewKey(cred, secret)

    def keys(self, actor: Principal, org_id: str | None = None) -> list[Credential]:
        if org_id is None:
            self._require_admin(actor)
        else:
            self.organisation(actor, org_id)
        return self.store.list_credentials(org_id)

    def revoke_key(self, actor: Principal, credential_id: str) -> Credential:
        found = [c for c in self.store.list_credentials() if c.id == credential_id]
        if not found or not access.may_manage_credentials_of(actor, found[0].org_id):
            raise NotFound(f"no API key {credential_id!r}")
        if found[0].revoked:
            raise Conflict(f"API key {credential_id!r} was already revoked on {found[0].revoked}")
        when = _now()
        self.store.revoke_credential(credential_id, when)
        return replace(found[0], revoked=when)

    @staticmethod
    def _require_admin(actor: Principal) -> None:
        if not access.may_use(actor, "administration"):
            raise Forbidden(f"organisation {actor.org_id!r} is not an administrator")

    # -- authentication ------------------------------------------------------------------------------------

    def authenticate_key(self, secret: str, org_id: str | None = None) -> Principal:
        """The organisation an API key belongs to. With `org_id` (HTTP Basic's user name), a key of another
        organisation gets exactly the answer of an unknown key: it says nothing about whose key it is."""
        found = self.store.find_credential(credentials.key_digest(secret)) if secret else None
        if found is None or (org_id is not None and found[1].id != org_id):
            if self.throttle is not None:
                self.throttle.key_failed(self.address)  # TooManyRequests once this address fails too often
            raise NotAuthenticated("unknown or revoked API key")
        cred, org = found
        return org.principal(cred.id)

    def authenticate_basic(self, username: str, secret: str) -> Principal:
        """HTTP Basic: the password is an API key of that organisation, or the organisation's password."""
        if credentials.looks_like_api_key(secret):
            return self.authenticate_key(secret, username)
        # Throttled before the hash runs, per user name whether or not it exists (T5, T6, AUTHN-04/05).
        if self.throttle is not None:
            self.throttle.password_attempt(username, self.address)
        org = self.store.get_organisation(username)
        stored = self.store.get_password(username) if org else None
        if not self.check_password(secret, stored) or org is None:
            raise NotAuthenticated("wrong user name or password")
        if self.throttle is not None:
            self.throttle.password_succeeded(username, self.address)
        return org.principal()

    def acting_as(self, org_id: str) -> Principal:
        """The organisation a local operator's command acts as (`--as ORG`); NotFound when there is none."""
        org = self.store.get_organisation(org_id)
        if org is None:
            raise NotFound(f"no organisation {org_id!r}")
        return org.principal()

    def resume(self, org_id: str, credential_id: str | None) -> Principal:
        """The principal behind a web console session, checked again on every request: the organisation must
        still exist and the API key it signed in with (if any) must not have been revoked since."""
        org = self.store.get_organisation(org_id)
        if org is None:
            raise NotAuthenticated("the organisation of this session no longer exists")
        if credential_id is not None and not any(
            c.id == credential_id and not c.revoked for c in self.store.list_credentials(org_id)
        ):
            raise NotAuthenticated("the API key this session signed in with was revoked")
        return org.principal(credential_id)
