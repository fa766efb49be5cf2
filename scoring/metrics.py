"""Evaluation definitions (one place; ../shared/docs/architecture.md "Evaluation definitions").

- rows: regular-season player-games of players not known OUT before tip (status != OUT in the features);
  coach's-decision DNP rows stay, with actual minutes 0;
- MAE of p50 vs actual minutes: overall, played-only (actual > 0), by actual bucket 0-10 / 10-20 / 20-30 / 30+
  (left-closed: [0,10), [10,20), [20,30), [30, inf)), by pre-tip starter / bench;
- coverage: share of actuals inside [p10, p90] (inclusive);
- team sanity: share of team-games whose p50 sum lies in [230, 260];
- baselines on the same rows: last-5-played-games average and season-to-date average (see `add_baselines`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BUCKETS = ((0.0, 10.0, "0-10"), (10.0, 20.0, "10-20"), (20.0, 30.0, "20-30"), (30.0, np.inf, "30+"))
TEAM_BAND = (230.0, 260.0)


def evaluation_rows(frame: pd.DataFrame) -> pd.Series:
    """Boolean mask of rows that count: regular season (when `game_type` is present), label present,
    player not OUT before tip."""
    status = frame["status"].astype("string").str.upper().fillna("")
    mask = frame["minutes"].notna() & (status != "OUT")
    if "game_type" in frame.columns:
        mask &= frame["game_type"].astype("string").fillna("regular").eq("regular")
    return mask


def _mae(pred: pd.Series, actual: pd.Series) -> float | None:
    return float(np.mean(np.abs(pred - actual))) if len(actual) else None


def team_sanity(frame: pd.DataFrame, p50_col: str = "minutes_p50") -> dict:
    sums = frame.groupby(["game_id", "team_id"])[p50_col].sum()
    inside = sums.between(*TEAM_BAND)
    return {
        "team_games": int(len(sums)),
        "share_in_band": float(inside.mean()) if len(sums) else None,
        "band": list(TEAM_BAND),
        "p50_sum_mean": float(sums.mean()) if len(sums) else None,
        "p50_sum_min": float(sums.min()) if len(sums) else None,
        "p50_sum_max": float(sums.max()) if len(sums) else None,
    }


def evaluate(frame: pd.DataFrame, p10: str = "minutes_p10", p50: str = "minutes_p50", p90: str = "minutes_p90",
             starter_col: str = "is_starter", baselines: tuple[str, ...] = ()) -> dict:
    """All evaluation metrics for one scored frame (must carry `minutes`, `status`, keys and predictions).

    Team sanity is computed over every non-OUT scored row (OUT rows carry 0 anyway).
    """
    rows = frame[evaluation_rows(frame)]
    y = rows["minutes"].astype(float)
    pred = rows[p50].astype(float)
    played = y > 0
    out: dict = {
        "rows": int(len(rows)),
        "played_rows": int(played.sum()),
        "dnp_rows": int((~played).sum()),
        "mae": _mae(pred, y),
        "mae_played": _mae(pred[played], y[played]),
        "mae_dnp": _mae(pred[~played], y[~played]),
        "mae_by_bucket": {},
        "coverage_p10_p90": float(((y >= rows[p10]) & (y <= rows[p90])).mean()) if len(rows) else None,
        "share_below_p10": float((y < rows[p10]).mean()) if len(rows) else None,
        "share_above_p90": float((y > rows[p90]).mean()) if len(rows) else None,
        "coverage_played": float(((y >= rows[p10]) & (y <= rows[p90]))[played].mean()) if played.any() else None,
        "mean_interval_width": float((rows[p90] - rows[p10]).mean()) if len(rows) else None,
    }
    for lo, hi, label in BUCKETS:
        sel = (y >= lo) & (y < hi)
        out["mae_by_bucket"][label] = {"rows": int(sel.sum()), "mae": _mae(pred[sel], y[sel])}
    if starter_col in rows.columns:
        st = rows[starter_col].fillna(False).astype(bool)
        out["mae_by_role"] = {
            "starter": {"rows": int(st.sum()), "mae": _mae(pred[st], y[st])},
            "bench": {"rows": int((~st).sum()), "mae": _mae(pred[~st], y[~st])},
        }
        out["coverage_by_role"] = {
            "starter": float(((y >= rows[p10]) & (y <= rows[p90]))[st].mean()) if st.any() else None,
            "bench": float(((y >= rows[p10]) & (y <= rows[p90]))[~st].mean()) if (~st).any() else None,
        }
    status = frame["status"].astype("string").str.upper().fillna("")
    out["team_sanity"] = team_sanity(frame[status != "OUT"], p50)
    out["baselines"] = {}
    for b in baselines:
        bp = rows[b].astype(float)
        out["baselines"][b] = {
            "mae": _mae(bp, y),
            "mae_played": _mae(bp[played], y[played]),
            "mae_by_bucket": {label: _mae(bp[(y >= lo) & (y < hi)], y[(y >= lo) & (y < hi)]) for lo, hi, label in BUCKETS},
        }
    return out


def add_baselines(frame: pd.DataFrame) -> pd.DataFrame:
    """Add `baseline_last5_played` and `baseline_season_avg` computed from the frame's own label history.

    For each row, strictly earlier games (by tip_ts) of the same player:
    - last5_played: mean minutes of the player's last 5 games with minutes > 0 (any season);
    - season_avg: mean minutes over the player's earlier non-OUT games of the same season (DNP-CD = 0),
      falling back to last5_played in his first game of a season.
    No history at all -> 0 (a newcomer is projected not to play).
    """
    f = frame.copy()
    order = f.sort_values(["player_id", "tip_ts"]).index
    s = f.loc[order]
    status = s["status"].astype("string").str.upper().fillna("")
    has_label = s["minutes"].notna() & (status != "OUT")
    played_min = s["minutes"].where(has_label & (s["minutes"] > 0))
    # last 5 played: rolling over played games only, then carried forward to the next rows of the player
    pm = played_min.dropna()
    roll = pm.groupby(s.loc[pm.index, "player_id"]).transform(lambda x: x.rolling(5, min_periods=1).mean())
    last5 = pd.Series(np.nan, index=s.index)
    last5.loc[roll.index] = roll
    last5 = last5.groupby(s["player_id"]).transform(lambda x: x.ffill().shift(1))
    lab = s["minutes"].where(has_label)
    grp = [s["player_id"], s["season"]]
    csum = lab.fillna(0).groupby(grp).cumsum() - lab.fillna(0)
    ccount = has_label.astype(int).groupby(grp).cumsum() - has_label.astype(int)
    season_avg = (csum / ccount.where(ccount > 0)).fillna(last5)
    f.loc[order, "baseline_last5_played"] = last5.fillna(0.0).to_numpy()
    f.loc[order, "baseline_season_avg"] = season_avg.fillna(0.0).to_numpy()
    return f
