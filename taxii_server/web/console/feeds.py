"""The "feeds for firewalls and MISP" page: every feed URL the signed-in organisation may fetch, with set-up
notes for PAN-OS External Dynamic Lists, FortiGate external threat feeds and a MISP feed subscription.

The URLs come from the same service as /hub/v1/feeds/ (FeedExports.listing): absolute under `[server]
public_url`, else paths, never derived from the request's Host. Nothing here decides access.
"""

from __future__ import annotations

from flask import render_template

from ..services import services
from . import guard
from .blueprint import bp


@bp.get("/feeds")
def feeds() -> str:
    caller = guard.principal()
    listing = services().exports.listing(caller)
    return render_template("console/feeds.html", listing=listing, org_id=caller.org_id,
                           absolute=bool(services().feeds.base_url))
