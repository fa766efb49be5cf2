"""Benchmarks: wall time and peak memory per stage (each stage runs in its own process).

    ./dev bench                      # real data from ../shared/data/nba (five seasons) into a scratch dir
    ./dev bench --dataset synthetic  # the embedded synthetic league

Stages: bare `dbt parse`, backfill ingest, gold mart build (dbt), one live job (ingest -> dbt build ->
score -> publish) for a 10+-game slate, and the ratio of the live job to `dbt parse`. Peak memory is the
max RSS of the stage process and of its children (dbt runs as a child). Results are printed as a table
and written to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _stage_body(stage: str, args: dict) -> dict:
    """Runs inside the stage process."""
    from foundation import settings

    out: dict = {}
    if stage == "dbt_parse":
        from minutes_live.dbt_runner import run_dbt

        run_dbt(["parse"], quiet=True)
    elif stage == "synth":
        from snapshots_ingest.synthetic_league import generate_league

        generate_league(Path(args["dataset_dir"]), seed=7)
    elif stage == "ingest_backfill":
        from minutes_live.gold import ingest_backfill

        s = ingest_backfill(Path(args["dataset_dir"]), db_path=settings.duckdb_path(), data_root=settings.data_root())
        out["rows_inserted"] = sum(k.rows_inserted for k in s.kinds.values())
    elif stage == "gold_build":
        from minutes_live.gold import build_gold_features

        frame = build_gold_features(Path(args["dataset_dir"]), 30, ingest=False)
        out["gold_rows"] = len(frame)
        frame.to_parquet(Path(args["work"]) / "gold.parquet", index=False)
    elif stage == "train":
        import pandas as pd

        from scoring.train import promote, train_bundle

        frame = pd.read_parquet(Path(args["work"]) / "gold.parquet")
        frame = frame[pd.to_datetime(frame["game_date"]) < pd.Timestamp(args["date"])]
        bundle = train_bundle(frame, Path(args["work"]) / "bundle", seed=7)
        promote(bundle, Path(args["work"]) / "minutes_current_run.json")
        out["train_rows"] = len(frame)
    elif stage == "live_job":
        from minutes_live.build_cli import config_from_flags
        from minutes_live.job import run_job

        cfg = config_from_flags(args["date"], args["run_as_of_ts"], args["source"], Path(args["dataset_dir"]), None, None,
                                None, None, None, True, True, False, False, None, None, {})
        res = run_job(cfg, job="bench", bundle_config=Path(args["work"]) / "minutes_current_run.json")
        out["slate_rows"] = res.summary["rows"]
        out["slate_games"] = res.summary["games"]
        out["stage_durations"] = res.summary["durations_seconds"]
    else:
        raise SystemExit(f"unknown stage {stage}")
    return out


def run_stage(stage: str, args: dict, env: dict) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, __file__, "--_stage", stage, "--_args", json.dumps(args)],
        env=env, capture_output=True, text=True, cwd=ROOT,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["real", "synthetic"], default="real")
    ap.add_argument("--date", default=None, help="Slate date for the live job (default 2022-01-15 real, 2025-01-15 synthetic)")
    ap.add_argument("--work", default=None, help="Scratch dir (default a temp dir)")
    ap.add_argument("--_stage")
    ap.add_argument("--_args")
    ns = ap.parse_args()
    if ns._stage:
        out = _stage_body(ns._stage, json.loads(ns._args))
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        out["peak_rss_mb"] = round(max(self_rss, child_rss) / 1024, 1)
        print(json.dumps(out, default=str))
        return

    from foundation import settings

    work = Path(ns.work or tempfile.mkdtemp(prefix="minutes-live-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(work / "data"), "MINUTES_LIVE_DUCKDB": str(work / "data" / "bench.duckdb"),
           "MINUTES_LIVE_ARTIFACTS": str(work / "artifacts"), "MINUTES_LIVE_REPORTS": str(work / "reports")}
    if ns.dataset == "real":
        dataset_dir, source, date = settings.real_dataset_dir(), "replay", ns.date or "2022-01-15"
    else:
        dataset_dir, source, date = work / "synthetic_league", "synthetic", ns.date or "2025-01-15"
    first_tip_minus_90 = None
    args = {"dataset_dir": str(dataset_dir), "work": str(work), "date": date, "source": source}
    stages = ["dbt_parse"] + (["synth"] if ns.dataset == "synthetic" else []) + ["ingest_backfill", "gold_build", "train"]
    results = {}
    for stage in stages:
        print(f"[bench] {stage} ...", flush=True)
        results[stage] = run_stage(stage, args, env)
        print(f"[bench] {stage}: {results[stage]['wall_seconds']} s, peak {results[stage]['peak_rss_mb']} MB", flush=True)
    # run the live job 90 minutes before the slate's first tip
    from foundation.store import connected

    with connected(work / "data" / "bench.duckdb", read_only=True) as con:
        first_tip = con.execute("select min(tip_ts) from raw.schedule where game_date = ?", [date]).fetchone()[0]
    first_tip_minus_90 = (first_tip.astimezone(UTC) - __import__("datetime").timedelta(minutes=90)).isoformat()
    args["run_as_of_ts"] = first_tip_minus_90
    print(f"[bench] live_job for {date} as of {first_tip_minus_90} ...", flush=True)
    results["live_job"] = run_stage("live_job", {**args, "source": "none"}, env)
    ratio = results["live_job"]["wall_seconds"] / results["dbt_parse"]["wall_seconds"]
    print("\n| stage | wall s | peak MB | notes |\n| --- | --- | --- | --- |")
    for stage, r in results.items():
        notes = {k: v for k, v in r.items() if k not in ("wall_seconds", "peak_rss_mb")}
        print(f"| {stage} | {r['wall_seconds']} | {r['peak_rss_mb']} | {json.dumps(notes, default=str)} |")
    print(f"\nlive job / bare dbt parse = {ratio:.2f}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}_{ns.dataset}.json").write_text(json.dumps({"dataset": ns.dataset, "date": date, "results": results,
                                                                   "live_job_over_dbt_parse": round(ratio, 2)}, indent=2, default=str))


if __name__ == "__main__":
    main()
