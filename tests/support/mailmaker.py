"""Mails for the converter tests, assembled with the standard `email` package (nothing here is real mail).

Reserved names only (`*.example`, `member.example` for the reporting member) and documentation addresses.
"""

from __future__ import annotations

from email.message import EmailMessage

ATTACKER = "t.yamada.lab@freemail.example"
VICTIM = "hanako@member.example"
SOC = "soc@member.example"
SOC_NAME = "SOC Suzuki Ichiro"
PAYLOAD = b"MZ" + b"\0" * 120


def attacker_mail(
    *,
    date: str = "Tue, 01 Oct 2013 14:43:05 +0900",
    subject: str = "研究資料の送付",
    message_id: str = "<atk1@freemail.example>",
    url: str = "https://evil-docs.example/dl?id=7",
    payload: bytes = PAYLOAD,
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"Yamada Taro <{ATTACKER}>"
    mail["To"] = f"Hanako <{VICTIM}>"
    mail["Subject"] = subject
    mail["Date"] = date
    mail["Message-ID"] = message_id
    mail["Received"] = f"from [198.51.100.23] (helo=pc) by mx.freemail.example; {date}"
    mail.set_content(f"資料はこちら {url} です")
    mail.add_alternative(f'<p>資料は<a href="{url}">こちら</a></p>', subtype="html")
    mail.add_attachment(payload, maintype="application", subtype="octet-stream", filename="資料.exe")
    return mail


def report(*wrapped: EmailMessage, note: str = "不審メールを転送します。鈴木 内線1234") -> EmailMessage:
    """A SOC's report: its own note, the suspicious mails attached as message/rfc822 (forward as attachment)."""
    mail = EmailMessage()
    mail["From"] = f"{SOC_NAME} <{SOC}>"
    mail["To"] = "report@hub.example"
    mail["Subject"] = "FW: 不審メール"
    mail["Date"] = "Tue, 01 Oct 2013 16:00:00 +0900"
    mail.set_content(note)
    for inner in wrapped:
        mail.add_attachment(inner)
    return mail


def with_eml_attachment(inner: bytes, name: str = "suspicious.eml") -> EmailMessage:
    mail = report()
    mail.add_attachment(inner, maintype="application", subtype="octet-stream", filename=name)
    return mail


def inline_forward(body: str, *, subject: str, sender: str = f"Hanako <{VICTIM}>") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = SOC
    mail["Subject"] = subject
    mail["Date"] = "Tue, 01 Oct 2013 15:00:00 +0900"
    mail.set_content(body)
    return mail


OUTLOOK_JA = """SOCさま、怪しいメールです。内線1234 鈴木

-----元のメッセージ-----
差出人: Yamada Taro <t.yamada.lab@freemail.example>
送信日時: 2013年10月1日 14:43
宛先: hanako@member.example
件名: 研究資料の送付

資料はこちら https://evil-docs.example/dl?id=7 です
"""

OUTLOOK_EN = """Please check. Ichiro, ext. 1234

-----Original Message-----
From: Billing Dept [mailto:billing@invoice-pay.example]
Sent: Tuesday, October 1, 2013 2:43 PM
To: Bob <bob@member.example>
Subject: Invoice overdue

Pay here: https://invoice-pay.example/pay
"""

GMAIL = """Looks phishy.

---------- Forwarded message ---------
From: Billing Dept <billing@invoice-pay.example>
Date: Mon, Sep 30, 2013 at 10:15 AM
Subject: Invoice overdue
To: <bob@member.example>

Pay here: https://invoice-pay.example/pay
"""

THUNDERBIRD = """FYI

-------- Forwarded Message --------
Subject: \tInvoice overdue
Date: \tMon, 30 Sep 2013 10:15:00 +0000
From: \tBilling Dept <billing@invoice-pay.example>
To: \tbob@member.example

Pay here: https://invoice-pay.example/pay
"""

JA_TRANSFER = """転送します。

-------- 転送メッセージ --------
件名: 研究資料の送付
日付: Tue, 01 Oct 2013 14:43:05 +0900
差出人: Yamada Taro <t.yamada.lab@freemail.example>
宛先: hanako@member.example

資料はこちら https://evil-docs.example/dl?id=7 です
"""
