"""The organisation register: mail domains and aliases (their normal forms and how a change applies), the
organisation's identity id, and the administration through Accounts."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from converters.ids import KeyedIds
from taxii_server.accounts import OPERATOR, Accounts
from taxii_server.errors import BadRequest, Conflict, Forbidden
from taxii_server.hostnames import covers, display_domain, domain_and_parents, normalise_domain
from taxii_server.model import Organisation, Principal
from taxii_server.register import RegisterChange, merge_aliases, normalise_alias
from taxii_server.storage.sqlite import SQLiteStore

MEMBER = Principal("kita-heavy", "heavy-industry", frozenset({"member"}))
ANALYST = Principal("desk", "hub", frozenset({"analyst"}))


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("Kita-Heavy.Example", "kita-heavy.example"),
        ("kita-heavy.example.", "kita-heavy.example"),
        ("  mail.kita-heavy.example ", "mail.kita-heavy.example"),
        ("北重工.example", "xn--djr64w755b.example"),
        ("ＫＩＴＡ.example", "kita.example"),  # full-width letters map to ASCII (UTS #46)
    ],
)
def test_a_mail_domain_is_stored_lower_case_as_a_labels(written: str, stored: str) -> None:
    assert normalise_domain(written) == stored


@pytest.mark.parametrize(
    ("written", "why"),
    [("", "empty"), ("example", "two labels"), ("bad_name.example", "not a valid domain"), ("a..example", "valid"),
     ("192.0.2.1", "IP address"), ("a b.example", "not a valid"), (".".join(["a" * 60] * 5), "too long")],
)
def test_a_malformed_mail_domain_is_refused_with_the_reason(written: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        normalise_domain(written)


def test_a_stored_domain_reads_back_in_unicode_for_people() -> None:
    assert display_domain("xn--djr64w755b.example") == "北重工.example"
    assert display_domain("kita-heavy.example") == "kita-heavy.example"


def test_a_domain_covers_itself_and_its_subdomains_only() -> None:
    assert covers("kita-heavy.example", "mail.kita-heavy.example")
    assert covers("kita-heavy.example", "kita-heavy.example")
    assert not covers("kita-heavy.example", "notkita-heavy.example")
    assert domain_and_parents("a.b.example") == ["a.b.example", "b.example", "example"]


def test_aliases_are_tidied_and_unique_ignoring_case() -> None:
    assert normalise_alias("  Kita   Heavy ") == "Kita Heavy"
    assert merge_aliases(("KitaHeavy",), ["kitaheavy", "北重工", "北重工"]) == ("KitaHeavy", "北重工")


@pytest.mark.parametrize("alias", ["", "   ", "a" * 129, "Kita\x00Heavy", "Kita\u200bHeavy"])
def test_an_unusable_alias_is_refused(alias: str) -> None:
    with pytest.raises(BadRequest):
        normalise_alias(alias)


def test_a_change_applies_clear_then_remove_then_add() -> None:
    org = Organisation("kita-heavy", "Kita", "heavy-industry", ("member",), "t",
                       aliases=("Kita", "KitaHeavy"), domains=("kita-heavy.example", "kita.example"))
    changed = RegisterChange(add_domains=("KITA-HQ.example",), remove_domains=("kita.example",),
                             add_aliases=("北重工",), remove_aliases=("kitaheavy",)).apply(org)
    assert changed.domains == ("kita-heavy.example", "kita-hq.example")
    assert changed.aliases == ("Kita", "北重工")
    cleared = RegisterChange(clear_domains=True, add_domains=("new.example",), clear_aliases=True).apply(org)
    assert (cleared.domains, cleared.aliases) == (("new.example",), ())


def test_removing_what_is_not_registered_is_refused() -> None:
    org = Organisation("kita-heavy", "Kita", "heavy-industry", ("member",), "t", domains=("kita-heavy.example",))
    with pytest.raises(BadRequest, match=r"no mail domain 'other\.example'"):
        RegisterChange(remove_domains=("other.example",)).apply(org)
    with pytest.raises(BadRequest, match="no alias"):
        RegisterChange(remove_aliases=("Kita",)).apply(org)


def test_the_identity_id_is_a_stable_uuid5_of_the_organisation_id() -> None:
    org = Organisation("kita-heavy", "Kita", "heavy-industry", ("member",), "t")
    again = Organisation("kita-heavy", "Renamed", "gas", ("member",), "later", domains=("x.example",))
    other = Organisation("higashi-gas", "Higashi", "gas", ("member",), "t")
    assert org.identity_id == again.identity_id != other.identity_id
    # pinned: a change here would give every organisation another identity
    assert org.identity_id == "identity--b468c6b0-e676-50b5-b5ba-f526937e0f56"


def test_an_organisation_identity_never_equals_a_hub_identity() -> None:
    """The hub's identities are keyed UUIDv4 values: another version, so the two can never coincide."""
    hub = KeyedIds("any key").sdo_id("identity", {"hub": "kita-heavy"})
    org = Organisation("kita-heavy", "Kita", "heavy-industry", ("member",), "t")
    assert uuid.UUID(hub.removeprefix("identity--")).version == 4
    assert hub != org.identity_id


@pytest.fixture
def accounts(tmp_path: Path) -> Accounts:
    store = SQLiteStore(tmp_path / "a.sqlite3")
    store.initialise()
    made = Accounts(store)
    made.add_organisation(OPERATOR, "kita-heavy", "Kita", "heavy-industry", domains=["Kita-Heavy.example"],
                          aliases=["KitaHeavy"])
    made.add_organisation(OPERATOR, "desk", "Desk", "hub", ("analyst",))
    return made


def test_an_organisation_is_added_with_its_register_normalised(accounts: Accounts) -> None:
    org = accounts.organisation(OPERATOR, "kita-heavy")
    assert (org.domains, org.aliases) == (("kita-heavy.example",), ("KitaHeavy",))


def test_only_administrators_change_a_register(accounts: Accounts) -> None:
    change = RegisterChange(add_domains=("kita.example",))
    for actor in (MEMBER, ANALYST):
        with pytest.raises(Forbidden):
            accounts.change_register(actor, "kita-heavy", change)
    assert accounts.change_register(OPERATOR, "kita-heavy", change).domains == ("kita-heavy.example",
                                                                               "kita.example")
    assert accounts.organisation(OPERATOR, "kita-heavy").domains == ("kita-heavy.example", "kita.example")


@pytest.mark.parametrize("domain", ["kita-heavy.example", "mail.kita-heavy.example", "example"])
def test_a_mail_domain_belongs_to_one_organisation(accounts: Accounts, domain: str) -> None:
    with pytest.raises((Conflict, BadRequest)):
        accounts.change_register(OPERATOR, "desk", RegisterChange(add_domains=(domain,)))
    with pytest.raises((Conflict, BadRequest)):
        accounts.add_organisation(OPERATOR, "other", "Other", "gas", domains=[domain])


def test_an_overlap_names_the_organisation_that_holds_the_domain(accounts: Accounts) -> None:
    with pytest.raises(Conflict, match="registered to organisation 'kita-heavy'"):
        accounts.change_register(OPERATOR, "desk", RegisterChange(add_domains=("hq.kita-heavy.example",)))
