"""Correlation at scale: a generated history (bench/corrgen.py) loaded into a fresh SQLite hub, then measured.

    .venv/bin/python -m bench.correlation --sizes 10k,100k

Per size: the history's submissions, digests and live index rows are inserted directly in bulk (the history
is set-up, not measured); then
- rebuild: `campaigns rebuild` of the whole history (time; peak memory of a separate process doing it);
- precision/recall against the generator's ground truth (planted campaigns found whole; candidates that are
  not exactly a planted campaign);
- correlating one new submission: 1000 new reports (`--jobs`; campaign continuations, one-offs, popular
  values) each stored and then taken in by one correlation job — p50/p99 of the job (its batch transaction,
  committed; not the WAL checkpoint the worker makes once the queue is empty);
- listing candidates: the analyst's first page (50) — p50/p99 over 50 reads;
- POST /hub/v1/submissions in process (Flask test client, no TLS): p50/p99 over 200 distinct reports, and
  the ratio against the smallest size of the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from taxii_server.hub.correlation import USED, Policy, candidate_from, eligible, postings_for
from taxii_server.hub.correlator import Correlator
from taxii_server.model import Organisation, Principal, SubmissionContent
from taxii_server.storage.sqlite import SQLiteStore

from . import corrgen

ANALYST = Principal("hub-analyst", "hub", frozenset({"analyst"}))
SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load(path: Path, size: int, seed: int) -> dict[str, int]:
    """Insert the history in bulk; the ground truth (submission → planted campaign).

    Set-up, not measured: large transactions without fsync and a large page cache on this one connection, the
    index by submission dropped while loading and built once at the end. (A crash while loading leaves a
    history to load again, nothing else.)"""
    store = SQLiteStore(path)
    store.initialise()
    for org_id, group in corrgen.groups().items():
        store.add_organisation(Organisation(org_id, org_id, group, ("member",), "2024-01-01T00:00:00Z"))
    conn = store._conn()
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")  # KiB: 1 GB at most, while loading
    conn.execute("DROP INDEX IF EXISTS corr_postings_submission")
    truth: dict[str, int] = {}
    subs: list[tuple[object, ...]] = []
    digests: list[tuple[str, str, str]] = []
    postings: list[tuple[str, str, str, str, int, int]] = []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO submissions (id, org_id, received_at_us, doc, raw, records, draft) "
                         "VALUES (?,?,?,?,?,?,?)", subs)
        conn.executemany("INSERT INTO submission_digests (org_id, sha256, submission_id) VALUES (?,?,?)", digests)
        postings.sort()
        conn.executemany("INSERT INTO corr_postings (kind, value, submission_id, org_id, first_us, last_us, live) "
                         "VALUES (?,?,?,?,?,?,1)", postings)
        conn.execute("COMMIT")
        subs.clear()
        digests.clear()
        postings.clear()

    for s, campaign in corrgen.iter_history(size, seed):
        if campaign is not None:
            truth[s.id] = campaign
        postings.extend((p.kind, p.value, p.submission_id, p.org_id, p.first_us, p.last_us) for p in postings_for(s))
        # orjson writes a Submission dataclass exactly as orjson.dumps(submission_to_doc(s)) does, 20x faster
        subs.append((s.id, s.org_id, s.received_at_us, orjson.dumps(s), b"", b"[]", b"{}"))
        digests.append((s.org_id, s.content_sha256, s.id))
        if len(subs) >= 50_000:
            flush()
    if subs:
        flush()
    conn.execute("PRAGMA synchronous = FULL")
    store.close()
    store = SQLiteStore(path)
    store.initialise()  # creates the index by submission again, in one pass
    store.close()
    return truth


def rebuild_in_subprocess(path: Path) -> tuple[float, int, int]:
    """(seconds, candidates, peak RSS in KiB) of `rebuild` run alone in a fresh process. The peak is the
    process's own VmHWM (ru_maxrss would also count the parent's memory at fork)."""
    code = ("import resource, sys, time\n"
            "from taxii_server.storage.sqlite import SQLiteStore\n"
            "from taxii_server.hub.correlation import Policy\n"
            "from taxii_server.hub.correlator import Correlator\n"
            "s = SQLiteStore(__import__('pathlib').Path(sys.argv[1])); s.initialise()\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "t = time.monotonic(); n = Correlator(s, Policy()).rebuild(); t = time.monotonic() - t\n"
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n"
            "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
            "    peak = int(status.split()[0])\n"
            "except (OSError, IndexError, ValueError):\n"
            "    pass\n"
            "print(t, n, peak, base)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    seconds, made, peak, _base = out.stdout.split()
    return float(seconds), int(made), int(peak)


def precision(store: SQLiteStore, truth: dict[str, int]) -> dict[str, Any]:
    planted: dict[int, set[str]] = {}
    for sid, n in truth.items():
        planted.setdefault(n, set()).add(sid)
    wanted = {frozenset(v) for v in planted.values()}
    popular = {(kind, value) for kind, value, _ in corrgen.POPULAR}
    found: set[frozenset[str]] = set()
    stray: dict[str, int] = {}  # what links each candidate that is not exactly a planted campaign
    joining, through_popular, after = 0, 0, None
    while page := store.list_candidates(after, 5000):  # a page at a time: bounded memory at 1M
        for stored in page:
            members = frozenset(stored.members)
            found.add(members)
            if members in wanted:
                continue
            campaigns = {truth[sid] for sid in members if sid in truth}
            joining += len(campaigns) >= 2
            used = [e for e in candidate_from(stored).evidence if e.state == USED]
            through_popular += any((e.kind, e.value) in popular for e in used)
            why = "+".join(sorted({e.kind for e in used})) or "merge"
            why += " (with planted reports)" if campaigns else " (no planted report)"
            stray[why] = stray.get(why, 0) + 1
        after = (page[-1].last_us, page[-1].id)
    return {"planted": len(wanted), "found_whole": sum(1 for v in wanted if v in found), "candidates": len(found),
            "not_a_planted_campaign": sum(stray.values()), "joining_planted_campaigns": joining,
            "linked_through_a_popular_value": through_popular, "not_planted_linked_by": stray}


def new_reports(size: int, seed: int, count: int) -> list[Any]:
    """Reports arriving now: the tail of a larger history of the same shape (campaigns, one-offs, popular)."""
    rng = random.Random(seed)
    total = size + count * 5
    order = rng.sample(range(total), count)  # which of the larger history's reports, in sampling order
    wanted = set(order)
    kept = {n: s for n, (s, _) in enumerate(corrgen.iter_history(total, seed + 1)) if n in wanted}
    return [dataclasses.replace(kept[i], id=f"new-{n:06d}-{kept[i].id}", content_sha256=f"new-{n}")
            for n, i in enumerate(order)]


def correlate_one(store: SQLiteStore, reports: list[Any]) -> dict[str, float]:
    correlator = Correlator(store, Policy())
    jobs: list[float] = []
    for n, s in enumerate(reports):
        store.add_submission_once(s, SubmissionContent(b"", b"[]", b"{}"), postings_for(s) if eligible(s) else [], n)
        started = time.perf_counter()
        correlator.step(1)
        jobs.append((time.perf_counter() - started) * 1000)
        correlator.idle()  # as the worker does on finding the queue empty (SQLite: the WAL checkpoint)
    return {"p50_ms": round(_pct(jobs, 0.5), 2), "p99_ms": round(_pct(jobs, 0.99), 2), "n": len(jobs)}


def list_first_page(store: SQLiteStore, path: Path) -> dict[str, float]:
    from taxii_server.hub.audit import AuditLog
    from taxii_server.hub.campaigns import Campaigns

    campaigns = Campaigns(store, Correlator(store, Policy()), AuditLog(store))
    took = []
    for _ in range(50):
        started = time.perf_counter()
        campaigns.page(ANALYST, 50)
        took.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(_pct(took, 0.5), 2), "p99_ms": round(_pct(took, 0.99), 2)}


def post_latency(path: Path, workdir: Path, count: int = 200) -> dict[str, float]:
    """POST /hub/v1/submissions through the application in process (Flask test client)."""
    from taxii_server.accounts import OPERATOR, Accounts
    from taxii_server.app import create_app
    from taxii_server.settings import load_settings

    config = workdir / "hub.toml"
    repo = Path(__file__).resolve().parents[1]
    config.write_text(f'data_dir = "{workdir}"\ncollections_dir = "{repo / "collections"}"\n'
                      f'[storage]\nurl = "sqlite:///{path}"\n[limits]\nenabled = false\n')
    settings = load_settings(config, env={})
    store = SQLiteStore(path)
    store.initialise()
    accounts = Accounts(store)
    if store.get_organisation("bench-member") is None:
        accounts.add_organisation(OPERATOR, "bench-member", "Bench member", "group-0", ("member",))
    key = accounts.create_key(OPERATOR, "bench-member", "bench").secret
    client = create_app(settings, store).test_client()
    import base64
    auth = {"Authorization": "Basic " + base64.b64encode(f"bench-member:{key}".encode()).decode(),
            "Content-Type": "application/json", "Accept": "application/json"}
    took = []
    for n in range(count):
        body = orjson.dumps({
            "format": "incident-record/1", "id": f"B-{n}", "reporter": "bench-member",
            "reported_at": "2024-06-01T10:00:00+09:00", "tlp": "amber", "lang": "ja", "title": "bench",
            "messages": [{"ref": "#1", "role": "attack", "sent_at": "2024-06-01T10:00:00+09:00",
                          "from": {"address": f"s{n % 7}@bench-attacker.example"},
                          "to": [{"address": "soc@bench-member.example"}], "subject": f"件名 {n}", "body": "本文",
                          "urls": [f"https://bench-{n % 13}.example/x"]}]})
        started = time.perf_counter()
        reply = client.post("/hub/v1/submissions", data=body, headers=auth)
        took.append((time.perf_counter() - started) * 1000)
        assert reply.status_code == 202, reply.data
    store.close()
    return {"p50_ms": round(_pct(took, 0.5), 2), "p99_ms": round(_pct(took, 0.99), 2)}


def run(size: int, seed: int, into: Path | None, jobs: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"corrbench-{size}-", dir=into))
    try:
        return _measure(workdir, size, seed, jobs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(workdir: Path, size: int, seed: int, jobs: int) -> dict[str, Any]:
    path = workdir / "hub.sqlite3"
    result: dict[str, Any] = {"size": size}
    started = time.monotonic()
    truth = load(path, size, seed)
    result["load_s"] = round(time.monotonic() - started, 1)
    seconds, made, peak = rebuild_in_subprocess(path)
    result["rebuild"] = {"seconds": round(seconds, 1), "candidates": made, "peak_rss_mib": round(peak / 1024, 1)}
    store = SQLiteStore(path)
    store.initialise()
    result["precision"] = precision(store, truth)
    result["correlate_one"] = correlate_one(store, new_reports(size, seed, jobs))
    result["list_first_page"] = list_first_page(store, path)
    store.close()
    result["post"] = post_latency(path, workdir)
    result["db_mib"] = round(os.path.getsize(path) / 2**20, 1)
    result["wall_s"] = round(time.monotonic() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated: 10k, 100k, 1m")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--jobs", type=int, default=1000, help="new submissions correlated one at a time")
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the histories are built (default: the system's temporary directory); "
                             "1m needs about 3 GB free; each is deleted after its size is measured")
    args = parser.parse_args()
    base: dict[str, float] = {}
    for size in args.sizes.split(","):  # each size's line as soon as it is measured
        r = run(SIZES[size.strip().lower()], args.seed, args.dir, args.jobs)
        base = base or r["post"]
        r["post"]["ratio_to_first_size_p50"] = round(r["post"]["p50_ms"] / base["p50_ms"], 2)
        r["post"]["ratio_to_first_size_p99"] = round(r["post"]["p99_ms"] / base["p99_ms"], 2)
        print(json.dumps(r), flush=True)
    print("max RSS of this process (MiB):", round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))


if __name__ == "__main__":
    main()
