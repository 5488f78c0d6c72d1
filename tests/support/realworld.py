"""A corpus of real-world-shaped mails, assembled here with the standard `email` package: what public phishing
corpora show (charsets, HTML-only mail, Markdown links, template placeholders, IDN, odd `From:` forms, tracking
pixels, unsubscribe footers, social icons, spoofed senders, personalised links, forwards), none of it copied.
"""

from __future__ import annotations

from email.message import EmailMessage

from tests.support.mailmaker import GMAIL, OUTLOOK_JA, attacker_mail, inline_forward, report

DATE = "Mon, 06 Mar 2023 09:12:44 +0000"
VICTIM = "taro.suzuki@member.example"

FOOTER = (
    '<p><a href="https://www.facebook.com/brandpage"><img src="https://static.xx.fbcdn.net/rsrc.php/fb.png"></a>'
    '<a href="https://twitter.com/brand"><img src="https://abs.twimg.com/icons/tw.png"></a>'
    '<a href="https://www.linkedin.com/company/brand"><img src="https://www.gstatic.com/images/in.png"></a>'
    '<a href="https://www.youtube.com/c/brand">YouTube</a></p>'
    '<p>To stop receiving these emails, <a href="https://mailer.shop-news.example/u?e=1">click here</a>. '
    '<a href="https://shop-news.example/privacy">Privacy policy</a> | '
    '<a href="https://shop-news.example/optout?x=2">配信停止</a></p>'
    '<img src="https://track.shop-news.example/open.gif?u=77" width="1" height="1" alt="">'
)


def _mail(from_: str, subject: str, *, to: str = VICTIM, extra: dict[str, str] | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = from_
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = DATE
    mail["Message-ID"] = f"<{abs(hash((from_, subject))) % 10**12}@sender.example>"
    for name, value in (extra or {}).items():
        mail[name] = value
    return mail


def html_only_with_footer() -> bytes:
    mail = _mail("Account Team <security@acc0unt-verify.example>", "Your account is locked")
    mail.set_content(
        '<html><body><img src="https://www.google.com/images/logo.png">'
        '<p>Dear customer, <a href="https://acc0unt-verify.example/unlock?id=99">https://www.paypal.com/signin</a></p>'
        + FOOTER + "</body></html>",
        subtype="html",
    )
    return mail.as_bytes()


def iso2022jp_html() -> bytes:
    mail = _mail("=?ISO-2022-JP?B?GyRCQmc8NDZkOVQbKEI=?= <info@kabu-bank.example>",
                 "=?ISO-2022-JP?B?GyRCJDRPIk1tGyhC?=")
    html = '<html><body><p>ご確認ください</p><a href="https://kabu-bank-login.example/jp/">ログイン</a>' + FOOTER
    mail.set_content(html.encode("iso2022_jp", "replace"), maintype="text", subtype="html",
                     params={"charset": "ISO-2022-JP"}, cte="7bit")
    return mail.as_bytes()


def markdown_and_placeholders() -> bytes:
    mail = _mail('"Doe, John" <john.doe@payroll-update.example>', "Payroll update")
    mail.set_content(
        "Please review [https://payroll-update.example/form](https://payroll-update.example/form)\n"
        "Backup link: https://[body_domain]/verify?u=[email]\n"
        "Help: <https://payroll-update.example/help>\n"
        "Or https://%%domain%%/x\n"
        "To unsubscribe: {{unsubscribe_url}}\n"
    )
    return mail.as_bytes()


def idn_and_entities() -> bytes:
    mail = _mail("Support <support@idn-support.example>", "IDN")
    mail.set_content(
        '<a href="https://例え.jp/ログイン?a=1&amp;b=2">ログイン</a> '
        '<a href="https://例え.jp/ログイン?a=1&b=2">again</a> '
        '<a href="https://split.example/very/\n  long/path">split href</a> '
        '<a href="//cdn-files.example/doc.zip">protocol-relative</a>',
        subtype="html",
    )
    return mail.as_bytes()


def odd_from(value: str) -> bytes:
    mail = _mail(value, "odd sender")
    mail.set_content("see https://odd-sender.example/x")
    return mail.as_bytes()


def raw_utf8_from() -> bytes:
    head = (
        "From: =?utf-8?q?Caf=C3=A9?= Büro <büro@café-pay.example>\r\n"
        f"To: {VICTIM}\r\nSubject: RFC 6532\r\nDate: {DATE}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Zahlung: https://café-pay.example/zahlen\r\n"
    )
    return head.encode("utf-8")


def dotless_from() -> bytes:
    return odd_from("phishing@pot")


def spoofed_bank() -> bytes:
    mail = _mail(
        "Bank of America <alerts@bankofamerica.com>",
        "Unusual sign-in",
        extra={
            "Authentication-Results": "mx.member.example; spf=fail smtp.mailfrom=bankofamerica.com; "
            "dkim=none; dmarc=fail header.from=bankofamerica.com",
            "Reply-To": "boa.secure.desk@freemail.example",
        },
    )
    mail.set_content("Verify now: https://boa-verify-signin.example/login")
    return mail.as_bytes()


def microsoft_received() -> bytes:
    mail = _mail(
        "Shipping <notice@parcel-track.example>",
        "Parcel",
        extra={
            "Received": "from mail.parcel-track.example (203.0.113.77) by MWHPR01.member.example (10.1.1.5) "
            "with Microsoft SMTP Server; " + DATE,
            "X-Originating-IP": "[203.0.113.78]",
        },
    )
    mail.set_content("Track: https://parcel-track.example/t/1")
    return mail.as_bytes()


def personalised_link() -> bytes:
    mail = _mail("HR <hr@benefit-portal.example>", "Benefits")
    mail.set_content(
        f"Open https://benefit-portal.example/login?email={VICTIM} or "
        "https://benefit-portal.example/l?u=dGFyby5zdXp1a2lAbWVtYmVyLmV4YW1wbGU= "
        "or https://benefit-portal.example/p/taro.suzuki/start"
    )
    return mail.as_bytes()


def inline_images_and_empty_attachment() -> bytes:
    mail = _mail("Invoices <billing@invoice-hub.example>", "Invoice 2023-03")
    mail.set_content("Invoice attached")
    mail.add_alternative('<p>Invoice attached</p><img src="cid:logo001@invoice-hub.example">', subtype="html")
    html = mail.get_payload()[1]
    html.add_related(b"\x89PNG\r\n\x1a\n" + b"\0" * 40, maintype="image", subtype="png",
                     cid="<logo001@invoice-hub.example>", filename="image001.png")
    mail.add_attachment(b"", maintype="application", subtype="pdf", filename="empty.pdf")
    mail.add_attachment(b"%PDF-1.7 invoice", maintype="application", subtype="pdf", filename="invoice.pdf")
    return mail.as_bytes()


def list_unsubscribe() -> bytes:
    mail = _mail(
        "Deals <deals@cheap-watches.example>",
        "Deals",
        extra={"List-Unsubscribe": "<https://cheap-watches.example/unsub?id=5>, <mailto:unsub@cheap-watches.example>"},
    )
    mail.set_content("Buy now https://cheap-watches.example/buy")
    return mail.as_bytes()


def allow_listed_partner() -> bytes:
    mail = _mail("Newsletter <news@partner-newsletter.example>", "Partner news")
    mail.set_content("Read https://partner-newsletter.example/issue/42")
    return mail.as_bytes()


def forwarded_reports() -> list[tuple[str, bytes]]:
    return [
        ("forward-as-attachment", report(attacker_mail()).as_bytes()),
        ("forward-of-forward", report(report(attacker_mail())).as_bytes()),
        ("inline-outlook-ja", inline_forward(OUTLOOK_JA, subject="転送: 研究資料").as_bytes()),
        ("inline-gmail", inline_forward(GMAIL, subject="Fwd: Invoice").as_bytes()),
    ]


def corpus() -> list[tuple[str, bytes]]:
    return [
        ("html-only-footer", html_only_with_footer()),
        ("iso-2022-jp-html", iso2022jp_html()),
        ("markdown-placeholders", markdown_and_placeholders()),
        ("idn-entities-whitespace", idn_and_entities()),
        ("from-comma-bare", odd_from("Bank, <info@bank-alerts.example>")),
        ("from-empty-angle", odd_from("<>")),
        ("from-quoted-addr-spec", odd_from('"service@paypal.com" <x@pp-secure.example>')),
        ("from-two-addresses", odd_from("a@one.example, b@two.example")),
        ("from-utf8-raw", raw_utf8_from()),
        ("from-dotless", dotless_from()),
        ("spoofed-bank", spoofed_bank()),
        ("microsoft-received", microsoft_received()),
        ("personalised-link", personalised_link()),
        ("inline-images-empty-file", inline_images_and_empty_attachment()),
        ("list-unsubscribe", list_unsubscribe()),
        ("allow-listed-partner", allow_listed_partner()),
        *forwarded_reports(),
    ]


def allowed(kind: str, value: str) -> str | None:
    """The corpus's hub allow-list: one partner's newsletter domain."""
    return "partner newsletter" if "partner-newsletter.example" in value else None
