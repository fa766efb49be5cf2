"""The synthetic league: deterministic, in the real dataset's format, and shaped like a real season."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from foundation.clock import LEAGUE_TZ
from snapshots_ingest.synthetic_league import SUIT_UP_PROBABILITY, generate_league

REAL_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "nba"
SEASONS = ("2023_24", "2024_25")
ET = LEAGUE_TZ


@pytest.fixture(scope="session")
def league_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic_league")
    generate_league(out)  # the defaults the demo uses: seed 7, two seasons from 2023-24
    return out


def read(league_dir: Path, table: str, season: str = SEASONS[0]) -> pd.DataFrame:
    return pd.read_parquet(league_dir / f"{table}_{season}.parquet")


def read_all(league_dir: Path, table: str) -> pd.DataFrame:
    return pd.concat([read(league_dir, table, s) for s in SEASONS], ignore_index=True)


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


# --- determinism -------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path, league_dir: Path) -> None:
    # A second run with the same seed (one season, to keep the suite fast) must reproduce every file of
    # that season byte for byte: season one does not depend on how many seasons follow.
    summary = generate_league(tmp_path, seed=7, seasons=1)
    again, default = digests(tmp_path), digests(league_dir)
    assert {f.name: f.sha256 for f in summary.files} == again
    compared = [name for name in again if name != "README.md"]  # the README lists the seasons
    assert len(compared) == 8
    for name in compared:
        assert again[name] == default[name], name


def test_different_seed_gives_a_different_league(tmp_path: Path, league_dir: Path) -> None:
    generate_league(tmp_path, seed=8, seasons=1)
    other, default = digests(tmp_path), digests(league_dir)
    assert other["teams_crosswalk.parquet"] == default["teams_crosswalk.parquet"]
    for table in ("box_scores", "schedule_bref", "lines", "injury_reports"):
        assert other[f"{table}_2023_24.parquet"] != default[f"{table}_2023_24.parquet"]
    assert json.loads((tmp_path / "dataset.json").read_text())["seed"] == 8


def test_writes_every_table_and_the_dataset_manifest(league_dir: Path) -> None:
    tables = ["box_scores", "schedule_bref", "lines", "rosters_derived", "injury_reports", "players"]
    expected = {f"{t}_{s}.parquet" for t in tables for s in SEASONS} | {
        "teams_crosswalk.parquet", "dataset.json", "README.md"}
    assert {p.name for p in league_dir.iterdir()} == expected
    manifest = json.loads((league_dir / "dataset.json").read_text())
    assert manifest["namespace"] == "syn" and manifest["seed"] == 7 and manifest["generator_version"]


# --- format parity with the real tables --------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.parametrize("table", ["box_scores", "schedule_bref", "lines", "rosters_derived", "teams_crosswalk"])
def test_columns_and_types_match_the_real_files(league_dir: Path, table: str) -> None:
    if not REAL_DIR.is_dir():
        pytest.skip(f"{REAL_DIR} not present")
    name = "teams_crosswalk.parquet" if table == "teams_crosswalk" else f"{table}_2021_22.parquet"
    syn_name = "teams_crosswalk.parquet" if table == "teams_crosswalk" else f"{table}_2023_24.parquet"
    real_schema = pq.read_schema(REAL_DIR / name).remove_metadata()
    syn_schema = pq.read_schema(league_dir / syn_name).remove_metadata()
    assert syn_schema.equals(real_schema), f"{table}:\nreal {real_schema}\nsyn  {syn_schema}"
    real_dtypes = pd.read_parquet(REAL_DIR / name).dtypes
    syn_dtypes = pd.read_parquet(league_dir / syn_name).dtypes
    assert syn_dtypes.astype(str).to_dict() == real_dtypes.astype(str).to_dict()


@pytest.mark.real_data
def test_team_crosswalk_matches_the_real_one(league_dir: Path) -> None:
    if not REAL_DIR.is_dir():
        pytest.skip(f"{REAL_DIR} not present")
    real = pd.read_parquet(REAL_DIR / "teams_crosswalk.parquet")
    syn = pd.read_parquet(league_dir / "teams_crosswalk.parquet")
    pd.testing.assert_frame_equal(syn.sort_values("bref_team", ignore_index=True),
                                  real.sort_values("bref_team", ignore_index=True))


# --- schedule ----------------------------------------------------------------------------------------


def test_schedule_is_a_full_regular_season(league_dir: Path) -> None:
    for season in SEASONS:
        sched = read(league_dir, "schedule_bref", season)
        assert len(sched) == 1230 and sched["game_id"].is_unique
        assert sched["home_team"].value_counts().eq(41).all()
        assert sched["away_team"].value_counts().eq(41).all()
        assert {"BRK", "CHO", "PHO"} <= set(sched["home_team"]) and not {"BKN", "CHA", "PHX"} & set(sched["home_team"])
        ids = sched["game_date"].map(lambda d: d.strftime("%Y%m%d")) + "0" + sched["home_team"]
        assert ids.eq(sched["game_id"]).all()
        months = pd.to_datetime(sched["game_date"]).dt.month
        assert months.iloc[0] == 10 and months.iloc[-1] == 4
        team_days = pd.concat([sched[["game_date", "home_team"]].set_axis(["d", "t"], axis=1),
                               sched[["game_date", "away_team"]].set_axis(["d", "t"], axis=1)])
        assert not team_days.duplicated().any(), "a team plays twice on one day"
        gaps = team_days.assign(d=pd.to_datetime(team_days["d"])).sort_values(["t", "d"]).groupby("t")["d"].diff()
        assert 0.10 <= (gaps.dt.days == 1).mean() <= 0.25  # back-to-backs


def test_tip_times_are_dst_aware_on_both_switches(league_dir: Path) -> None:
    sched = read(league_dir, "schedule_bref")
    # tipoff_utc is naive UTC; converting back to ET must give the listed date and clock time.
    et = sched["tipoff_utc"].map(lambda ts: ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ET))
    assert (et.map(lambda t: t.strftime("%H:%M")) == sched["tipoff_et"]).all()
    assert (et.map(lambda t: t.date()) == sched["game_date"]).all()
    offsets = et.map(lambda t: t.utcoffset() / timedelta(hours=1))
    dates = pd.to_datetime(sched["game_date"])
    for switch in ("2023-11-05", "2024-03-10"):  # first Sunday of November, second Sunday of March
        s = pd.Timestamp(switch)
        before, after = offsets[dates.between(s - pd.Timedelta(days=7), s - pd.Timedelta(days=1))], offsets[
            dates.between(s, s + pd.Timedelta(days=6))]
        assert len(before) and len(after) and before.nunique() == 1 and after.nunique() == 1
        assert before.iloc[0] != after.iloc[0]
    # Phoenix keeps MST all year, so the same local tip shows an hour later in ET while New York is on EDT.
    phx = sched[sched["home_team"] == "PHO"]
    local = phx["tipoff_utc"].map(lambda ts: ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("America/Phoenix")))
    assert (local.map(lambda t: t.utcoffset()) == timedelta(hours=-7)).all()
    phx_et_gap = (pd.to_datetime(phx["tipoff_et"], format="%H:%M") - pd.to_datetime(
        local.map(lambda t: t.strftime("%H:%M")), format="%H:%M")).dt.total_seconds() / 3600
    assert set(phx_et_gap) == {2.0, 3.0}


# --- box scores --------------------------------------------------------------------------------------


def test_team_minutes_sum_exactly_to_regulation_plus_overtime(league_dir: Path) -> None:
    box, sched = read_all(league_dir, "box_scores"), read_all(league_dir, "schedule_bref")
    n_ot = sched.set_index("game_id")["overtimes"].map({"OT": 1, "2OT": 2, "3OT": 3}).fillna(0).astype(int)
    seconds = box.groupby(["game_id", "team"])["seconds_played"].sum().reset_index()
    expected = (240 + 25 * seconds["game_id"].map(n_ot)) * 60
    assert (seconds["seconds_played"] == expected).all()
    assert len(seconds) == 2 * len(sched)
    assert 0.03 <= (n_ot > 0).mean() <= 0.09
    assert (n_ot == 1).sum() > (n_ot >= 2).sum() > 0


def test_box_stats_are_consistent_and_add_up_to_the_score(league_dir: Path) -> None:
    box, sched = read(league_dir, "box_scores"), read(league_dir, "schedule_bref")
    played = box[box["status"] == "played"]
    assert (played["pts"] == 2 * played["fg"] + played["fg3"] + played["ft"]).all()
    assert ((played["fg"] <= played["fga"]) & (played["fg3"] <= played["fg3a"]) & (played["fg3a"] <= played["fga"])
            & (played["ft"] <= played["fta"]) & (played["trb"] == played["orb"] + played["drb"])).all()
    assert (played["seconds_played"] > 0).all() and (played["minutes"] == played["seconds_played"] / 60).all()
    not_played = box[box["status"] != "played"]
    assert not_played["pts"].isna().all() and (not_played["seconds_played"] == 0).all()
    team_pts = played.groupby(["game_id", "is_home"])["pts"].sum().unstack()
    s = sched.set_index("game_id")
    assert (team_pts[True] == s["home_pts"]).all() and (team_pts[False] == s["away_pts"]).all()
    margin = (s["home_pts"] - s["away_pts"]).reindex(team_pts.index)
    pm = played.groupby(["game_id", "is_home"])["plus_minus"].sum().unstack()
    assert (pm[True] == 5 * margin).all() and (pm[False] == -5 * margin).all()
    # Shot volume follows minutes: starters take more shots than bench players.
    per_min = played.groupby("starter")["fga"].sum() / played.groupby("starter")["minutes"].sum()
    assert 0.3 <= per_min[True] <= 0.45 and 0.3 <= per_min[False] <= 0.45


def test_rotations_look_like_a_real_rotation(league_dir: Path) -> None:
    box = read_all(league_dir, "box_scores")
    assert box.groupby(["game_id", "team"])["starter"].sum().eq(5).all()
    played = box[box["status"] == "played"]
    starters, bench = played[played["starter"]]["minutes"], played[~played["starter"]]["minutes"]
    assert 28 <= starters.mean() <= 34 and 12 <= bench.mean() <= 20
    assert 0.08 <= (box["status"] == "dnp").mean() <= 0.2
    assert 0.15 <= (box["status"] == "inactive").mean() <= 0.3
    assert set(box.loc[box["status"] == "dnp", "dnp_reason"]) == {"Did Not Play"}
    assert set(box.loc[box["status"] == "inactive", "dnp_reason"]) == {"Inactive"}
    assert box.loc[box["status"] == "inactive", "box_order"].isna().all()
    listed = box.groupby(["game_id", "team"]).size()
    assert listed.between(13, 19).all()
    assert box.groupby(["game_id", "team"])["status"].apply(lambda s: (s != "inactive").sum()).le(13).all()
    # Roles change: some players start early in the season and come off the bench late (or the reverse).
    box["half"] = pd.to_datetime(box["game_date"]) >= pd.Timestamp("2024-01-15")
    start_share = played.assign(half=box["half"]).groupby(["player_id", "half"])["starter"].mean().unstack().dropna()
    assert ((start_share[False] - start_share[True]).abs() > 0.5).sum() >= 5


def test_ids_and_names_are_obviously_synthetic_and_unique(league_dir: Path) -> None:
    players = read_all(league_dir, "players")
    assert players["player_id"].str.fullmatch(r"syn[a-z]{2,7}\d{2}").all()
    assert players.groupby("player_id")["player_name"].nunique().eq(1).all()
    assert players.groupby("player_name")["player_id"].nunique().eq(1).all()
    assert set(players["listed_pos"]) == {"G", "F", "C", "G-F", "F-C"}
    box = read(league_dir, "box_scores")
    assert set(box["player_id"]) == set(read(league_dir, "players")["player_id"])


# --- rosters, trades ---------------------------------------------------------------------------------


def test_rosters_derived_counts_match_box_scores(league_dir: Path) -> None:
    box, rosters = read(league_dir, "box_scores"), read(league_dir, "rosters_derived")
    assert len(rosters) == len(box[["team", "player_id"]].drop_duplicates())
    assert (rosters["games_listed"] == rosters["games_played"] + rosters["dnp_games"] + rosters["inactive_games"]).all()
    assert rosters["games_started"].sum() == 5 * box[["game_id", "team"]].drop_duplicates().shape[0]
    size = rosters.groupby("team").size()
    assert size.between(15, 25).all()


def test_a_mid_season_trade_moves_players_between_teams(league_dir: Path) -> None:
    for season in SEASONS:
        rosters = read(league_dir, "rosters_derived", season)
        teams_per_player = rosters.groupby("player_id")["team"].nunique()
        traded = teams_per_player[teams_per_player == 2].index
        assert len(traded) >= 2
        for pid in traded:
            stints = rosters[rosters["player_id"] == pid].sort_values("first_game_date")
            assert stints["last_game_date"].iloc[0] < stints["first_game_date"].iloc[1]
            assert stints["first_game_date"].iloc[1].month == 2


# --- injuries and lines ------------------------------------------------------------------------------


def test_injury_reports_are_stamped_before_tip(league_dir: Path) -> None:
    reports, sched = read_all(league_dir, "injury_reports"), read_all(league_dir, "schedule_bref")
    tips = reports["game_id"].map(sched.set_index("game_id")["tipoff_utc"])
    assert (reports["report_ts"] < tips).all()
    lead = (tips - reports["report_ts"]).dt.total_seconds() / 60
    assert (lead == 90).mean() > 0.5  # the game-day report
    day_before = reports[lead != 90]["report_ts"].map(
        lambda ts: ts.replace(tzinfo=ZoneInfo("UTC")).astimezone(ET).strftime("%H:%M"))
    assert set(day_before) == {"17:30"}
    assert set(reports["status"]) == set(SUIT_UP_PROBABILITY)
    assert not reports.duplicated(["game_id", "player_id", "report_ts"]).any()


def test_final_report_status_drives_who_suits_up(league_dir: Path) -> None:
    reports, box = read_all(league_dir, "injury_reports"), read_all(league_dir, "box_scores")
    final = reports.sort_values("report_ts").drop_duplicates(["game_id", "player_id"], keep="last")
    joined = final.merge(box[["game_id", "player_id", "status"]], on=["game_id", "player_id"], validate="1:1")
    rates = joined.assign(suited=joined["status_y"] != "inactive").groupby("status_x")["suited"].agg(["mean", "size"])
    assert rates.loc["OUT", "mean"] == 0.0
    bounds = {"DOUBTFUL": (0.12, 0.40), "QUESTIONABLE": (0.45, 0.65), "PROBABLE": (0.82, 0.97), "AVAILABLE": (0.95, 1.0)}
    for status, (lo, hi) in bounds.items():
        assert rates.loc[status, "size"] >= 50, status
        assert lo <= rates.loc[status, "mean"] <= hi, (status, rates.loc[status].to_dict())
    # Injured players are listed as inactive, never silently missing from the box score.
    out_rows = joined[joined["status_x"] == "OUT"]
    assert (out_rows["status_y"] == "inactive").all()


def test_lines_follow_team_strength(league_dir: Path) -> None:
    lines, sched = read_all(league_dir, "lines"), read_all(league_dir, "schedule_bref")
    assert lines["game_id"].tolist() == sched["game_id"].tolist()
    assert (lines["home_spread"] == -lines["home_favored_by"]).all()
    assert ((lines["home_favored_by"] * 2) % 1 == 0).all() and ((lines["total"] * 2) % 1 == 0).all()
    assert 0.3 <= np.corrcoef(lines["home_favored_by"], lines["final_home_margin"])[0, 1] <= 0.55
    assert 200 <= lines["total"].quantile(0.05) and lines["total"].quantile(0.95) <= 250
    assert (lines["final_home_margin"] == sched["home_pts"] - sched["away_pts"]).all()
    favourite_home = lines["home_favored_by"] > 0
    assert (lines.loc[favourite_home, "ml_home"] < 0).all() and (lines.loc[favourite_home, "ml_away"] > 0).all()


def test_report_ts_is_naive_utc(league_dir: Path) -> None:
    reports = read(league_dir, "injury_reports")
    assert str(reports["report_ts"].dtype) == "datetime64[us]"
    first = reports["report_ts"].min()
    assert datetime(2023, 10, 1) <= first.to_pydatetime() <= datetime(2023, 11, 1)
