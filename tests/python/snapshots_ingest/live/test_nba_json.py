from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from snapshots_ingest import ids
from snapshots_ingest.live.http_client import SourceError
from snapshots_ingest.live.nba_boxscore import duration_seconds, parse_boxscore
from snapshots_ingest.live.nba_roster import parse_roster
from snapshots_ingest.live.nba_schedule import parse_schedule
from snapshots_ingest.live.odds_provider import JsonOddsProvider
from snapshots_ingest.raw_store import validate_frame

JSON_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "nba_json"
FETCHED = datetime(2026, 2, 8, 12, 0, tzinfo=UTC)
URL = "http://test/x.json"


def load(name: str) -> bytes:
    return (JSON_DIR / name).read_bytes()


def test_schedule_rows_for_the_slate():
    frame = parse_schedule(
        load("scheduleLeagueV2.json"), url=URL, fetched_at=FETCHED, game_dates={date(2026, 2, 8)}
    )
    validate_frame("schedule", frame)
    assert frame["source_game_id"].tolist() == ["0022500765", "0022500766"]
    mia_was = frame.iloc[0]
    assert mia_was["game_id"] == 22500765 and mia_was["tip_ts"] == pd.Timestamp("2026-02-08T19:00:00Z")
    assert (mia_was["home_tricode"], mia_was["away_team_id"], mia_was["season"]) == (
        "WAS",
        1610612748,
        "2025-26",
    )
    assert pd.isna(frame.iloc[1]["tip_ts"])  # TBD tip: unknown, not midnight
    assert (frame["snapshot_ts"] == pd.Timestamp("2026-02-08T09:00:00Z")).all()  # meta.time


def test_schedule_game_date_is_the_eastern_date_and_all_star_is_skipped():
    frame = parse_schedule(
        load("scheduleLeagueV2.json"), url=URL, fetched_at=FETCHED, game_dates={date(2026, 2, 9)}
    )
    assert frame["source_game_id"].tolist() == ["0022500770"]  # 00:00Z on the 10th is 19:00 ET on the 9th


def test_schedule_missing_field_names_the_field_and_url():
    data = json.loads(load("scheduleLeagueV2.json"))
    del data["leagueSchedule"]["gameDates"][0]["games"][0]["gameDateTimeUTC"]
    with pytest.raises(
        SourceError, match=r"nba_schedule: payload has no field 'gameDateTimeUTC'.*http://test/x.json"
    ):
        parse_schedule(json.dumps(data).encode(), url=URL, fetched_at=FETCHED)


def test_roster_rows_use_nba_player_ids_and_fetch_time():
    frame = parse_roster(
        load("roster_MIA.json"), url=URL, fetched_at=FETCHED, game_date=date(2026, 2, 8), game_id=22500765
    )
    validate_frame("roster", frame)
    assert len(frame) == 9 and set(frame["team_tricode"]) == {"MIA"}
    jaquez = frame[frame["player_name"] == "Jaime Jaquez Jr."].iloc[0]
    assert jaquez["player_id"] == ids.player_id("9900005", "nba") and jaquez["listed_pos"] == "F-G"
    assert (frame["snapshot_ts"] == pd.Timestamp(FETCHED)).all()


def test_roster_renamed_field_is_a_clear_error():
    data = json.loads(load("roster_MIA.json"))
    data["resultSets"][0]["headers"][14] = "PERSON_ID"
    with pytest.raises(SourceError, match=r"nba_roster: .*'PLAYER_ID'.*url: http://test/x.json"):
        parse_roster(json.dumps(data).encode(), url=URL, fetched_at=FETCHED, game_date=date(2026, 2, 8))


def test_boxscore_minutes_statuses_and_overtime():
    frame = parse_boxscore(
        load("boxscore_0022500765.json"), url=URL, fetched_at=datetime(2026, 2, 9, tzinfo=UTC)
    )
    validate_frame("box_scores", frame)
    by_name = frame.set_index("player_name")
    assert by_name.loc["Dante Exum", "seconds_played"] == 40 * 60 + 12
    assert by_name.loc["Alex Sarr", "seconds_played"] == 38 * 60 + 30  # 30.50 s rounds to even
    assert by_name.loc["Kyshawn George", ["play_status", "dnp_reason"]].tolist() == ["dnp", "DNP_COACH"]
    assert by_name.loc["Tyler Herro", ["play_status", "seconds_played"]].tolist() == ["inactive", 0]
    assert by_name.loc["Bam Adebayo", "starter"] and not by_name.loc["Jaime Jaquez Jr.", "starter"]
    assert set(frame["overtimes"]) == {1} and set(frame["game_date"]) == {date(2026, 2, 8)}
    assert by_name.loc["Bam Adebayo", ["is_home", "opponent_team_id", "pts"]].tolist() == [
        False,
        1610612764,
        25,
    ]


def test_boxscore_of_a_game_in_progress_gives_no_labels():
    data = json.loads(load("boxscore_0022500765.json"))
    data["game"]["gameStatus"] = 2
    assert parse_boxscore(json.dumps(data).encode(), url=URL, fetched_at=FETCHED).empty


@pytest.mark.parametrize(
    ("text", "seconds"), [("PT34M12.00S", 2052), ("PT00M00.00S", 0), ("", 0), ("PT5M", 300)]
)
def test_iso_durations(text: str, seconds: int):
    assert duration_seconds(text) == seconds


def test_json_odds_provider_rows():
    provider = JsonOddsProvider("http://test/odds/{date}.json")
    assert provider.url_for(date(2026, 2, 8)) == "http://test/odds/2026-02-08.json"
    frame = provider.parse(load("odds_2026-02-08.json"), url=URL, fetched_at=FETCHED)
    validate_frame("odds", frame)
    assert frame.iloc[0][["game_id", "home_team_id", "spread_home", "total"]].tolist() == [
        22500765,
        1610612764,
        6.5,
        228.5,
    ]
    assert pd.isna(frame.iloc[1]["total"])
    assert frame.iloc[0]["snapshot_ts"] == pd.Timestamp("2026-02-08T16:05:00Z")  # quote time, not fetch time
