"""Where the web layer finds the services the composition root built for this application."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ..accounts import Accounts
from ..certificates import ClientCertificates
from ..feedexport.service import FeedExports
from ..feeds import Feeds
from ..hub.services import HubServices
from ..sessions import ConsoleSessions

EXTENSION = "taxii_hub"


@dataclass(frozen=True)
class Services:
    feeds: Feeds
    accounts: Accounts
    hub: HubServices
    sessions: ConsoleSessions
    certificates: ClientCertificates
    exports: FeedExports


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION]
    return found
