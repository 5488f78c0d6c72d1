"""The workflow's services, as the composition root hands them to HTTP and the command line."""

from __future__ import annotations

from dataclasses import dataclass

from .allowlist import AllowListAdmin
from .audit import AuditLog
from .campaigns import Campaigns
from .intake import Intake
from .polls import PollHistory
from .publishing import Publishing
from .revocation import Revocation
from .stats import Stats


@dataclass(frozen=True)
class HubServices:
    intake: Intake
    campaigns: Campaigns
    publishing: Publishing
    revocation: Revocation
    stats: Stats
    audit: AuditLog
    polls: PollHistory
    allowlist: AllowListAdmin
