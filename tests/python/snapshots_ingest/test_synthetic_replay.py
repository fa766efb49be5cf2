"""The same reader, replay and ingest work on a synthetic-league directory (namespace `syn`)."""

from __future__ import annotations

from datetime import UTC, timedelta

import duckdb
import pandas as pd
import pytest

from snapshots_ingest.dataset import load_dataset
from snapshots_ingest.ingest import ingest_replay
from snapshots_ingest.synthetic_league import generate_league


@pytest.fixture(scope="module")
def league_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_league")
    generate_league(out, seed=7, seasons=1)
    return out


def test_synthetic_league_replays_with_its_own_reports(league_dir, tmp_path) -> None:
    ds = load_dataset(league_dir)
    assert ds.namespace == "syn" and ds.injury_reports is not None and ds.players is not None
    tip = ds.games["tip_ts"].iloc[len(ds.games) // 2]
    day = ds.games["game_date"].iloc[len(ds.games) // 2]
    as_of = (tip - timedelta(minutes=20)).to_pydatetime()
    db = tmp_path / "minutes_live.duckdb"
    summary = ingest_replay(league_dir, day, as_of, history_days=30, db_path=db, data_root=tmp_path / "data")
    assert summary.source == "synthetic" and summary["roster"].rows_inserted > 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        sources = {r[0] for r in con.execute("select distinct source from raw.roster").fetchall()}
        max_ts = con.execute("select max(snapshot_ts) from raw.injuries").fetchall()[0][0]
        namespaces = {r[0] for r in con.execute("select distinct namespace from raw.id_crosswalk where entity = 'player'").fetchall()}
        positions = con.execute("select count(*) from raw.roster where listed_pos is not null").fetchall()[0][0]
    finally:
        con.close()
    assert sources == {"synthetic"} and namespaces == {"syn"} and positions > 0
    assert pd.Timestamp(max_ts) <= pd.Timestamp(as_of).tz_convert(UTC)
