"""The run's reports (`reports/minutes_live/<date>/run=<id>/`, or the dataset's own reports root): per team-game
the expected-minutes sum, the model's raw sum and the adjustment, and the p50 sum flagged outside [230, 260]
(team_minutes.csv); the features run's per-game snapshot coverage (snapshot_coverage.csv); per game the newest
feature_as_of_ts and its lag behind run_as_of_ts (feature_freshness.csv).

Written by the scheduled job and by `score_minutes_v1` when it scores a features run into the dataset's roots,
so the two-step path (`build_minutes_live`, then `score_minutes_v1`) leaves the same three directories as a job.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from scoring.metrics import TEAM_BAND


def team_minutes_frame(minutes: pd.DataFrame) -> pd.DataFrame:
    """team_minutes.csv's rows from a scored slate (minutes.parquet): per team-game the players, expected-minutes
    sum, the model's raw sum and the adjustment, the p50 / p10 / p90 sums, and the p50 sum's [230, 260] flag."""
    lo, hi = TEAM_BAND
    if "minutes_mean_raw" not in minutes.columns:  # a bundle without reconciliation: the raw sum is the sum
        minutes = minutes.assign(minutes_mean_raw=minutes.get("minutes_mean", minutes["minutes_p50"]))
    if "minutes_mean" not in minutes.columns:
        minutes = minutes.assign(minutes_mean=minutes["minutes_p50"])
    team = (
        minutes.groupby(["game_id", "team_id", "team_tricode"], as_index=False)
        .agg(players=("player_id", "size"), mean_sum=("minutes_mean", "sum"), raw_mean_sum=("minutes_mean_raw", "sum"),
             p50_sum=("minutes_p50", "sum"), p10_sum=("minutes_p10", "sum"), p90_sum=("minutes_p90", "sum"))
    )
    team.insert(team.columns.get_loc("raw_mean_sum") + 1, "adjustment", team["mean_sum"] - team["raw_mean_sum"])
    team = team.round(2)
    team["outside_230_260"] = ~team["p50_sum"].between(lo, hi)
    return team


def write_reports(directory: Path, minutes: pd.DataFrame, coverage: pd.DataFrame, features: pd.DataFrame,
                  run_as_of_ts: datetime) -> dict:
    # expected minutes are reconciled to the bundle's target (240 + expected overtime): the raw sum and the
    # adjustment say how far the model was from it; p50 sums stay a sanity measure, flagged outside [230, 260]
    team = team_minutes_frame(minutes)
    as_of = pd.Timestamp(run_as_of_ts)
    fmax = features.groupby("game_id", as_index=False).agg(feature_as_of_ts_max=("feature_as_of_ts", "max"),
                                                            tip_ts=("tip_ts", "first"))
    fmax["feature_lag_minutes"] = ((as_of - fmax["feature_as_of_ts_max"]).dt.total_seconds() / 60).round(2)
    team.to_csv(directory / "team_minutes.csv", index=False)
    coverage.to_csv(directory / "snapshot_coverage.csv", index=False)
    fmax.to_csv(directory / "feature_freshness.csv", index=False)
    return {
        "team_games": int(len(team)),
        "team_games_outside_band": int(team["outside_230_260"].sum()),
        "mean_sum_min": float(team["mean_sum"].min()) if len(team) else None,
        "mean_sum_max": float(team["mean_sum"].max()) if len(team) else None,
        "median_abs_adjustment": float(team["adjustment"].abs().median()) if len(team) else None,
        "max_abs_adjustment": float(team["adjustment"].abs().max()) if len(team) else None,
        "p50_sum_min": float(team["p50_sum"].min()) if len(team) else None,
        "p50_sum_max": float(team["p50_sum"].max()) if len(team) else None,
        "feature_lag_minutes_max": float(fmax["feature_lag_minutes"].max()) if len(fmax) else None,
    }
