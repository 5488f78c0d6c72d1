from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxii_server.errors import BadRequest
from taxii_server.model import ObjectFilter
from taxii_server.paging import Place, TokenSigner, filter_from_json, filter_to_json

SIGNER = TokenSigner(b"k" * 32)
HERE = Place("alice", "coll", "objects")
FILTERED = ObjectFilter(added_after_us=1_600_000_000_000_000, types=("indicator",))


def test_a_token_round_trips_its_cursor_and_filters() -> None:
    found = SIGNER.decode(SIGNER.encode(1_700_000_000_123_456, HERE, FILTERED), HERE)
    assert (found.cursor_us, found.filter) == (1_700_000_000_123_456, FILTERED)


@pytest.mark.parametrize(
    "other",
    [Place("bob", "coll", "objects"), Place("alice", "other", "objects"), Place("alice", "coll", "manifest"),
     Place("alice", "coll", "objects", "indicator--00000000-0000-4000-8000-000000000000")],
    ids=["other-caller", "other-collection", "other-endpoint", "other-object"],
)
def test_k4_a_token_is_refused_outside_the_place_it_was_made_for(other: Place) -> None:
    token = SIGNER.encode(42, HERE, FILTERED)
    with pytest.raises(BadRequest):
        SIGNER.decode(token, other)


@pytest.mark.parametrize("token", ["", "abc", "!!!!", "A" * 32, "A" * 80])
def test_k4_a_forged_token_is_refused(token: str) -> None:
    with pytest.raises(BadRequest):
        SIGNER.decode(token, HERE)


def test_a_token_signed_with_another_key_is_refused() -> None:
    with pytest.raises(BadRequest):
        SIGNER.decode(TokenSigner(b"x" * 32).encode(42, HERE, FILTERED), HERE)


def test_next_alone_continues_the_query_of_the_token() -> None:
    token = SIGNER.encode(42, HERE, FILTERED)
    assert SIGNER.resume(token, HERE, ObjectFilter(), filtered=False).filter == FILTERED


def test_next_with_the_same_filters_repeated_continues() -> None:
    token = SIGNER.encode(42, HERE, FILTERED)
    assert SIGNER.resume(token, HERE, FILTERED, filtered=True).cursor_us == 42


def _changed(field: dataclasses.Field[Any]) -> ObjectFilter:
    value = getattr(FILTERED, field.name)
    if isinstance(value, frozenset):
        other: Any = frozenset({"first"}) if value != {"first"} else frozenset({"all"})
    elif isinstance(value, tuple):
        other = (*value, "x") if not value or isinstance(value[0], str) else (*value, 7)
        other = other if value or field.name != "version_instants" else (7,)
    else:
        other = (value or 0) + 1
    return dataclasses.replace(FILTERED, **{field.name: other})


@pytest.mark.parametrize("field", dataclasses.fields(ObjectFilter), ids=lambda f: f.name)
def test_k4_next_with_any_filter_field_changed_is_a_400(field: dataclasses.Field[Any]) -> None:
    """Every field of the filter object is bound, also one added after this test was written."""
    token = SIGNER.encode(42, HERE, FILTERED)
    with pytest.raises(BadRequest, match="differ"):
        SIGNER.resume(token, HERE, _changed(field), filtered=True)


_filters = st.builds(
    ObjectFilter,
    added_after_us=st.none() | st.integers(0, 2**62),
    ids=st.lists(st.text(max_size=60), max_size=5, unique=True).map(tuple),
    types=st.lists(st.text(max_size=20), max_size=5, unique=True).map(tuple),
    version_keywords=st.frozensets(st.sampled_from(["first", "last", "all"])),
    version_instants=st.lists(st.integers(0, 2**62), max_size=5).map(tuple),
    spec_versions=st.lists(st.sampled_from(["2.0", "2.1"]), max_size=2, unique=True).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(_filters)
def test_the_filter_serialisation_round_trips_every_filter(flt: ObjectFilter) -> None:
    assert filter_from_json(filter_to_json(flt)) == flt


LONG = ObjectFilter(ids=tuple(f"indicator--{n:08x}-1111-4111-8111-{n:012x}" for n in range(100)))


def test_a_token_for_a_hundred_ids_is_short_enough_to_repeat_beside_them() -> None:
    assert len(SIGNER.encode(42, HERE, LONG)) < 100


def test_a_long_filter_is_continued_when_repeated() -> None:
    token = SIGNER.encode(42, HERE, LONG)
    assert SIGNER.resume(token, HERE, LONG, filtered=True).filter == LONG


@pytest.mark.parametrize("filtered", [False, True])
def test_a_long_filter_not_repeated_or_changed_is_a_400(filtered: bool) -> None:
    token = SIGNER.encode(42, HERE, LONG)
    with pytest.raises(BadRequest):
        SIGNER.resume(token, HERE, dataclasses.replace(LONG, ids=LONG.ids[1:]), filtered=filtered)
