"""TAXII benchmark: the hub against OpenTAXII and medallion over loopback HTTP (issue #7).

    .venv/bin/python -m bench.run                       # sizes 10k,100k (+1k for medallion); `make bench`
    .venv/bin/python -m bench.run --quick               # 1k and 10k, short runs; `make bench-quick`
    .venv/bin/python -m bench.run --sizes 10k,100k,1m   # the 1M size loads the hub through its storage API
    .venv/bin/python -m bench.run --peers opentaxii     # skip medallion; --peers none for the hub alone

For each size: generate the objects (bench/generate.py, seeded), start each server in turn with the same
objects in a read collection, run the workloads (bench/workloads.py) with warm-up and medians of --runs runs,
stop it, and move on; then the conversion figures (bench/convert.py). Writes bench/results/latest.json and
latest.md and prints the tables. Peers are installed into bench/.peers/ on first use. Every server is stopped
at the end, also on Ctrl-C, SIGTERM or an error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from . import procs, report, workloads
from .generate import generate, parse_size, size_label
from .hub import HubSetup
from .peers import MedallionSetup, OpenTaxiiSetup
from .target import Setup

RESULTS = Path(__file__).resolve().parent / "results"
IN_MEMORY_MAX = 200_000  # above this, objects stream through a file instead of a list


def _params(quick: bool, runs: int) -> workloads.Params:
    if quick:
        return workloads.Params(runs=runs, duration_s=1.5, warmup_s=0.5, timeout_s=30.0, ingest_envelopes=3,
                                probe_timeout_s=10.0)
    return workloads.Params(runs=runs, duration_s=5.0, warmup_s=1.0, timeout_s=60.0, ingest_envelopes=10)


def _materialise(count: int, seed: int, path: Path) -> tuple[list[dict[str, Any]] | None, str]:
    """Write the objects to `path` (JSON Lines); keep them in memory when small. Returns them and a middle id."""
    kept: list[dict[str, Any]] | None = [] if count <= IN_MEMORY_MAX else None
    middle = ""
    with path.open("w", encoding="utf-8") as out:
        for n, obj in enumerate(generate(count, seed)):
            out.write(json.dumps(obj, separators=(",", ":")) + "\n")
            if kept is not None:
                kept.append(obj)
            if n == count // 2:
                middle = obj["id"]
    return kept, middle


def _envelopes(count: int, seed: int) -> list[bytes]:
    objects = list(generate(count * 1000, seed + 1))
    return [json.dumps({"objects": objects[i:i + 1000]}).encode() for i in range(0, len(objects), 1000)]


def _analyze_hub(target_workdir: Path) -> None:
    """ANALYZE the hub's database (only with --analyze-hub: an experiment for a proposed change)."""
    conn = sqlite3.connect(target_workdir / "hub" / "var" / "hub.sqlite3")
    try:
        conn.execute("ANALYZE")
    finally:
        conn.close()


def run_size(count: int, setups: Sequence[Setup], p: workloads.Params, seed: int, workdir: Path,
             medallion_max: int, analyze_hub: bool) -> dict[str, Any]:
    label = size_label(count)
    sizedir = workdir / label
    sizedir.mkdir()
    objects_file = sizedir / "objects.jsonl"
    print(f"[{label}] generating {count:,} objects (seed {seed})", flush=True)
    objects, middle_id = _materialise(count, seed, objects_file)
    envelopes = _envelopes(p.ingest_envelopes, seed)
    result: dict[str, Any] = {"count": count, "servers": {}}
    for setup in setups:
        if setup.name == "medallion" and count > medallion_max:
            result["servers"][setup.name] = {
                "load_seconds": 0.0, "load_method": "not loaded", "notes": [],
                "metrics": {"not measured": {"unit": "", "better": "higher", "value": None, "runs": [],
                                             "error": f"not attempted above {size_label(medallion_max)} objects "
                                                      "(its first page is quadratic in the collection size)"}}}
            continue
        serverdir = sizedir / setup.name
        serverdir.mkdir()
        print(f"[{label}] {setup.name}: starting and loading", flush=True)
        gc.collect()
        try:
            target = setup.start(serverdir, objects, objects_file, count, p.runs + 1)
        except RuntimeError as exc:
            result["servers"][setup.name] = {
                "load_seconds": 0.0, "load_method": "failed", "notes": [],
                "metrics": {"not measured": {"unit": "", "better": "higher", "value": None, "runs": [],
                                             "error": f"could not load/start: {str(exc)[:300]}"}}}
            continue
        try:
            if analyze_hub and setup.name == report.HUB:
                _analyze_hub(serverdir)
                target.notes.append("ANALYZE run after loading (--analyze-hub)")
            print(f"[{label}] {setup.name}: loaded in {target.load_seconds:.1f} s; measuring", flush=True)
            metrics = workloads.run_all(target, p, count, middle_id, envelopes, probe_timeout_s=p.probe_timeout_s)
        finally:
            target.server.stop()
        result["servers"][setup.name] = {
            "load_seconds": target.load_seconds, "load_method": target.load_method, "notes": target.notes,
            "metrics": {name: m.as_dict() for name, m in metrics.items()},
        }
    return result


def conversion(quick: bool) -> dict[str, Any]:
    from converters import load_records, record_to_bundle

    from . import convert

    records_n, stix2_n = (1000, 100) if quick else (10_000, 1000)
    records = load_records(json.dumps(convert.generate(records_n, 7)).encode(), "generated")
    record_to_bundle(records[0], convert.OPTIONS)  # warm-up
    seconds, _cpu, indicators, _patterns = convert.hub_path(records)
    lib_seconds, _lib_cpu, _ = convert.stix2_path(records[:stix2_n])
    return {"records": records_n, "indicators": indicators, "records_per_s": records_n / seconds,
            "indicators_per_s": indicators / seconds, "stix2_records": stix2_n,
            "stix2_records_per_s": stix2_n / lib_seconds, "ratio": (records_n / seconds) / (stix2_n / lib_seconds)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k, short runs (1-2 minutes once installed)")
    parser.add_argument("--sizes", default=None, help="comma-separated: 1k,10k,100k,1m (default 1k,10k,100k)")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per workload (median reported)")
    parser.add_argument("--peers", default="opentaxii,medallion", help="comma-separated peers, or 'none'")
    parser.add_argument("--medallion-max", type=parse_size, default=10_000,
                        help="largest size medallion is tried at (default 10k)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-conversion", action="store_true")
    parser.add_argument("--analyze-hub", action="store_true",
                        help="experiment: run SQLite ANALYZE on the hub's database after loading")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory (server logs, data)")
    args = parser.parse_args(argv)

    sizes = [parse_size(s) for s in (args.sizes or ("1k,10k" if args.quick else "1k,10k,100k")).split(",")]
    peers = [] if args.peers == "none" else [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = set(peers) - {"opentaxii", "medallion"}
    if unknown:
        parser.error(f"unknown peer(s): {', '.join(sorted(unknown))}")
    p = _params(args.quick, args.runs)
    setups: list[Setup] = [HubSetup(args.workers, args.threads)]
    if "opentaxii" in peers:
        setups.append(OpenTaxiiSetup(args.workers, args.threads))
    if "medallion" in peers:
        setups.append(MedallionSetup(args.threads))

    procs.install_signal_handlers()
    from .convert import machine

    workdir = Path(tempfile.mkdtemp(prefix="taxii-bench-"))
    load_before = os.getloadavg()
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": machine(),
                               "params": asdict(p), "sizes": {}}
    try:
        for setup in setups:
            print(f"preparing {setup.name}", flush=True)
            setup.prepare()
        for count in sizes:
            results["sizes"][size_label(count)] = run_size(count, setups, p, args.seed, workdir,
                                                           args.medallion_max, args.analyze_hub)
        if not args.no_conversion:
            print("conversion", flush=True)
            results["conversion"] = conversion(args.quick)
    except KeyboardInterrupt:
        print("interrupted: stopping servers", file=sys.stderr)
        return 130
    finally:
        procs.stop_all()
        if args.keep:
            print(f"scratch directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    load_after = os.getloadavg()
    results["conditions"] = (
        f"Hub and peers under gunicorn gthread, {args.workers} workers x {args.threads} threads (medallion: 1 "
        f"worker); client on the same machine (http.client, keep-alive); medians of {p.runs} runs of "
        f"{p.duration_s:g} s after {p.warmup_s:g} s warm-up; 1-minute load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after" + (" (ANALYZE on the hub's database)" if args.analyze_hub else "") + "."
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2))
    text = report.markdown(results)
    (RESULTS / "latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
