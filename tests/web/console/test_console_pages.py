"""The console's pages in-process: sign-in and sessions, CSRF, security headers, who sees which page, and
what a member sees of its own reports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from taxii_server.accounts import OPERATOR
from tests.support.consoleclient import BASE, Console, signed_in, token
from tests.support.hubflow import CAMPAIGN_FILES, EML, DemoHub, make_demo_hub, submit_campaign

MEMBER = "kita-heavy"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def test_pages_need_a_signed_in_session(hub: DemoHub) -> None:
    reply = Console(hub).get("/console/")
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/console/login")


def test_the_session_cookie_is_secure_httponly_and_strict(hub: DemoHub) -> None:
    reply = Console(hub).post("/console/login", {"org_id": MEMBER, "secret": hub.keys[MEMBER]})
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("__Host-taxii-hub-console="))
    assert all(flag in cookie for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"))
    assert "Domain" not in cookie


def test_a_wrong_secret_is_refused_without_saying_which_part_was_wrong(hub: DemoHub) -> None:
    reply = Console(hub).post("/console/login", {"org_id": MEMBER, "secret": "not-the-key"})
    assert reply.status_code == 401 and "__Host-taxii-hub-console" not in str(reply.headers)


def test_signing_in_with_the_organisations_password_works(hub: DemoHub) -> None:
    hub.app.extensions["taxii_hub"].accounts.set_password(OPERATOR, MEMBER, "correct horse battery")
    console = Console(hub)
    assert console.post("/console/login", {"org_id": MEMBER, "secret": "correct horse battery"}).status_code == 303


def test_signing_out_ends_the_session_in_the_store(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    secret = console.client.get_cookie("__Host-taxii-hub-console", domain="localhost")
    assert secret is not None
    assert console.post("/console/logout").status_code == 303
    again = Console(hub)
    again.client.set_cookie("__Host-taxii-hub-console", secret.value, domain="localhost", secure=True)
    assert again.get("/console/").status_code == 303


def test_revoking_the_key_a_session_signed_in_with_ends_it(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    key_id = next(k.id for k in hub.store.list_credentials(MEMBER))
    assert console.post(f"/console/keys/{key_id}/revocation").status_code == 303
    assert console.get("/console/").status_code == 303


@pytest.mark.parametrize("path", ["/console/keys", "/console/language", "/console/logout", "/console/submit"])
def test_a_post_without_the_csrf_token_changes_nothing(hub: DemoHub, path: str) -> None:
    console = signed_in(hub, MEMBER)
    before = len(hub.store.list_credentials(MEMBER))
    assert console.post(path, {"label": "x", "lang": "en"}, csrf=False).status_code == 403
    assert len(hub.store.list_credentials(MEMBER)) == before
    assert console.get("/console/").status_code == 200  # still signed in, still Japanese
    assert 'lang="ja"' in console.get("/console/").get_data(as_text=True)


def test_the_sign_in_form_needs_its_double_submit_token(hub: DemoHub) -> None:
    reply = Console(hub).post("/console/login", {"org_id": MEMBER, "secret": hub.keys[MEMBER]}, csrf=False)
    assert reply.status_code == 403


def test_console_pages_carry_a_strict_content_security_policy_and_no_store(hub: DemoHub) -> None:
    reply = signed_in(hub, MEMBER).get("/console/")
    csp = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp  # default-src 'none' covers scripts: none at all
    assert reply.headers["Cache-Control"] == "no-store" and reply.headers["X-Frame-Options"] == "DENY"


def test_no_page_has_an_inline_script_or_style(hub: DemoHub) -> None:
    submit_campaign(hub)
    console = signed_in(hub, "hub-analyst")
    for path in ("/console/", "/console/queue", "/console/candidates", "/console/stats", "/console/audit",
                 "/console/submit", "/console/keys", "/console/publications"):
        html = console.get(path).get_data(as_text=True)
        assert "<script" not in html and "style=" not in html and "<style" not in html, path


@pytest.mark.parametrize("path", ["/console/queue", "/console/candidates", "/console/candidates/cand-0",
                                  "/console/publications", "/console/audit", "/console/stats", "/console/revoke"])
def test_analyst_pages_are_404_for_members(hub: DemoHub, path: str) -> None:
    assert signed_in(hub, MEMBER).get(path).status_code == 404


def test_another_members_submission_is_the_same_404_as_a_missing_one(hub: DemoHub) -> None:
    others = submit_campaign(hub)
    console = signed_in(hub, "higashi-gas")
    absent = "00000000-0000-4000-8000-000000000000"
    theirs = console.get(f"/console/submissions/{others[0]}")
    missing = console.get(f"/console/submissions/{absent}")
    assert theirs.status_code == missing.status_code == 404
    # the pages differ only in the path the language switch returns to
    assert theirs.get_data(as_text=True).replace(others[0], absent) == missing.get_data(as_text=True)


def test_a_member_sees_where_its_report_stands_and_never_who_else_reported(hub: DemoHub) -> None:
    ids = submit_campaign(hub)
    mine = next(i for i, p in zip(ids, CAMPAIGN_FILES, strict=True) if MEMBER in p.name)
    hub.services.campaigns.drain()
    html = signed_in(hub, MEMBER).get(f"/console/submissions/{mine}").get_data(as_text=True)
    assert "state-converted" in html
    assert "state-in-campaign" not in html  # whether others reported it is never part of a member's page
    for other in ("higashi-gas", "nishi-chem", "chuo-oil", "minami-power"):
        assert other not in html


def test_an_uploaded_eml_becomes_a_converted_submission(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    path = EML / "case04-step3-word.eml"
    with path.open("rb") as fh:
        reply = console.post("/console/submit", {"kind": "files", "reports": (fh, path.name)},
                             content_type="multipart/form-data")
    assert reply.status_code == 200
    [submission] = hub.store.list_submissions(MEMBER)
    assert submission.state == "converted" and submission.source == "console"


def test_the_thread_form_becomes_an_incident_record(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    form = {"kind": "thread", "record_id": "SOC-1", "tlp": "green",
            "m1_role": "recon", "m1_sent_at": "2026-01-31 10:02", "m1_from": "a@freemail.example",
            "m1_subject": "お問い合わせ",
            "m2_role": "reply", "m2_sent_at": "2026-01-31 10:30", "m2_from": "soc@kita-heavy.example",
            "m2_subject": "Re: お問い合わせ",
            "m3_role": "attack", "m3_sent_at": "2026-01-31 10:43", "m3_from": "a@freemail.example",
            "m3_subject": "Re: お問い合わせ", "m3_attachment": "資料.doc", "m3_sha256": "ab" * 32}
    assert console.post("/console/submit", form).status_code == 200
    [submission] = hub.store.list_submissions(MEMBER)
    assert submission.state == "converted" and submission.tlp == "green", submission.errors
    html = console.get(f"/console/submissions/{submission.id}").get_data(as_text=True)
    assert "13 min" in html  # the attacker answered 13 minutes after the victim's reply


def test_conversion_errors_are_shown_in_plain_words(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    reply = console.post("/console/submit", {"kind": "files", "reports": (io.BytesIO(b"{}"), "x.json")},
                         content_type="multipart/form-data")
    assert reply.status_code == 200
    [submission] = hub.store.list_submissions(MEMBER)
    html = console.get(f"/console/submissions/{submission.id}").get_data(as_text=True)
    assert submission.state == "rejected" and "x.json" in html and "problem" in html


def test_a_new_api_key_is_shown_once(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    page = console.get("/console/keys")
    created = console.client.post(BASE + "/console/keys", data={"label": "SIEM", "csrf": token(page)})
    secret = created.get_data(as_text=True).split('id="new-key" readonly value="')[1].split('"')[0]
    assert hub.app.extensions["taxii_hub"].accounts.authenticate_key(secret).org_id == MEMBER
    assert secret not in console.get("/console/keys").get_data(as_text=True)


def test_the_language_is_japanese_by_default_and_switchable(hub: DemoHub) -> None:
    console = signed_in(hub, MEMBER)
    assert "自組織の報告" in console.get("/console/submissions").get_data(as_text=True)
    assert console.post("/console/language", {"lang": "en", "next": "/console/submissions"}).status_code == 303
    assert "<h1>My submissions</h1>" in console.get("/console/submissions").get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/console/", "/console/\\evil"])
def test_the_language_switch_never_redirects_off_the_console(hub: DemoHub, target: str) -> None:
    reply = signed_in(hub, MEMBER).post("/console/language", {"lang": "en", "next": target})
    assert reply.headers["Location"] == "/console/"


def test_my_polls_lists_the_members_own_reads(hub: DemoHub) -> None:
    assert hub.taxii("collections/member-feed/objects/", MEMBER).status_code == 200
    assert hub.taxii("collections/member-feed/objects/", "higashi-gas").status_code == 200
    html = signed_in(hub, MEMBER).get("/console/polls").get_data(as_text=True)
    assert "Member feed" in html and "higashi-gas" not in html


def test_password_guessing_at_sign_in_meets_the_same_rate_limit_as_the_apis(tmp_path: Path) -> None:
    limited = make_demo_hub(tmp_path, "[limits]\naccount_failures_per_minute = 1\naccount_failure_burst = 3\n")
    try:
        console = Console(limited)
        statuses = [console.post("/console/login", {"org_id": MEMBER, "secret": f"guess-{n}"}).status_code
                    for n in range(6)]
        assert statuses[:3] == [401, 401, 401] and statuses[-1] == 429
        assert "Retry-After" in console.post("/console/login", {"org_id": MEMBER, "secret": "again"}).headers
    finally:
        limited.store.close()


def test_the_candidates_page_shows_the_correlation_backlog_and_each_values_use(hub: DemoHub) -> None:
    submit_campaign(hub)
    console = signed_in(hub, "hub-analyst")
    waiting = console.get("/console/candidates").get_data(as_text=True)
    assert "Reports waiting for the correlation step: 5." in waiting or "相関処理を待っている報告: 5 件。" in waiting
    hub.services.campaigns.drain()
    listed = console.get("/console/candidates").get_data(as_text=True)
    assert "correlation step: 0." in listed or "相関処理を待っている報告: 0 件。" in listed
    (candidate,) = hub.services.campaigns.suggest(hub.store.get_organisation("hub-analyst").principal())  # type: ignore[union-attr]
    page = console.get(f"/console/candidates/{candidate.id}").get_data(as_text=True)
    assert "Used to link" in page or "関連付けへの使用" in page


def test_an_upload_over_a_budget_is_refused_naming_field_and_limit_and_not_kept(hub: DemoHub) -> None:
    record = {"format": "incident-record/1", "id": "R-1", "reported_at": "2026-01-31T10:00:00Z", "tlp": "green",
              "messages": [{"role": "attack", "sent_at": "2026-01-31T10:00:00Z", "from": {"address": "a@x.example"},
                            "to": [{"address": f"hidden{i}@r.example"} for i in range(600)]}]}
    console = signed_in(hub, MEMBER)
    reply = console.post("/console/submit", {"kind": "files", "reports": (io.BytesIO(
        orjson.dumps(record)), "big.json")}, content_type="multipart/form-data")
    assert reply.status_code == 200
    html = reply.get_data(as_text=True)
    assert "messages[0]: more than 500 recipients in to and cc (limit 500, max_recipients)" in html
    assert "hidden1@" not in html
    assert hub.store.list_submissions(MEMBER) == []
