"""Guard rail: every public method of the analyst-only hub services that takes a principal refuses a member
with NotFound before doing any work.

The methods are enumerated from the classes, so a new analyst-only method that forgets `require`
fails here. The services are built on tripwires: any use of the store, the feeds, the campaigns or the audit
log before the refusal fails the test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from converters import ConversionOptions
from taxii_server.errors import NotFound
from taxii_server.hub.allowlist import AllowListAdmin
from taxii_server.hub.audit import AuditLog
from taxii_server.hub.campaigns import Campaigns
from taxii_server.hub.intake import Intake
from taxii_server.hub.publishing import Publishing, PublishRequest
from taxii_server.hub.revocation import Revocation
from taxii_server.hub.stats import Stats
from taxii_server.model import Principal
from taxii_server.settings import HubSettings

MEMBER = Principal("kita-heavy", "heavy-industry", frozenset({"member"}))
ANALYST_ONLY_CLASSES: tuple[type, ...] = (Campaigns, Publishing, Revocation, Stats, AllowListAdmin)
ANALYST_ONLY_METHODS = ((AuditLog, "entries"), (Intake, "dismiss"))


class Tripwire:
    """Stands in for a collaborator; touching it at all is work done before the refusal."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"{self._name}.{attribute} was used before the caller was refused")


def _no_options() -> ConversionOptions:
    raise AssertionError("conversion options were read before the caller was refused")


def _built(cls: type) -> Any:
    store, feeds, audit = Tripwire("store"), Tripwire("feeds"), Tripwire("audit")
    built: dict[type, Callable[[], Any]] = {
        Campaigns: lambda: Campaigns(store, Tripwire("correlator"), audit),  # type: ignore[arg-type]
        Publishing: lambda: Publishing(store, feeds, Tripwire("campaigns"), audit,  # type: ignore[arg-type]
                                       _no_options, HubSettings(), Tripwire("leak_check")),
        Revocation: lambda: Revocation(feeds, audit),  # type: ignore[arg-type]
        Stats: lambda: Stats(store),  # type: ignore[arg-type]
        AllowListAdmin: lambda: AllowListAdmin(store, audit),  # type: ignore[arg-type]
        AuditLog: lambda: AuditLog(store),  # type: ignore[arg-type]
        Intake: lambda: Intake(store, ConversionOptions(id_key="k"), audit),  # type: ignore[arg-type]
    }
    return built[cls]()


def _methods() -> list[tuple[type, str]]:
    found = [
        (cls, name) for cls in ANALYST_ONLY_CLASSES
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_") and "principal" in inspect.signature(member).parameters
    ]
    return sorted([*found, *ANALYST_ONLY_METHODS], key=lambda m: (m[0].__name__, m[1]))


VALUES: dict[str, Any] = {
    "principal": MEMBER,
    "candidate_id": "cand-0123456789abcdef",
    "publication_id": "6f0c2a6e-0000-4000-8000-000000000000",
    "submission_id": "6f0c2a6e-0000-4000-8000-000000000001",
    "object_id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
    "request": PublishRequest(name="x", tlp="amber", collections=("member-feed",),
                              candidate_id="cand-0123456789abcdef"),
    "reason": "because",
    "kind": "domain-name",
    "value": "vendor.example",
    "since_us": None,
    "until_us": None,
    "limit": 10,
    "after": None,
    "submission_ids": ["6f0c2a6e-0000-4000-8000-000000000001"],
    "pattern": False,
    "exclusion_id": "excl-0123456789abcdef",
    "side": ["6f0c2a6e-0000-4000-8000-000000000001"],
    "first_id": "cand-0123456789abcdef",
    "second_id": "cand-0123456789abcdee",
}


def test_the_enumeration_finds_the_analyst_operations() -> None:
    names = {f"{cls.__name__}.{name}" for cls, name in _methods()}
    assert names >= {
        "Campaigns.suggest", "Campaigns.get", "Publishing.preview", "Publishing.publish", "Publishing.approve",
        "Publishing.get", "Publishing.publications", "Revocation.revoke", "Stats.compute", "AuditLog.entries",
        "Intake.dismiss", "AllowListAdmin.add", "AllowListAdmin.remove", "AllowListAdmin.entries",
    }


@pytest.mark.parametrize(("cls", "name"), _methods(), ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_every_analyst_operation_refuses_a_member_before_any_work(cls: type, name: str) -> None:
    method = getattr(_built(cls), name)
    params = [p for p in inspect.signature(method).parameters]
    missing = [p for p in params if p not in VALUES]
    assert not missing, f"the guard rail does not know how to call {cls.__name__}.{name} (parameters {missing})"
    with pytest.raises(NotFound):
        method(**{p: VALUES[p] for p in params})


@pytest.mark.parametrize(("cls", "name"), [(Stats, "compute"), (AuditLog, "entries"), (Campaigns, "suggest")],
                         ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_the_tripwires_catch_work_done_for_an_analyst(cls: type, name: str) -> None:
    analyst = Principal("hub-analyst", "hub", frozenset({"analyst"}))
    method = getattr(_built(cls), name)
    with pytest.raises(AssertionError, match="was used before"):
        method(analyst)


@pytest.mark.parametrize("name", ["polls", "summary"])
def test_a_member_asking_for_another_organisations_polls_gets_nothing_before_any_work(name: str) -> None:
    from taxii_server.hub.polls import PollHistory
    from taxii_server.settings import LimitsSettings

    history = PollHistory(Tripwire("store"), Tripwire("catalog"), LimitsSettings())  # type: ignore[arg-type]
    assert getattr(history, name)(MEMBER, "higashi-gas") == []
