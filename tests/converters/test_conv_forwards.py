"""Reports wrapped by the reporter: forwarded as attachment, .eml/.msg attached, forwarded inline, Outlook .msg.

The attacker's sender, subject, URLs and attachment hashes come out; nothing of the reporter's envelope is an
indicator or appears in the bundle, and the envelope is part of the facts the leak check protects.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from converters import bundle_bytes, formats, parse_eml, record_to_bundle, sensitive_values
from converters.record import Record
from tests.support.conv_support import OPTIONS, strict_validation
from tests.support.mailmaker import (
    ATTACKER,
    GMAIL,
    JA_TRANSFER,
    OUTLOOK_EN,
    OUTLOOK_JA,
    PAYLOAD,
    SOC,
    SOC_NAME,
    THUNDERBIRD,
    attacker_mail,
    inline_forward,
    report,
    with_eml_attachment,
)

# A real Outlook file from the open-source msg-extractor project's examples, kept beside the checkout as test
# data only (its repository is GPL-3.0; see shared/samples/msg/SOURCE.txt). Never copied into the package.
_ROOT = Path(__file__).resolve().parents[2]
SHARED_MSG = next(
    (p for p in (_ROOT.parent / "shared", _ROOT.parent.parent / "shared") if (p / "samples" / "msg").is_dir()),
    _ROOT.parent / "shared",
) / "samples" / "msg" / "strangeDate.msg"


def indicators(record: Record) -> list[str]:
    bundle = record_to_bundle(record, OPTIONS)
    return [o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"]


def assert_attack_data_and_no_envelope(record: Record) -> None:
    patterns = " ".join(indicators(record))
    assert f"'{ATTACKER}'" in patterns
    assert hashlib.sha256(PAYLOAD).hexdigest() in patterns
    assert "evil-docs.example/dl?id=7" in patterns
    bundle = record_to_bundle(record, OPTIONS)
    text = bundle_bytes(bundle).decode()
    for reporter_fact in (SOC, SOC_NAME, "内線1234", "report@hub.example"):
        assert reporter_fact not in text
    assert strict_validation(bundle) == []
    protected = sensitive_values(record)
    assert SOC in protected and SOC_NAME in protected


def test_forwarded_as_attachment_yields_the_attackers_mail_not_the_reporters() -> None:
    record = parse_eml(report(attacker_mail()).as_bytes(), "report.eml")
    (message,) = record.messages
    assert message.from_ is not None and message.from_.address == ATTACKER
    assert message.subject == "研究資料の送付"
    assert message.body is not None and "転送" not in message.body
    assert_attack_data_and_no_envelope(record)


def test_forward_of_a_forward_unwraps_to_the_innermost_mail() -> None:
    record = parse_eml(report(report(attacker_mail())).as_bytes(), "report.eml")
    (message,) = record.messages
    assert message.from_ is not None and message.from_.address == ATTACKER
    assert_attack_data_and_no_envelope(record)


def test_an_attached_eml_file_is_unwrapped_too() -> None:
    record = parse_eml(with_eml_attachment(attacker_mail().as_bytes()).as_bytes(), "report.eml")
    assert [m.subject for m in record.messages] == ["研究資料の送付"]
    assert_attack_data_and_no_envelope(record)


def test_several_wrapped_mails_become_one_thread_in_time_order() -> None:
    later = attacker_mail(date="Wed, 02 Oct 2013 09:00:00 +0900", subject="再送", message_id="<atk2@freemail.example>")
    earlier = attacker_mail()
    record = parse_eml(report(later, earlier).as_bytes(), "report.eml")
    assert [m.subject for m in record.messages] == ["研究資料の送付", "再送"]
    assert record.messages[0].sent_at < record.messages[1].sent_at


@pytest.mark.parametrize(
    ("body", "subject", "sender", "url"),
    [
        (OUTLOOK_JA, "転送: 研究資料の送付", ATTACKER, "https://evil-docs.example/dl?id=7"),
        (OUTLOOK_EN, "FW: Invoice overdue", "billing@invoice-pay.example", "https://invoice-pay.example/pay"),
        (GMAIL, "Fwd: Invoice overdue", "billing@invoice-pay.example", "https://invoice-pay.example/pay"),
        (THUNDERBIRD, "Fwd: Invoice overdue", "billing@invoice-pay.example", "https://invoice-pay.example/pay"),
        (JA_TRANSFER, "Fw: 研究資料の送付", ATTACKER, "https://evil-docs.example/dl?id=7"),
    ],
    ids=["outlook-ja", "outlook-en", "gmail", "thunderbird", "ja-transfer"],
)
def test_inline_forwards_are_reconstructed_with_lower_confidence_and_no_hashes(
    body: str, subject: str, sender: str, url: str
) -> None:
    record = parse_eml(inline_forward(body, subject=subject).as_bytes(), "inline.eml")
    (message,) = record.messages
    assert message.from_ is not None and message.from_.address == sender
    assert message.urls == (url,)
    assert message.attachments == ()
    assert message.body is not None and "1234" not in message.body
    bundle = record_to_bundle(record, OPTIONS)
    sender_indicator = next(o for o in bundle["objects"] if o["type"] == "indicator" and sender in o["pattern"])
    assert sender_indicator["confidence"] < 85
    assert "reconstructed" in sender_indicator["description"]
    assert "1234" not in bundle_bytes(bundle).decode()
    assert strict_validation(bundle) == []


def test_inline_forward_dates_are_read_in_the_clients_forms() -> None:
    ja = parse_eml(inline_forward(OUTLOOK_JA, subject="転送: x").as_bytes(), "a.eml").messages[0]
    en = parse_eml(inline_forward(OUTLOOK_EN, subject="FW: x").as_bytes(), "b.eml").messages[0]
    assert ja.sent_at.isoformat() == "2013-10-01T05:43:00+00:00"  # 14:43 JST
    assert en.sent_at.isoformat() == "2013-10-01T14:43:00+00:00"


def test_a_reply_quoting_an_original_message_is_not_taken_for_a_forward() -> None:
    reply = inline_forward(OUTLOOK_JA, subject="Re: 研究資料の送付", sender=f"Yamada <{ATTACKER}>")
    (message,) = parse_eml(reply.as_bytes(), "reply.eml").messages
    assert message.from_ is not None and message.from_.address == ATTACKER
    assert message.subject == "Re: 研究資料の送付"


@pytest.fixture
def outlook_file() -> bytes:
    if not SHARED_MSG.is_file():
        pytest.skip("the shared sample tree (shared/samples/msg) is not beside this checkout")
    return SHARED_MSG.read_bytes()


def test_an_outlook_msg_is_recognised_and_read(outlook_file: bytes) -> None:
    fmt = formats.detect(outlook_file, "strangeDate.msg")
    assert fmt.name == "msg"
    assert formats.detect(outlook_file, "upload.bin").name == "msg"  # by magic, whatever the name
    (record,) = formats.read_report(outlook_file, "strangeDate.msg")
    (message,) = record.messages
    assert message.subject == "MSG Test File"
    assert message.sent_at.isoformat() == "2016-02-23T14:57:50+00:00"
    assert message.body is not None and message.body.startswith("MSG test file")
    assert message.from_ is None  # a saved draft: no sender, converted without one and a note
    assert strict_validation(record_to_bundle(record, OPTIONS)) == []


def test_an_outlook_msg_attached_to_a_report_is_unwrapped(outlook_file: bytes) -> None:
    mail = report()
    mail.add_attachment(outlook_file, maintype="application", subtype="vnd.ms-outlook", filename="suspicious.msg")
    (message,) = parse_eml(mail.as_bytes(), "report.eml").messages
    assert message.subject == "MSG Test File"
    assert SOC in " ".join(str(v) for v in message.headers.values())  # the envelope, as member facts only


MSG_FILES = Path(__file__).resolve().parents[1] / "data" / "msg"  # see SOURCE.md there (Apache-2.0 test files)


def test_a_message_embedded_in_an_outlook_message_is_unwrapped() -> None:
    (record,) = formats.read_report((MSG_FILES / "msgInMsg.msg").read_bytes(), "msgInMsg.msg")
    (message,) = record.messages
    assert message.subject == "Microsoft Outlook テスト メッセージ"
    assert message.from_ is not None and message.from_.address == "xmailuser@xmailserver.test"
    assert "Resent-Date" in message.headers  # the outer item is the envelope, kept as member facts only


def test_outlook_attachments_are_files_and_inline_images_context() -> None:
    (record,) = formats.read_report((MSG_FILES / "attachAndInline.msg").read_bytes(), "attachAndInline.msg")
    (message,) = record.messages
    assert [a.name for a in message.attachments] == ["attach.png"]
    assert any("inline image" in note for note in message.defects)
    assert strict_validation(record_to_bundle(record, OPTIONS)) == []


def test_non_unicode_outlook_strings_are_read_in_their_code_page() -> None:
    (record,) = formats.read_report((MSG_FILES / "nonUnicodeCP932.msg").read_bytes(), "nonUnicodeCP932.msg")
    assert record.messages[0].subject == "日本語 Non Unicode タイトル"


def test_a_broken_msg_is_a_one_line_error() -> None:
    from converters import ConversionError

    with pytest.raises(ConversionError) as caught:
        formats.read_report(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600, "broken.msg")
    assert str(caught.value).startswith("broken.msg: ")
    assert "\n" not in str(caught.value)
