from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.metrics import add_baselines, evaluate
from scoring.reconcile import ReconcileConfig, reconcile_team_minutes


def _team(game_id: int, team_id: int, p50: list[float], starters: int = 5) -> pd.DataFrame:
    p50a = np.array(p50, float)
    return pd.DataFrame({
        "game_id": game_id, "team_id": team_id, "player_id": range(len(p50)), "status": "UNK",
        "minutes_p10": np.clip(p50a - 8, 0, 48), "minutes_p50": p50a, "minutes_p90": np.clip(p50a + 8, 0, 48),
        "is_starter": [i < starters for i in range(len(p50))],
    })


def test_reconcile_brings_team_sums_into_band_and_keeps_order() -> None:
    low = _team(1, 10, [30, 30, 28, 28, 26, 18, 15, 12, 8, 0])  # 195
    high = _team(1, 11, [38, 37, 36, 35, 34, 30, 28, 20, 10])  # 268
    cfg = ReconcileConfig(band_low=236, band_high=246)
    out = reconcile_team_minutes(pd.concat([low, high], ignore_index=True), cfg)
    sums = out.groupby("team_id")["minutes_p50"].sum()
    assert sums[10] == pytest.approx(236, abs=1e-6) and sums[11] == pytest.approx(246, abs=1e-6)
    assert (out["minutes_p10"] <= out["minutes_p50"]).all() and (out["minutes_p50"] <= out["minutes_p90"]).all()
    assert out["minutes_p50"].between(0, 48).all()
    assert out.loc[out["minutes_p50_raw"] == 0, "minutes_p50"].eq(0).all()  # projected DNPs are not given minutes
    cut = (out["minutes_p50_raw"] - out["minutes_p50"])[out["team_id"] == 11]
    starters = out.loc[out["team_id"] == 11, "is_starter"]
    assert cut[starters].mean() < cut[~starters].mean()  # starters protected when cutting


def test_reconcile_leaves_teams_inside_band_alone() -> None:
    team = _team(2, 12, [34, 33, 32, 30, 28, 24, 20, 17, 10, 12])  # 240
    out = reconcile_team_minutes(team)
    assert np.array_equal(out["minutes_p50"], team["minutes_p50"])


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
