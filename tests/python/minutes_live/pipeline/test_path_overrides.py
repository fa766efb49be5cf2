"""`--*-path` overrides: a given extract is ingested (persisted first) instead of fetching/replaying."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from foundation.guardrails import DatasetInputError, ScheduleCoverageError
from minutes_live.pipeline.live_build import LiveBuildConfig, build_live
from snapshots_ingest.ids import team_id

FIXTURES = Path(__file__).resolve().parents[2].parent / "fixtures" / "injury_pdfs"


def _cfg(tmp_path: Path, day: date, as_of: datetime, **overrides) -> LiveBuildConfig:
    return LiveBuildConfig(day=day, run_as_of_ts=as_of, source="none", db_path=tmp_path / "wh.duckdb",
                           data_root=tmp_path / "data", out_root=tmp_path / "features", path_overrides=overrides)


def _schedule_row(tip: str | None) -> dict:
    return {"game_id": 2022011549, "source_game_id": "202201150MIL", "season": "2021-22",
            "game_date": "2022-01-15", "tip_ts": tip, "game_type": "regular", "game_status": "scheduled",
            "home_team_id": team_id("MIL"), "away_team_id": team_id("TOR"), "home_tricode": "MIL",
            "away_tricode": "TOR", "home_team_name": "Milwaukee Bucks", "away_team_name": "Toronto Raptors",
            "snapshot_ts": "2022-01-15T12:00:00Z", "source": "ops_override"}


def test_schedule_override_without_tip_time_is_refused(tmp_path):
    path = tmp_path / "schedule_override.csv"
    pd.DataFrame([_schedule_row(None)]).to_csv(path, index=False)
    with pytest.raises(ScheduleCoverageError, match=r"game 2022011549 \(TOR@MIL\) on 2022-01-15 has no tip time"):
        build_live(_cfg(tmp_path, date(2022, 1, 15), datetime(2022, 1, 15, 20, 0, tzinfo=UTC), schedule=path))
    # the extract was persisted and ingested before the guardrail refused the run
    persisted = list((tmp_path / "data" / "live" / "snapshots" / "schedule" / "2022-01-15").glob("run=*/schedule_override.csv"))
    assert len(persisted) == 1
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    assert con.execute("select count(*) from raw.schedule where tip_ts is null").fetchone()[0] == 1


def test_schedule_override_with_future_snapshot_is_refused(tmp_path):
    path = tmp_path / "schedule_late.csv"
    row = _schedule_row("2022-01-16T01:00:00Z") | {"snapshot_ts": "2022-01-15T21:00:00Z"}
    pd.DataFrame([row]).to_csv(path, index=False)
    with pytest.raises(DatasetInputError, match="snapshot_ts after run_as_of_ts"):
        build_live(_cfg(tmp_path, date(2022, 1, 15), datetime(2022, 1, 15, 20, 0, tzinfo=UTC), schedule=path))


def test_injury_report_pdf_override_lands_in_raw_injuries(tmp_path):
    from snapshots_ingest.ingest import ingest_file

    pdf = FIXTURES / "Injury-Report_2026-02-08_06_15PM.pdf"
    expected = pd.read_csv(FIXTURES / "Injury-Report_2026-02-08_06_15PM.expected.csv")
    slate = expected[(expected["game_date"] == "2026-02-08") & ~expected["not_yet_submitted"]]
    summary = ingest_file("injuries", pdf, date(2026, 2, 8), datetime(2026, 2, 8, 23, 30, tzinfo=UTC),
                          db_path=tmp_path / "wh.duckdb", data_root=tmp_path / "data")
    assert summary.rows_inserted == len(slate)
    con = duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True)
    stamps = con.execute("select distinct snapshot_ts at time zone 'UTC' from raw.injuries").fetchall()
    assert stamps == [(datetime(2026, 2, 8, 23, 15),)]
    herro = con.execute("select status_raw, team_tricode from raw.injuries where player_name = 'Herro, Tyler'").fetchall()
    assert herro == [("Out", "MIA")]
