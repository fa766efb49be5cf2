"""End-of-season context (issue 18): the standings and rest columns of the gold mart equal what pandas
recomputes straight from the raw box scores and schedule, using only games whose box score was available
at each row's cutoff.

Real data: the 2021-22 season replayed into a module store, gold features at 30 minutes before tip (one
dbt build), then a sample of (game, team) rows over the whole season (October to the last regular-season day
in April, and the playoffs) checked column by column. The pandas side reimplements the rules of
docs/features.md ("End-of-season context") from raw.box_scores / raw.schedule: a game's result counts when
max(first publication of its box score, tip + 1 us) <= cutoff_ts (int_box_scores_deduped.available_ts).
The hand-made league check is the dbt unit test standings_count_only_results_published_by_the_cutoff
(models/intermediate/asof/_asof__models.yml: a result played before the cutoff but published after it is not
counted; run by every full dbt build, e.g. tests/python/test_dbt_leakage.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

LEAD = 30
SEASON = "2021-22"
EAST = {"ATL", "BOS", "BKN", "CHA", "CHI", "CLE", "DET", "IND", "MIA", "MIL", "NYK", "ORL", "PHI", "TOR", "WAS"}
COLUMNS = ["team_win_pct", "games_behind_6th", "games_behind_10th", "games_left", "clinched_playoff", "eliminated",
           "seed_locked", "team_rest_rate_10g", "opp_win_pct"]


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_dataset_dir) -> Path:
    from minutes_live.pipeline.gold import build_gold_features
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("standings_real")
    db = root / "wh.duckdb"
    ingest_replay(real_dataset_dir, date(2022, 6, 30), datetime(2022, 7, 1, tzinfo=UTC), backfill=True,
                  seasons=[SEASON], db_path=db, data_root=root / "data")
    build_gold_features(real_dataset_dir, LEAD, db_path=db, data_root=root / "data", ingest=False)
    return db


def _read(db: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        box = con.sql("""
            select game_id, team_id, opponent_team_id, player_id, season, game_date, game_type, play_status,
                   dnp_reason, minutes, pts, snapshot_ts, ingested_at
            from raw.box_scores""").df()
        schedule = con.sql("""
            select game_id, season, game_type, game_status, tip_ts, home_team_id, away_team_id, home_tricode,
                   away_tricode, snapshot_ts, ingested_at
            from raw.schedule""").df()
        mart = con.sql(f"""
            select distinct game_id, team_id, opponent_team_id, season, game_date, game_type, tip_ts, cutoff_ts,
                   {", ".join(COLUMNS)}
            from features_minutes_v1""").df()
    finally:
        con.close()
    return {"box": box, "schedule": schedule, "mart": mart}


def _expected(raw: dict[str, pd.DataFrame], rows: pd.DataFrame) -> pd.DataFrame:
    """The columns for `rows` (game_id, team_id, opponent_team_id, tip_ts, cutoff_ts), from raw rows only."""
    sched = (raw["schedule"].sort_values(["snapshot_ts", "ingested_at"])
             .groupby("game_id").tail(1).dropna(subset=["tip_ts"]))
    # conference by team id, from the schedule's tricodes (not from the seed the models read)
    tricodes = pd.concat([sched[["home_team_id", "home_tricode"]].set_axis(["team_id", "tri"], axis=1),
                          sched[["away_team_id", "away_tricode"]].set_axis(["team_id", "tri"], axis=1)])
    conference = {int(t): ("East" if tri in EAST else "West") for t, tri in tricodes.drop_duplicates("team_id").values}
    reg = sched[(sched["game_type"] == "regular") & (sched["game_status"] != "postponed") & (sched["season"] == SEASON)]
    team_sched = pd.concat([reg[["game_id", "tip_ts", "home_team_id"]].rename(columns={"home_team_id": "team_id"}),
                            reg[["game_id", "tip_ts", "away_team_id"]].rename(columns={"away_team_id": "team_id"})])
    scheduled = team_sched.groupby("team_id").size()

    box = raw["box"].sort_values(["snapshot_ts", "ingested_at"])
    first_pub = box.groupby("game_id")["snapshot_ts"].min()
    box = box.groupby(["game_id", "player_id", "team_id"]).tail(1).copy()
    tips = sched.set_index("game_id")["tip_ts"]
    box["available_ts"] = [max(first_pub[g], tips[g] + pd.Timedelta(microseconds=1)) if g in tips.index
                           else first_pub[g] for g in box["game_id"]]
    team_games = (box.groupby(["game_id", "team_id"])
                  .agg(opp=("opponent_team_id", "min"), pts=("pts", lambda s: s.fillna(0).sum()),
                       game_type=("game_type", "min"), season=("season", "min"), available_ts=("available_ts", "min"),
                       game_date=("game_date", "min"))
                  .reset_index())
    pts = team_games.set_index(["game_id", "team_id"])["pts"]
    team_games["allowed"] = [pts.get((g, o), np.nan) for g, o in zip(team_games["game_id"], team_games["opp"], strict=True)]

    # rest flag per team game: a usual rotation player (previous eligible game with the team <= 15 days
    # before, mean clipped minutes >= 20 over his last <= 10 eligible games, >= 3 of them) did not play
    reason = box["dnp_reason"].fillna("").str.lower()
    box["eligible"] = (box["play_status"] == "played") | (
        (box["play_status"] == "dnp") & (box["dnp_reason"].isna()
                                         | reason.isin(["did not play", "dnp", "dnp-cd", "coach's decision",
                                                        "coaches decision"])
                                         | reason.str.contains("coach")))
    box = box.sort_values(["player_id", "available_ts", "game_id", "team_id"]).reset_index(drop=True)
    last = {}  # player -> list of (minutes_clipped, team_id, game_date) of eligible games so far
    rest = {}
    for r in box.itertuples():
        hist = last.setdefault(r.player_id, [])
        if r.play_status in ("dnp", "inactive") and len(hist) >= 1:
            window = hist[-10:]
            _, prev_team, prev_date = window[-1]
            if (len(window) >= 3 and np.mean([m for m, _, _ in window]) >= 20 and prev_team == r.team_id
                    and (pd.Timestamp(r.game_date) - pd.Timestamp(prev_date)).days <= 15):
                rest[(r.game_id, r.team_id)] = 1
        if r.eligible:
            hist.append((min(max(r.minutes, 0), 48), r.team_id, r.game_date))
    team_games["rest"] = [rest.get((g, t), 0) for g, t in zip(team_games["game_id"], team_games["team_id"], strict=True)]
    team_games = team_games.sort_values(["team_id", "available_ts", "game_id"])

    out = []
    for row in rows.itertuples():
        known = team_games[(team_games["available_ts"] <= row.cutoff_ts) & (team_games["season"] == SEASON)]
        regular = known[known["game_type"] == "regular"]
        table = pd.DataFrame({"team_id": scheduled.index, "n": scheduled.values})
        table["w"] = table["team_id"].map(regular[regular["pts"] > regular["allowed"]].groupby("team_id").size()).fillna(0)
        table["l"] = table["team_id"].map(regular[regular["pts"] < regular["allowed"]].groupby("team_id").size()).fillna(0)
        table["conf"] = table["team_id"].map(conference)
        table["pct"] = np.where(table["w"] + table["l"] > 0, table["w"] / (table["w"] + table["l"]).where(lambda s: s > 0), np.nan)
        table["diff"] = table["w"] - table["l"]
        table["n_eff"] = np.maximum(table["n"], table["w"] + table["l"])
        undecided = np.maximum(table["n"] - table["w"] - table["l"], 0)
        table["lo"] = table["w"] / table["n_eff"]
        table["hi"] = (table["w"] + undecided) / table["n_eff"]
        table["sort_pct"] = table["pct"].fillna(0.5)
        table = table.sort_values(["conf", "sort_pct", "diff", "team_id"], ascending=[True, False, False, True])
        table["rank"] = table.groupby("conf").cumcount() + 1
        t = table.set_index("team_id")
        me = t.loc[row.team_id]
        conf = t[t["conf"] == me["conf"]]
        others = conf.drop(index=row.team_id)
        line6 = conf.loc[conf["rank"] == 6, "diff"].iloc[0]
        line10 = conf.loc[conf["rank"] == 10, "diff"].iloc[0]
        recent = known[known["team_id"] == row.team_id].tail(10)
        out.append({
            "game_id": row.game_id, "team_id": row.team_id,
            "team_win_pct": me["pct"],
            "games_behind_6th": (line6 - me["diff"]) / 2,
            "games_behind_10th": (line10 - me["diff"]) / 2,
            "games_left": int(((team_sched["team_id"] == row.team_id) & (team_sched["tip_ts"] >= row.tip_ts)).sum()),
            "clinched_playoff": int((others["hi"] >= me["lo"]).sum() <= 5),
            "eliminated": int((others["lo"] > me["hi"]).sum() >= 10),
            "seed_locked": int(((others["lo"] > me["hi"]) | (others["hi"] < me["lo"])).all()),
            "team_rest_rate_10g": recent["rest"].mean() if len(recent) else np.nan,
            "opp_win_pct": t.loc[row.opponent_team_id, "pct"],
        })
    return pd.DataFrame(out)


def _sample(mart: pd.DataFrame, seed: int = 18) -> pd.DataFrame:
    """Every (game, team) row of a few dates across the season (opening week, mid-season, the last
    regular-season week incl. its last day, the playoffs) and 60 random others."""
    days = pd.to_datetime(mart["game_date"])
    fixed = mart[days.dt.strftime("%Y-%m-%d").isin(["2021-10-22", "2022-01-15", "2022-03-20", "2022-04-05",
                                                     "2022-04-10", "2022-04-20"])]
    rest = mart.drop(index=fixed.index).sample(60, random_state=seed)
    return pd.concat([fixed, rest]).sort_values(["game_date", "game_id", "team_id"]).reset_index(drop=True)


@pytest.mark.real_data
@pytest.mark.slow
def test_standings_equal_a_pandas_recomputation_from_box_scores_known_at_the_cutoff(store: Path) -> None:
    raw = _read(store)
    mart = raw["mart"]
    assert (mart["cutoff_ts"] == mart["tip_ts"] - pd.Timedelta(minutes=LEAD)).all()
    sample = _sample(mart)
    assert (pd.to_datetime(sample["game_date"]).dt.month == 4).sum() >= 20
    expected = _expected(raw, sample)
    got = sample.merge(expected, on=["game_id", "team_id"], suffixes=("", "_expected"))
    assert len(got) == len(sample)
    for column in COLUMNS:
        a, b = got[column].astype(float), got[f"{column}_expected"].astype(float)
        same = np.isclose(a, b, atol=1e-9, equal_nan=True)
        assert same.all(), f"{column} differs on {int((~same).sum())} rows:\n" + got.loc[
            ~same, ["game_date", "game_id", "team_id", column, f"{column}_expected"]].head(10).to_string()

    # the sample exercises the April situations the columns are for, and the columns move during the season
    april = got[pd.to_datetime(got["game_date"]).dt.strftime("%Y-%m-%d").between("2022-04-01", "2022-04-10")]
    assert april["clinched_playoff"].sum() > 0 and april["eliminated"].sum() > 0
    assert april["games_left"].max() <= 10 and april["games_behind_6th"].min() < 0 < april["games_behind_6th"].max()
    assert got["team_rest_rate_10g"].nunique() > 3

