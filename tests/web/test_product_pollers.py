"""Real pollers' habits over a stream of commits, each object counted exactly once, and successive ATT&CK-
shaped releases loaded with their keys reordered (platforms-and-clients.md R115-R127):

- OpenCTI keeps X-TAXII-Date-Added-Last truncated to milliseconds as the next run's added_after and follows
  `next` within a run;
- Elastic's ti_custom (before 1.8.2) sends added_after and limit on the first page and only `next` and limit
  on later pages;
- stix2's TAXIICollectionSink, or any serialiser, may send an object the hub holds with its keys in another
  order: that is the same object (a duplicate), not a conflict.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import pytest

from tests.support.hubtest import C_RW, Hub, collection_path, get, indicator, new_id, post_objects

EPOCH = "1970-01-01T00:00:00.000Z"


def _truncated_to_ms(stamp: str) -> str:
    return stamp[:23] + "Z"  # 2026-01-01T00:00:00.123456Z -> 2026-01-01T00:00:00.123Z


def _opencti_run(hub: Hub, cursor: str, seen: Counter[str]) -> str:
    query = f"added_after={cursor}&limit=3"
    last = None
    while True:
        response = get(hub, collection_path(C_RW, f"objects/?{query}"))
        assert response.status_code == 200, response.data
        if response.data == b"{}":
            break
        seen.update(o["id"] for o in response.json["objects"])
        last = response.headers["X-TAXII-Date-Added-Last"]
        if not response.json.get("more"):
            break
        query = f"added_after={cursor}&limit=3&next={response.json['next']}"
    return _truncated_to_ms(last) if last else cursor


def _elastic_run(hub: Hub, cursor: str, seen: Counter[str]) -> str:
    response = get(hub, collection_path(C_RW, f"objects/?added_after={cursor}&limit=2"))
    last = cursor
    while response.status_code == 200 and response.data != b"{}":
        seen.update(o["id"] for o in response.json["objects"])
        last = response.headers["X-TAXII-Date-Added-Last"]
        if not response.json.get("more"):
            break
        response = get(hub, collection_path(C_RW, f"objects/?next={response.json['next']}&limit=2"))
    assert response.status_code == 200, response.data
    return last


@pytest.mark.parametrize("run", [_opencti_run, _elastic_run], ids=["opencti", "elastic"])
def test_a_product_poller_over_a_stream_of_commits_gets_every_object_exactly_once(hub: Hub, run: Any) -> None:
    rng = random.Random(14)
    posted: list[str] = []
    seen: Counter[str] = Counter()
    cursor = EPOCH
    for _ in range(12):
        commit = [indicator() for _ in range(rng.randint(1, 7))]
        assert post_objects(hub, "alice", C_RW, commit).json["success_count"] == len(commit)
        posted += [o["id"] for o in commit]
        if rng.random() < 0.6:  # the poller runs between some commits, not after every one
            cursor = run(hub, cursor, seen)
    for _ in range(2):
        cursor = run(hub, cursor, seen)
    assert sorted(seen) == sorted(posted)
    assert set(seen.values()) == {1}, [i for i, n in seen.items() if n > 1]


def _attack_pattern(n: int, modified: str) -> dict[str, Any]:
    return {
        "type": "attack-pattern", "spec_version": "2.1", "id": f"attack-pattern--{n:08d}-0000-4000-8000-000000000000",
        "created": "2017-05-31T21:30:00.000Z", "modified": modified, "name": f"Technique {n}",
        "description": f"Adversaries may do thing {n}.",
        "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
        "external_references": [{"source_name": "mitre-attack", "external_id": f"T{1000 + n}",
                                 "url": f"https://attack.mitre.org/techniques/T{1000 + n}"}],
        "x_mitre_version": "1.0", "x_mitre_platforms": ["Windows", "Linux"], "x_mitre_deprecated": False,
        "x_mitre_domains": ["enterprise-attack"],
    }


def _reordered(obj: Any) -> Any:
    """The same value with every object's keys in reverse order (as another serialiser might write it)."""
    if isinstance(obj, dict):
        return {k: _reordered(obj[k]) for k in reversed(list(obj))}
    if isinstance(obj, list):
        return [_reordered(v) for v in obj]
    return obj


def _post_release(hub: Hub, objects: list[dict[str, Any]]) -> dict[str, Any]:
    body = json.dumps({"objects": objects}, indent=1).encode()
    response = hub.client().post(collection_path(C_RW, "objects/"), data=body,
                                 headers=hub.headers("alice", **{"Content-Type": "application/taxii+json;version=2.1"}))
    assert response.status_code == 202, response.data
    status: dict[str, Any] = response.json
    return status


def test_successive_attack_releases_with_reordered_keys_add_only_what_changed(hub: Hub) -> None:
    v1 = [_attack_pattern(n, "2020-01-01T00:00:00.000Z") for n in range(40)]
    assert _post_release(hub, v1)["success_count"] == 40
    # The next release: the same 40 (30 unchanged, keys reordered and pretty-printed), 10 with a new modified,
    # and 5 new techniques.
    v2 = [_reordered(o) for o in v1[:30]] + [_attack_pattern(n, "2021-06-01T00:00:00.000Z") for n in range(30, 45)]
    status = _post_release(hub, v2)
    assert status["success_count"] == 45 and status["failure_count"] == 0, status.get("failures")
    already = [s for s in status["successes"] if s.get("message") == "already present"]
    assert len(already) == 30
    # And the release after that, unchanged but serialised differently again: nothing new, nothing refused.
    status = _post_release(hub, [_reordered(o) for o in v2])
    assert status["success_count"] == 45 and status["failure_count"] == 0
    assert sum(1 for s in status["successes"] if s.get("message") == "already present") == 45


def test_a_different_object_with_the_same_id_and_version_is_still_refused(hub: Hub) -> None:
    oid = new_id("indicator")
    assert post_objects(hub, "alice", C_RW, [indicator(oid)]).json["success_count"] == 1
    changed = post_objects(hub, "alice", C_RW, [indicator(oid, name="another name")]).json
    assert changed["failure_count"] == 1
