"""Absolute URLs when configured ([server] public_url), collection URLs by id for products, and the console's
"connect a product" page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from taxii_server.errors import ConfigError
from taxii_server.settings import load_settings
from tests.support.consoleclient import signed_in
from tests.support.hubflow import INBOX, MEMBER_FEED, WORKBENCH, DemoHub, make_demo_hub

TAXII = "application/taxii+json;version=2.1"
PUBLIC = "https://hub.example.org"
MEMBER = "kita-heavy"


@pytest.fixture
def public_hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path / "public", f'[server]\npublic_url = "{PUBLIC}/"\n')
    yield built
    built.store.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path)
    yield built
    built.store.close()


def _discovery(hub: DemoHub, **headers: str) -> dict[str, object]:
    response = hub.client().get("/taxii2/", headers=hub.auth(MEMBER, Accept=TAXII, **headers))
    assert response.status_code == 200
    body: dict[str, object] = response.json
    return body


def test_e3_discovery_is_absolute_under_public_url(public_hub: DemoHub) -> None:
    body = _discovery(public_hub)
    assert body["api_roots"] == [f"{PUBLIC}/hub/"]
    assert body["default"] == f"{PUBLIC}/hub/"


def test_discovery_never_takes_its_urls_from_host_or_forwarded_headers(public_hub: DemoHub, hub: DemoHub) -> None:
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}
    assert _discovery(public_hub, **spoofed)["api_roots"] == [f"{PUBLIC}/hub/"]
    assert _discovery(hub, **spoofed)["api_roots"] == ["/hub/"]


def test_without_public_url_discovery_stays_relative(hub: DemoHub) -> None:
    body = _discovery(hub)
    assert body["api_roots"] == ["/hub/"] and body["default"] == "/hub/"


@pytest.mark.parametrize("url", ["http://hub.example.org", "https://", "https://hub.example.org/?x=1",
                                 "https://user:pw@hub.example.org", "hub.example.org", "https://hub.example.org/#a",
                                 "https://hub example.org"])
def test_a_public_url_that_is_not_a_plain_https_url_is_a_config_error(tmp_path: Path, url: str) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(f'[server]\npublic_url = "{url}"\n')
    with pytest.raises(ConfigError, match="public_url"):
        load_settings(config, env={})


def test_the_connect_page_shows_absolute_id_urls_of_the_members_collections(public_hub: DemoHub) -> None:
    page = signed_in(public_hub, MEMBER).get("/console/connect").get_data(as_text=True)
    assert f"{PUBLIC}/taxii2/" in page
    assert f"{PUBLIC}/hub/collections/{MEMBER_FEED}/" in page
    assert f"{PUBLIC}/hub/collections/{INBOX}/" in page
    assert "/collections/member-feed/" not in page  # an alias is shown as a name for people, never as a URL
    assert WORKBENCH not in page  # a collection the member may not see is not listed


def test_the_connect_page_without_public_url_says_the_urls_are_paths(hub: DemoHub) -> None:
    page = signed_in(hub, MEMBER).get("/console/connect").get_data(as_text=True)
    assert f"<code>/hub/collections/{MEMBER_FEED}/</code>" in page
    assert "public_url" in page
