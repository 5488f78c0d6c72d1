"""The console's feeds page: the signed-in organisation's feed URLs and the products' set-up notes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.consoleclient import signed_in
from tests.support.hubflow import MEMBER_FEED, WORKBENCH, DemoHub, make_demo_hub


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def test_a_member_sees_the_feeds_of_what_it_may_read_and_the_set_up_notes(hub: DemoHub) -> None:
    console = signed_in(hub, "kita-heavy")
    console.post("/console/language", {"lang": "en", "next": "/console/"})
    page = console.get("/console/feeds").get_data(as_text=True)
    assert "/hub/v1/feeds/member-feed/domain.txt" in page and "/hub/v1/feeds/member-feed/misp" in page
    assert "analyst-workbench" not in page and WORKBENCH not in page
    assert all(product in page for product in ("PAN-OS", "FortiGate", "MISP Feed"))
    assert "user name kita-heavy" in page


def test_an_analyst_also_sees_the_workbench(hub: DemoHub) -> None:
    page = signed_in(hub, "hub-analyst").get("/console/feeds").get_data(as_text=True)
    assert "/hub/v1/feeds/analyst-workbench/indicators.csv" in page
    assert MEMBER_FEED not in page or "/hub/v1/feeds/member-feed/" in page


def test_the_page_is_in_japanese_by_default(hub: DemoHub) -> None:
    page = signed_in(hub, "kita-heavy").get("/console/feeds").get_data(as_text=True)
    assert "ファイアウォールと MISP 向けフィード" in page
