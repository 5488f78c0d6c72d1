"""`taxii-hub convert` and `taxii-hub validate` through the real command group (no server, no database)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from taxii_server.cli import main
from tests.support.conv_support import EML_SAMPLES, RECORD_SAMPLES, SAMPLES

BAD_RECORD = {
    "format": "incident-record/1", "id": "KITA-2013-0042", "reported_at": "2013-10-03T09:30:00+09:00",
    "tlp": "amber",
    "messages": [{"role": "attack", "sent_at": "2013-10-01T10:00:00+09:00", "from": {"address": "a@x.example"},
                  "attachments": [{"name": "a.doc", "sha256": "xyz"}]}],
}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "hub.toml"
    path.write_text('[conversion]\nid_key = "cli-test-key"\nhub_identity_name = "CLI test hub"\n')
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_convert_a_directory_writes_one_bundle_with_every_record(config: Path) -> None:
    code, out, err = run(config, "convert", str(SAMPLES / "records"))
    assert (code, err) == (0, "")
    bundle = json.loads(out)
    groupings = [o for o in bundle["objects"] if o["type"] == "grouping"]
    assert len(groupings) == len(RECORD_SAMPLES)
    hub = [o for o in bundle["objects"] if o["type"] == "identity" and o["identity_class"] == "organization"]
    assert [h["name"] for h in hub] == ["CLI test hub"]


def test_convert_mixes_records_and_mails_and_globs(config: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "out.json"
    code, out, err = run(config, "convert", str(SAMPLES / "eml" / "*.eml"),
                         str(SAMPLES / "records" / "case04-conversation.json"), "-o", str(out_file), "--pretty")
    assert (code, out, err) == (0, "", "")
    text = out_file.read_text("utf-8")
    assert text.startswith("{\n  ")
    groupings = [o for o in json.loads(text)["objects"] if o["type"] == "grouping"]
    assert len(groupings) == len(EML_SAMPLES) + 1


def test_a_bad_file_among_good_ones_fails_the_batch_with_one_line(config: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(SAMPLES / "records" / "case09-lnk-in-zip.json", inputs / "a-good.json")
    (inputs / "b-bad.json").write_text(json.dumps(BAD_RECORD))
    shutil.copy(SAMPLES / "eml" / "case01-recon.eml", inputs / "c-good.eml")
    code, out, err = run(config, "convert", str(inputs))
    assert code == 1
    assert err == (f"taxii-hub: {inputs / 'b-bad.json'}: KITA-2013-0042: messages[0].attachments[0].sha256: "
                   "'xyz' is not a SHA-256 hex digest\n")
    groupings = [o for o in json.loads(out)["objects"] if o["type"] == "grouping"]
    assert len(groupings) == 2


def test_a_hostile_mail_and_a_missing_file_are_one_line_each(config: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.eml"
    bomb.write_bytes(b"From: a@x.example\r\nDate: Tue, 01 Oct 2013 14:43:05 +0900\r\nSubject: "
                     + b" ".join([b"=?UTF-8?B?5rK/?="] * 40_000) + b"\r\n\r\nx")
    code, _, err = run(config, "convert", str(bomb), str(tmp_path / "missing.json"))
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"taxii-hub: {bomb}: max_header_block_bytes: ")
    assert lines[1] == f"taxii-hub: {tmp_path / 'missing.json'}: (file): no such file or directory"
    assert "Traceback" not in err


def test_validate_accepts_a_converted_bundle(config: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "good.json"
    assert run(config, "convert", str(SAMPLES / "records" / "case04-conversation.json"), "-o", str(bundle))[0] == 0
    code, out, err = run(config, "validate", str(bundle))
    assert (code, out, err) == (0, f"{bundle}: valid\n", "")


def test_validate_rejects_a_bundle_breaking_stix_and_hub_rules(config: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    run(config, "convert", str(SAMPLES / "records" / "case09-lnk-in-zip.json"), "-o", str(good))
    bundle = json.loads(good.read_text("utf-8"))
    files = [o for o in bundle["objects"] if o["type"] == "file"]
    files[0]["hashes"]["sha256"] = files[0]["hashes"].pop("SHA-256")
    email = next(o for o in bundle["objects"] if o["type"] == "email-message")
    email["to_refs"] = [email["from_ref"]]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle))
    code, out, err = run(config, "validate", str(good), str(bad))
    assert code == 1
    assert out == f"{good}: valid\n"
    lines = err.splitlines()
    assert any(line.startswith(f"taxii-hub: {bad}: stix2-validator: ") and "{241}" in line for line in lines)
    assert any(line.startswith(f"taxii-hub: {bad}: hub rules: ") and "to_refs" in line for line in lines)


def test_validate_reports_unreadable_json_in_one_line(config: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    code, _, err = run(config, "validate", str(broken))
    assert code == 1
    assert err.startswith(f"taxii-hub: {broken}: (json): invalid JSON: ")
    assert err.count("\n") == 1


def test_a_record_over_a_budget_is_one_line_naming_field_and_limit(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('[conversion]\nid_key = "cli-test-key"\n[limits]\nmax_recipients = 2\n')
    record = json.loads(RECORD_SAMPLES[0].read_text())
    record["messages"][0]["to"] = [{"address": f"hidden{i}@r.example"} for i in range(3)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(record))
    code, out, err = run(config, "convert", str(path))
    assert (code, out) == (1, "")
    assert err == (f"taxii-hub: {path}: (file): messages[0]: more than 2 recipients in to and cc "
                   "(limit 2, max_recipients)\n")
