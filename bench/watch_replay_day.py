"""The watcher against the fixed schedule on a replayed real day (issue 21: 2022-01-15, 09:00 ET to the last tip).

    python bench/watch_replay_day.py --store data/nba/minutes_live.duckdb --bundle-dir <bundle> [--date 2022-01-15]

Two copies of a replay store (one with the day's history ingested and gold built, e.g. after `./dev bench`
or `minutes-live ingest --source replay --backfill`), each in its own scratch data root:
- fixed: the morning (10:30 ET), afternoon (17:00 ET) and pre-tip (first tip - 45 min) runs, as `job` makes them;
- watch: `minutes-live watch --source replay` from 09:00 ET to the last tip, on a clock that never waits.
Both score with the same bundle (`--bundle-dir`, trained before the season: leak-free). For each game, the last
projection before its tip from each side is compared with the box score: MAE of minutes_p50 over the players
listed as not OUT who were not inactive (the next-day validation's rule, minutes_live/pipeline/job.py). Prints
a table and writes bench/results/<stamp>_watch_replay_<date>.json. Both sides allow missing odds (a replayed
line appears 3 h before its tip, after the morning run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _env(work: Path, side: str) -> dict:
    base = work / side
    return {"MINUTES_LIVE_DATA_ROOT": str(base / "data"), "MINUTES_LIVE_ARTIFACTS": str(base / "artifacts"),
            "MINUTES_LIVE_REPORTS": str(base / "reports"), "DBT_LOG_PATH": str(base / "logs")}


def _part(side: str, args: dict) -> dict:
    """Inside the side's process: make its runs; return {run_id: minutes.parquet} and the counts."""
    import pandas as pd

    from foundation import settings
    from foundation.clock import LEAGUE_TZ
    from minutes_live.pipeline.job import run_job
    from minutes_live.pipeline.live_build import live_config
    from minutes_live.pipeline.schedule import eastern, tips_from_dataset

    day = date.fromisoformat(args["date"])
    dataset_dir = settings.real_dataset_dir()
    bundle_config = Path(args["bundle_config"])
    out: dict = {"runs": {}, "failed": []}
    t0 = time.perf_counter()
    if side == "fixed":
        tips = tips_from_dataset(day, dataset_dir)
        plan = [("morning", eastern(day, datetime.strptime("10:30", "%H:%M").time())),
                ("afternoon", eastern(day, datetime.strptime("17:00", "%H:%M").time())),
                ("pretip", tips.first_tip - timedelta(minutes=45))]
        for job, at in sorted(plan, key=lambda p: p[1]):
            cfg = live_config(date=day, run_as_of_ts=at, source="replay", dataset_dir=dataset_dir,
                              allow_missing_odds=True)
            try:
                res = run_job(cfg, job=job, bundle_config=bundle_config)
                out["runs"][res.summary["run_id"]] = str(res.scores_dir / "minutes.parquet")
            except Exception as exc:  # noqa: BLE001 - reported, as a failed scheduled run would be
                out["failed"].append(f"{job} {at.astimezone(LEAGUE_TZ):%H:%M}: {exc}")
    else:
        from minutes_live.watch.warm_dbt import WarmDbt
        from minutes_live.watch.watcher import WatchConfig, Watcher

        cfg = WatchConfig(day=day, source="replay", dataset_dir=dataset_dir, clock_speed=0, allow_missing_odds=True,
                          bundle_config=bundle_config)
        with WarmDbt().installed() as warm:
            summary = Watcher(cfg).run()
        from foundation.publication import Roots

        roots = Roots.default(dataset=cfg.dataset)
        for run_id in summary.runs:
            out["runs"][run_id] = str(roots.root("scores") / day.isoformat() / f"run={run_id}" / "minutes.parquet")
        out.update(failed=summary.failed, polls=summary.polls, skipped_same_inputs=summary.skipped_same_inputs,
                   latency_seconds=summary.latency_seconds, warm_parse_seconds=warm.parse_seconds)
        out["alerts"] = pd.Series([json.loads(x)["kind"] for x in Path(summary.alerts_path).read_text().splitlines()]
                                  ).value_counts().to_dict()
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def _train(args: dict) -> dict:
    """Inside a prep process: the gold mart on the store copy, then a bundle trained on the seasons before the
    date's season (leak-free for the replayed day)."""
    import pandas as pd

    from foundation import settings
    from foundation.clock import season_label
    from minutes_live.pipeline.gold import build_gold_features
    from scoring.train import train_bundle

    day = date.fromisoformat(args["date"])
    gold = build_gold_features(settings.real_dataset_dir(), 30, ingest=False)
    gold = gold[gold["season"] < season_label(day)] if "season" in gold else \
        gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(day) - pd.Timedelta(days=120)]
    bundle = train_bundle(gold, Path(args["out"]), seed=7, bundle_id=f"watch_replay_before_{season_label(day)}")
    return {"bundle_dir": str(bundle), "rows": int(len(gold))}


def _evaluate(day: date, sides: dict) -> dict:
    import pandas as pd

    from foundation import settings
    from snapshots_ingest.dataset import load_dataset

    ds = load_dataset(settings.real_dataset_dir())
    games = ds.games[pd.to_datetime(ds.games["game_date"]).dt.date == day]
    pg = ds.player_games[pd.to_datetime(ds.player_games["game_date"]).dt.date == day]
    actual = pg[["game_id", "player_id", "minutes", "play_status"]]
    rows = []
    for g in games.sort_values("tip_ts").itertuples():
        tip = pd.Timestamp(g.tip_ts).tz_convert("UTC")
        rec = {"game_id": int(g.game_id), "matchup": f"{g.away_tricode}@{g.home_tricode}",
               "tip_et": tip.tz_convert("America/New_York").strftime("%H:%M")}
        for side, result in sides.items():
            before = sorted(r for r in result["runs"] if pd.Timestamp(datetime.strptime(r, "%Y%m%dT%H%M%SZ"), tz="UTC") < tip)
            if not before:
                rec[f"{side}_run"], rec[f"{side}_mae"] = None, None
                continue
            proj = pd.read_parquet(result["runs"][before[-1]])
            proj = proj[proj["game_id"] == g.game_id].merge(actual, on=["game_id", "player_id"])
            proj = proj[(proj["status"] != "OUT") & (proj["play_status"] != "inactive")]
            rec[f"{side}_run"] = before[-1]
            rec[f"{side}_players"] = int(len(proj))
            rec[f"{side}_mae"] = round(float((proj["minutes_p50"] - proj["minutes"]).abs().mean()), 3)
        rows.append(rec)
    return {"games": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--date", default="2022-01-15")
    ap.add_argument("--store", required=False, help="A replay store to copy (the real dataset's)")
    ap.add_argument("--bundle-dir", required=False,
                    help="The bundle both sides score with (default: train one on the seasons before the date's)")
    ap.add_argument("--work", default="/tmp/minutes-live-watch-replay")
    ap.add_argument("--_part")
    ap.add_argument("--_args")
    ns = ap.parse_args()
    if ns._part:
        args = json.loads(ns._args)
        print(json.dumps(_train(args) if ns._part == "train" else _part(ns._part, args), default=str))
        return

    from foundation import settings

    work = Path(ns.work)
    shutil.rmtree(work, ignore_errors=True)
    sides: dict = {}
    procs = {}
    if ns.bundle_dir is None:
        env = {**os.environ, **_env(work, "train")}
        store = settings.store_path_for("replay", settings.real_dataset_dir(), Path(env["MINUTES_LIVE_DATA_ROOT"]))
        store.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ns.store, store)
        print("[watch-replay] training a bundle on the seasons before the date's ...", flush=True)
        with open(work / "train.log", "w") as log:
            proc = subprocess.run([sys.executable, __file__, "--_part", "train", "--_args",
                                   json.dumps({"date": ns.date, "out": str(work / "bundles")})],
                                  env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"training failed: see {work / 'train.log'}")
        trained = json.loads(proc.stdout.strip().splitlines()[-1])
        ns.bundle_dir = trained["bundle_dir"]
        print(f"[watch-replay] bundle {ns.bundle_dir} ({trained['rows']} gold rows)", flush=True)
    for side in ("fixed", "watch"):
        env = {**os.environ, **_env(work, side)}
        store = settings.store_path_for("replay", settings.real_dataset_dir(), Path(env["MINUTES_LIVE_DATA_ROOT"]))
        store.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ns.store, store)
        config = work / side / "bundle.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps({"bundle_dir": str(Path(ns.bundle_dir).resolve()),
                                      "bundle_id": Path(ns.bundle_dir).name}) + "\n")
        args = {"date": ns.date, "bundle_config": str(config)}
        log = open(work / f"{side}.log", "w")  # noqa: SIM115 - closed with the process below
        procs[side] = (subprocess.Popen([sys.executable, __file__, "--_part", side, "--_args", json.dumps(args)],
                                        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True), log)
        print(f"[watch-replay] {side} started (log {work / f'{side}.log'})", flush=True)
        out, _ = procs[side][0].communicate()  # one side at a time: the two do not share the cores
        procs[side][1].close()
        if procs[side][0].returncode != 0:
            raise SystemExit(f"{side} failed: see {work / f'{side}.log'}")
        sides[side] = json.loads(out.strip().splitlines()[-1])
        print(f"[watch-replay] {side}: {len(sides[side]['runs'])} runs in {sides[side]['seconds']} s, "
              f"failed {sides[side]['failed']}", flush=True)
    day = date.fromisoformat(ns.date)
    evaluation = _evaluate(day, sides)
    print("\n| game | tip ET | fixed: last run before tip | MAE | watch: last run before tip | MAE |\n|---|---|---|---|---|---|")
    for r in evaluation["games"]:
        print(f"| {r['matchup']} | {r['tip_et']} | {r['fixed_run']} | {r['fixed_mae']} | {r['watch_run']} | {r['watch_mae']} |")
    import statistics

    def mean(side):
        vals = [r[f"{side}_mae"] for r in evaluation["games"] if r.get(f"{side}_mae") is not None]
        return round(statistics.mean(vals), 3) if vals else None

    print(f"\nwatch runs: {len(sides['watch']['runs'])} (fixed: {len(sides['fixed']['runs'])}); "
          f"mean per-game MAE fixed {mean('fixed')}, watch {mean('watch')}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}_watch_replay_{ns.date}.json").write_text(json.dumps(
        {"date": ns.date, "sides": sides, "evaluation": evaluation,
         "mean_game_mae": {"fixed": mean("fixed"), "watch": mean("watch")}}, indent=2, default=str))


if __name__ == "__main__":
    main()
