"""The same dbt project on DuckDB and on Spark (dbt-spark, local session): same raw rows in, same features out,
same projections (minutes_live/pipeline/engine_parity.py, docs/scale_out.md).

Synthetic league (CI): the overnight build (gold mart, data tests and dbt unit tests) per engine on one store,
the gold marts compared column by column (keys exactly, numerics within 1e-9, strings, booleans, dates and
instants exactly); and the morning job run by its CLI with `--target spark` and with the default target in
separate roots on one store: the same published features and identical projections.
Real data (full run, MINUTES_LIVE_FULL_RUN=1): the replayed 2022-01-15 slate and the 2021-22 gold season.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from foundation import run_directory as rd
from foundation import settings
from minutes_live.pipeline import engine_parity
from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART, SCENARIOS_MART

pytestmark = [pytest.mark.slow, pytest.mark.spark]

def _params(day: str, as_of: datetime) -> dict:
    return {"target_date": day, "run_as_of_ts": as_of.isoformat(), "build_gold": True,
            "allow_missing_injuries": True, "allow_missing_odds": True}


def _assert_same(duck: engine_parity.EngineBuild, spark: engine_parity.EngineBuild, min_rows: dict) -> None:
    for comparison in engine_parity.compare_builds(duck, spark):
        assert comparison.ok, "\n".join(comparison.problems)
        assert comparison.rows[0] == comparison.rows[1] >= min_rows[comparison.mart], comparison


@pytest.fixture(scope="module")
def store(world, tmp_path_factory) -> Path:
    """One store (and so one Spark directory beside it) for the module: the overnight build computes history
    on each engine, and the jobs after it build on that history, as the morning after an overnight run does
    (Spark's history is its slowest part: built once here instead of once per test)."""
    db = tmp_path_factory.mktemp("spark_parity") / "store.duckdb"
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    return db


def test_synthetic_gold_mart_is_the_same_on_duckdb_and_spark(store):
    """The overnight build (gold mart, its whole lineage, every data test and the dbt unit tests) on both."""
    db = store
    params = {"gold_lead_minutes": 60}

    duck = engine_parity.build_on("embedded", "overnight", params, db_path=db)
    spark = engine_parity.build_on("spark", "overnight", params, db_path=db)

    assert engine_parity.raw_export_matches(db) == []
    _assert_same(duck, spark, {GOLD_MART: 5000})
    # the Spark build computed history in its own schema (the store's DuckDB history is not the engine's)
    assert spark.history.startswith("no stored history in the Spark schema minutes_live (spark)")


def _job(world, db: Path, root: Path, target: str) -> dict:
    """`minutes-live --target <target> job morning` as an operator runs it, in its own roots on store `db`."""
    artifacts = root / "artifacts" / "minutes_v1"
    artifacts.mkdir(parents=True)
    pointer = json.loads(world["config"].read_text())
    pointer["bundle_dir"] = str(Path(pointer["bundle_dir"]).resolve())
    (artifacts / "current_run.json").write_text(json.dumps(pointer))
    env = {**world["env"], "MINUTES_LIVE_DUCKDB": str(db), "MINUTES_LIVE_DATA_ROOT": str(root / "data"),
           "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"), "MINUTES_LIVE_REPORTS": str(root / "reports")}
    exe = str(Path(sys.executable).with_name("minutes-live"))
    proc = subprocess.run(
        [exe, "--target", target, "job", "morning", "--date", world["day"].isoformat(),
         "--run-as-of-ts", world["as_of"].isoformat(), "--source", "synthetic", "--dataset-dir", str(world["league"]),
         "--allow-missing-odds", "--allow-missing-injuries"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = f"run={rd.run_id_for(world['as_of'])}"
    name = settings.dataset_name("synthetic", world["league"])
    features = root / "data" / name / "features_minutes_v1" / world["day"].isoformat() / run
    scores = root / "artifacts" / name / "minutes_v1" / "daily" / world["day"].isoformat() / run
    return {"summary": json.loads((features / "summary.json").read_text()),
            "features": pd.read_parquet(features / "features.parquet"),
            "scenarios": pd.read_parquet(features / "scenario_features.parquet"),
            "minutes": pd.read_parquet(scores / "minutes.parquet"), "stdout": proc.stdout}


def test_the_live_job_runs_end_to_end_on_spark_and_publishes_what_duckdb_publishes(world, store, tmp_path):
    db = store
    duck = _job(world, db, tmp_path / "duckdb", "embedded")
    spark = _job(world, db, tmp_path / "spark", "spark")

    assert (duck["summary"]["dbt_target"], spark["summary"]["dbt_target"]) == ("embedded", "spark")
    assert f"morning run {rd.run_id_for(world['as_of'])}" in spark["stdout"]
    comparison = engine_parity.compare_marts(LIVE_MART, duck["features"], spark["features"])
    assert comparison.ok, "\n".join(comparison.problems)
    # the game-time-decision worlds come back through the Spark export too (the slate has GTD players)
    worlds = engine_parity.compare_marts(SCENARIOS_MART, duck["scenarios"], spark["scenarios"],
                                         keys=("scenario_id", "game_id", "player_id", "team_id"))
    assert worlds.ok, "\n".join(worlds.problems)
    assert len(spark["scenarios"]) > 0
    assert duck["summary"]["scenario_rows"] == spark["summary"]["scenario_rows"] == len(spark["scenarios"])
    pd.testing.assert_frame_equal(duck["minutes"], spark["minutes"], check_exact=True)
    assert len(spark["minutes"]) > 100


def test_compare_marts_reports_each_kind_of_difference():
    frame = pd.DataFrame({"game_id": [1, 1], "player_id": [10, 11], "team_id": [5, 5],
                          "x": [1.0, 2.0], "name": ["a", None]})
    assert engine_parity.compare_marts("m", frame, frame.copy()).ok
    near = frame.assign(x=[1.0 + 5e-10, 2.0])
    assert engine_parity.compare_marts("m", frame, near).ok  # within 1e-9
    far = frame.assign(x=[1.0 + 2e-9, 2.0])
    assert any("m.x: 1 row(s) differ" in p for p in engine_parity.compare_marts("m", frame, far).problems)
    renamed = frame.assign(name=["a", "b"])
    assert any("m.name" in p for p in engine_parity.compare_marts("m", frame, renamed).problems)
    extra = pd.concat([frame, frame.iloc[[0]].assign(player_id=12)], ignore_index=True)
    assert any("only in the second build" in p for p in engine_parity.compare_marts("m", frame, extra).problems)
    retyped = frame.assign(game_id=frame["game_id"].astype("int32"))
    assert any("dtype" in p for p in engine_parity.compare_marts("m", frame, retyped).problems)


@pytest.mark.real_data
@pytest.mark.full_run
def test_real_slate_and_gold_season_are_the_same_on_duckdb_and_spark(real_dataset_dir, tmp_path, monkeypatch):
    """2022-01-15 as of 17:00 ET, and the whole 2021-22 gold season (a store holding that season)."""
    from minutes_live.pipeline.gold import dataset_end
    from snapshots_ingest.dataset import subset_dataset
    from snapshots_ingest.ingest import ingest_replay

    league = subset_dataset(real_dataset_dir, tmp_path / "nba_2021_22", ("2021_22",))
    db = tmp_path / "store.duckdb"
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    as_of = datetime.fromisoformat("2022-01-15T22:00:00+00:00")  # 17:00 ET, before the day's first tip
    end = dataset_end(league)  # the whole season is stored: the gold mart covers all of 2021-22
    ingest_replay(league, end.date(), end, backfill=True, db_path=db, data_root=tmp_path / "data")
    params = _params("2022-01-15", as_of)

    duck = engine_parity.build_on("embedded", "parity", params, db_path=db)
    spark = engine_parity.build_on("spark", "parity", params, db_path=db)

    assert engine_parity.raw_export_matches(db) == []
    _assert_same(duck, spark, {LIVE_MART: 200, GOLD_MART: 10000})
