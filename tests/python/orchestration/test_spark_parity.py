"""The same dbt project on DuckDB and on Spark (dbt-spark, local session): same raw rows in, same features out,
same projections (minutes_live/engine_parity.py, docs/scale_out.md).

Synthetic league (CI): one build of the `parity` kind per engine on one store builds the live slate and the
gold mart together; both marts are compared column by column (keys exactly, numerics within 1e-9, strings,
booleans, dates and instants exactly), then the live slate is scored on both with one bundle.
Real data (full run, MINUTES_LIVE_FULL_RUN=1): the replayed 2022-01-15 slate and the 2021-22 gold season.
"""

from __future__ import annotations

import shutil
from datetime import datetime

import pandas as pd
import pytest

from minutes_live import engine_parity
from minutes_live.build_live import GOLD_MART, LIVE_MART

pytestmark = [pytest.mark.slow, pytest.mark.spark]

PROJECTION_COLUMNS = ["play_prob", "minutes_p10", "minutes_p50", "minutes_p90"]


def _params(day: str, as_of: datetime) -> dict:
    return {"target_date": day, "run_as_of_ts": as_of.isoformat(), "build_gold": True,
            "allow_missing_injuries": True, "allow_missing_odds": True}


def _assert_same(duck: engine_parity.EngineBuild, spark: engine_parity.EngineBuild, min_rows: dict) -> None:
    for comparison in engine_parity.compare_builds(duck, spark):
        assert comparison.ok, "\n".join(comparison.problems)
        assert comparison.rows[0] == comparison.rows[1] >= min_rows[comparison.mart], comparison


def test_synthetic_slate_and_gold_are_the_same_on_duckdb_and_spark(world, tmp_path):
    from scoring.active_bundle import resolve_bundle_dir
    from scoring.bundle import load_bundle

    db = tmp_path / "store.duckdb"
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    params = _params(world["day"].isoformat(), world["as_of"])

    duck = engine_parity.build_on("embedded", "parity", params, db_path=db)
    spark = engine_parity.build_on("spark", "parity", params, db_path=db)

    assert engine_parity.raw_export_matches(db) == []
    _assert_same(duck, spark, {LIVE_MART: 100, GOLD_MART: 5000})
    assert "Spark warehouse" in spark.history  # the Spark build computed its own history

    bundle = load_bundle(resolve_bundle_dir(world["config"]))
    projections = [bundle.predict(build.marts[LIVE_MART])[PROJECTION_COLUMNS] for build in (duck, spark)]
    pd.testing.assert_frame_equal(projections[0], projections[1], check_exact=True)
    assert projections[0]["minutes_p50"].gt(0).sum() > 50


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
    from minutes_live.gold import dataset_end
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
