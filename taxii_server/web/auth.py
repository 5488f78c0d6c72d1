"""Who is calling: HTTP Basic (API key or password as the password) or `Authorization: Bearer <API key>`.

This module only identifies; it decides nothing. The Principal it yields is handed explicitly to the
services; it is never stored in a thread-local below the web layer.
"""

from __future__ import annotations

import base64
import binascii

from flask import Request

from ..accounts import Accounts
from ..errors import NotAuthenticated
from ..model import Principal


def authenticate(request: Request, accounts: Accounts) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "bearer" and value:
        return accounts.authenticate_key(value)
    if scheme == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise NotAuthenticated("malformed Basic credentials") from exc
        username, sep, password = decoded.partition(":")
        if not sep or not username:
            raise NotAuthenticated("malformed Basic credentials")
        return accounts.authenticate_basic(username, password)
    raise NotAuthenticated("authentication required: HTTP Basic (organisation id and API key) or Bearer API key")
