"""History reuse on Spark (minutes_live/pipeline/history.py, spark_engine.history_state): the freshness check
reads the state from the engine that holds history, and the two engines' spellings of the same state compare
equal. Here the session target's warehouse (files, no JVM); test_spark_cluster.py runs it through the
cluster's Thrift server."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest

from minutes_live.pipeline import history, spark_engine

INGESTED = datetime(2024, 1, 5, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture()
def spark_store(tmp_path, monkeypatch):
    """A store holding a few raw box scores and schedule rows, and the session target's warehouse holding
    history built from exactly those rows (as Spark writes it: parquet files per table directory)."""
    monkeypatch.setenv(spark_engine.TARGET_ENV, "spark")
    monkeypatch.delenv(spark_engine.SPARK_DIR_ENV, raising=False)
    monkeypatch.delenv(spark_engine.SCHEMA_ENV, raising=False)
    db = tmp_path / "store.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema raw")
    con.execute("create table raw.box_scores (game_id bigint, snapshot_ts timestamptz, ingested_at timestamptz)")
    con.execute("create table raw.schedule (game_id bigint, snapshot_ts timestamptz, ingested_at timestamptz)")
    con.execute("insert into raw.box_scores values (1, '2024-01-04 05:00:00+00', ?), (2, '2024-01-04 05:00:00+00', ?)",
                [INGESTED, INGESTED])
    con.execute("insert into raw.schedule values (1, '2024-01-03 12:00:00+00', ?)", [INGESTED])
    con.close()
    warehouse = tmp_path / "spark" / "warehouse" / "minutes_live.db"
    for table in history.HISTORY_TABLES:
        (warehouse / table).mkdir(parents=True)
        duckdb.sql(f"copy (select 1 as x) to '{warehouse / table / 'part-0.parquet'}' (format parquet)")
    state = warehouse / "int_history_state"
    state.mkdir()
    sql = ("copy (select null::timestamptz history_cap_ts, ? project_sha, 2::bigint box_score_rows, "
           "?::timestamptz box_scores_max_ingested_at, 1::bigint played_schedule_rows, "
           f"?::timestamptz played_schedules_max_ingested_at) to '{state / 'part-0.parquet'}' (format parquet)")
    duckdb.execute(sql, [history.project_sha(), INGESTED, INGESTED])
    return db


def test_fresh_history_in_the_spark_warehouse_is_reused(spark_store):
    plan = history.plan(spark_store, None)
    assert (plan.rebuild, plan.reason) == (False, "stored history is fresh (2 box-score rows)")
    assert plan.selector("live") == "live_slate_on_history"


def test_a_new_box_score_or_a_dropped_state_rebuilds_history_on_spark(spark_store):
    con = duckdb.connect(str(spark_store))
    con.execute("insert into raw.box_scores values (3, '2024-01-05 05:00:00+00', now())")
    con.close()
    assert history.plan(spark_store, None).rebuild
    assert "box scores or played games' schedule changed (3 box-score rows now, 2" in history.plan(spark_store, None).reason

    spark_engine.drop_history_state(spark_store)
    plan = history.plan(spark_store, None)
    assert plan.rebuild and plan.reason.startswith("no stored history in the Spark schema minutes_live (spark)")


def test_a_missing_history_table_in_the_spark_schema_rebuilds(spark_store, tmp_path):
    import shutil

    shutil.rmtree(tmp_path / "spark" / "warehouse" / "minutes_live.db" / "int_team_history")
    plan = history.plan(spark_store, None)
    assert plan.rebuild and "int_team_history missing from the Spark schema minutes_live" in plan.reason


def test_the_thrift_servers_text_instants_compare_equal_to_duckdbs():
    # the Thrift server returns timestamps as text in the session zone (UTC); DuckDB returns datetimes
    assert history._comparable("2024-01-05 09:30:00.123456") == history._comparable(INGESTED)
    assert history._comparable(2) == history._comparable(2.0) == 2
    assert history._comparable(None) is None
    assert history._comparable("2024-01-05 09:30:00") != history._comparable(INGESTED)
