"""Driving the console in-process (Flask's test client) for the page tests: signing in as a demo organisation,
reading a page's CSRF token, posting forms with it. The console's cookies are `Secure`, so every request
goes to https://localhost."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from tests.support.hubflow import DemoHub

BASE = "https://localhost"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def token(page: Any) -> str:
    found = _CSRF.search(page.get_data(as_text=True))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class Console:
    def __init__(self, hub: DemoHub) -> None:
        self.hub = hub
        self.client: FlaskClient = hub.app.test_client()

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(BASE + path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf", token(self.get("/console/keys" if self.signed_in else "/console/login")))
        return self.client.post(BASE + path, data=form, **kwargs)

    @property
    def signed_in(self) -> bool:
        return self.client.get_cookie("__Host-taxii-hub-console", domain="localhost") is not None

    def sign_in(self, org: str) -> Console:
        reply = self.post("/console/login", {"org_id": org, "secret": self.hub.keys[org]})
        assert reply.status_code == 303, reply.get_data(as_text=True)
        return self


def signed_in(hub: DemoHub, org: str) -> Console:
    return Console(hub).sign_in(org)
