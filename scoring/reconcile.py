"""Team-minutes reconciliation: move each team's p50 sum into a realistic band around 240.

Per (game, team), over non-OUT players with p50 > 0, the gap to the band is spread in proportion to each
player's uncertainty (p90 - p10): confident projections move little. Starters are protected when a team is
over-allocated (they absorb a quarter of their share of any cut). Each p50 stays inside its own [p10, p90]
(so the intervals stay ordered) and inside [0, 48]; if those bounds cannot absorb the gap the remainder is
left (reported as a warning by the scorer). Tails are not moved: calibration is fitted after reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ReconcileConfig:
    band_low: float = 236.0
    band_high: float = 246.0
    starter_cut_weight: float = 0.25
    min_weight_width: float = 1.0
    max_iterations: int = 20


def _fill(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, w: np.ndarray, delta: float, iters: int) -> np.ndarray:
    """Add `delta` in total to x, proportional to w, never leaving [lo, hi] (water-filling)."""
    x = x.copy()
    for _ in range(iters):
        if abs(delta) < 1e-9:
            break
        room = (hi - x) if delta > 0 else (x - lo)
        free = (room > 1e-12) & (w > 0)
        if not free.any():
            break
        share = np.zeros_like(x)
        share[free] = w[free] / w[free].sum() * delta
        step = np.minimum(share, room) if delta > 0 else np.maximum(share, -room)
        x += step
        delta -= step.sum()
    return x


def reconcile_team_minutes(frame: pd.DataFrame, config: ReconcileConfig | None = None,
                           starter_col: str = "is_starter") -> pd.DataFrame:
    """Return a copy with `minutes_p50` reconciled and `minutes_p50_raw` kept. Needs keys, status, p10/p50/p90."""
    cfg = config or ReconcileConfig()
    f = frame.copy()
    f["minutes_p50_raw"] = f["minutes_p50"].astype(float)
    status = f["status"].astype("string").str.upper().fillna("")
    p10 = f["minutes_p10"].to_numpy(float)
    p50 = f["minutes_p50"].to_numpy(float).copy()
    p90 = f["minutes_p90"].to_numpy(float)
    starter = f[starter_col].fillna(False).astype(bool).to_numpy() if starter_col in f else np.zeros(len(f), bool)
    eligible = (status != "OUT").to_numpy() & (p50 > 0)
    width = np.maximum(p90 - p10, cfg.min_weight_width)
    lo_b, hi_b = np.clip(p10, 0, 48), np.clip(p90, 0, 48)
    groups = f.groupby(["game_id", "team_id"], sort=False).indices
    not_out = (status != "OUT").to_numpy()
    for idx in groups.values():
        total = p50[idx][not_out[idx]].sum()
        if cfg.band_low <= total <= cfg.band_high:
            continue
        sel = idx[eligible[idx]]
        if len(sel) == 0:
            continue
        delta = (cfg.band_low if total < cfg.band_low else cfg.band_high) - total
        w = width[sel].copy()
        if delta < 0:
            w = np.where(starter[sel], w * cfg.starter_cut_weight, w)
        p50[sel] = _fill(p50[sel], lo_b[sel], hi_b[sel], w, delta, cfg.max_iterations)
    f["minutes_p50"] = np.clip(p50, 0, 48)
    return f
