"""Where the web layer finds the services the composition root built for this application."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from converters import JsonLimits

from ..accounts import Accounts
from ..certificates import ClientCertificates
from ..feedexport.service import FeedExports
from ..feeds import Feeds
from ..hub.services import HubServices
from ..sessions import ConsoleSessions
from ..settings import LimitsSettings

EXTENSION = "taxii_hub"


@dataclass(frozen=True)
class Services:
    feeds: Feeds
    accounts: Accounts
    hub: HubServices
    sessions: ConsoleSessions
    certificates: ClientCertificates
    exports: FeedExports
    limits: LimitsSettings
    json: JsonLimits  # the budgets of every JSON body ([limits] max_json_*)


def services() -> Services:
    found: Services = current_app.extensions[EXTENSION]
    return found


def json_limits() -> JsonLimits:
    return services().json
