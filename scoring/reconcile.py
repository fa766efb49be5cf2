"""Team-minutes reconciliation on expected minutes (Minutes V1.2).

A team plays 240 minutes plus its overtime: `target_minutes` = 240 + the expected overtime minutes per team-game
measured on the training seasons (recorded in the bundle). Per (world, game, team), the players' expected
minutes `play_prob * E[minutes | plays]` are brought to that target by one factor `c` on every non-OUT player's
conditional distribution (each conditional quantile times c, capped at 48): the adjustment is spread in
proportion to each player's minutes, his play probability is untouched, and since every quantile moves by the
same factor they stay ordered and p50 stays under his conditional p50. `c` is found by bisection within
`factor_bounds`; a gap those bounds cannot absorb is left and reported (`reconcile_gap`).

Never forced: p50 sums. They stay a sanity measure in the reports ([230, 260], scoring/metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scoring.distribution import MAX_MINUTES, conditional_mean

REGULATION_MINUTES = 240.0


@dataclass(frozen=True)
class ReconcileConfig:
    target_minutes: float = REGULATION_MINUTES
    factor_low: float = 0.5
    factor_high: float = 2.0
    tolerance: float = 0.01
    max_iterations: int = 48  # bisection steps: the factor to (2 - 0.5) / 2^48


@dataclass
class Reconciled:
    V: np.ndarray  # conditional quantiles at KNOTS after the factor
    factor: np.ndarray  # per row: its group's factor
    raw_sum: np.ndarray  # per row: its group's sum of expected minutes before
    final_sum: np.ndarray  # per row: its group's sum after


OVERTIME_PERIOD_MINUTES = 25.0  # five players x five minutes


def expected_overtime_minutes(frame) -> float:
    """25 x the mean number of overtime periods per team-game of labelled training rows: a team-game's periods
    are its players' minutes above 240 in units of 25, rounded (box-score seconds rounding stays below 12.5).
    Team-games whose labels sum under 235 (incomplete box scores) are left out."""
    labelled = frame[frame["minutes"].notna()]
    sums = labelled.groupby(["game_id", "team_id"])["minutes"].sum()
    sums = sums[sums >= 235.0]
    if not len(sums):
        return 0.0
    periods = np.maximum(np.round((sums.to_numpy(float) - REGULATION_MINUTES) / OVERTIME_PERIOD_MINUTES), 0)
    return float(OVERTIME_PERIOD_MINUTES * periods.mean())


def reconcile_expected_minutes(V: np.ndarray, play_prob: np.ndarray, groups: np.ndarray,
                               config: ReconcileConfig | None = None) -> Reconciled:
    """Scale each group's conditional quantiles so that sum(play_prob * E[M | plays]) = target (module docstring).
    `groups`: an integer label per row (one per world, game and team); rows with play_prob 0 do not count."""
    cfg = config or ReconcileConfig()
    p = np.asarray(play_prob, float)
    codes, g = np.unique(groups, return_inverse=True)
    n_groups = len(codes)

    def sums(factor: np.ndarray) -> np.ndarray:
        scaled = np.minimum(V * factor[g][:, None], MAX_MINUTES)
        return np.bincount(g, weights=p * conditional_mean(scaled), minlength=n_groups)

    raw = sums(np.ones(n_groups))
    active = raw > 0
    lo = np.full(n_groups, cfg.factor_low)
    hi = np.full(n_groups, cfg.factor_high)
    # a fixed number of steps for every group: a group's factor never depends on which other team-games are
    # scored with it (a slate alone and the same games inside a season give the same numbers)
    for _ in range(cfg.max_iterations):
        mid = (lo + hi) / 2
        below = sums(mid) < cfg.target_minutes
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    factor = np.where(active, (lo + hi) / 2, 1.0)
    final = sums(factor)
    return Reconciled(V=np.minimum(V * factor[g][:, None], MAX_MINUTES), factor=factor[g], raw_sum=raw[g],
                      final_sum=final[g])
