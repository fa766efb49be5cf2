"""The two-part distribution's numbers against brute force: quantiles of a mixture with a mass at 0, expected
minutes, mixtures of worlds, and the team reconciliation on expected minutes."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.distribution import (
    KNOTS,
    conditional_mean,
    level_map_through,
    mixture_of_worlds_quantile,
    mixture_quantile,
    quantile_at,
    remap_levels,
)
from scoring.reconcile import ReconcileConfig, reconcile_expected_minutes

U = (np.arange(100_000) + 0.5) / 100_000  # a fine grid of uniform levels: brute-force "samples"


def random_conditionals(rng: np.random.Generator, n: int) -> np.ndarray:
    """n increasing conditional quantile functions at KNOTS inside [0, 48]."""
    start = rng.uniform(0, 25, n)
    steps = rng.exponential(1.0, (n, len(KNOTS) - 1)) * rng.uniform(0.2, 2.0, (n, 1))
    steps[rng.random((n, len(KNOTS) - 1)) < 0.1] = 0.0  # flat parts (atoms) happen
    return np.minimum(np.column_stack([start, start[:, None] + np.cumsum(steps, axis=1)]), 48.0)


def brute_force_samples(V: np.ndarray, p: float) -> np.ndarray:
    """The mixture 'he sits (0) with probability 1 - p, else F^-1(u)' as weighted points, as sorted samples."""
    n_zero = int(round((1 - p) * len(U)))
    played = quantile_at(KNOTS, np.repeat(V[None, :], len(U) - n_zero, 0), (np.arange(len(U) - n_zero) + 0.5) /
                         (len(U) - n_zero))
    return np.sort(np.concatenate([np.zeros(n_zero), played]))


def empirical_quantile(sorted_samples: np.ndarray, q: float) -> float:
    return float(sorted_samples[min(int(np.ceil(q * len(sorted_samples))) - 1, len(sorted_samples) - 1)])


def test_mixture_quantiles_match_brute_force_on_random_inputs() -> None:
    rng = np.random.default_rng(11)
    V = random_conditionals(rng, 40)
    p = rng.uniform(0.02, 1.0, 40)
    for i in range(len(V)):
        samples = brute_force_samples(V[i], p[i])
        for level in (0.05, 0.1, 0.3, 0.5, 0.77, 0.9, 0.97):
            exact = mixture_quantile(V[i:i + 1], p[i:i + 1], level)[0]
            assert exact == pytest.approx(empirical_quantile(samples, level), abs=0.02), (i, level, p[i])


def test_conditional_mean_is_the_brute_force_mean() -> None:
    rng = np.random.default_rng(12)
    V = random_conditionals(rng, 30)
    for i in range(len(V)):
        assert conditional_mean(V[i:i + 1])[0] == pytest.approx(brute_force_samples(V[i], 1.0).mean(), abs=1e-3)


def test_median_never_exceeds_the_median_if_he_plays() -> None:
    rng = np.random.default_rng(13)
    V = random_conditionals(rng, 5000)
    p = rng.uniform(0, 1, 5000)
    assert (mixture_quantile(V, p, 0.5) <= quantile_at(KNOTS, V, 0.5) + 1e-12).all()
    assert (mixture_quantile(V, p, 0.5)[p <= 0.5] == 0).all()


def test_mixture_of_worlds_matches_brute_force() -> None:
    rng = np.random.default_rng(14)
    for _ in range(12):
        k = int(rng.integers(2, 5))
        V = random_conditionals(rng, k)
        p = rng.uniform(0.0, 1.0, k)
        w = rng.dirichlet(np.ones(k))
        samples, weights = [], []
        for j in range(k):
            s = brute_force_samples(V[j], p[j])
            samples.append(s)
            weights.append(np.full(len(s), w[j] / len(s)))
        order = np.argsort(np.concatenate(samples), kind="stable")
        values, cum = np.concatenate(samples)[order], np.cumsum(np.concatenate(weights)[order])
        got = mixture_of_worlds_quantile([(w[j], p[j], V[j]) for j in range(k)], [0.1, 0.5, 0.9])
        for level, value in zip((0.1, 0.5, 0.9), got, strict=True):
            brute = values[np.searchsorted(cum, level - 1e-12)]
            assert value == pytest.approx(brute, abs=0.02)


def test_level_remap_moves_quantiles_and_keeps_them_ordered() -> None:
    rng = np.random.default_rng(15)
    V = random_conditionals(rng, 200)
    g = level_map_through({0.1: 0.05, 0.5: 0.45, 0.9: 0.97})
    W = remap_levels(KNOTS, V, np.tile(g, (200, 1)))
    assert (np.diff(W, axis=1) >= -1e-12).all()
    assert np.allclose(quantile_at(KNOTS, W, 0.9), quantile_at(KNOTS, V, 0.97))
    assert np.allclose(quantile_at(KNOTS, W, 0.1), quantile_at(KNOTS, V, 0.05))


def test_reconciliation_brings_expected_minutes_to_the_target_and_moves_distributions_consistently() -> None:
    rng = np.random.default_rng(16)
    n_teams, per_team = 20, 13
    V = random_conditionals(rng, n_teams * per_team) * 0.9
    p = rng.uniform(0.3, 1.0, n_teams * per_team)
    groups = np.repeat(np.arange(n_teams), per_team)
    cfg = ReconcileConfig(target_minutes=241.5)
    rec = reconcile_expected_minutes(V, p, groups, cfg)
    sums = np.bincount(groups, weights=p * conditional_mean(rec.V))
    reachable = (rec.factor[::per_team] > cfg.factor_low + 1e-6) & (rec.factor[::per_team] < cfg.factor_high - 1e-6)
    assert reachable.sum() >= n_teams - 2
    assert np.abs(sums[reachable] - 241.5).max() < cfg.tolerance
    # one factor per team, quantiles still ordered, nobody above 48, raw sums reported as they were
    assert (np.diff(rec.V, axis=1) >= -1e-12).all() and rec.V.max() <= 48.0
    assert np.allclose(rec.raw_sum, np.bincount(groups, weights=p * conditional_mean(V))[groups])
    scaled = np.minimum(V * rec.factor[:, None], 48.0)
    assert np.allclose(rec.V, scaled)


def test_a_team_games_reconciliation_does_not_depend_on_the_other_games_scored_with_it() -> None:
    # live = gold on first-tip games needs the same numbers for a slate alone and inside a whole season
    rng = np.random.default_rng(17)
    V = random_conditionals(rng, 13 * 30) * 0.9
    p = rng.uniform(0.3, 1.0, 13 * 30)
    groups = np.repeat(np.arange(30), 13)
    together = reconcile_expected_minutes(V, p, groups, ReconcileConfig(target_minutes=241.5))
    alone = reconcile_expected_minutes(V[:13], p[:13], groups[:13], ReconcileConfig(target_minutes=241.5))
    assert np.array_equal(together.V[:13], alone.V) and np.array_equal(together.factor[:13], alone.factor)


def test_the_p50_level_stays_between_the_p10_and_p90_levels_and_under_the_conditional_median() -> None:
    from scoring.bundle import median_level

    rng = np.random.default_rng(18)
    play = rng.uniform(0, 1, 2000)
    lo, hi = rng.uniform(0.001, 0.5, 2000), rng.uniform(0.5, 0.999, 2000)
    level = median_level(rng.uniform(0.3, 0.7, 2000), play, lo, hi)
    assert (level >= lo).all() and (level <= hi).all() and (level <= 1 - play / 2 + 1e-12).all()
    V = random_conditionals(rng, 2000)
    p10, p50, p90 = (mixture_quantile(V, play, x) for x in (lo, level, hi))
    assert (p10 <= p50 + 1e-12).all() and (p50 <= p90 + 1e-12).all()
    assert (p50 <= quantile_at(KNOTS, V, 0.5) + 1e-9).all()
