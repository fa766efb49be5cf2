"""The report breakdowns (scoring.metrics.breakdowns) on hand-computed examples."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from scoring.metrics import breakdowns, evaluate, missed_team_games, role_bucket


def test_role_buckets_are_left_closed_with_no_history_for_missing() -> None:
    got = role_bucket(pd.Series([0.0, 9.99, 10.0, 19.9, 20.0, 30.0, 44.0, np.nan]))
    assert got.tolist() == ["<10", "<10", "10-20", "10-20", "20-30", "30+", "30+", "no history"]


def _team_season(days: list[int], season: str = "2021-22", team_id: int = 7) -> pd.DataFrame:
    start = date(2021, 10, 20)
    return pd.DataFrame({"team_id": team_id, "season": season, "game_id": range(len(days)),
                         "game_date": [start + timedelta(days=d) for d in days]})


def test_missed_team_games_counts_the_team_games_between_the_last_played_one_and_this_one() -> None:
    games = _team_season([0, 2, 4, 6, 8, 10])
    # one player, one row per team game: no history, played day 2, out days 4-8, back on day 10
    frame = games.assign(days_since_last=[np.nan, 2, 2, 4, 6, 8])
    got = missed_team_games(frame)
    assert np.isnan(got.iloc[0])
    assert got.iloc[1:].tolist() == [0, 0, 1, 2, 3]  # day 10: the team played days 4, 6, 8 without him


def test_missed_team_games_start_again_each_season() -> None:
    opener = _team_season([0, 2], season="2022-23").assign(days_since_last=[160, 2])
    assert missed_team_games(opener).tolist() == [0, 0]  # last season's games are not this team-season's


def _scored() -> pd.DataFrame:
    games = _team_season([0, 2, 4, 6, 35])
    return games.assign(
        player_id=1, status=["UNK", "UNK", "OUT", "UNK", "UNK"], days_since_last=[np.nan, 2, 2, 4, 29],
        minutes=[30.0, 0.0, 0.0, 20.0, 12.0], minutes_p10=[20.0, 0.0, 0.0, 10.0, 14.0],
        minutes_p50=[28.0, 4.0, 0.0, 22.0, 20.0], minutes_p90=[36.0, 10.0, 0.0, 30.0, 25.0],
        roll_mean_10=[np.nan, 9.0, 9.0, 15.0, 31.0], is_starter=[True, False, False, False, True],
        baseline_last5_played=[0.0, 30.0, 30.0, 30.0, 25.0],
    )


def test_breakdowns_on_a_hand_computed_example() -> None:
    split = breakdowns(_scored(), baselines=("baseline_last5_played",))
    # evaluated rows (the OUT row is not): errors |28-30|=2, |4-0|=4, |22-20|=2, |20-12|=8
    role = split["pregame_role"]
    assert role["no history"]["rows"] == 1 and role["no history"]["mae"] == pytest.approx(2.0)
    assert role["<10"]["mae"] == pytest.approx(4.0) and role["<10"]["played_rows"] == 0
    assert role["<10"]["mae_played"] is None and role["20-30"]["rows"] == 0 and role["20-30"]["mae"] is None
    assert role["30+"]["baselines"]["baseline_last5_played"] == pytest.approx(13.0)
    back = split["first_game_back"]
    # day 6: the player missed the day-4 team game; day 35: his last game was day 6, no team game between
    assert back["after >= 1 missed game"]["rows"] == 1 and back["after >= 1 missed game"]["mae"] == pytest.approx(2.0)
    assert back["after >= 3 missed games"]["rows"] == 0
    assert back["not after an absence"]["rows"] == 3
    assert split["starter"]["starter"]["coverage_played"] == pytest.approx(0.5)  # 30 in [20, 36], 12 not in [14, 25]
    assert split["month"]["2021-10"]["rows"] == 3 and split["month"]["2021-11"]["rows"] == 1


def test_partitioning_splits_add_up_to_the_evaluated_rows_and_reproduce_the_overall_mae() -> None:
    scored = _scored()
    m = evaluate(scored, baselines=("baseline_last5_played",))
    for name in ("actual_minutes", "pregame_role", "starter", "month"):
        groups = m["breakdowns"][name].values()
        assert sum(g["rows"] for g in groups) == m["rows"], name
        total = sum(g["mae"] * g["rows"] for g in groups if g["rows"])
        assert total / m["rows"] == pytest.approx(m["mae"]), name
    # the older per-bucket keys are the same numbers
    assert m["mae_by_bucket"]["0-10"]["mae"] == m["breakdowns"]["actual_minutes"]["0-10"]["mae"]
    assert m["coverage_by_role"]["bench"] == m["breakdowns"]["starter"]["bench"]["coverage"]
