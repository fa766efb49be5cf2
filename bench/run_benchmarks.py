"""Benchmarks: wall time and peak memory per stage (each stage runs in its own process).

    ./dev bench                      # real data from ../shared/data/nba (five seasons) into a scratch dir
    ./dev bench --dataset synthetic  # the embedded synthetic league (fewer stages: no scaling, no backtest)
    ./dev bench --quick              # real data, without the season backtest and the 1/3-season stores
    ./dev bench --watch              # only the watcher's row (watch_refresh_over_dbt_parse), real or synthetic

Stages, in order: bare full `dbt parse` (`--no-partial-parse`); backfill ingest; the gold mart build with
history built (cold) and on stored history (warm, another lead); training; the live job (ingest -> dbt build
-> score -> reports -> publish) for a 10-game slate, three runs at different instants on the stored history;
the same live job on stores holding 1 and 3 seasons of history (scaling); a cold `score_minutes_v1` process
on that slate (median of 5); a season backtest twice on the warm store (the second is reported).
Peak memory is the max RSS of the stage process and of its children (dbt runs as a child). Results are
printed as a table, then the targets table of the performance issue with the ratios computed in this run,
and written to bench/results/<timestamp>_<dataset>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL_SEASONS = ("2017_18", "2018_19", "2019_20", "2020_21", "2021_22")


def _stage_body(stage: str, args: dict) -> dict:
    """Runs inside the stage process."""
    from foundation import settings

    out: dict = {}
    if stage == "dbt_parse":
        from minutes_live.pipeline.dbt_runner import run_dbt

        run_dbt(["parse", "--no-partial-parse"], quiet=True)
    elif stage == "synth":
        from snapshots_ingest.synthetic_league import generate_league

        generate_league(Path(args["dataset_dir"]), seed=7)
    elif stage == "ingest_backfill":
        from minutes_live.pipeline.gold import ingest_backfill

        s = ingest_backfill(Path(args["dataset_dir"]), db_path=settings.duckdb_path(), data_root=settings.data_root())
        out["rows_inserted"] = sum(k.rows_inserted for k in s.kinds.values())
    elif stage in ("gold_build", "gold_build_warm"):
        from minutes_live.pipeline.gold import build_gold_features

        frame = build_gold_features(Path(args["dataset_dir"]), int(args["lead"]), ingest=False)
        out["gold_rows"] = len(frame)
        if stage == "gold_build":
            frame.to_parquet(Path(args["work"]) / "gold.parquet", index=False)
    elif stage == "history":
        from minutes_live.pipeline import history

        plan = history.build("live", {"target_date": args["date"], "run_as_of_ts": args["run_as_of_ts"],
                                      "build_gold": False, "allow_missing_injuries": True,
                                      "allow_missing_odds": True}, db_path=settings.duckdb_path())
        out["history"] = plan.reason
    elif stage == "train":
        import pandas as pd

        from scoring.train import promote, train_bundle

        frame = pd.read_parquet(Path(args["work"]) / "gold.parquet")
        frame = frame[pd.to_datetime(frame["game_date"]) < pd.Timestamp(args["date"])]
        bundle = train_bundle(frame, Path(args["work"]) / "bundle", seed=7)
        promote(bundle, Path(args["work"]) / "minutes_current_run.json")
        out["train_rows"] = len(frame)
    elif stage == "live_job":
        from minutes_live.pipeline.job import run_job
        from minutes_live.pipeline.live_build import live_config

        cfg = live_config(date=args["date"], run_as_of_ts=args["run_as_of_ts"], source=args["source"],
                          dataset_dir=Path(args["dataset_dir"]), allow_missing_injuries=True, allow_missing_odds=True)
        res = run_job(cfg, job="bench", bundle_config=Path(args["work"]) / "minutes_current_run.json")
        out["slate_rows"] = res.summary["rows"]
        out["slate_games"] = res.summary["games"]
        out["stage_durations"] = res.summary["durations_seconds"]
        out["features_path"] = str(res.features_dir / "features.parquet") if getattr(res, "features_dir", None) else None
    elif stage == "watch_refresh":
        from datetime import date as _date

        from minutes_live.watch.warm_dbt import WarmDbt
        from minutes_live.watch.watcher import WatchConfig, Watcher

        # the watcher over the 2.5 h before the first tip, on a replayed clock that never waits: its first run
        # warms up (and replays history); each later one is a new report / lineup / line landing -> published
        cfg = WatchConfig(day=_date.fromisoformat(args["date"]), source=args["source"], dataset_dir=Path(args["dataset_dir"]),
                          clock_speed=0, start=datetime.fromisoformat(args["start"]),
                          until=datetime.fromisoformat(args["until"]), allow_missing_injuries=True,
                          allow_missing_odds=True, bundle_config=Path(args["work"]) / "minutes_current_run.json")
        from minutes_live.pipeline.dbt_runner import run_dbt

        def bare_parse() -> float:  # the denominator again, next to the refreshes (the load of a shared box drifts)
            t0 = time.perf_counter()
            run_dbt(["parse", "--no-partial-parse"], quiet=True)
            return round(time.perf_counter() - t0, 2)

        parse_before = bare_parse()
        with WarmDbt().installed() as warm:
            summary = Watcher(cfg).run()
        parse_after = bare_parse()
        refreshes = summary.latency_seconds[1:]
        out.update(dbt_parse_around_seconds=[parse_before, parse_after],runs=len(summary.runs), failed=len(summary.failed), warm_parse_seconds=warm.parse_seconds,
                   first_run_seconds=summary.latency_seconds[:1], refresh_latency_seconds=refreshes,
                   median_refresh_seconds=statistics.median(refreshes) if refreshes else None)
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


def timed_command(cmd: list[str], env: dict) -> dict:
    """Wall time and peak RSS (of the command's process tree) of one external command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_seconds": round(wall, 2), "peak_rss_mb": round(max(peak, before) / 1024, 1),
            "last_line": proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""}


def first_tip(db: Path, day: str) -> datetime:
    from foundation.store import connected

    with connected(db, read_only=True) as con:
        tip = con.execute("select min(tip_ts) from raw.schedule where game_date = ?", [day]).fetchone()[0]
    return tip.astimezone(UTC)


def live_runs(args: dict, env: dict, tip: datetime, leads=(150, 120, 90)) -> dict:
    """Three live jobs of the slate at tip - lead (stored history); the median wall is reported."""
    runs = [run_stage("live_job", {**args, "source": "none",
                                   "run_as_of_ts": (tip - timedelta(minutes=m)).isoformat()}, env) for m in leads]
    walls = [r["wall_seconds"] for r in runs]
    best = runs[walls.index(sorted(walls)[len(walls) // 2])]
    return {**best, "wall_seconds": round(statistics.median(walls), 2), "runs_wall_seconds": walls,
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def score_process(features: Path, day: str, bundle_config: Path, work: Path, env: dict, runs: int = 5) -> dict:
    """A cold `score_minutes_v1` process for one slate, `runs` times; median and min wall. It scores a copy of
    the features file (a file outside a published run: the scorer refuses to publish a run's scores to
    another root than its features')."""
    exe = str(Path(sys.executable).with_name("score_minutes_v1"))
    copy = work / "score_input" / "features.parquet"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(features, copy)
    features = copy
    walls, peaks = [], []
    for i in range(runs):
        r = timed_command([exe, "--date", day, "--mode", "live", "--features-path", str(features),
                           "--artifact-root", str(work / f"score_bench_{i}"), "--bundle-config", str(bundle_config)], env)
        walls.append(r["wall_seconds"])
        peaks.append(r["peak_rss_mb"])
    return {"wall_seconds": round(statistics.median(walls), 2), "min_wall_seconds": min(walls), "runs_wall_seconds": walls,
            "peak_rss_mb": max(peaks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=["real", "synthetic"], default="real")
    ap.add_argument("--date", default=None, help="Slate date for the live job (default 2022-01-15 real, 2025-01-15 synthetic)")
    ap.add_argument("--work", default=None, help="Scratch dir (default a temp dir)")
    ap.add_argument("--quick", action="store_true", help="Skip the season backtest and the 1/3-season stores")
    ap.add_argument("--watch", action="store_true",
                    help="Only what the watcher's row needs: dbt parse, the store, a bundle, then the watch refreshes")
    ap.add_argument("--snapshot", default=None,
                    help="With --watch: copy the work dir here before the watch stage (for bench/profile_refresh.py)")
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

    def env_for(store: Path, roots: str = "") -> dict:
        """The stage environment: one store; `roots` keeps the run directories of another store apart."""
        return {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(work / f"data{roots}"), "MINUTES_LIVE_DUCKDB": str(store),
                "MINUTES_LIVE_ARTIFACTS": str(work / f"artifacts{roots}"), "MINUTES_LIVE_REPORTS": str(work / f"reports{roots}")}

    store5 = work / "data" / "bench.duckdb"
    env = env_for(store5)
    real = ns.dataset == "real"
    if real:
        dataset_dir, source, date = settings.real_dataset_dir(), "replay", ns.date or "2022-01-15"
    else:
        dataset_dir, source, date = work / "synthetic_league", "synthetic", ns.date or "2025-01-15"
    args = {"dataset_dir": str(dataset_dir), "work": str(work), "date": date, "source": source, "lead": 30}
    results: dict = {}

    def stage(name: str, key: str | None = None, stage_args: dict | None = None, stage_env: dict | None = None) -> dict:
        key = key or name
        print(f"[bench] {key} ...", flush=True)
        results[key] = run_stage(name, stage_args or args, stage_env or env)
        print(f"[bench] {key}: {results[key]['wall_seconds']} s, peak {results[key]['peak_rss_mb']} MB", flush=True)
        return results[key]

    stage("dbt_parse")
    if not real:
        stage("synth")
    stage("ingest_backfill")
    stage("gold_build")  # history built here (first build on this store)
    if not ns.watch:
        stage("gold_build", "gold_build_warm", {**args, "lead": 60})  # stored history reused
    stage("train")
    tip = first_tip(store5, date)
    if ns.watch:
        if ns.snapshot:
            shutil.copytree(work, ns.snapshot, symlinks=True)
            print(f"[bench] snapshot before the watch stage: {ns.snapshot}", flush=True)
        watch_bench(args, env, tip, results, ns.dataset)
        return
    print(f"[bench] live_job x3 for {date} (first tip {tip.isoformat()}) ...", flush=True)
    results["live_job"] = live_runs(args, env, tip)
    print(f"[bench] live_job: median {results['live_job']['wall_seconds']} s", flush=True)
    scaling = {len(REAL_SEASONS) if real else 2: results["live_job"]["wall_seconds"]}
    if real and not ns.quick:
        from snapshots_ingest import dataset

        for n in (1, 3):
            sub = dataset.subset_dataset(Path(dataset_dir), work / f"nba_{n}", REAL_SEASONS[-n:])
            store = work / "data" / f"bench_{n}.duckdb"
            sub_args, sub_env = {**args, "dataset_dir": str(sub)}, env_for(store, f"_{n}_seasons")
            stage("ingest_backfill", f"ingest_backfill_{n}_seasons", sub_args, sub_env)
            stage("history", f"history_{n}_seasons", {**sub_args, "run_as_of_ts": (tip - timedelta(minutes=180)).isoformat()},
                  sub_env)
            print(f"[bench] live_job_{n}_seasons x3 ...", flush=True)
            results[f"live_job_{n}_seasons"] = live_runs(sub_args, sub_env, tip)
            scaling[n] = results[f"live_job_{n}_seasons"]["wall_seconds"]
            print(f"[bench] live_job_{n}_seasons: median {scaling[n]} s", flush=True)
    features = results["live_job"].get("features_path")
    if features:
        print("[bench] score_minutes_v1 cold process x5 ...", flush=True)
        try:
            results["score_process"] = score_process(Path(features), date, work / "minutes_current_run.json", work, env)
        except SystemExit as exc:  # report what was measured, and this failure
            print(f"[bench] score_process failed: {exc}", flush=True)
    if real and not ns.quick:
        cmd = [str(Path(sys.executable).with_name("minutes-live")), "backtest", "--season", "2021-22", "--lead", "30",
               "--dataset-dir", str(dataset_dir), "--db-path", str(store5), "--out-root", str(work / "reports" / "backtest"),
               "--bundle-root", str(work / "artifacts" / "backtest_bundles")]
        for key in ("backtest_first", "backtest_warm"):
            print(f"[bench] {key} ...", flush=True)
            try:
                results[key] = timed_command(cmd, env)
            except SystemExit as exc:
                print(f"[bench] {key} failed: {exc}", flush=True)
                break
            print(f"[bench] {key}: {results[key]['wall_seconds']} s", flush=True)

    ratio = results["live_job"]["wall_seconds"] / results["dbt_parse"]["wall_seconds"]
    print("\n| stage | wall s | peak MB | notes |\n| --- | --- | --- | --- |")
    for name, r in results.items():
        notes = {k: v for k, v in r.items() if k not in ("wall_seconds", "peak_rss_mb", "features_path")}
        print(f"| {name} | {r['wall_seconds']} | {r['peak_rss_mb']} | {json.dumps(notes, default=str)} |")

    targets = [("live job / bare full `dbt parse`", f"{ratio:.2f}", "<= 1.0"),
               (f"train a Minutes V1.2 bundle ({results['train'].get('train_rows', '?'):,} rows: the seasons before "
                "the slate), models fitted twice + calibration", f"{results['train']['wall_seconds']} s", "<= 60 s")]
    if 1 in scaling and 5 in scaling:
        apart = abs(scaling[5] - scaling[1]) / min(scaling[1], scaling[5])
        targets.append(("live job with 1 vs 5 seasons of stored history",
                        f"{scaling[1]} s vs {scaling[5]} s ({100 * apart:.0f} % apart)", "<= 10 % apart"))
    if len(scaling) > 1:
        targets.append(("scaling: live job with 1 / 3 / 5 seasons of history",
                        " / ".join(f"{scaling[k]} s" for k in sorted(scaling)), "flat"))
    if "score_process" in results:
        sp = results["score_process"]
        targets.append(("`score_minutes_v1` process for one slate, wall", f"{sp['wall_seconds']} s (min {sp['min_wall_seconds']} s)",
                        "<= 1.0 s"))
    if "backtest_warm" in results:
        targets.append(("season backtest, warm store, end to end", f"{results['backtest_warm']['wall_seconds']} s", "<= 90 s"))
    g, gw = results["gold_build"], results["gold_build_warm"]
    targets.append(("gold build, five seasons, peak RSS",
                    f"{gw['wall_seconds']} s, {gw['peak_rss_mb']} MB on stored history; "
                    f"{g['wall_seconds']} s, {g['peak_rss_mb']} MB building history", "<= 15 s, <= 1 GiB"))
    print("\n| measure | this run | target |\n| --- | --- | --- |")
    for row in targets:
        print("| " + " | ".join(row) + " |")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}_{ns.dataset}.json").write_text(json.dumps(
        {"dataset": ns.dataset, "date": date, "results": results, "live_job_over_dbt_parse": round(ratio, 2),
         "scaling_live_job_seconds": scaling, "targets": targets}, indent=2, default=str))


def watch_bench(args: dict, env: dict, tip: datetime, results: dict, dataset: str) -> None:
    """The watcher's row: median time from a new report landing to the published run (warm dbt), over a bare
    full `dbt parse` of the same bench run (key `watch_refresh_over_dbt_parse`, target <= 0.4)."""
    print("[bench] watch_refresh ...", flush=True)
    results["watch_refresh"] = run_stage("watch_refresh", {**args, "start": (tip - timedelta(minutes=150)).isoformat(),
                                                           "until": tip.isoformat()}, env)
    w = results["watch_refresh"]
    ratio = w["median_refresh_seconds"] / results["dbt_parse"]["wall_seconds"]
    around = statistics.mean(w["dbt_parse_around_seconds"])
    ratio_around = w["median_refresh_seconds"] / around
    print(f"[bench] watch_refresh: {w['runs']} runs, refreshes {w['refresh_latency_seconds']} s; "
          f"dbt parse {results['dbt_parse']['wall_seconds']} s (first stage), {w['dbt_parse_around_seconds']} s (just "
          f"before and after the watcher); watch_refresh_over_dbt_parse {ratio:.2f}, against the parses around it "
          f"{ratio_around:.2f} (target <= 0.4)")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}_{dataset}_watch.json").write_text(json.dumps(
        {"dataset": dataset, "date": args["date"], "results": results,
         "watch_refresh_over_dbt_parse": round(ratio, 2),
         "watch_refresh_over_dbt_parse_around": round(ratio_around, 2)}, indent=2, default=str))


if __name__ == "__main__":
    main()
