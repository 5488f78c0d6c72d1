from __future__ import annotations

from pathlib import Path

import pytest

from taxii_server import credentials
from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.errors import BadRequest, Conflict, Forbidden, NotAuthenticated, NotFound
from taxii_server.model import Principal
from taxii_server.storage.sqlite import SQLiteStore

MEMBER = Principal("kita", "heavy-industry", frozenset({"member"}))


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    store = SQLiteStore(tmp_path / "a.sqlite3")
    store.initialise()
    made = Accounts(store)
    made.add_organisation(OPERATOR, "kita", "Kita", "heavy-industry")
    made.add_organisation(OPERATOR, "desk", "Desk", "hub", ("analyst",))
    return made


def test_api_keys_are_256_bit_random_and_stored_only_as_sha256(accounts: Accounts) -> None:
    new = accounts.create_key(OPERATOR, "kita", "siem")
    assert new.secret.startswith("thk_") and len(new.secret) >= 43 + 4
    assert accounts.store.find_credential(credentials.key_digest(new.secret)) is not None
    assert accounts.authenticate_key(new.secret) == Principal("kita", "heavy-industry", frozenset({"member"}),
                                                              new.credential.id)


def test_a_key_works_as_basic_password_only_for_its_own_organisation(accounts: Accounts) -> None:
    secret = accounts.create_key(OPERATOR, "kita").secret
    assert accounts.authenticate_basic("kita", secret).org_id == "kita"
    with pytest.raises(NotAuthenticated):
        accounts.authenticate_basic("desk", secret)


def test_a_revoked_key_is_refused(accounts: Accounts) -> None:
    new = accounts.create_key(OPERATOR, "kita")
    accounts.revoke_key(OPERATOR, new.credential.id)
    with pytest.raises(NotAuthenticated):
        accounts.authenticate_key(new.secret)
    with pytest.raises(Conflict):
        accounts.revoke_key(OPERATOR, new.credential.id)


def test_passwords_use_scrypt_and_wrong_ones_fail(accounts: Accounts) -> None:
    accounts.set_password(OPERATOR, "kita", "correct horse battery")
    assert accounts.store.get_password("kita", ).startswith("scrypt$")  # type: ignore[union-attr]
    assert accounts.authenticate_basic("kita", "correct horse battery").org_id == "kita"
    for user, password in (("kita", "wrong password!"), ("nobody", "correct horse battery")):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate_basic(user, password)


def test_unknown_accounts_cost_a_password_check_too() -> None:
    assert not credentials.verify_password("anything", None)


def test_short_passwords_and_bad_ids_are_refused(accounts: Accounts) -> None:
    with pytest.raises(BadRequest):
        accounts.set_password(OPERATOR, "kita", "short")
    with pytest.raises(BadRequest):
        accounts.add_organisation(OPERATOR, "Bad Id", "x", "gas")
    with pytest.raises(BadRequest):
        accounts.add_organisation(OPERATOR, "ok-id", "x", "gas", ("root",))


def test_members_cannot_administer(accounts: Accounts) -> None:
    with pytest.raises(Forbidden):
        accounts.add_organisation(MEMBER, "new-org", "New", "gas")
    with pytest.raises(Forbidden):
        accounts.organisation(MEMBER, "desk")
    with pytest.raises(NotFound):
        accounts.revoke_key(MEMBER, accounts.create_key(OPERATOR, "desk").credential.id)
