"""Statistics on the sample reports (attachment types, free-mail share, C2 countries) and the SVG charts."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from taxii_server.hub.charts import render
from tests.support.hubflow import RECORDS, DemoHub, drained, principal, reporter_of

ANALYST = principal("hub-analyst")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def sampled(demo_hub: DemoHub) -> DemoHub:
    for path in sorted(RECORDS.glob("*.json")):
        assert demo_hub.submit_file(reporter_of(path), path).status_code == 202
    return drained(demo_hub)


def test_reports_and_reporters_are_counted(sampled: DemoHub) -> None:
    stats = sampled.api("GET", "/stats", "hub-analyst").json
    assert stats["reports_received"] == 10
    assert stats["reports_by_state"] == {"converted": 5, "in-campaign": 5}
    assert stats["reporting_organisations"] == 5
    assert stats["reporting_groups"] == {"chemical": 1, "electric-power": 1, "gas": 1, "heavy-industry": 1,
                                         "petroleum": 1}


def test_attachment_types_count_each_report_once_per_type(sampled: DemoHub) -> None:
    # five campaign RARs each holding an .exe; the conversation's Word file, two RARs and their .exe;
    # the Ichitaro document; the ZIP with an LNK
    assert sampled.api("GET", "/stats", "hub-analyst").json["attachment_types"] == {
        "exe": 6, "rar": 6, "ichitaro": 1, "lnk": 1, "word": 1, "zip": 1}


def test_the_free_mail_share_counts_senders_of_attacker_mail(sampled: DemoHub) -> None:
    # nine reports come from free-mail accounts; the unrelated phishing from its own domain
    assert sampled.api("GET", "/stats", "hub-analyst").json["free_mail_sender_share"] == 0.9


def test_c2_countries_are_counted_per_report(sampled: DemoHub) -> None:
    assert sampled.api("GET", "/stats", "hub-analyst").json["c2_countries"] == {"HK": 5, "JP": 2, "US": 1}


def test_a_published_campaign_is_counted(sampled: DemoHub) -> None:
    (candidate,) = drained(sampled).services.campaigns.suggest(ANALYST)
    assert sampled.api("POST", "/publications", "hub-analyst", {
        "candidate": candidate.id, "name": "c", "tlp": "amber", "collections": ["member-feed"]}).status_code == 201
    stats = sampled.api("GET", "/stats", "hub-analyst").json
    assert (stats["publications"], stats["campaigns_published"]) == (1, 1)
    assert stats["reports_by_state"] == {"converted": 5, "published": 5}


def test_a_period_without_reports_counts_nothing(sampled: DemoHub) -> None:
    stats = sampled.api("GET", "/stats?since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z", "hub-analyst").json
    assert stats["reports_received"] == 0 and stats["free_mail_sender_share"] is None
    assert stats["since"].startswith("2000-01-01")


def test_a_malformed_period_is_a_400(sampled: DemoHub) -> None:
    assert sampled.api("GET", "/stats?since=yesterday", "hub-analyst").status_code == 400


def test_the_charts_are_standalone_svg_files_with_a_bar_per_value(sampled: DemoHub, tmp_path: Path) -> None:
    stats = sampled.services.stats.compute(ANALYST)
    written = render(stats, tmp_path / "charts")
    assert [p.name for p in written] == ["reports-per-month.svg", "attachment-types.svg", "c2-countries.svg",
                                         "free-mail-senders.svg"]
    trees = [ElementTree.fromstring(p.read_text(encoding="utf-8")) for p in written]  # noqa: S314 (our own)
    for path, root in zip(written, trees, strict=True):
        assert root.tag == f"{SVG}svg" and root.find(f"{SVG}style") is not None, path
    assert len(trees[1].findall(f"{SVG}rect")) == len(stats.attachment_types) > 0
    labels = [t.text for t in trees[1].findall(f"{SVG}text") if t.get("class") == "chart-label"]
    assert labels == list(stats.attachment_types)
