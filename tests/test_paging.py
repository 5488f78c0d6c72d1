from __future__ import annotations

import pytest

from taxii_server.errors import BadRequest
from taxii_server.model import ObjectFilter
from taxii_server.paging import TokenSigner

SIGNER = TokenSigner(b"k" * 32)
BIND = TokenSigner.binding("alice", "coll", "objects", ObjectFilter())


def test_a_token_round_trips_its_cursor() -> None:
    assert SIGNER.decode(SIGNER.encode(1_700_000_000_123_456, BIND), BIND) == 1_700_000_000_123_456


@pytest.mark.parametrize(
    "other",
    [
        TokenSigner.binding("bob", "coll", "objects", ObjectFilter()),
        TokenSigner.binding("alice", "other", "objects", ObjectFilter()),
        TokenSigner.binding("alice", "coll", "manifest", ObjectFilter()),
        TokenSigner.binding("alice", "coll", "objects", ObjectFilter(types=("indicator",))),
    ],
    ids=["other-caller", "other-collection", "other-endpoint", "other-filters"],
)
def test_k4_a_token_is_refused_outside_the_request_it_was_made_for(other: bytes) -> None:
    token = SIGNER.encode(42, BIND)
    with pytest.raises(BadRequest):
        SIGNER.decode(token, other)


@pytest.mark.parametrize("token", ["", "abc", "!!!!", "A" * 32])
def test_k4_a_forged_token_is_refused(token: str) -> None:
    with pytest.raises(BadRequest):
        SIGNER.decode(token, BIND)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BadRequest):
        SIGNER.decode(TokenSigner(b"x" * 32).encode(42, BIND), BIND)
