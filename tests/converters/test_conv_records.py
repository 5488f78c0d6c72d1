"""Loading incident-record/1: one record, a list, JSON Lines; errors name the record and the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from converters import RecordError, load_records, record_to_dict
from tests.support.conv_support import SAMPLES

CASE04 = (SAMPLES / "records" / "case04-conversation.json").read_bytes()


def _case04() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CASE04)
    return loaded


def _error(document: Any) -> RecordError:
    with pytest.raises(RecordError) as caught:
        load_records(json.dumps(document).encode(), "reports.json")
    return caught.value


def test_one_record_a_list_and_json_lines_all_load() -> None:
    one = _case04()
    two = {**one, "id": "KITA-2013-0043"}
    assert [r.id for r in load_records(json.dumps(one).encode(), "a.json")] == ["KITA-2013-0042"]
    as_list = json.dumps([one, two]).encode()
    assert [r.id for r in load_records(as_list, "a.json")] == ["KITA-2013-0042", "KITA-2013-0043"]
    lines = (json.dumps(one) + "\n\n" + json.dumps(two) + "\n").encode()
    assert [r.id for r in load_records(lines, "a.jsonl")] == ["KITA-2013-0042", "KITA-2013-0043"]


def test_error_names_record_id_and_json_path_of_a_bad_hash() -> None:
    document = _case04()
    document["messages"][2]["attachments"][0]["sha256"] = "xyz"
    error = _error(document)
    assert str(error) == ("reports.json: KITA-2013-0042: messages[2].attachments[0].sha256: "
                          "'xyz' is not a SHA-256 hex digest")
    assert error.record_id == "KITA-2013-0042"
    assert error.path == "messages[2].attachments[0].sha256"


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d.pop("reported_at"), "", "'reported_at' is a required property"),
        (lambda d: d.update(tlp="white"), "tlp", "'white' is not one of clear"),
        (lambda d: d["messages"][0].update(sent_at="yesterday"), "messages[0].sent_at", "not a valid date-time"),
        (lambda d: d["messages"][0].update(role="spam"), "messages[0].role", "'spam' is not one of"),
        (lambda d: d["messages"][2]["attachments"][0]["c2"][0].update(ipv4="999.1.1.1"),
         "messages[2].attachments[0].c2[0].ipv4", "not a valid ipv4"),
        (lambda d: d["messages"][4]["attachments"][0]["members"][0].update(md5="ABC"),
         "messages[4].attachments[0].members[0].md5", "is not an MD5 hex digest"),
        (lambda d: d["messages"][2]["attachments"][0].update(surprise=1), "messages[2].attachments[0]",
         "unknown field(s) ('surprise' was unexpected)"),
        (lambda d: [d["messages"][2]["attachments"][0].pop(k) for k in ("md5", "sha1", "sha256")],
         "messages[2].attachments[0]", "needs at least one of: sha256, sha1, md5"),
    ],
    ids=["missing", "enum", "date-time", "role", "ipv4", "member-md5", "extra-field", "no-hash"],
)
def test_schema_errors_are_one_line_and_name_the_field(mutate: Any, path: str, fragment: str) -> None:
    document = _case04()
    mutate(document)
    error = _error(document)
    assert error.path == path
    assert fragment in error.message
    assert "\n" not in str(error)
    assert str(error).startswith("reports.json: KITA-2013-0042: ")


def test_a_record_without_a_usable_id_is_named_by_its_position() -> None:
    document = _case04()
    document["id"] = 42
    error = _error([_case04(), document])
    assert error.record_id == "record #2"
    assert error.path == "id"


def test_broken_json_names_the_line() -> None:
    with pytest.raises(RecordError) as caught:
        load_records(b'{"format": "incident-record/1",\n "id": }', "x.json")
    assert str(caught.value).startswith("x.json: (file): line 2: invalid JSON")


def test_broken_json_line_names_its_line_number() -> None:
    data = CASE04.replace(b"\n", b"") + b"\n{broken\n"
    with pytest.raises(RecordError) as caught:
        load_records(data, "x.jsonl")
    assert caught.value.record_id == "line 2"


def test_not_utf8_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="not UTF-8"):
        load_records(b'{"id": "\xff"}', "x.json")


def test_record_to_dict_round_trips_a_sample() -> None:
    record = load_records(CASE04, "a.json")[0]
    again = load_records(json.dumps(record_to_dict(record)).encode(), "b.json")[0]
    assert again == record


def test_the_packaged_schema_is_loaded_from_the_package() -> None:
    from importlib import resources

    text = resources.files("converters").joinpath("schema/incident-record.schema.json").read_text("utf-8")
    assert json.loads(text)["$id"] == "https://hub.example/schemas/incident-record-1.json"
