"""`minutes-live demo`: the whole day on the embedded synthetic league (no network, no ../shared).

1. generate the synthetic league (seeded) into data/synthetic_league/ unless it is there;
2. pick the slate: the busiest January date of the league's last season whose odds are all quoted by
   30 minutes before its first tip; run_as_of_ts = that instant;
3. backfill the league's own store (data/synthetic_league/minutes_live.duckdb: one store per dataset,
   foundation/settings.py) with every snapshot known at run_as_of_ts (history only: later rows are not
   emitted by the replay);
4. if the demo bundle (named by data/synthetic_league/minutes_current_run.json, kept apart from the
   production pointer artifacts/minutes_v1/current_run.json) is missing, build gold features (30 minutes before tip)
   for the games before the slate and train one;
5. run the scheduled job on the stored snapshots (dbt build -> score -> reports -> publish -> registry)
   and print a slate summary (the top `--show` players per team by p50), the run's warnings grouped by kind,
   and where every file went.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from foundation import run_directory as rd
from foundation import settings

DEMO_SEED = 7
DEMO_BUNDLE_ID = "synthetic_demo"
DEMO_LEAD_MINUTES = 30



def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()

def _step(msg: str) -> None:
    _say(f"==> {msg}")


def pick_slate(dataset_dir: Path) -> tuple[str, datetime]:
    """The busiest January slate of the last season whose odds are all quoted 30 min before its first tip."""
    from snapshots_ingest.dataset import load_dataset
    from snapshots_ingest.replay import ODDS_LEAD

    games = load_dataset(dataset_dir).games
    last = games[(games["season"] == games["season"].max()) & (pd.to_datetime(games["game_date"]).dt.month == 1)]
    slates = last.groupby("game_date").agg(n=("game_id", "size"), first=("tip_ts", "min"), last=("tip_ts", "max"))
    lead = pd.Timedelta(minutes=DEMO_LEAD_MINUTES)
    ok = slates[slates["last"] - ODDS_LEAD <= slates["first"] - lead]
    day = (ok if len(ok) else slates).sort_values(["n"], ascending=False, kind="stable").index[0]
    as_of = (pd.Timestamp(slates.loc[day, "first"]) - lead).to_pydatetime().astimezone(UTC)
    return str(pd.Timestamp(day).date()), as_of


def ensure_bundle(dataset_dir: Path, day: str, config_path: Path) -> dict:
    from minutes_live.pipeline.gold import build_gold_features
    from scoring.active_bundle import resolve_bundle_dir
    from scoring.bundle import BundleError, load_bundle
    from scoring.train import promote, train_bundle

    why = "no active bundle"
    try:
        bundle_dir = resolve_bundle_dir(config_path)
        if bundle_dir.is_dir():
            load_bundle(bundle_dir)  # an older or damaged demo bundle is retrained, not a failed demo
            return json.loads(config_path.read_text())
    except (FileNotFoundError, ValueError):
        pass
    except BundleError as exc:
        why = f"the demo's bundle cannot score ({str(exc)[:160]})"
    old = settings.artifacts_root() / "minutes_v1" / "bundles" / DEMO_BUNDLE_ID
    if old.exists():  # kept beside the new one, never overwritten
        aside = old.with_name(f"{old.name}.replaced-{time.strftime('%Y%m%dT%H%M%S')}")
        old.rename(aside)
        _say(f"    the previous demo bundle is kept at {aside}")
    _step(f"{why}: building gold features (30 min before tip) and training Minutes V1.2")
    t0 = time.perf_counter()
    gold = build_gold_features(dataset_dir, 30, ingest=False)
    gold = gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(day)]
    bundle_dir = train_bundle(gold, settings.artifacts_root() / "minutes_v1" / "bundles", seed=DEMO_SEED,
                              bundle_id=DEMO_BUNDLE_ID)
    payload = promote(bundle_dir, config_path)
    _say(f"    trained on {len(gold):,} gold rows in {time.perf_counter() - t0:.0f}s -> {bundle_dir}")
    return payload


def run_demo(seed: int = DEMO_SEED, show: int = 5) -> None:
    from minutes_live.pipeline.job import run_job
    from minutes_live.pipeline.live_build import live_config
    from snapshots_ingest.ingest import ingest_replay
    from snapshots_ingest.synthetic_league import generate_league

    dataset_dir = settings.synthetic_dataset_dir()
    if not (dataset_dir / "dataset.json").exists():
        _step(f"generating the synthetic league (seed {seed}) into {dataset_dir}")
        generate_league(dataset_dir, seed=seed)
    day, as_of = pick_slate(dataset_dir)
    run_id = rd.run_id_for(as_of)
    _step(f"slate {day}, run_as_of_ts {as_of.isoformat()} ({DEMO_LEAD_MINUTES} min before the first tip), run id {run_id}")

    _step("backfilling the raw snapshot store with everything known at run_as_of_ts")
    store = settings.store_path_for("synthetic", dataset_dir)
    summary = ingest_replay(dataset_dir, as_of.date(), as_of, backfill=True, db_path=store,
                            echo=lambda s: _say("    " + s))
    _say(f"    {summary.rows_inserted:,} new rows in {store}")

    # the demo's bundle is named by its own pointer beside the league, never by the production
    # pointer (settings.bundle_config_path())
    config_path = dataset_dir / "minutes_current_run.json"
    bundle = ensure_bundle(dataset_dir, day, config_path)
    _say(f"    active bundle: {bundle.get('bundle_id')} ({bundle.get('bundle_dir')})")

    dataset = settings.dataset_name("synthetic", dataset_dir)  # every output of the run goes under its dataset
    scores_root = settings.scores_root(dataset)
    existing = rd.RunDirectory(scores_root, pd.Timestamp(day).date(), run_id)
    if existing.exists():
        _step(f"run {run_id} already published (runs are immutable); showing it")
        features_dir = settings.features_root(dataset) / day / f"run={run_id}"
        summary = rd.read_json(features_dir / "summary.json") or {}
        print_slate(pd.read_parquet(existing.path / "minutes.parquet"), features_dir, show, summary.get("warnings", []))
        print_worlds(existing.path)
        _say(f"features     : {features_dir}")
        _say(f"scores       : {existing.path}")
        _say(f"dashboard    : ./dev dashboard --dataset {dataset} --date {day}   then open http://127.0.0.1:8765/")
        return
    # the backfill above already stored every snapshot known at run_as_of_ts: the job reads the store as is
    _step("running the scheduled job on the stored snapshots: dbt build -> score -> reports -> publish -> registry")
    cfg = live_config(date=day, run_as_of_ts=as_of, source="none", dataset_dir=dataset_dir)
    result = run_job(cfg, job="demo", bundle_config=config_path)
    s = result.summary
    tm = s["team_minutes"]
    _say("")
    _say(f"{s['rows']} players, {s['games']} games; team expected-minutes sums {tm['mean_sum_min']:.1f}.."
               f"{tm['mean_sum_max']:.1f} (reconciled; median adjustment {tm['median_abs_adjustment']:.1f} min), "
               f"p50 sums {tm['p50_sum_min']:.1f}..{tm['p50_sum_max']:.1f}")
    print_slate(result.minutes, result.features_dir, show, s.get("warnings", []))
    print_worlds(result.scores_dir)
    _say(f"raw store    : {store} (schema raw; dbt models in schema main)")
    _say(f"raw extracts : {settings.snapshots_root(dataset)}/<kind>/{day}/run={run_id}/")
    _say(f"features     : {result.features_dir}")
    _say(f"scores       : {result.scores_dir}")
    _say(f"reports      : {result.report_dir}")
    _say(f"registry     : {settings.registry_root(dataset) / 'registry' / 'minutes_live_runs.jsonl'}")
    _say(f"dashboard    : ./dev dashboard --dataset {dataset} --date {day}   then open http://127.0.0.1:8765/")


def print_worlds(scores_dir: Path) -> None:
    """The two worlds of the slate's most consequential game-time decision (scores' scenarios.parquet)."""
    from minutes_live.runs.terminal import gtd_worlds_lines

    path = Path(scores_dir) / "scenarios.parquet"
    if not path.is_file():
        return
    _say("game-time decision (minutes-live runs show ... --gtd PLAYER_ID for another):")
    for line in gtd_worlds_lines(pd.read_parquet(path)):
        _say(line)


def print_slate(minutes: pd.DataFrame, features_dir: Path, show: int, warnings: list[str]) -> None:
    """The slate summary (top `show` players per team by p50, 0 = all) and the run's warnings, grouped."""
    from minutes_live.runs.terminal import group_warnings, slate_summary

    features = Path(features_dir) / "features.parquet"
    if features.is_file() and "home_flag" not in minutes.columns:  # away @ home in the game lines
        homes = pd.read_parquet(features, columns=["game_id", "team_id", "player_id", "home_flag"])
        minutes = minutes.merge(homes, on=["game_id", "team_id", "player_id"], how="left")
    per_team = f"top {show} per team by expected minutes" if show else "every player"
    _say(f"projections ({per_team}; --show N to change, 0 = all; st: S confirmed starter, s projected):")
    for line in slate_summary(minutes, per_team=show):
        _say(line)
    grouped = group_warnings(warnings)
    if grouped:
        _say(f"{len(warnings)} warning(s) in summary.json, grouped:")
        for line in grouped:
            _say(f"warning: {line}")
