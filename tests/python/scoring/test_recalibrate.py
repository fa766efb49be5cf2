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
    recent_dates,
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


def test_the_backtest_scores_a_season_as_each_date_scored_with_its_own_shift(features, bundle_dir) -> None:
    """The backtest runs the models once per season and applies each date's shift to its rows; what it publishes
    must be what scoring each date on its own with `bundle.play_shift` set publishes (production's path)."""
    import pandas as pd

    from scoring.backtest import predict_with_recent_shift
    from scoring.bundle import load_bundle
    from scoring.metrics import evaluation_rows

    bundle = load_bundle(bundle_dir)
    season, shifts = predict_with_recent_shift(bundle, features)
    moved = {d: s["shift"] for d, s in shifts.items() if s["shift"]}
    assert len(moved) >= 5, shifts  # the comparison below is about shifted dates, so there must be some
    assert bundle.play_shift == 0.0
    day = pd.to_datetime(features["game_date"]).dt.date.to_numpy()
    # production's evidence: each date's published unshifted probability and outcomes of unlisted non-OUT
    # players with a label (the overnight job's drift-log histograms), pooled over the 28 dates before a slate
    unlisted = features["status"].astype("string").str.upper().isin(["UNK", "AVAILABLE"]).to_numpy()
    evidence = evaluation_rows(features).to_numpy() & unlisted
    played = features["minutes"].to_numpy(float) > 0
    p_model = season["play_prob_model"].to_numpy(float)
    for d in sorted(set(day)):
        first, last = recent_dates(d)
        window = sorted(x for x in set(day) if first <= x <= last)
        fit = fit_shift([outcome_histogram(p_model[evidence & (day == x)], played[evidence & (day == x)])
                         for x in window], [x.isoformat() for x in window])
        assert round(fit.shift, 4) == shifts[d.isoformat()]["shift"], d
        bundle.play_shift = fit.shift
        alone = bundle.predict(features[day == d])
        part = season[day == d].reset_index(drop=True)
        pd.testing.assert_frame_equal(part[alone.columns], alone, check_exact=False, rtol=0, atol=1e-12)
    bundle.play_shift = 0.0
    # the unshifted model probability is published beside the shifted one, as in production
    shifted_rows = pd.Series(day).astype(str).isin(list(moved)).to_numpy() & (season["play_prob_model"].between(0.01, 0.96)).to_numpy()
    assert shifted_rows.any() and (season.loc[shifted_rows, "play_prob"] != season.loc[shifted_rows, "play_prob_model"]).all()
