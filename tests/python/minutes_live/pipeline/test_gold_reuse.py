"""Gold features of an unchanged dataset skip the backfill and reuse the mart; any change rebuilds.

A one-season synthetic league generated into a temporary directory stands in for a dataset directory: the
real ingest and the real dbt build run on it (two dbt builds in this module)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from foundation import logs
from minutes_live.pipeline import gold_cache
from minutes_live.pipeline.gold import GOLD_MART, GOLD_ORDER, backfill_unless_current, gold_features

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def league(tmp_path_factory: pytest.TempPathFactory, synthetic_league) -> dict:
    root = tmp_path_factory.mktemp("gold_reuse")
    synthetic_league(root / "league", seed=5, seasons=1)
    paths = {"dataset_dir": root / "league", "data_root": root / "data", "db_path": root / "data" / "league.duckdb"}
    first = gold_features(paths["dataset_dir"], 30, paths["db_path"], data_root=paths["data_root"])
    return {**paths, "first": first}


def _build(league: dict, **kwargs):
    return gold_features(league["dataset_dir"], 30, league["db_path"], data_root=league["data_root"], **kwargs)


def _store_mart(db_path: Path) -> pd.DataFrame:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(f"select * from main.{GOLD_MART} order by {GOLD_ORDER}").df()
    finally:
        con.close()


def _key(league: dict, project_sha256: str) -> gold_cache.GoldKey:
    con = duckdb.connect(str(league["db_path"]), read_only=True)
    try:
        return gold_cache.GoldKey(GOLD_MART, 30, {"gold_lead_minutes": 30}, gold_cache.raw_state(con), project_sha256)
    finally:
        con.close()


def test_first_build_ingests_and_runs_dbt(league: dict) -> None:
    first = league["first"]
    assert first.stages["ingest"]["action"] == "ingested"
    assert first.stages["ingest"]["reason"] == "no backfill of dataset 'league' recorded in this store yet"
    assert first.stages["dbt"]["action"] == "built" and Path(first.stages["dbt"]["path"]).is_file()
    assert len(first.frame) > 1000


def test_unchanged_dataset_skips_the_backfill_and_reuses_the_mart(league: dict, caplog) -> None:
    logs.setup("INFO")
    try:
        with caplog.at_level(logging.INFO, logger="minutes_live.pipeline.gold"):
            again = _build(league)
    finally:
        logs.setup("WARNING")
    assert again.stages["ingest"]["action"] == "skipped"
    assert again.stages["dbt"]["action"] == "reused"
    lines = [r.getMessage() for r in caplog.records if r.name == "minutes_live.pipeline.gold"]
    skipped = [ln for ln in lines if ln.startswith("backfill ingest skipped: dataset 'league' unchanged since the backfill of ")]
    assert len(skipped) == 1, lines
    assert any(ln.startswith("dbt build skipped: gold mart for lead 30 reused from ") for ln in lines), lines
    # the reused frame is the mart dbt built, exactly as the store returns it
    pd.testing.assert_frame_equal(again.frame, _store_mart(league["db_path"]))
    assert set(_build(league, seasons=["2023-24"]).frame["season"]) == {"2023-24"}


def test_a_touched_file_with_the_same_bytes_is_not_a_change(league: dict) -> None:
    path = league["dataset_dir"] / "box_scores_2023_24.parquet"
    st = path.stat()
    os.utime(path, (st.st_atime + 3600, st.st_mtime + 3600))
    outcome = backfill_unless_current(league["dataset_dir"], db_path=league["db_path"], data_root=league["data_root"])
    assert outcome["action"] == "skipped", outcome


def test_a_model_change_is_a_cache_miss(league: dict, tmp_path: Path) -> None:
    """The project hash covers the dbt project's files: a copy of the project with one model edited gives a key
    with no cached mart (so dbt runs), the unchanged copy finds the mart."""
    root = Path(gold_cache.PROJECT_ROOT)
    copy = tmp_path / "project"
    for d in gold_cache.PROJECT_DIRS:
        shutil.copytree(root / d, copy / d)
    for f in gold_cache.PROJECT_FILES:
        if (root / f).is_file():
            (copy / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / f, copy / f)
    (copy / "README.md").write_text("not a dbt input\n")
    assert gold_cache.lookup(league["db_path"], _key(league, gold_cache.project_sha256(copy))) is not None
    model = copy / "models" / "marts" / "features_minutes_v1.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert gold_cache.lookup(league["db_path"], _key(league, gold_cache.project_sha256(copy))) is None
    macro = sorted((copy / "macros").glob("*.sql"))[0]
    model.write_text(model.read_text().removesuffix("\n-- edited\n"))
    macro.write_text(macro.read_text() + " ")
    assert gold_cache.lookup(league["db_path"], _key(league, gold_cache.project_sha256(copy))) is None


def test_a_changed_file_reingests_and_new_raw_rows_rebuild_the_mart(league: dict) -> None:
    before = _build(league)
    assert before.stages["dbt"]["action"] == "reused"
    con = duckdb.connect(str(league["db_path"]), read_only=True)
    odds_before = con.execute("select count(*) from raw.odds").fetchone()[0]
    con.close()
    path = league["dataset_dir"] / "lines_2023_24.parquet"
    table = pq.read_table(path)
    lines = table.to_pandas()
    lines.loc[0, "total"] = lines.loc[0, "total"] + 7.5  # one closing line moved
    pq.write_table(pa.Table.from_pandas(lines, schema=table.schema, preserve_index=False), path)

    after = _build(league)

    assert after.stages["ingest"]["action"] == "ingested"
    assert "lines_2023_24.parquet changed" in after.stages["ingest"]["reason"]
    assert after.stages["ingest"]["rows_inserted"] >= 1
    assert after.stages["dbt"]["action"] == "built"
    assert after.stages["dbt"]["path"] != before.stages["dbt"]["path"]
    assert not Path(before.stages["dbt"]["path"]).exists()  # the lead's older mart file is removed
    con = duckdb.connect(str(league["db_path"]), read_only=True)
    assert con.execute("select count(*) from raw.odds").fetchone()[0] > odds_before
    con.close()
    pd.testing.assert_frame_equal(after.frame, _store_mart(league["db_path"]))
    # and the new state is the one remembered: nothing to do on the next call
    again = _build(league)
    assert (again.stages["ingest"]["action"], again.stages["dbt"]["action"]) == ("skipped", "reused")
