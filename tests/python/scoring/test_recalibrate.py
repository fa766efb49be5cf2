"""The recent-outcome shift of the play probability (scoring/recalibrate.py): it finds a known shift, needs
enough evidence, reads only the dates before a slate, and moves nothing that is certain."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from scoring.recalibrate import (
    MIN_ROWS,
    RECENT_DAYS,
    fit_shift,
    outcome_histogram,
    shift_from_drift,
    shifted,
)


def _season(true_shift: float, n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Model probabilities, and outcomes drawn from the probabilities moved by `true_shift` on the logit scale."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.96, n)
    return p, rng.random(n) < shifted(p, true_shift)


@pytest.mark.parametrize("true_shift", [-0.6, 0.0, 0.3, 0.8])
def test_the_shift_of_a_season_that_plays_more_or_less_than_predicted_is_found(true_shift: float) -> None:
    p, y = _season(true_shift, 20_000)
    days = [outcome_histogram(p[i::10], y[i::10]) for i in range(10)]  # ten dates of evidence
    fit = fit_shift(days)
    assert fit.rows == 20_000 and fit.reason == "fitted"
    assert fit.shift == pytest.approx(true_shift, abs=0.08)


def test_too_little_evidence_moves_nothing_and_says_why() -> None:
    p, y = _season(1.0, MIN_ROWS - 1)
    fit = fit_shift([outcome_histogram(p, y)])
    assert fit.shift == 0.0 and fit.rows == MIN_ROWS - 1 and "< 200" in fit.reason


def test_certain_rows_are_not_evidence_and_are_never_moved() -> None:
    h = outcome_histogram(np.array([0.0, 0.99, 1.0, 0.5]), np.array([False, True, True, True]))
    assert sum(h["rows"]) == 1 and sum(h["played"]) == 1
    moved = shifted(np.array([0.0, 0.3, 1.0]), 0.5)
    assert moved[0] == 0.0 and moved[2] == 1.0 and moved[1] > 0.3


def test_a_slate_reads_only_the_recent_dates_before_it_of_its_own_bundle() -> None:
    day = date(2022, 1, 15)
    p, y = _season(0.5, 6_000)
    records = []
    for k, d in enumerate([day - timedelta(days=RECENT_DAYS + 1), day - timedelta(days=3), day, day + timedelta(days=1)]):
        records.append({"date": d.isoformat(), "play_outcomes": {"bundle_id": "b1",
                                                                 **outcome_histogram(p[k::4], y[k::4])}})
    records.append({"date": (day - timedelta(days=2)).isoformat(),
                    "play_outcomes": {"bundle_id": "other", **outcome_histogram(p, y)}})
    records.append({"date": (day - timedelta(days=1)).isoformat(), "mae_p50": 4.0})  # an older record: no evidence
    fit = shift_from_drift(records, day, "b1")
    assert fit.dates == ((day - timedelta(days=3)).isoformat(),) and fit.rows == 1_500
    assert shift_from_drift(records, day, "nobody").rows == 0
