"""Play-probability recalibration on the season's own recent outcomes (Minutes V1.2, docs/model.md).

The bundle's isotonic map is fitted once, on the last 120 dates of its training data. A new season can differ:
in 2021-22 players the model gave under 0.55 played 2 to 7 points more often than predicted, in every month. The
overnight job knows, every morning, how yesterday's published play probabilities turned out; this module turns
the last RECENT_DAYS of that knowledge into one logit shift `a`, applied at scoring to the model's probability
of a player not ruled out: p' = 1 / (1 + exp(-(logit(p) + a))). The injury-status layer stays on top.

- The evidence of one date is a histogram (`outcome_histogram`): unlisted non-OUT players with a label, by bin
  of the model's calibrated, unshifted probability `play_prob_model` (published with every run), counted and
  played. It is small enough to sit in that date's drift-log record (pipeline/job.py `next_day_validation`).
- `fit_shift` pools the histograms of the RECENT_DAYS dates before the slate (same bundle only) and finds the
  shift that makes the predicted play count equal the observed one (the maximum-likelihood intercept), shrunk
  toward 0 by a prior of PRIOR_ROWS pseudo-rows. Under MIN_ROWS labelled rows: no shift.
- Only the past is read: a date's evidence exists once its box scores do, so the shift of a slate never uses
  its own games (the same rule as every feature). The backtest replays it date by date (scoring/backtest.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

RECENT_DAYS = 28
MIN_ROWS = 200
PRIOR_ROWS = 50.0  # shrinkage: the shift of n rows is pulled toward 0 as if PRIOR_ROWS more rows agreed with the model
FIT_BELOW = 0.97  # rows the model is all but sure of carry no evidence about the shift (and are most of a slate)
EDGES = tuple(round(x, 4) for x in np.linspace(0.0, FIT_BELOW, 49))  # 48 bins of the model's probability
EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def shifted(play: np.ndarray, shift: float | np.ndarray) -> np.ndarray:
    """The model's play probability moved by `shift` (one value, or one per row) on the logit scale; 0 and 1
    stay where they are."""
    p = np.asarray(play, float)
    if not np.any(shift):
        return p
    moved = 1.0 / (1.0 + np.exp(-(_logit(p) + shift)))
    return np.where((p <= 0.0) | (p >= 1.0), p, moved)


def outcome_histogram(play_prob_model: np.ndarray, played: np.ndarray) -> dict:
    """One date's evidence: per bin of the unshifted model probability (EDGES, rows under FIT_BELOW), the rows,
    the players who played, and the sum of the probabilities (so the fit needs no per-row data)."""
    p = np.asarray(play_prob_model, float)
    y = np.asarray(played, bool)
    keep = (p > 0) & (p < FIT_BELOW) & np.isfinite(p)
    b = np.clip(np.searchsorted(EDGES, p[keep], side="right") - 1, 0, len(EDGES) - 2)
    n = np.bincount(b, minlength=len(EDGES) - 1)
    k = np.bincount(b, weights=y[keep].astype(float), minlength=len(EDGES) - 1)
    s = np.bincount(b, weights=p[keep], minlength=len(EDGES) - 1)
    return {"edges": list(EDGES), "rows": [int(v) for v in n], "played": [int(v) for v in k],
            "prob_sum": [round(float(v), 6) for v in s]}


@dataclass(frozen=True)
class PlayShift:
    shift: float
    rows: int
    dates: tuple[str, ...]
    reason: str

    def describe(self) -> dict:
        return {"shift": round(self.shift, 4), "rows": self.rows, "dates": len(self.dates),
                "first": self.dates[0] if self.dates else None, "last": self.dates[-1] if self.dates else None,
                "recent_days": RECENT_DAYS, "reason": self.reason}


NO_SHIFT = PlayShift(0.0, 0, (), "no labelled outcomes")


def fit_shift(histograms: list[dict], dates: list[str] | None = None) -> PlayShift:
    """The logit shift that makes the pooled histograms' expected play count equal the observed one (each bin
    represented by its mean probability), with PRIOR_ROWS pseudo-rows at shift 0; none under MIN_ROWS rows."""
    dates = tuple(dates or ())
    if not histograms:
        return NO_SHIFT
    n = np.sum([h["rows"] for h in histograms], axis=0).astype(float)
    k = np.sum([h["played"] for h in histograms], axis=0).astype(float)
    s = np.sum([h["prob_sum"] for h in histograms], axis=0).astype(float)
    rows = int(n.sum())
    if rows < MIN_ROWS:
        return PlayShift(0.0, rows, dates, f"{rows} labelled rows in the last {RECENT_DAYS} days (< {MIN_ROWS})")
    used = n > 0
    z = _logit(s[used] / n[used])
    n, k = n[used], k[used]
    a = 0.0
    for _ in range(50):  # Newton on the penalised log likelihood of the intercept
        q = 1.0 / (1.0 + np.exp(-(z + a)))
        grad = np.sum(k - n * q) - PRIOR_ROWS * a / 4.0
        hess = np.sum(n * q * (1 - q)) + PRIOR_ROWS / 4.0
        step = grad / hess
        a += step
        if abs(step) < 1e-10:
            break
    return PlayShift(float(a), rows, dates, "fitted")


def recent_dates(day: date, days: int = RECENT_DAYS) -> tuple[date, date]:
    """The window of evidence for a slate on `day`: the `days` dates before it (never `day` itself)."""
    return day - timedelta(days=days), day - timedelta(days=1)


def shift_from_drift(records: list[dict], day: date, bundle_id: str | None) -> PlayShift:
    """The shift for a slate on `day` from drift-log records (pipeline/job.py): the records of the RECENT_DAYS
    dates before it that carry `play_outcomes` of the same bundle; the newest record per date wins."""
    first, last = recent_dates(day)
    by_date: dict[str, dict] = {}
    for r in records:
        outcomes = r.get("play_outcomes") if isinstance(r, dict) else None
        try:
            d = date.fromisoformat(str(r.get("date")))
        except (TypeError, ValueError):
            continue
        if not isinstance(outcomes, dict) or not (first <= d <= last):
            continue
        if outcomes.get("bundle_id") != bundle_id or list(outcomes.get("edges") or []) != list(EDGES):
            continue
        by_date[d.isoformat()] = outcomes
    if not by_date:
        return PlayShift(0.0, 0, (), f"no play outcomes of bundle {bundle_id} in the drift log for "
                                     f"{first}..{last}")
    keys = sorted(by_date)
    return fit_shift([by_date[k] for k in keys], keys)
