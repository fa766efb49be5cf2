"""Evaluation metrics and baselines (the reconciliation itself: test_distribution.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from scoring.metrics import add_baselines, evaluate


def test_metrics_on_hand_computed_example() -> None:
    frame = pd.DataFrame({
        "game_id": [1, 1, 1, 1, 1],
        "team_id": [7, 7, 7, 7, 7],
        "player_id": [1, 2, 3, 4, 5],
        "status": ["UNK", "UNK", "Q", "UNK", "OUT"],
        "minutes": [35.0, 12.0, 0.0, 22.0, 0.0],
        "minutes_p10": [28.0, 14.0, 0.0, 10.0, 0.0],
        "minutes_p50": [32.0, 18.0, 2.0, 21.0, 0.0],
        "minutes_p90": [38.0, 24.0, 6.0, 30.0, 0.0],
        "is_starter": [True, False, False, True, False],
    })
    m = evaluate(frame)
    # OUT row excluded; |errors| = 3, 6, 2, 1
    assert m["rows"] == 4 and m["dnp_rows"] == 1
    assert m["mae"] == pytest.approx(3.0)
    assert m["mae_played"] == pytest.approx((3 + 6 + 1) / 3)
    assert m["mae_by_bucket"]["0-10"]["mae"] == pytest.approx(2.0)
    assert m["mae_by_bucket"]["10-20"]["mae"] == pytest.approx(6.0)
    assert m["mae_by_bucket"]["20-30"]["mae"] == pytest.approx(1.0)
    assert m["mae_by_bucket"]["30+"]["mae"] == pytest.approx(3.0)
    assert m["mae_by_role"]["starter"]["mae"] == pytest.approx(2.0)
    assert m["mae_by_role"]["bench"]["mae"] == pytest.approx(4.0)
    # inside [p10, p90]: 35 in [28,38] yes; 12 in [14,24] no; 0 in [0,6] yes; 22 in [10,30] yes
    assert m["coverage_p10_p90"] == pytest.approx(0.75)
    # one team-game, p50 sum 73 -> outside [230, 260]
    assert m["team_sanity"]["share_in_band"] == 0.0


def test_baselines_use_only_earlier_games() -> None:
    frame = pd.DataFrame({
        "player_id": [1] * 5, "season": ["2021-22"] * 5, "status": ["UNK", "UNK", "OUT", "UNK", "UNK"],
        "tip_ts": pd.date_range("2021-11-01", periods=5, tz="UTC"),
        "minutes": [30.0, 0.0, 0.0, 20.0, 99.0],
    })
    b = add_baselines(frame)
    assert b["baseline_last5_played"].tolist() == [0.0, 30.0, 30.0, 30.0, 25.0]
    # season-to-date mean over earlier non-OUT games (DNP-CD counts as 0)
    assert b["baseline_season_avg"].tolist() == [0.0, 30.0, 15.0, 15.0, pytest.approx(50 / 3)]
