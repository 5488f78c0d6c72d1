"""Parsing .eml: Japanese charsets, filenames, attachments, archives, URLs, sender- and recipient-side facts."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest

from converters import EmlError, load_records, parse_eml
from tests.support.conv_support import SAMPLES

EML = SAMPLES / "eml"
RECORDS = SAMPLES / "records"


def mail(headers: str, body: bytes = b"hello\r\n") -> bytes:
    head = "Date: Tue, 01 Oct 2013 14:43:05 +0900\r\nFrom: attacker@freemail.example\r\n" + headers
    return head.encode("ascii") + b"\r\n" + body


def multipart(parts: list[tuple[str, bytes]], headers: str = "To: info@member.example\r\n") -> bytes:
    boundary = "BOUNDARY-1"
    out = [mail(headers + f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n',
                b"")]
    for part_headers, payload in parts:
        out.append(f"--{boundary}\r\n{part_headers}\r\n".encode() + payload + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def attachment_part(name_header: str, data: bytes, content_type: str = "application/octet-stream") -> tuple:
    encoded = base64.encodebytes(data)
    return (f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; {name_header}\r\n", encoded)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------ charsets


def test_iso_2022_jp_headers_and_body_decode_exactly() -> None:
    record = parse_eml((EML / "case04-step3-word.eml").read_bytes(), "case04-step3-word.eml")
    message = record.messages[0]
    assert message.subject == "Re: 製品に関する問い合わせ"
    assert message.from_.display_name == "田中 健一"
    assert message.body == "ご返信ありがとうございます。本研究室の資料を添付いたしますので、ご確認ください。"
    assert record.lang == "ja"


def test_shift_jis_label_is_decoded_as_cp932_exactly() -> None:
    message = parse_eml((EML / "cp932-invoice.eml").read_bytes(), "cp932-invoice.eml").messages[0]
    assert message.subject == "①請求書送付のお知らせ㈱"
    assert message.body == "①添付の請求書をご確認ください。㈱インボイス"


def test_half_width_katakana_and_nec_specials_in_iso_2022_jp() -> None:
    # CP50220-style: half-width katakana via ESC ( I and NEC row 13 (①) inside ISO-2022-JP.
    subject = b"\x1b(I1234\x1b(B \x1b$B-!\x1b(B"
    word = "=?ISO-2022-JP?B?" + base64.b64encode(subject).decode() + "?="
    body = "ｱｲｳｴｵ".encode("iso2022_jp_ext")
    raw = mail(f"Subject: {word}\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n", body)
    message = parse_eml(raw, "kana.eml").messages[0]
    assert message.subject == "ｱｲｳｴ ①"
    assert message.body == "ｱｲｳｴｵ"
    assert any("CP50220" in note for note in message.defects)


def test_utf8_encoded_words_split_inside_a_character_are_joined() -> None:
    data = "添付資料".encode()
    words = " ".join("=?UTF-8?B?" + base64.b64encode(data[i:i + 4]).decode() + "?=" for i in range(0, 12, 4))
    raw = mail(f"Subject: {words}\r\nContent-Type: text/plain; charset=utf-8\r\n", "本文".encode())
    message = parse_eml(raw, "utf8.eml").messages[0]
    assert message.subject == "添付資料"
    assert message.body == "本文"


def test_rfc2231_filename_in_iso_2022_jp_and_encoded_word_filename() -> None:
    jis = "資料".encode("iso2022_jp")
    rfc2231 = "filename*=ISO-2022-JP''" + "".join(f"%{b:02X}" for b in jis) + "%2Ezip"
    encoded_word = 'filename="=?UTF-8?B?' + base64.b64encode("議事録.doc".encode()).decode() + '?="'
    raw = multipart([attachment_part(rfc2231, b"PK\x05\x06" + b"\0" * 18),
                     attachment_part(encoded_word, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)])
    names = [a.name for a in parse_eml(raw, "names.eml").messages[0].attachments]
    assert names == ["資料.zip", "議事録.doc"]


# ------------------------------------------------------------------------------------------- attachments


@pytest.mark.parametrize(
    ("eml", "record", "kind", "magic"),
    [
        ("case04-step3-word.eml", "case04-conversation.json", "word", "D0CF11E0A1B11AE1"),
        ("case04-step5-rar.eml", "case04-conversation.json", "rar", "526172211A070100"),
        ("case04-step9-rar-lhaplus.eml", "case04-conversation.json", "rar", "526172211A0700"),
        ("case07-ichitaro.eml", "case07-repeat-ichitaro.json", "ichitaro", "D0CF11E0A1B11AE1"),
        ("case09-lnk-zip.eml", "case09-lnk-in-zip.json", "zip", "504B0304"),
    ],
)
def test_attachment_hashes_match_the_reported_record_and_type_comes_from_magic(
        eml: str, record: str, kind: str, magic: str) -> None:
    attachment = parse_eml((EML / eml).read_bytes(), eml).messages[0].attachments[0]
    reported = load_records((RECORDS / record).read_bytes(), record)[0]
    known = {a.sha256: a for m in reported.messages for a in m.attachments}
    assert attachment.sha256 in known
    assert (attachment.md5, attachment.sha1, attachment.size) == (
        known[attachment.sha256].md5, known[attachment.sha256].sha1, known[attachment.sha256].size)
    assert (attachment.kind, attachment.magic) == (kind, magic)


def test_zip_members_are_listed_and_hashed_with_their_own_type() -> None:
    attachment = parse_eml((EML / "case09-lnk-zip.eml").read_bytes(), "x.eml").messages[0].attachments[0]
    (member,) = attachment.members
    assert member.name == "会議資料.lnk"
    assert (member.kind, member.magic) == ("lnk", "4C000000")
    assert member.sha256 == "730758caa19c83c24c0f3b90d0856039b3fa5d28c8b9258391f76fb8b81f431a"


def test_password_and_target_archiver_stated_in_the_body_are_recorded() -> None:
    attachment = parse_eml((EML / "case04-step9-rar-lhaplus.eml").read_bytes(), "x").messages[0].attachments[0]
    assert attachment.password == "lab2013"
    assert attachment.opens_with == "Lhaplus"


def test_password_stated_in_the_body_is_recorded_for_a_zip_and_members_hashed() -> None:
    data = zip_bytes({"a.exe": b"MZ" + b"\0" * 64})
    raw = multipart([("Content-Type: text/plain; charset=utf-8\r\n", "パスワードは abc123 です。".encode()),
                     attachment_part('filename="a.zip"', data)])
    attachment = parse_eml(raw, "zip.eml").messages[0].attachments[0]
    assert attachment.password == "abc123"
    assert attachment.members[0].sha256 == hashlib.sha256(b"MZ" + b"\0" * 64).hexdigest()
    assert attachment.members[0].kind == "exe"


def test_urls_come_from_text_and_html_parts() -> None:
    html = (b'<html><body><a href="http://evil.example/login.php?id=1">here</a>'
            b"<p>see https://cdn.evil.example/x.js.</p><script>var u='http://not-text.example/'</script>")
    raw = multipart([("Content-Type: text/plain; charset=utf-8\r\n", "詳細は http://evil.example/a です".encode()),
                     ("Content-Type: text/html; charset=utf-8\r\n", html)])
    message = parse_eml(raw, "urls.eml").messages[0]
    assert message.urls == ("http://evil.example/a", "http://evil.example/login.php?id=1",
                            "https://cdn.evil.example/x.js")
    assert message.role == "attack"


@pytest.mark.parametrize(("sample", "role"), [("case01-recon.eml", "recon"), ("case07-ichitaro.eml", "attack")])
def test_role_follows_from_attachments_and_urls(sample: str, role: str) -> None:
    assert parse_eml((EML / sample).read_bytes(), sample).messages[0].role == role


def test_caller_may_override_the_role() -> None:
    raw = (EML / "case01-recon.eml").read_bytes()
    assert parse_eml(raw, "x.eml", role="reply").messages[0].role == "reply"
    with pytest.raises(EmlError, match="role"):
        parse_eml(raw, "x.eml", role="spam")


# ------------------------------------------------------------------------------------- sender / recipient


def test_sender_side_facts_are_kept_and_originating_ip_comes_from_received() -> None:
    message = parse_eml((EML / "case04-step3-word.eml").read_bytes(), "x.eml").messages[0]
    assert message.from_.address == "k.tanaka.lab2013@freemail.example"
    assert message.message_id == "<20131001144305.7B21E0@freemail.example>"
    assert message.headers["X-Mailer"] == "Microsoft Outlook 14.0"
    assert message.headers["X-Originating-IP"] == "[192.0.2.77]"


def test_recipient_side_facts_are_kept_in_the_record() -> None:
    raw = mail("To: Taro <taro@member.example>\r\nCc: hanako@member.example\r\n"
               "Delivered-To: taro@member.example\r\n"
               "Received: from mx.member.example by mail.member.example; Tue, 01 Oct 2013 14:44:00 +0900\r\n"
               "Received: from [192.0.2.9] by mx.freemail.example; Tue, 01 Oct 2013 14:43:05 +0900\r\n"
               "Content-Type: text/plain\r\n")
    message = parse_eml(raw, "x.eml").messages[0]
    assert [a.address for a in message.to] == ["taro@member.example"]
    assert [a.address for a in message.cc] == ["hanako@member.example"]
    assert message.headers["Delivered-To"] == "taro@member.example"
    assert len(message.received) == 2
    assert message.headers["X-Originating-IP"] == "[192.0.2.9]"


def test_the_record_from_a_mail_is_valid_incident_record_json() -> None:
    from converters import record_to_dict

    record = parse_eml((EML / "case09-lnk-zip.eml").read_bytes(), "x.eml")
    assert load_records(json.dumps(record_to_dict(record)).encode(), "again.json")[0].id == record.id


@pytest.mark.parametrize(
    ("from_header", "sender"),
    [("From: a@x.example, b@y.example", None),
     ("From: <>", None),
     ("From: undisclosed-sender", None),
     ("From: alice@example.org)<bob@example.org>", "bob@example.org"),
     ('From: "Bank, Customer Service" <info@bank.example>', "info@bank.example"),
     ("From: Bank, <info@bank.example>", "info@bank.example"),
     ('From: "service@paypal.com" <x@phish.example>', "x@phish.example")],
    ids=["two-senders", "empty-angle", "no-address", "address-confusion", "comma-in-quotes", "comma-bare",
         "quoted-addr-spec"],
)
def test_any_from_a_client_displays_yields_a_sender_or_none_with_a_note(from_header: str, sender: str | None) -> None:
    raw = f"Date: Tue, 01 Oct 2013 14:43:05 +0900\r\n{from_header}\r\nContent-Type: text/plain\r\n\r\nx".encode()
    message = parse_eml(raw, "odd.eml").messages[0]
    assert (message.from_.address if message.from_ else None) == sender
    if sender is None:
        assert any(note.startswith("From:") for note in message.defects)


def test_unreadable_date_without_received_is_a_clear_error() -> None:
    raw = b"From: a@x.example\r\nDate: not a date\r\nContent-Type: text/plain\r\n\r\nx"
    with pytest.raises(EmlError) as caught:
        parse_eml(raw, "odd.eml")
    assert caught.value.field == "Date"
    assert str(caught.value).startswith("odd.eml: Date: ")
