"""Hostile mail (security.md §2.3): each input is refused with a named limit or handled, in well under a second."""

from __future__ import annotations

import base64
import io
import json
import struct
import time
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from converters import EmlError, EmlLimitExceeded, EmlLimits, bundle_bytes, parse_eml, record_to_bundle
from tests.support.conv_support import OPTIONS, objects_of

HEAD = b"Date: Tue, 01 Oct 2013 14:43:05 +0900\r\nFrom: attacker@freemail.example\r\nTo: info@member.example\r\n"


@contextmanager
def under_a_second() -> Iterator[None]:
    started = time.perf_counter()
    yield
    assert time.perf_counter() - started < 1.0


def with_attachment(name: str, data: bytes) -> bytes:
    return (HEAD + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
            b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="' + name.encode() + b'"\r\n\r\n'
            + base64.encodebytes(data) + b"--b--\r\n")


def test_mime_depth_bomb_is_refused_by_name() -> None:
    depth = 1000
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    raw = HEAD + b"MIME-Version: 1.0\r\n" + opening + b"Content-Type: text/plain\r\n\r\nx\r\n"
    with under_a_second(), pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "depth.eml")
    assert caught.value.limit == "max_mime_depth"
    assert str(caught.value).startswith("depth.eml: max_mime_depth: ")


def test_moderate_nesting_beyond_the_depth_limit_is_refused_while_walking() -> None:
    depth = 40
    opening = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
                       for i in range(depth))
    raw = HEAD + b"MIME-Version: 1.0\r\n" + opening + b"Content-Type: text/plain\r\n\r\nx\r\n"
    with pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "depth.eml", limits=EmlLimits(max_mime_depth=30))
    assert caught.value.limit == "max_mime_depth"


def test_forty_thousand_encoded_words_in_a_subject_are_refused_before_decoding() -> None:
    subject = b" ".join([b"=?UTF-8?B?5rK/?="] * 40_000)
    raw = HEAD + b"Subject: " + subject + b"\r\nContent-Type: text/plain\r\n\r\nx"
    with under_a_second(), pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "subject.eml")
    assert caught.value.limit in ("max_header_block_bytes", "max_header_bytes")


def test_many_encoded_words_within_the_size_cap_are_refused_by_count() -> None:
    subject = b" ".join([b"=?UTF-8?Q?a?="] * 2_000)
    raw = HEAD + b"Subject: " + subject + b"\r\nContent-Type: text/plain\r\n\r\nx"
    with under_a_second(), pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "words.eml")
    assert caught.value.limit == "max_encoded_words"


def test_deeply_nested_address_comments_are_refused_not_a_recursion_crash() -> None:
    raw = HEAD.replace(b"To: info@member.example", b"To: " + b"(" * 20_000 + b")" * 20_000 + b" b@y.example")
    with under_a_second(), pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw + b"Content-Type: text/plain\r\n\r\nx", "comments.eml")
    assert caught.value.limit == "max_header_nesting"


def test_too_many_flat_parts_are_refused() -> None:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5_000))
    raw = HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n"
    with under_a_second(), pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "parts.eml")
    assert caught.value.limit == "max_parts"


def test_oversized_mail_is_refused_before_parsing() -> None:
    raw = HEAD + b"Content-Type: text/plain\r\n\r\n" + b"x" * 2048
    with pytest.raises(EmlLimitExceeded) as caught:
        parse_eml(raw, "big.eml", limits=EmlLimits(max_raw_bytes=1024))
    assert caught.value.limit == "max_raw_bytes"


def test_high_ratio_zip_keeps_the_outer_hashes_and_lists_no_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (50 * 1024 * 1024))
    with under_a_second():
        message = parse_eml(with_attachment("bomb.zip", buffer.getvalue()), "bomb.eml").messages[0]
    (attachment,) = message.attachments
    assert attachment.sha256 and attachment.members == ()
    assert any(note.startswith("max_archive_ratio") for note in message.defects)


def _overlapping_zip(entries: int, size: int) -> bytes:
    """Many central-directory entries pointing at one compressed blob (the 'overlap' zip bomb)."""
    data = b"\0" * size
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    compressed = packed.compress(data) + packed.flush()
    crc = zlib.crc32(data)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(compressed), size, 5, 0)
    body = local + b"a.bin" + compressed
    central = b"".join(
        struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(compressed), size,
                    len(f"{i}.bin"), 0, 0, 0, 0, 0, 0) + f"{i}.bin".encode()
        for i in range(entries))
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, entries, entries, len(central), len(body), 0)
    return body + central + end


def test_overlapping_entry_zip_bomb_is_caught_by_the_declared_size_budget() -> None:
    bomb = _overlapping_zip(entries=600, size=1024 * 1024)
    with under_a_second():
        message = parse_eml(with_attachment("overlap.zip", bomb), "overlap.eml").messages[0]
    assert message.attachments[0].members == ()
    assert any(note.startswith("max_archive_bytes") for note in message.defects)


def test_too_many_archive_entries_are_not_listed() -> None:
    bomb = _overlapping_zip(entries=20, size=10)
    message = parse_eml(with_attachment("many.zip", bomb), "many.eml",
                        limits=EmlLimits(max_archive_entries=10)).messages[0]
    assert any(note.startswith("max_archive_entries") for note in message.defects)


def test_traversal_names_stay_data_and_nothing_is_written(tmp_path: object) -> None:
    names = ["../../etc/cron.d/evil", "/abs/path", "C:\\windows\\x.exe", "invoice\u202egpj.exe"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"MZ" + name.encode())
    raw = with_attachment("..%2F..%2Fetc%2Fevil.zip", buffer.getvalue())
    message = parse_eml(raw, "traversal.eml").messages[0]
    members = message.attachments[0].members
    assert [m.name for m in members] == ["../../etc/cron.d/evil", "/abs/path", "C:\\windows\\x.exe",
                                         "invoice\u202egpj.exe"]
    bundle = record_to_bundle(parse_eml(raw, "traversal.eml"), OPTIONS)
    assert "invoice\u202egpj.exe" in {f["name"] for f in objects_of(bundle, "file")}


def test_header_injection_stays_data_and_never_becomes_a_header() -> None:
    raw = HEAD + b"Subject: hi=?UTF-8?Q?=0ABcc:_evil@example.com?=\r\nContent-Type: text/plain\r\n\r\nx"
    record = parse_eml(raw, "inject.eml")
    assert record.messages[0].subject == "hi\nBcc: evil@example.com"
    assert "Bcc" not in record.messages[0].headers
    (email,) = objects_of(record_to_bundle(record, OPTIONS), "email-message")
    assert email["subject"] == "hi\nBcc: evil@example.com"
    assert "Bcc" not in email.get("additional_header_fields", {})
    assert b"\nBcc:" not in bundle_bytes(record_to_bundle(record, OPTIONS))


def test_malformed_base64_is_handled_and_still_hashed() -> None:
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
           b'Content-Disposition: attachment; filename="x.bin"\r\n\r\nTVq!!!QAAA=A=\r\n===\r\n--b--\r\n')
    with under_a_second():
        record = parse_eml(raw, "b64.eml")
    (attachment,) = record.messages[0].attachments
    assert len(attachment.sha256 or "") == 64
    assert json.loads(bundle_bytes(record_to_bundle(record, OPTIONS)))["type"] == "bundle"


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe\x00garbage", b"From: \r\n\r\n", b"\r\n\r\n\r\n"],
                         ids=["empty", "binary", "empty-from", "blank"])
def test_garbage_is_a_clear_error_not_a_crash(raw: bytes) -> None:
    with pytest.raises(EmlError) as caught:
        parse_eml(raw, "junk.eml")
    assert str(caught.value).startswith("junk.eml: ")
