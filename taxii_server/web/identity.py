"""The one identification path of every API blueprint (TAXII and the hub API): who is calling (auth.py, from
the client certificate or the Authorization header), seen from which client address, and whether the
organisation is within its request rate. The principal is kept in `g` for the views of this request only.
"""

from __future__ import annotations

from flask import g, request

from ..model import Principal
from .auth import authenticate
from .client import client_address
from .services import services


def identify() -> Principal:
    accounts = services().accounts.at(client_address(request))
    principal = authenticate(request, accounts, services().certificates)
    accounts.admit(principal)  # the organisation's request rate (429 + Retry-After when over)
    g.principal = principal
    return principal
