"""A schedule row's tip must fall within its game date's US/Eastern day widened by 12 hours on each side
(so a game abroad, dated by its local day, still fits; every tip of the 2017-2026 replay dataset lies 11-23 h
after the ET midnight of its date). A row outside it (a game dated 2025-01-03 tipping in 2262) is not
believable: the extract carrying it is rejected at ingest (exit 13), a row already in the store stops the
build before dbt (exit 3), and `minutes-live schedule` leaves it out when placing the pre-tip refresh."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from foundation.guardrails import DatasetInputError, ScheduleCoverageError
from minutes_live.pipeline import schedule as day_schedule
from minutes_live.pipeline.live_build import LiveBuildConfig, build_live
from snapshots_ingest import raw_store
from snapshots_ingest.ids import team_id

DAY = date(2025, 1, 3)
AS_OF = datetime(2025, 1, 3, 20, 0, tzinfo=UTC)


def _row(tip: str | None, game_id: int = 2025010301) -> dict:
    return {"game_id": game_id, "source_game_id": f"{game_id}", "season": "2024-25",
            "game_date": DAY.isoformat(), "tip_ts": tip, "game_type": "regular", "game_status": "scheduled",
            "home_team_id": team_id("MIL"), "away_team_id": team_id("TOR"), "home_tricode": "MIL",
            "away_tricode": "TOR", "home_team_name": "Milwaukee Bucks", "away_team_name": "Toronto Raptors",
            "snapshot_ts": "2025-01-03T12:00:00Z", "source": "ops_override"}


def _cfg(tmp_path: Path, **overrides) -> LiveBuildConfig:
    return LiveBuildConfig(day=DAY, run_as_of_ts=AS_OF, source="none", db_path=tmp_path / "wh.duckdb",
                           data_root=tmp_path / "data", out_root=tmp_path / "features", path_overrides=overrides)


@pytest.mark.parametrize("tip, ok", [
    ("2025-01-04T00:30:00Z", True),   # 19:30 ET
    ("2025-01-04T06:30:00Z", True),   # 01:30 ET the next day: a late west-coast game
    ("2025-01-02T17:30:00Z", True),   # 12:30 ET the day before (-11.5 h): a game in Asia dated by its local day
    ("2025-01-02T16:30:00Z", False),  # -12.5 h
    ("2025-01-05T05:30:00Z", False),  # 00:30 ET two days on (+48.5 h)
    ("2262-01-01T00:00:00Z", False),
    ("1970-01-01T00:00:00Z", False),
])
def test_the_tip_window_rule(tip, ok):
    frame = pd.DataFrame([_row(tip)])
    assert raw_store.implausible_tips(frame).empty == ok


def test_an_extract_with_an_absurd_tip_is_rejected_at_ingest(tmp_path):
    path = tmp_path / "schedule_override.csv"
    pd.DataFrame([_row("2262-01-01T00:00:00Z")]).to_csv(path, index=False)
    with pytest.raises(DatasetInputError, match=r"game 2025010301 dated 2025-01-03 has tip_ts 2262-01-01.*"
                                                r"outside its US/Eastern day \+- 12 h"):
        build_live(_cfg(tmp_path, schedule=path))
    assert not list((tmp_path / "features").rglob("run=*"))


def test_a_stored_row_with_an_absurd_tip_stops_the_build_before_dbt(tmp_path):
    con = raw_store.connect(tmp_path / "wh.duckdb")  # a row stored before the rule existed
    frame = pd.DataFrame([_row("2262-01-01T00:00:00Z")])
    frame["game_date"] = pd.to_datetime(frame["game_date"]).dt.date
    for col in ("tip_ts", "snapshot_ts"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame = frame.assign(ingested_at=pd.Timestamp("2025-01-03T12:00:00Z"), run_id="20250103T120000Z",
                         extract_path=None, content_hash="x")
    con.register("incoming", frame)
    con.execute("insert into raw.schedule by name select * from incoming")
    con.close()
    with pytest.raises(ScheduleCoverageError, match=r"game 2025010301 \(TOR@MIL\) on 2025-01-03 has tip .*2262"):
        build_live(_cfg(tmp_path))
    assert duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True).execute(
        "select count(*) from raw.schedule").fetchone()[0] == 1


def test_the_day_plan_leaves_an_absurd_tip_out():
    frame = pd.DataFrame({"game_id": [1, 2], "game_date": [DAY, DAY],
                          "tip_ts": ["2025-01-04T00:30:00Z", "2262-01-01T00:00:00Z"]})
    tips = day_schedule.tips_of_frame(frame, DAY, "test")
    assert tips.first_tip == tips.last_tip == datetime(2025, 1, 4, 0, 30, tzinfo=UTC)
    assert "1 tip outside" in tips.source
    plan = day_schedule.plan_day(tips)
    assert plan.job("pretip").at == datetime(2025, 1, 3, 23, 45, tzinfo=UTC)
