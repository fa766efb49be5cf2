"""Evaluation definitions (one place; docs/model.md and docs/architecture.md).

- rows: regular-season player-games of players not known OUT before tip (status != OUT in the features);
  coach's-decision DNP rows stay, with actual minutes 0;
- MAE of p50 vs actual minutes: overall, played-only (actual > 0), by actual bucket 0-10 / 10-20 / 20-30 / 30+
  (left-closed: [0,10), [10,20), [20,30), [30, inf)), by pre-tip starter / bench;
- coverage: share of actuals inside [p10, p90] (inclusive);
- team sanity: share of team-games whose p50 sum lies in [230, 260];
- baselines on the same rows: last-5-played-games average and season-to-date average (see `add_baselines`);
- breakdowns (`breakdowns`, in every report): MAE of the model and the baselines, played-only MAE and
  [p10, p90] coverage (all rows and played rows) per group of rows, split by
  actual minutes (BUCKETS); pre-game role = the player's mean minutes over his last 10 rotation-eligible games
  known before tip (`roll_mean_10`: <10, 10-20, 20-30, 30+, or no history); first game back after an absence
  (>= 1 / >= 3 team games missed right before this one, `missed_team_games`); pre-tip starter / bench; month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BUCKETS = ((0.0, 10.0, "0-10"), (10.0, 20.0, "10-20"), (20.0, 30.0, "20-30"), (30.0, np.inf, "30+"))
TEAM_BAND = (230.0, 260.0)
ROLE_COLUMN = "roll_mean_10"  # pre-game role: mean minutes of the last 10 rotation-eligible games before tip
ROLE_BUCKETS = ((0.0, 10.0, "<10"), (10.0, 20.0, "10-20"), (20.0, 30.0, "20-30"), (30.0, np.inf, "30+"))
NO_HISTORY = "no history"
ABSENCE_MIN_GAMES = (1, 3)
# feature columns the breakdowns read; scored frames get them from their features (`with_breakdown_inputs`)
BREAKDOWN_INPUTS = ("team_id", "season", "game_date", ROLE_COLUMN, "days_since_last")


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
    split = breakdowns(frame, p10, p50, p90, starter_col, baselines)
    out["mae_by_bucket"] = {label: {"rows": g["rows"], "mae": g["mae"]} for label, g in split["actual_minutes"].items()}
    if "starter" in split:
        out["mae_by_role"] = {role: {"rows": g["rows"], "mae": g["mae"]} for role, g in split["starter"].items()}
        out["coverage_by_role"] = {role: g["coverage"] for role, g in split["starter"].items()}
    status = frame["status"].astype("string").str.upper().fillna("")
    out["team_sanity"] = team_sanity(frame[status != "OUT"], p50)
    out["baselines"] = {}
    for b in baselines:
        bp = rows[b].astype(float)
        out["baselines"][b] = {
            "mae": _mae(bp, y),
            "mae_played": _mae(bp[played], y[played]),
            "mae_by_bucket": {label: g["baselines"][b] for label, g in split["actual_minutes"].items()},
        }
    out["breakdowns"] = split
    return out


def role_bucket(role_minutes: pd.Series) -> pd.Series:
    """Pre-game role label of each row from its last-10 mean minutes (ROLE_BUCKETS; NaN -> 'no history')."""
    v = pd.to_numeric(role_minutes, errors="coerce").astype(float)
    out = pd.Series(NO_HISTORY, index=role_minutes.index, dtype=object)
    for lo, hi, label in ROLE_BUCKETS:
        out[(v >= lo) & (v < hi)] = label
    return out


def missed_team_games(frame: pd.DataFrame) -> pd.Series:
    """Team games a player missed right before this one, known before tip: his team's games of the same
    season dated after his previous rotation-eligible game (game_date - days_since_last) and before this one.
    NaN without history. Counts only the team games present in `frame` (a whole season in a backtest)."""
    dates = pd.to_datetime(frame["game_date"]).dt.normalize()
    last = dates - pd.to_timedelta(pd.to_numeric(frame["days_since_last"], errors="coerce"), unit="D")
    out = np.full(len(frame), np.nan)
    keys = frame["team_id"].astype("int64").astype(str) + "|" + frame["season"].astype(str)
    for _, idx in keys.groupby(keys).indices.items():
        team_dates = np.unique(dates.to_numpy()[idx])  # sorted game dates of this team and season
        now = np.searchsorted(team_dates, dates.to_numpy()[idx], side="left")
        prev = last.to_numpy()[idx]
        after_last = np.searchsorted(team_dates, prev, side="right")
        out[idx] = np.where(pd.isna(prev), np.nan, np.maximum(now - after_last, 0))
    return pd.Series(out, index=frame.index)


def with_breakdown_inputs(scored: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """`scored` (a bundle's predictions, rows in the order of `features`) with the BREAKDOWN_INPUTS it lacks."""
    out = scored.copy()
    for col in BREAKDOWN_INPUTS:
        if col not in out.columns and col in features.columns:
            out[col] = features[col].to_numpy()
    return out


def breakdowns(frame: pd.DataFrame, p10: str = "minutes_p10", p50: str = "minutes_p50", p90: str = "minutes_p90",
               starter_col: str = "is_starter", baselines: tuple[str, ...] = ()) -> dict:
    """{split: {group: stats}} over the evaluation rows (module docstring); a split whose input columns the
    frame lacks is left out. stats: rows, played_rows, mae, mae_played, coverage, coverage_played and
    baselines {name: mae}; None where a group has no rows."""
    mask = evaluation_rows(frame)
    rows = frame[mask]
    y = rows["minutes"].astype(float).to_numpy()
    pred = rows[p50].astype(float).to_numpy()
    inside = (y >= rows[p10].astype(float).to_numpy()) & (y <= rows[p90].astype(float).to_numpy())
    played = y > 0
    base = {b: rows[b].astype(float).to_numpy() for b in baselines}

    def mean(values: np.ndarray, sel: np.ndarray) -> float | None:
        return float(np.mean(values[sel])) if sel.any() else None

    def stats(sel: np.ndarray) -> dict:
        sel = np.asarray(sel, bool)
        return {"rows": int(sel.sum()), "played_rows": int((sel & played).sum()),
                "mae": mean(np.abs(pred - y), sel), "mae_played": mean(np.abs(pred - y), sel & played),
                "coverage": mean(inside, sel), "coverage_played": mean(inside, sel & played),
                "baselines": {b: mean(np.abs(v - y), sel) for b, v in base.items()}}

    splits: dict[str, list[tuple[str, np.ndarray]]] = {
        "actual_minutes": [(label, (y >= lo) & (y < hi)) for lo, hi, label in BUCKETS]}
    if ROLE_COLUMN in rows.columns:
        role = role_bucket(rows[ROLE_COLUMN]).to_numpy()
        splits["pregame_role"] = [(label, role == label) for label in [b[2] for b in ROLE_BUCKETS] + [NO_HISTORY]]
    if all(c in frame.columns for c in ("team_id", "season", "game_date", "days_since_last")):
        missed = missed_team_games(frame)[mask].to_numpy()
        splits["first_game_back"] = [(f"after >= {n} missed game{'s' if n > 1 else ''}", missed >= n)
                                     for n in ABSENCE_MIN_GAMES]
        splits["first_game_back"].append(("not after an absence", ~(missed >= 1)))
    if starter_col in rows.columns:
        st = rows[starter_col].fillna(False).astype(bool).to_numpy()
        splits["starter"] = [("starter", st), ("bench", ~st)]
    if "game_date" in rows.columns:
        month = pd.to_datetime(rows["game_date"]).dt.strftime("%Y-%m").to_numpy()
        splits["month"] = [(m, month == m) for m in sorted(set(month))]
    return {name: {label: stats(sel) for label, sel in groups} for name, groups in splits.items()}


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


def play_reliability(play_prob: np.ndarray, played: np.ndarray, bins: int = 10) -> list[dict]:
    """Deciles of play_prob (by rank, so ties never empty a bin): mean play_prob, observed play share, rows."""
    p = np.asarray(play_prob, float)
    y = np.asarray(played, float)
    if len(p) == 0:
        return []
    order = np.argsort(p, kind="stable")
    out = []
    for k, idx in enumerate(np.array_split(order, bins)):
        if len(idx):
            out.append({"decile": k + 1, "rows": int(len(idx)), "mean_play_prob": float(p[idx].mean()),
                        "observed": float(y[idx].mean()), "gap": float(y[idx].mean() - p[idx].mean())})
    return out


def distribution_checks(frame: pd.DataFrame, target_minutes: float | None) -> dict:
    """Minutes V1.2 measures of one scored season (issue 18's table; definitions in docs/model.md):
    calibration of play_prob, coverage of the published and of the minutes-if-he-plays interval, p50 against
    the conditional median, team sums of expected minutes and their adjustment, MAE by season phase."""
    rows = frame[evaluation_rows(frame)]
    y = rows["minutes"].to_numpy(float)
    played = y > 0
    p = rows["play_prob"].to_numpy(float)
    out: dict = {"brier": float(np.mean((p - played) ** 2)) if len(p) else None,
                 "reliability": play_reliability(p, played)}
    if "minutes_if_play_p10" in rows:
        lo, hi = rows["minutes_if_play_p10"].to_numpy(float), rows["minutes_if_play_p90"].to_numpy(float)
        inside = (y >= lo) & (y <= hi)
        out["if_play_coverage_played"] = float(inside[played].mean()) if played.any() else None
        if ROLE_COLUMN in rows:
            role = role_bucket(rows[ROLE_COLUMN]).to_numpy()
            out["if_play_coverage_played_by_role"] = {
                label: (float(inside[played & (role == label)].mean()) if (played & (role == label)).any() else None)
                for label in [b[2] for b in ROLE_BUCKETS] + [NO_HISTORY]}
        status = frame["status"].astype("string").str.upper().fillna("")
        live = frame[status != "OUT"]
        out["p50_above_if_play_p50"] = int((live["minutes_p50"] > live["minutes_if_play_p50"] + 1e-9).sum())
    if "minutes_mean" in frame:
        status = frame["status"].astype("string").str.upper().fillna("")
        teams = frame[status != "OUT"].groupby(["game_id", "team_id"])
        mean_sum = teams["minutes_mean"].sum()
        raw_sum = teams["minutes_mean_raw"].sum() if "minutes_mean_raw" in frame else mean_sum
        adjustment = (mean_sum - raw_sum).abs()
        out["team_expected_minutes"] = {
            "target_minutes": target_minutes, "team_games": int(len(mean_sum)),
            "share_within_0_5_of_target": (float(((mean_sum - target_minutes).abs() <= 0.5).mean())
                                           if target_minutes is not None and len(mean_sum) else None),
            "median_abs_adjustment": float(adjustment.median()) if len(adjustment) else None,
            "p95_abs_adjustment": float(adjustment.quantile(0.95)) if len(adjustment) else None,
            "raw_sum_mean": float(raw_sum.mean()) if len(raw_sum) else None,
            "raw_sum_std": float(raw_sum.std()) if len(raw_sum) > 1 else None,
        }
    if "game_date" in rows:
        month = pd.to_datetime(rows["game_date"]).dt.month.to_numpy()
        err = np.abs(rows["minutes_p50"].to_numpy(float) - y)
        april, regular = month == 4, (month >= 10) | (month <= 3)
        out["mae_april"] = float(err[april].mean()) if april.any() else None
        out["mae_oct_mar"] = float(err[regular].mean()) if regular.any() else None
        out["april_minus_oct_mar"] = (out["mae_april"] - out["mae_oct_mar"]
                                      if april.any() and regular.any() else None)
    return out
