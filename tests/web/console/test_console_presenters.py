"""The console's view helpers and the templates' handling of hostile member-supplied text: markup is escaped,
bidirectional overrides are shown, never applied, and very long texts are cut."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from converters import Address, Message, Record
from taxii_server.model import Submission
from taxii_server.web.console import charts, presenters
from tests.support.consoleclient import signed_in
from tests.support.hubflow import DemoHub, make_demo_hub, principal, record

T0 = datetime(2013, 11, 5, 2, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
RLO_NAME = "invoice\u202etxt.exe"
LONG = "長" * 400


def message(role: str, minutes: int, sender: str = "a@freemail.example") -> Message:
    return Message(role=role, sent_at=T0 + timedelta(minutes=minutes), from_=Address(sender), subject="件名")


def test_an_attack_shows_the_attackers_latency_after_the_victims_latest_reply() -> None:
    thread = presenters.thread(Record("r", T0, "amber", (
        message("recon", 0), message("reply", 50, "soc@member.example"), message("attack", 63))))
    assert [m.role_label for m in thread] == ["偵察", "返信", "攻撃"]
    assert thread[2].after_reply_s == 13 * 60 and thread[0].after_reply_s is None


def test_messages_are_put_in_time_order() -> None:
    thread = presenters.thread(Record("r", T0, "amber", (message("attack", 20), message("recon", 0))))
    assert [m.role for m in thread] == ["recon", "attack"] and thread[1].after_reply_s is None


@pytest.mark.parametrize(("latencies", "shown"), [([], ""), ([720.0], "12 min"), ([660.0, 900.0], "11–15 min"),
                                                   ([600.0, 7200.0], "10 min – 2 h")])
def test_latency_ranges_read_at_a_glance(latencies: list[float], shown: str) -> None:
    assert presenters.latency_range(latencies) == shown


@pytest.mark.parametrize(("seconds", "shown"), [(59, "1 min"), (3600, "1 h"), (3900, "1 h 5 min"),
                                                 (86400 * 3 + 3600 * 4, "3 d 4 h")])
def test_minutes_are_human(seconds: float, shown: str) -> None:
    assert presenters.minutes(seconds) == shown


def test_bidirectional_overrides_are_shown_as_escapes() -> None:
    assert presenters.visible(RLO_NAME) == "invoice<U+202E>txt.exe"


def test_long_texts_are_cut() -> None:
    shown = presenters.visible(LONG)
    assert len(shown) == presenters.MAX_SHOWN and shown.endswith("…")


@pytest.mark.parametrize(("state", "current"), [("received", "received"), ("converted", "converted"),
                                                 ("in-campaign", "converted"), ("published", "published"),
                                                 ("dismissed", "dismissed"), ("rejected", "rejected")])
def test_the_status_timeline_marks_where_a_report_stands(state: str, current: str) -> None:
    s = Submission("s", "org", 0, "http", "application/json", state, "amber")
    steps = presenters.status_timeline(s, [])
    assert [st.name for st in steps if st.current] == [current]
    assert steps[0].name == "received" and all(st.reached for st in steps if st.current)


def test_chart_labels_are_escaped() -> None:
    svg = str(charts.bar_chart("t", {SCRIPT: 3, RLO_NAME: 1}, "none"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "\u202e" not in svg


def test_an_empty_chart_says_so() -> None:
    assert "none yet" in str(charts.bar_chart("t", {}, "none yet"))


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def test_pages_escape_hostile_subjects_names_and_overrides(hub: DemoHub) -> None:
    hostile = record("kita-heavy", "HOSTILE-1", sender="x@freemail.example", subject=SCRIPT + LONG,
                     sent_at="2013-11-05T10:00:00+09:00", display_name="\u202e山本",
                     attachment={"name": RLO_NAME, "sha256": "ab" * 32, "kind": "exe"})
    hostile["title"] = SCRIPT
    submitted = hub.services.intake.submit(principal("kita-heavy"), orjson.dumps(hostile), "application/json",
                                           "http", "hostile.json")
    for org in ("kita-heavy", "hub-analyst"):
        console = signed_in(hub, org)
        for path in (f"/console/submissions/{submitted.id}", "/console/", "/console/queue"):
            reply = console.get(path)
            if reply.status_code == 404:  # the queue is not a member page
                continue
            html = reply.get_data(as_text=True)
            assert SCRIPT not in html and "\u202e" not in html, path
            assert LONG not in html, path
        html = console.get(f"/console/submissions/{submitted.id}").get_data(as_text=True)
        assert "&lt;script&gt;" in html and "invoice&lt;U+202E&gt;txt.exe" in html
