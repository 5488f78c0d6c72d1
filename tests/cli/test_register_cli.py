"""The organisation register and the allow-list on the command line: `org add/set/show` with mail domains,
aliases and the identity id; `allow add/list/remove` (analysts only, audited); the demo register; one-line
errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from taxii_server.model import Organisation
from tests.support.hubtest import COLLECTIONS, write_collections, write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    write_collections(tmp_path / "collections", COLLECTIONS)
    path = write_config(tmp_path / "hub.toml", tmp_path / "var", tmp_path / "collections")
    assert run(path, "init").exit_code == 0
    return path


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args])


def ok(config: Path, *args: str) -> Result:
    result = run(config, *args)
    assert result.exit_code == 0, result.output
    return result


def one_line_error(result: Result, fragment: str) -> None:
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_org_add_takes_repeatable_domains_and_aliases_and_show_lists_them(config: Path) -> None:
    added = json.loads(ok(config, "org", "add", "sora-air", "--name", "Sora Air", "--group", "transport",
                          "--domain", "Sora-Air.example", "--domain", "空.example", "--alias", "SoraAir",
                          "--alias", "ソラ航空", "--json").stdout)
    assert added["domains"] == ["sora-air.example", "xn--grz.example"]
    assert added["aliases"] == ["SoraAir", "ソラ航空"]
    expected_identity = Organisation("sora-air", "", "", (), "").identity_id
    assert added["identity_id"] == expected_identity
    shown = json.loads(ok(config, "org", "show", "sora-air", "--json").stdout)
    assert (shown["domains"], shown["aliases"], shown["identity_id"]) == (
        added["domains"], added["aliases"], expected_identity)
    human = ok(config, "org", "show", "sora-air").stdout
    assert f"identity {expected_identity}" in human
    assert "mail domains: sora-air.example, xn--grz.example (空.example)" in human
    assert "aliases: SoraAir, ソラ航空" in human


def test_org_set_clears_removes_then_adds(config: Path) -> None:
    ok(config, "org", "add", "sora-air", "--name", "Sora", "--group", "transport", "--domain", "sora.example",
       "--domain", "old.example", "--alias", "Sora")
    changed = json.loads(ok(config, "org", "set", "sora-air", "--remove-domain", "OLD.example", "--domain",
                            "mail.sora-air.example", "--alias", "SoraAir", "--json").stdout)
    assert (changed["domains"], changed["aliases"]) == (["sora.example", "mail.sora-air.example"],
                                                        ["Sora", "SoraAir"])
    cleared = json.loads(ok(config, "org", "set", "sora-air", "--clear-aliases", "--clear-domains",
                            "--domain", "sora-air.example", "--json").stdout)
    assert (cleared["domains"], cleared["aliases"]) == (["sora-air.example"], [])
    assert json.loads(ok(config, "org", "list", "--json").stdout)[0]["domains"] == ["sora-air.example"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("org", "add", "x-air", "--name", "X", "--group", "g", "--domain", "bad_domain.example"),
         "mail domain: 'bad_domain.example' is not a valid domain name"),
        (("org", "add", "x-air", "--name", "X", "--group", "g", "--domain", "localhost"), "two labels"),
        (("org", "add", "x-air", "--name", "X", "--group", "g", "--domain", "mail.sora.example"),
         "registered to organisation 'sora-air'"),
        (("org", "set", "sora-air", "--remove-domain", "other.example"), "no mail domain 'other.example'"),
        (("org", "set", "nobody", "--domain", "n.example"), "no organisation 'nobody'"),
        (("allow", "add", "ipv4-addr", "10.0.0.1/8", "--reason", "r"), "has host bits set"),
        (("allow", "remove", "url", "https://nowhere.example/"), "is not on the allow-list"),
        (("allow", "list", "--as", "sora-air"), "no such allow-list"),
        (("allow", "add", "md5", "d41d8cd98f00b204e9800998ecf8427e", "--reason", "r", "--as", "sora-air"),
         "no such allow-list"),
    ],
)
def test_mistakes_are_one_line(config: Path, args: tuple[str, ...], fragment: str) -> None:
    ok(config, "org", "add", "sora-air", "--name", "Sora", "--group", "transport", "--domain", "sora.example")
    one_line_error(run(config, *args), fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("allow", "add", "domain-name", "vendor.example"), "Missing option '--reason'"),
        (("allow", "add", "hostname", "vendor.example", "--reason", "r"), "'hostname' is not one of 'domain-name'"),
    ],
)
def test_usage_mistakes_name_the_option(config: Path, args: tuple[str, ...], fragment: str) -> None:
    result = run(config, *args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output


def test_allow_add_list_remove_round_trip_and_every_change_is_audited(config: Path) -> None:
    ok(config, "org", "add", "desk", "--name", "Desk", "--group", "hub", "--role", "analyst")
    added = json.loads(ok(config, "allow", "add", "domain-name", "Portal.Vendor.example", "--reason",
                          "vendor support portal", "--as", "desk", "--json").stdout)
    assert (added["value"], added["added_by"]) == ("portal.vendor.example", "desk")
    ok(config, "allow", "add", "ipv4-addr", "198.51.100.0/24", "--reason", "partner relays")
    listed = json.loads(ok(config, "allow", "list", "--json").stdout)
    assert [(e["kind"], e["value"]) for e in listed] == [("domain-name", "portal.vendor.example"),
                                                         ("ipv4-addr", "198.51.100.0/24")]
    assert "vendor support portal" in ok(config, "allow", "list").stdout
    assert json.loads(ok(config, "allow", "list", "--kind", "ipv4-addr", "--json").stdout)[0]["reason"] == \
        "partner relays"
    ok(config, "allow", "remove", "domain-name", "portal.vendor.example", "--as", "desk")
    assert "the allow-list is empty" not in ok(config, "allow", "list").stdout
    ok(config, "allow", "remove", "ipv4-addr", "198.51.100.0/24")
    assert ok(config, "allow", "list").stdout.strip() == "the allow-list is empty"
    trail = json.loads(ok(config, "audit", "--json").stdout)
    actions = [(e["actor"], e["action"], e["target"]) for e in trail if e["action"].startswith("allow-")]
    assert actions == [("desk", "allow-add", "domain-name:portal.vendor.example"),
                       ("hub-operator", "allow-add", "ipv4-addr:198.51.100.0/24"),
                       ("desk", "allow-remove", "domain-name:portal.vendor.example"),
                       ("hub-operator", "allow-remove", "ipv4-addr:198.51.100.0/24")]


def test_the_demo_organisations_carry_the_mail_domains_of_their_sample_reports(config: Path) -> None:
    ok(config, "init", "--demo")
    kita = json.loads(ok(config, "org", "show", "kita-heavy", "--json").stdout)
    assert kita["domains"] == ["kita-heavy.example"] and "KitaHeavy" in kita["aliases"]
    members = {o["id"]: o for o in json.loads(ok(config, "org", "list", "--json").stdout)}
    for org in ("higashi-gas", "nishi-chem", "chuo-oil", "minami-power"):
        assert members[org]["domains"] == [f"{org}.example"]
    assert members["hub-analyst"]["domains"] == []


def test_a_second_demo_run_completes_a_register_left_incomplete(config: Path) -> None:
    ok(config, "init", "--demo")
    ok(config, "org", "set", "kita-heavy", "--clear-domains")
    ok(config, "init", "--demo")
    assert json.loads(ok(config, "org", "show", "kita-heavy", "--json").stdout)["domains"] == ["kita-heavy.example"]
