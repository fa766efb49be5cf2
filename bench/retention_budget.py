"""Disk budget of a season of runs, measured on a replayed week (docs/operations.md, "Retention").

On the synthetic league (seeded; no ../shared needed): train a small bundle on the games before the week, then
run the scheduled job `--runs-per-day` times a day (evenly spaced from 10:30 ET to 30 minutes before the
date's first tip, as a watcher re-running on news would) for `--days` consecutive dates with games, each run
ingesting its own raw extracts (`--source synthetic`). Then measure bytes per run and per kind, run `gc
--keep-days 0` on every date but the last and measure the archive, restore one run and check it byte for byte.

    .venv/bin/python bench/retention_budget.py [--days 7] [--runs-per-day 6] [--skip-days 0] [--gc-every-day]
        [--work DIR] [--out FILE.json]

Prints one JSON document (also written to --out): bytes per run (features, scores, reports, raw extracts), per
date, the archive ratio, and the season extrapolation for 20 and 40 runs a day over 165 game dates.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEASON_GAME_DATES = 165  # regular season (mid-October to mid-April) plus the play-in and playoffs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--runs-per-day", type=int, default=6)
    ap.add_argument("--skip-days", type=int, default=0, help="start after this many January dates with games")
    ap.add_argument("--gc-every-day", action="store_true",
                    help="gc as of the day after the last one (every measured date archived; default: all but the last)")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="retention_budget_"))
    work.mkdir(parents=True, exist_ok=True)
    os.environ.update({"MINUTES_LIVE_DATA_ROOT": str(work / "data"), "MINUTES_LIVE_ARTIFACTS": str(work / "artifacts"),
                       "MINUTES_LIVE_REPORTS": str(work / "reports"), "MINUTES_LIVE_LOG_LEVEL": "WARNING"})
    import pandas as pd

    from foundation import logs, settings
    from foundation.clock import LEAGUE_TZ
    from minutes_live.pipeline.gold import build_gold_features
    from minutes_live.pipeline.job import run_job
    from minutes_live.pipeline.live_build import LiveBuildConfig
    from minutes_live.runs import retention
    from scoring.train import promote, train_bundle
    from snapshots_ingest.dataset import load_dataset
    from snapshots_ingest.ingest import ingest_replay
    from snapshots_ingest.synthetic_league import generate_league

    logs.setup("WARNING")
    t0 = time.perf_counter()
    league = work / "league"
    if not (league / "dataset.json").exists():
        generate_league(league, seed=3, seasons=1)
    games = load_dataset(league).games
    games["d"] = pd.to_datetime(games["game_date"]).dt.date
    per_day = games.groupby("d").agg(n=("game_id", "size"), first=("tip_ts", "min"))
    january = per_day[[d.month == 1 for d in per_day.index]]
    days = list(january.index[args.skip_days:args.skip_days + args.days])
    first_day = days[0]
    config = work / "current_run.json"
    dataset = settings.dataset_name("synthetic", league)
    if not config.exists():
        as_of = datetime.combine(first_day, datetime.min.time(), tzinfo=LEAGUE_TZ).astimezone(UTC)
        ingest_replay(league, first_day, as_of, backfill=True)
        gold = build_gold_features(league, 30, ingest=False)
        gold = gold[pd.to_datetime(gold["game_date"]).dt.date < first_day]
        bundle = train_bundle(gold, work / "artifacts" / "bundles", seed=3, bundle_id="budget_bundle",
                              quantile_rounds=40, play_rounds=40)
        promote(bundle, config)
    setup_s = time.perf_counter() - t0
    runs: list[dict] = []
    t1 = time.perf_counter()
    for day in days:
        first = pd.Timestamp(per_day.loc[day, "first"]).tz_localize("UTC") if pd.Timestamp(
            per_day.loc[day, "first"]).tzinfo is None else pd.Timestamp(per_day.loc[day, "first"])
        start = pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=LEAGUE_TZ) + pd.Timedelta(hours=10, minutes=30)
        end = first - pd.Timedelta(minutes=30)
        n = args.runs_per_day
        instants = [start + (end - start) * i / max(n - 1, 1) for i in range(n)]
        for at in instants:
            at = at.tz_convert("UTC").floor("min").to_pydatetime()
            cfg = LiveBuildConfig(day=day, run_as_of_ts=at, source="synthetic", dataset_dir=league,
                                  allow_missing_odds=True, allow_missing_injuries=True)
            t = time.perf_counter()
            if (settings.features_root(dataset) / day.isoformat() / f"run={cfg.run_id}").is_dir():
                runs.append({"day": day.isoformat(), "run_id": cfg.run_id, "ok": True, "seconds": None})
                continue  # made by an earlier invocation with the same --work
            try:
                run_job(cfg, job="afternoon", bundle_config=config)
                ok = True
            except Exception as exc:  # noqa: BLE001 - a bench: record and go on
                ok = False
                print(f"run {cfg.run_id} of {day}: {exc}", file=sys.stderr)
            runs.append({"day": day.isoformat(), "run_id": cfg.run_id, "ok": ok, "seconds": time.perf_counter() - t})
            print(f"{day} {cfg.run_id} ok={ok} {time.perf_counter() - t:.1f}s", file=sys.stderr)
    runs_s = time.perf_counter() - t1

    roots = {"features": settings.features_root(dataset), "scores": settings.scores_root(dataset),
             "reports": settings.live_reports_root(dataset)}
    snaps = settings.snapshots_root(dataset)
    per_kind: dict[str, int] = {}
    run_bytes: list[int] = []
    for r in runs:
        if not r["ok"]:
            continue
        total = 0
        for kind, base in roots.items():
            b = retention.du(base / r["day"] / f"run={r['run_id']}")
            per_kind[kind] = per_kind.get(kind, 0) + b
            total += b
        for kdir in snaps.iterdir():
            b = retention.du(kdir / r["day"] / f"run={r['run_id']}")
            per_kind[f"snapshots/{kdir.name}"] = per_kind.get(f"snapshots/{kdir.name}", 0) + b
            total += b
        run_bytes.append(total)
    ok_runs = len(run_bytes)
    before = {"runs_and_extracts": sum(run_bytes), "store": retention.du(settings.duckdb_path(dataset))}

    # gc every date but the last (--gc-every-day: every date)
    today = days[-1] + timedelta(days=1) if args.gc_every_day else days[-1]
    t2 = time.perf_counter()
    results, _ = retention.collect(dataset, today, 0, progress=lambda line: print(line, file=sys.stderr))
    gc_s = time.perf_counter() - t2
    freed = sum(r.bytes_freed for r in results)
    archives = sum(r.archive_bytes for r in results)
    # one restore, checked file by file against the manifest (the restore itself checks sha256 per file)
    restored = None
    if results and results[0].runs:
        t3 = time.perf_counter()
        res = retention.restore(dataset, results[0].day, results[0].runs[0])
        restored = {"run_id": res.run_id, "files": res.files, "bytes": res.bytes, "seconds": time.perf_counter() - t3}

    mean_run = sum(run_bytes) / ok_runs if ok_runs else 0
    ratio = archives / freed if freed else None
    kept_per_date = mean_run  # gc keeps the served run of each date
    season = {}
    for per in (20, 40):
        raw = SEASON_GAME_DATES * per * mean_run
        after_gc = SEASON_GAME_DATES * (kept_per_date + (per - 1) * mean_run * (ratio or 1))
        season[f"{per}_runs_per_day"] = {"without_gc_bytes": raw, "with_gc_bytes": after_gc,
                                         "without_gc_gb": raw / 1e9, "with_gc_gb": after_gc / 1e9}
    out = {
        "measured_at": datetime.now(UTC).isoformat(), "dataset": dataset, "days": [d.isoformat() for d in days],
        "runs_per_day": args.runs_per_day, "runs": len(runs), "runs_ok": ok_runs,
        "games_per_day": {d.isoformat(): int(per_day.loc[d, "n"]) for d in days},
        "bytes_per_run_mean": mean_run, "bytes_per_run_min": min(run_bytes, default=0),
        "bytes_per_run_max": max(run_bytes, default=0),
        "bytes_per_kind_per_run": {k: v / ok_runs for k, v in sorted(per_kind.items())} if ok_runs else {},
        "before_gc": before, "gc": {"dates": len(results), "runs": sum(len(r.runs) for r in results),
                                    "extract_runs": sum(len(r.extract_runs) for r in results),
                                    "bytes_freed": freed, "archive_bytes": archives, "archive_ratio": ratio,
                                    "seconds": gc_s},
        "restore": restored, "season_game_dates": SEASON_GAME_DATES, "season": season,
        "seconds": {"setup": setup_s, "runs": runs_s,
                    "per_run_mean": runs_s / max(sum(1 for r in runs if r["seconds"] is not None), 1)},
        "work": str(work),
    }
    text = json.dumps(out, indent=2, default=str)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
