"""`taxii-hub import` and `migrate` carry the reports and the analysts' corrections (exclusions, splits, merges),
and end by indexing every report and recomputing the candidates: the copy has the same candidates as its
source, every report indexed once, nothing left queued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from taxii_server.cli import main
from taxii_server.storage.sqlite import SQLiteStore
from tests.support.hubflow import DemoHub, drained, make_demo_hub, principal, submit_campaign, write_config

ANALYST = "hub-analyst"


@pytest.fixture
def source(tmp_path: Path) -> Iterator[DemoHub]:
    built = make_demo_hub(tmp_path / "source")
    ids = submit_campaign(built)
    campaigns = built.services.campaigns
    drained(built)
    (candidate,) = campaigns.suggest(principal(ANALYST))
    campaigns.exclude(principal(ANALYST), "c2-domain", "news.asia-timeline.example", "a sinkhole")
    campaigns.split(principal(ANALYST), candidate.id, ids[:1], "another actor")
    drained(built)
    yield built
    built.store.close()


def run(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def candidate_docs(store: SQLiteStore) -> list[bytes]:
    return sorted(orjson.dumps(orjson.loads(c.doc), option=orjson.OPT_SORT_KEYS)
                  for c in store.list_candidates(None, 10_000))


def assert_same_correlation(copy: SQLiteStore, source: DemoHub) -> None:
    assert candidate_docs(copy) == candidate_docs(source.store) != []
    assert copy.list_exclusions() == source.store.list_exclusions() != []
    assert copy.list_overrides() == source.store.list_overrides() != []
    assert copy.correlation_backlog()[0] == 0
    ids = [s.id for s in copy.list_submissions()]
    postings = copy.postings_of(ids)
    assert postings and all(p.live for p in postings)
    assert len({(p.submission_id, p.kind, p.value) for p in postings}) == len(postings)
    assert sorted(postings, key=repr) == sorted(source.store.postings_of(ids), key=repr)


def test_an_imported_hub_has_the_index_the_corrections_and_the_candidates_of_its_source(
    source: DemoHub, tmp_path: Path,
) -> None:
    run(source.config_path, "export", "-o", str(tmp_path / "dump"))
    (tmp_path / "copy").mkdir()
    config = write_config(tmp_path / "copy" / "hub.toml", tmp_path / "copy")
    imported = run(config, "import", str(tmp_path / "dump"))
    assert "campaign candidates" in imported.stdout
    copy = SQLiteStore(tmp_path / "copy" / "hub.sqlite3")
    try:
        assert_same_correlation(copy, source)
    finally:
        copy.close()


def test_a_migrated_hub_has_the_index_and_the_candidates_of_its_source(source: DemoHub, tmp_path: Path) -> None:
    target = tmp_path / "migrated.sqlite3"
    migrated = run(source.config_path, "migrate", "--to", f"sqlite:///{target}", "--json")
    assert orjson.loads(migrated.stdout)["campaign_candidates"] == len(candidate_docs(source.store))
    copy = SQLiteStore(target)
    try:
        assert_same_correlation(copy, source)
    finally:
        copy.close()
