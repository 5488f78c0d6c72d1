"""The client address a request is counted under by the rate limits (T12).

The peer address of the connection, except when the hub is configured to sit behind a proxy on the same
machine ([limits] client_address_header, e.g. nginx's X-Real-IP): then that header, but only if the request
really came from a loopback address or a unix socket (where only the local proxy can connect). A header
from anyone else is ignored, so a client cannot choose the address its failures are counted under.
"""

from __future__ import annotations

import ipaddress

from flask import Request, current_app

ADDRESS_HEADER = "TAXII_HUB_CLIENT_ADDRESS_HEADER"  # app.config key, set by the composition root
_MAX_CHARS = 64


def client_address(request: Request) -> str | None:
    peer = request.remote_addr or ""
    header = current_app.config.get(ADDRESS_HEADER, "")
    if header and _is_local(peer):
        forwarded = request.headers.get(header, "").strip()
        if forwarded:
            return forwarded[:_MAX_CHARS]
    return peer or None


def _is_local(peer: str) -> bool:
    if not peer or peer.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
