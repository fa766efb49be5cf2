"""A player's minutes as one two-part distribution, and every published number read from it (Minutes V1.2).

Minutes M are 0 with probability 1 - p (he does not play) and follow his conditional distribution F (minutes if
he plays) otherwise. F is held as a quantile function: values `V[:, j]` at the levels `KNOTS[j]` (0 and 1
included), linear in between. So, exactly:

- `minutes_if_play_pXX` = F^-1(level),
- `minutes_pXX` (the mixture) = 0 when level <= 1 - p, else F^-1((level - (1 - p)) / p); hence
  `minutes_p50 <= minutes_if_play_p50` always (a mass at 0 only pulls quantiles down),
- `minutes_mean` = p * E[M | plays] = p * integral of F^-1 over [0, 1] (trapezoids between the knots).

Several worlds (a game-time decision that sits or plays, scoring/worlds.py) give a mixture of such
distributions; `mixture_of_worlds_quantile` inverts their weighted CDF, evaluated on a 0.01-minute grid.
"""

from __future__ import annotations

import numpy as np

MAX_MINUTES = 48.0
# levels at which a calibrated conditional distribution is held (dense enough that the piecewise-linear quantile
# function between them is close to the model's)
KNOTS = np.array([0.0, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
                  0.975, 1.0])


def extend_to_unit(levels: list[float] | np.ndarray, cond_q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The trained quantile levels plus 0 and 1 (extended linearly from the outermost two), clipped to [0, 48]."""
    lv = np.asarray(levels, float)
    q_lo = np.clip(cond_q[:, 0] - (cond_q[:, 1] - cond_q[:, 0]) * lv[0] / (lv[1] - lv[0]), 0, MAX_MINUTES)
    q_hi = np.clip(cond_q[:, -1] + (cond_q[:, -1] - cond_q[:, -2]) * (1 - lv[-1]) / (lv[-1] - lv[-2]), 0,
                   MAX_MINUTES)
    return np.concatenate([[0.0], lv, [1.0]]), np.column_stack([q_lo, cond_q, q_hi])


def quantile_at(L: np.ndarray, V: np.ndarray, u: np.ndarray | float) -> np.ndarray:
    """F^-1(u) per row of V (values at levels L, linear in between); u is a scalar or one level per row."""
    n = V.shape[0]
    u = np.clip(np.broadcast_to(np.asarray(u, float), (n,)), 0.0, 1.0)
    j = np.clip(np.searchsorted(L, u, side="right"), 1, len(L) - 1)
    rows = np.arange(n)
    l0, l1 = L[j - 1], L[j]
    v0, v1 = V[rows, j - 1], V[rows, j]
    return v0 + (u - l0) / (l1 - l0) * (v1 - v0)


def remap_levels(L: np.ndarray, V: np.ndarray, level_map: np.ndarray) -> np.ndarray:
    """Values at KNOTS of the recalibrated quantile function u -> F^-1(g(u)); `level_map` (n, len(KNOTS)) is
    g at each knot for each row (monotone, g(0) = 0, g(1) = 1)."""
    return np.column_stack([quantile_at(L, V, level_map[:, k]) for k in range(len(KNOTS))])


def level_map_through(points: dict[float, float]) -> np.ndarray:
    """g at KNOTS: piecewise linear through (0, 0), the calibrated (nominal level -> model level) points, (1, 1)."""
    xs = np.array([0.0, *sorted(points), 1.0])
    ys = np.array([0.0, *(points[x] for x in sorted(points)), 1.0])
    return np.interp(KNOTS, xs, np.maximum.accumulate(ys))


def mixture_quantile(V: np.ndarray, play_prob: np.ndarray, level: np.ndarray | float,
                     L: np.ndarray = KNOTS) -> np.ndarray:
    """Exact `level`-quantile of 'DNP (0) with probability 1 - p, else F' per row."""
    p = np.clip(np.asarray(play_prob, float), 0.0, 1.0)
    level = np.broadcast_to(np.asarray(level, float), p.shape)
    safe_p = np.where(p > 0, p, 1.0)
    u = (level - (1.0 - p)) / safe_p
    return np.where((p > 0) & (u > 0), quantile_at(L, V, u), 0.0)


def conditional_mean(V: np.ndarray, L: np.ndarray = KNOTS) -> np.ndarray:
    """E[M | plays]: the integral of the piecewise-linear quantile function over [0, 1]."""
    dl = np.diff(L)
    return ((V[:, 1:] + V[:, :-1]) / 2.0 * dl).sum(axis=1)


def conditional_cdf_at(V: np.ndarray, x: np.ndarray, L: np.ndarray = KNOTS) -> np.ndarray:
    """F(x) of one conditional distribution (values V at levels L) at many x: the inverse of its piecewise-linear
    quantile function, right-continuous (a flat part of V is an atom: F jumps there)."""
    j = np.clip(np.searchsorted(V, x, side="right"), 1, len(L) - 1)
    v0, v1, l0, l1 = V[j - 1], V[j], L[j - 1], L[j]
    inside = l0 + np.where(v1 > v0, (x - v0) / np.where(v1 > v0, v1 - v0, 1.0), 1.0) * (l1 - l0)
    return np.where(x < V[0], 0.0, np.where(x >= V[-1], 1.0, inside))


GRID = np.linspace(0.0, MAX_MINUTES, 4801)  # 0.01-minute steps: the mixture CDF is evaluated here


def mixture_of_worlds_quantile(components: list[tuple[float, float, np.ndarray]], levels) -> np.ndarray:
    """Quantiles at `levels` of a weighted mixture of two-part distributions [(weight, play_prob, V at KNOTS)];
    weights sum to 1. The mixture's CDF is evaluated on GRID and inverted by linear interpolation between the
    two grid points around each level (exact where the CDF is linear, within 0.01 minutes at a jump)."""
    cdf = np.zeros(len(GRID))
    for weight, play, V in components:
        cdf += weight * ((1.0 - play) + play * conditional_cdf_at(np.asarray(V, float), GRID))
    levels = np.atleast_1d(np.asarray(levels, float))
    idx = np.searchsorted(cdf, levels - 1e-12, side="left")
    out = np.empty(len(levels))
    for k, (i, q) in enumerate(zip(idx, levels, strict=True)):
        if i <= 0:
            out[k] = 0.0
        elif i >= len(GRID):
            out[k] = MAX_MINUTES
        else:
            c0, c1 = cdf[i - 1], cdf[i]
            out[k] = GRID[i - 1] + (q - c0) / (c1 - c0) * (GRID[i] - GRID[i - 1]) if c1 > c0 else GRID[i]
    return out
