"""Secrets: API keys (random, stored only as SHA-256) and passwords (scrypt).

API keys carry 256 bits from `secrets`, so a fast hash is enough to store them and checking one costs
microseconds. Passwords are low-entropy and get scrypt; an unknown account is checked against a dummy hash so
the time taken does not reveal which organisations exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

KEY_PREFIX = "thk_"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def new_api_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_credential_id() -> str:
    return "key-" + secrets.token_hex(8)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def looks_like_api_key(secret: str) -> bool:
    return secret.startswith(KEY_PREFIX) and 40 <= len(secret) <= 64


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=64 * 1024 * 1024
    )
    enc = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${enc(salt).decode()}${enc(digest).decode()}"


_DUMMY = hash_password("no such account", salt=b"\0" * 16)


def verify_password(password: str, stored: str | None) -> bool:
    """Constant-work check; `stored` None (unknown account or no password) still costs one scrypt."""
    try:
        _, n, r, p, salt, digest = (stored or _DUMMY).split("$")
        computed = hashlib.scrypt(
            password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            maxmem=64 * 1024 * 1024,
        )
    except ValueError:
        return False
    return stored is not None and hmac.compare_digest(computed, base64.b64decode(digest))
