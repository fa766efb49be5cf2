"""Where a watcher refresh spends its time: the bench's watch row, phase by phase.

    python bench/profile_refresh.py --snapshot <bench work dir after its train stage> [--cprofile out.prof]

Copies the snapshot (store, bundle, synthetic league: `python bench/run_benchmarks.py --dataset synthetic
--watch --snapshot DIR` writes one just before its watch stage) into a scratch dir and runs the
watcher over the same window as `watch_bench` (2.5 h before the first tip, replayed clock that never waits),
warm dbt. Prints per refresh: the latency (report landed -> published), the job's phases (ingest, schedule
checks, dbt build, coverage checks, export, score, reports, the rest = publication and registry), the warm
worker's build seconds and its nodes' execution seconds (models / tests, the slowest nodes), then the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--snapshot", required=True, type=Path)
    ap.add_argument("--dataset-dir", type=Path, default=None,
                    help="the league directory the store was built from (a store names its dataset directory; "
                         "default: <snapshot>/synthetic_league)")
    ap.add_argument("--date", default="2025-01-15")
    ap.add_argument("--cprofile", type=Path, default=None, help="write a cProfile of the watcher process here")
    ap.add_argument("--keep", action="store_true", help="keep the scratch dir")
    ns = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="minutes-live-profile-"))
    shutil.copytree(ns.snapshot, work, dirs_exist_ok=True)
    config = json.loads((ns.snapshot / "minutes_current_run.json").read_text())
    config["bundle_dir"] = str(work / "bundle" / Path(config["bundle_dir"]).name)
    (work / "minutes_current_run.json").write_text(json.dumps(config))
    os.environ.update({"MINUTES_LIVE_DATA_ROOT": str(work / "data"), "MINUTES_LIVE_DUCKDB": str(work / "data" / "bench.duckdb"),
                       "MINUTES_LIVE_ARTIFACTS": str(work / "artifacts"), "MINUTES_LIVE_REPORTS": str(work / "reports")})

    from bench.run_benchmarks import first_tip
    from foundation import registry, settings
    from minutes_live.watch.warm_dbt import WarmDbt
    from minutes_live.watch.watcher import WatchConfig, Watcher

    tip = first_tip(work / "data" / "bench.duckdb", ns.date)
    cfg = WatchConfig(day=date.fromisoformat(ns.date), source="synthetic", dataset_dir=ns.dataset_dir or ns.snapshot / "synthetic_league",
                      clock_speed=0, start=tip - timedelta(minutes=150), until=tip, allow_missing_injuries=True,
                      allow_missing_odds=True, bundle_config=work / "minutes_current_run.json")
    profiler = None
    if ns.cprofile:
        import cProfile

        profiler = cProfile.Profile()
    with WarmDbt().installed() as warm:
        watcher = Watcher(cfg)
        if profiler:
            profiler.enable()
        summary = watcher.run()
        if profiler:
            profiler.disable()
            profiler.dump_stats(str(ns.cprofile))
    lines = {a["run_id"]: a for a in registry.attempts(settings.registry_root(cfg.dataset))
             if a.get("job") == "watch" and a.get("status") == "succeeded"}
    rows = []
    for i, (run_id, latency) in enumerate(zip(summary.runs, summary.latency_seconds, strict=True)):
        job = lines.get(run_id, {}).get("durations_seconds", {})
        inner = {}
        run_dir = Path(lines.get(run_id, {}).get("paths", {}).get("features", ""))
        if (run_dir / "summary.json").is_file():
            inner = json.loads((run_dir / "summary.json").read_text()).get("durations_seconds", {})
        build = warm.timings[i] if i < len(warm.timings) else {"seconds": None, "nodes": {}}
        by_type = defaultdict(float)
        count = defaultdict(int)
        for uid, s in build["nodes"].items():
            by_type[uid.split(".", 1)[0]] += s
            count[uid.split(".", 1)[0]] += 1
        rest = job.get("total", 0) - job.get("build", 0) - job.get("score", 0) - job.get("reports", 0)
        rows.append({"run": run_id, "latency": latency, **{f"job.{k}": v for k, v in job.items()},
                     **{f"build.{k}": round(v, 2) for k, v in inner.items()}, "job.publish_etc": round(rest, 2),
                     "dbt.worker": build["seconds"], "dbt.nodes": dict(count),
                     "dbt.node_seconds": {k: round(v, 2) for k, v in by_type.items()},
                     "dbt.slowest": sorted(build["nodes"].items(), key=lambda kv: -kv[1])[:8]})
    for r in rows:
        print(json.dumps(r))
    later = rows[1:]
    if later:
        keys = [k for k, v in later[0].items() if isinstance(v, int | float)]
        print("median of the refreshes after the first:")
        print(json.dumps({k: round(statistics.median(r[k] for r in later if isinstance(r.get(k), int | float)), 3)
                          for k in keys}))
        totals = defaultdict(list)
        for i in range(1, len(warm.timings)):
            for uid, s in warm.timings[i]["nodes"].items():
                totals[uid].append(s)
        print("nodes by median seconds (refreshes after the first):")
        for uid, ss in sorted(totals.items(), key=lambda kv: -statistics.median(kv[1])):
            print(f"  {statistics.median(ss):6.3f}  {uid}")
    print(f"worker parse {warm.parse_seconds} s; work dir {work}; at {datetime.now(UTC).isoformat()}")
    if not ns.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
