"""Train a Minutes V1.1 bundle from a gold features frame, and promote a bundle to active.

Recipe (docs/model.md): rows = non-OUT player-games with a label. Train window: a play-probability classifier
(minutes > 0) on all rows, and LightGBM quantile models of conditional minutes at several levels on played
rows. Calibration window (held back, later in time): the bundle predicts it end to end (mixture quantiles ->
team reconciliation) and the interval halves are scaled per starter/bench bucket so that 10% of actuals fall
below p10 and 10% above p90.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import resource
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from foundation import settings
from scoring.bundle import MinutesBundle, lgb_threads, lgb_workers, load_bundle
from scoring.contract import PROJECT_ROOT
from scoring.features import as_float_array, build_matrix, feature_spec
from scoring.metrics import ROLE_COLUMN, evaluate, evaluation_rows, role_bucket, with_breakdown_inputs
from scoring.reconcile import ReconcileConfig
from scoring.status import layer_meta as status_layer_meta

QUANTILE_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
TARGET_TAIL = 0.10
TARGET_COVERAGE = 0.80
MAX_UPPER_TAIL = 0.14
MODEL_VERSION = "Minutes V1.1"

log = logging.getLogger(__name__)


def lgb_params(seed: int, threads: int = 2) -> dict:
    return {
        "learning_rate": 0.08,
        "num_leaves": 31,
        "min_data_in_leaf": 200,
        "max_bin": 63,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.7,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "num_threads": threads,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


QUANTILE_ROUNDS = 200
PLAY_ROUNDS = 200
# The learning rate shrinks as rounds grow past 200, keeping V1's budget of rounds x rate (200 x 0.08 = 16).
# 600 smaller steps lowered MAE by 0.028 on the tuning season but by 0.008 (within seed noise) on the confirm
# season, at ~6x the training time (twice, with the refit): not kept, so the backtest loop stays under 90 s
# (docs/model.md, "V1.1 changes tried"); the default 200 rounds train at 0.08 as in V1
SHRINKAGE_BUDGET = 16.0
MAX_LEARNING_RATE = 0.08


# Minutes V1.1 options (docs/model.md, "V1.1 changes tried")
RECENCY_HALF_LIFE_DAYS: float | None = None  # sample weights halving this many days before the training end (not kept)
REFIT_AFTER_CALIBRATION = True  # after calibrating, refit the models on the training + calibration windows


def learning_rate(rounds: int) -> float:
    """LightGBM learning rate for a model of `rounds` boosting rounds (SHRINKAGE_BUDGET / rounds, at most 0.08)."""
    return round(min(MAX_LEARNING_RATE, SHRINKAGE_BUDGET / max(rounds, 1)), 6)

Window = tuple[date, date]


def _as_date(x) -> date:
    return pd.Timestamp(x).date()


def default_windows(features: pd.DataFrame, cal_days: int = 120) -> tuple[Window, Window]:
    """Calibrate on the last `cal_days` game dates of the frame, train on everything before.

    120 game dates is most of a regular season (~165 dates): a calibration window that only covers the
    season's end (rest days, tanking) mis-states the tails of a whole season.
    """
    days = sorted(pd.to_datetime(features["game_date"]).dt.date.unique())
    if len(days) < 10:
        raise ValueError(f"need at least 10 game dates to train (got {len(days)})")
    n_cal = min(cal_days, max(len(days) // 5, 1))
    return (days[0], days[-n_cal - 1]), (days[-n_cal], days[-1])


def _in_window(features: pd.DataFrame, window: Window) -> pd.Series:
    d = pd.to_datetime(features["game_date"]).dt.date
    return (d >= window[0]) & (d <= window[1])


def _miss(y: np.ndarray, center: np.ndarray, half: np.ndarray, side: str, s: float) -> float:
    if side == "lo":
        return float(np.mean(y < np.clip(center - s * half, 0, 48) - 1e-9))
    return float(np.mean(y > np.clip(center + s * half, 0, 48) + 1e-9))


def _fit_scale(y: np.ndarray, center: np.ndarray, half: np.ndarray, side: str, target: float = TARGET_TAIL) -> float:
    """Smallest s in [0.2, 5] (bisection) with P(y outside center -/+ s*half on `side`) <= target."""
    def miss(s: float) -> float:
        return _miss(y, center, half, side, s)

    lo, hi = 0.2, 5.0
    if miss(lo) <= target:
        return lo
    for _ in range(40):
        mid = (lo + hi) / 2
        if miss(mid) > target:
            lo = mid
        else:
            hi = mid
    return round(hi, 4)


# Minutes V1.1: interval scales per pre-game role bucket (last-10 average, scoring.metrics.ROLE_BUCKETS), fitted
# on the calibration window's played rows; V1 used starter / bench buckets over all rows (DNPs included)
CALIBRATION_BUCKETS = "role"  # "role" | "starter"
CALIBRATION_ROWS = "played"  # "played" | "all" | "split" (lower scale on all rows, upper on played rows)


def calibration_bucket(scored: pd.DataFrame, role_minutes: pd.Series | np.ndarray | None, bucket_by: str) -> np.ndarray:
    """Bucket label of each scored row: pre-game role (from last-10 mean minutes) or pre-tip starter / bench."""
    if bucket_by == "role" and role_minutes is not None:
        return role_bucket(pd.Series(np.asarray(role_minutes, float))).to_numpy()
    return np.where(scored["is_starter"].to_numpy(bool), "starter", "bench")


def fit_calibration(scored: pd.DataFrame, min_rows: int = 300, role_minutes: pd.Series | np.ndarray | None = None,
                    bucket_by: str | None = None, rows_used: str | None = None) -> dict:
    """Per-bucket tail scales on calibration rows (non-OUT, labelled; `rows_used="played"`: minutes > 0 only).

    Buckets (`bucket_by`): "role" = pre-game role from `role_minutes` (last-10 mean), "starter" = starter /
    bench; a bucket under `min_rows` rows uses the global scales. Fitting on played rows aims each bucket's
    played coverage at 80%: with all rows a bucket full of DNPs (p10 = 0, actual 0: inside) gets narrow
    intervals that miss its played rows.
    The lower tail is fitted to TARGET_TAIL first. It often cannot get there: a player with DNP risk has
    p10 = 0 and an actual 0 is inside, and scaling p50 - p10 below 1 would put every such DNP outside at once.
    The upper tail then takes what is left of 1 - TARGET_COVERAGE (capped at MAX_UPPER_TAIL), so the interval
    aims at 80% coverage overall rather than at two 10% tails that cannot both be met.
    """
    bucket_by = bucket_by or CALIBRATION_BUCKETS
    rows_used = rows_used or CALIBRATION_ROWS
    mask = evaluation_rows(scored).to_numpy()
    bucket = calibration_bucket(scored, role_minutes, bucket_by)
    if rows_used == "played":
        mask &= scored["minutes"].fillna(0).to_numpy(float) > 0
    rows, bucket = scored[mask], bucket[mask]

    def fit(part: pd.DataFrame) -> dict:
        y = part["minutes"].to_numpy(float)
        p10, p50, p90 = (part[c].to_numpy(float) for c in ("minutes_p10", "minutes_p50", "minutes_p90"))
        s_lo = _fit_scale(y, p50, p50 - p10, "lo")
        lower_miss = _miss(y, p50, p50 - p10, "lo", s_lo)
        # "split": the lower scale on all rows (a DNP under p10 is a miss), the upper one on played rows only
        sel = y > 0 if rows_used == "split" else np.ones(len(y), bool)
        upper_base = _miss(y[sel], p50[sel], (p50 - p10)[sel], "lo", s_lo)
        upper_target = float(np.clip(1 - TARGET_COVERAGE - upper_base, TARGET_TAIL, MAX_UPPER_TAIL))
        s_hi = _fit_scale(y[sel], p50[sel], (p90 - p50)[sel], "hi", upper_target)
        return {"s_lo": s_lo, "s_hi": s_hi, "rows": len(part), "lower_miss": round(lower_miss, 4),
                "upper_target": round(upper_target, 4)}

    calibration = {"method": "split-conformal tail scaling around p50", "target_tail": TARGET_TAIL,
                   "target_coverage": TARGET_COVERAGE, "bucket_by": bucket_by, "rows": rows_used,
                   "global": fit(rows), "buckets": {}}
    for name in sorted(set(bucket)):
        sel = bucket == name
        if sel.sum() >= min_rows:
            calibration["buckets"][str(name)] = fit(rows[sel])
    return calibration


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _sample_weights(rows: pd.DataFrame, window: Window) -> np.ndarray | None:
    """Recency weights (RECENCY_HALF_LIFE_DAYS before the window's end halves a row's weight); None = equal."""
    if not RECENCY_HALF_LIFE_DAYS:
        return None
    age = (pd.Timestamp(window[1]) - pd.to_datetime(rows["game_date"])).dt.days.to_numpy(float)
    return np.power(0.5, age / RECENCY_HALF_LIFE_DAYS)


def _fit_models(X_all: pd.DataFrame, train: pd.DataFrame, names: list[str], params: dict, n_workers: int,
                quantile_rounds: int, play_rounds: int, window: Window,
                stage: str = "train") -> tuple[list[lgb.Booster], lgb.Booster, np.ndarray]:
    """The quantile models (played rows of `train`) and the play classifier (all rows of `train`); log lines
    start with `stage` ("train", or "refit" for the refit on training + calibration windows)."""
    X = as_float_array(X_all.loc[train.index])
    y = train["minutes"].to_numpy(float)
    w = _sample_weights(train, window)
    played = y > 0
    n_models = len(QUANTILE_LEVELS) + 1
    log.info("%s: %s rows (%s played) x %d features, window %s..%s; %d quantile models + play model, %d threads "
             "each, %d at once", stage, f"{len(train):,}", f"{int(played.sum()):,}", len(names), window[0],
             window[1], len(QUANTILE_LEVELS), params["num_threads"], n_workers)
    # the models are independent: they train concurrently (LightGBM releases the GIL), each with the same
    # params as alone, so the bundle is the same whatever the number of workers (tests/python/scoring)
    played_X, played_y = X[played], y[played]
    played_w = None if w is None else w[played]
    q_params = {**params, "learning_rate": learning_rate(quantile_rounds)}
    jobs = [(f"quantile {level:.2f}", {**q_params, "objective": "quantile", "alpha": level}, played_X, played_y,
             played_w, quantile_rounds) for level in QUANTILE_LEVELS]
    jobs.append(("play probability", {**params, "objective": "binary", "learning_rate": learning_rate(play_rounds)},
                 X, played.astype(float), w, play_rounds))

    def fit(job: tuple) -> tuple[lgb.Booster, float]:
        _, job_params, job_X, job_y, job_w, rounds = job
        t0 = time.perf_counter()
        ds = lgb.Dataset(job_X, job_y, weight=job_w, feature_name=names, free_raw_data=False)
        return lgb.train(job_params, ds, rounds), time.perf_counter() - t0

    boosters = []
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        futures = [pool.submit(fit, job) for job in jobs]
        for i, (job, future) in enumerate(zip(jobs, futures, strict=True), start=1):  # logged in model order
            booster, seconds = future.result()
            boosters.append(booster)
            log.info("%s: model %d/%d %s, %d rounds in %.1f s", stage, i, n_models, job[0], job[-1], seconds)
    return boosters[:-1], boosters[-1], played


def train_bundle(features: pd.DataFrame, out_dir: Path, seed: int = 7, train_window: Window | None = None,
                 cal_window: Window | None = None, reconcile: ReconcileConfig | None = None,
                 bundle_id: str | None = None, threads: int | None = None, quantile_rounds: int = QUANTILE_ROUNDS,
                 play_rounds: int = PLAY_ROUNDS, workers: int | None = None) -> Path:
    """Train, calibrate and save a bundle under `out_dir/<bundle_id>`; returns the bundle directory.

    `threads`: LightGBM threads per model (default `lgb_threads()`); `workers`: models trained at once
    (default `lgb_workers()`). Neither changes the models: each model's params are the same either way."""
    started = time.time()
    if train_window is None or cal_window is None:
        dtrain, dcal = default_windows(features)
        train_window, cal_window = train_window or dtrain, cal_window or dcal
    train_window = (_as_date(train_window[0]), _as_date(train_window[1]))
    cal_window = (_as_date(cal_window[0]), _as_date(cal_window[1]))
    if train_window[1] >= cal_window[0]:
        raise ValueError(f"train window {train_window} must end before the calibration window {cal_window} starts")
    spec = feature_spec()
    labelled = features[evaluation_rows(features)]
    train = labelled[_in_window(labelled, train_window)]
    cal_mask = _in_window(features, cal_window)
    if len(train) < 500 or evaluation_rows(features[cal_mask]).sum() < 100:
        raise ValueError(f"too few rows: train {len(train)}, calibration {int(evaluation_rows(features[cal_mask]).sum())}")
    # team context must see whole teams (incl. OUT players), so the matrix is built before row filtering
    X_all = build_matrix(features, spec)
    params = lgb_params(seed, threads or lgb_threads())
    names = spec["columns"]
    n_workers = min(workers or lgb_workers(params["num_threads"]), len(QUANTILE_LEVELS) + 1)
    quantile_models, play_model, played = _fit_models(X_all, train, names, params, n_workers, quantile_rounds,
                                                      play_rounds, train_window)
    rcfg = reconcile or ReconcileConfig()
    bundle = MinutesBundle(spec=spec, levels=list(QUANTILE_LEVELS), quantile_models=quantile_models,
                           play_model=play_model, calibration={}, reconcile={"enabled": True, **asdict(rcfg)})
    t0 = time.perf_counter()
    cal_scored = bundle.predict(features[cal_mask], calibrate=False)
    bundle.calibration = fit_calibration(cal_scored, role_minutes=features.loc[cal_mask, ROLE_COLUMN])
    cal_final = bundle.predict(features[cal_mask])
    log.info("train: calibration on %s rows (%s..%s) in %.1f s", f"{int(evaluation_rows(features[cal_mask]).sum()):,}",
             cal_window[0], cal_window[1], time.perf_counter() - t0)
    bundle.metrics = {"calibration_window": evaluate(with_breakdown_inputs(cal_final, features[cal_mask]))}
    refit_window = None
    if REFIT_AFTER_CALIBRATION:
        # the calibration window is the most recent data: after the scales are fitted on it (held out), the
        # models are refitted with it; the scales are kept (the metrics above are the held-out ones)
        refit_window = (train_window[0], cal_window[1])
        refit_rows = labelled[_in_window(labelled, refit_window)]
        bundle.quantile_models, bundle.play_model, _ = _fit_models(X_all, refit_rows, names, params, n_workers,
                                                                   quantile_rounds, play_rounds, refit_window, "refit")
    bundle_id = bundle_id or f"minutes_v11_{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}_seed{seed}"
    bundle.meta = {
        "bundle_id": bundle_id,
        "model_version": MODEL_VERSION,
        "model": "lightgbm conditional quantiles + play probability (mixture), injury-status layer, reconciled, "
                 "conformal-scaled per pre-game role",
        "status_layer": status_layer_meta(),
        "created_at": datetime.now(UTC).isoformat(),
        "seed": seed,
        "windows": {"train": [str(d) for d in train_window], "calibration": [str(d) for d in cal_window],
                    **({"refit": [str(d) for d in refit_window]} if refit_window else {})},
        "rows": {"train": int(len(train)), "train_played": int(played.sum()),
                 "calibration": int(evaluation_rows(features[cal_mask]).sum())},
        "params": {"lightgbm": {**params, "learning_rate": {"quantile": learning_rate(quantile_rounds),
                                                              "play": learning_rate(play_rounds)}},
                   "quantile_rounds": quantile_rounds, "play_rounds": play_rounds,
                   "quantile_levels": list(QUANTILE_LEVELS), "target_tail": TARGET_TAIL,
                   "recency_half_life_days": RECENCY_HALF_LIFE_DAYS, "refit_after_calibration": REFIT_AFTER_CALIBRATION},
        "versions": {"python": platform.python_version(), "lightgbm": lgb.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__},
        "git_commit": _git_commit(),
        "train_seconds": round(time.time() - started, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    saved = bundle.save(Path(out_dir) / bundle_id)
    log.info("train: bundle %s saved in %.1f s total", bundle_id, time.time() - started)
    return saved


def promote(bundle_dir: Path, config_path: Path | None = None) -> dict:
    """Make `bundle_dir` the active bundle, after a load check: the pointer (default
    `settings.bundle_config_path()`, artifacts/minutes_v1/current_run.json) is replaced atomically."""
    bundle = load_bundle(bundle_dir)
    bundle_dir = Path(bundle_dir).resolve()
    try:
        shown = str(bundle_dir.relative_to(PROJECT_ROOT))
    except ValueError:
        shown = str(bundle_dir)
    payload = {"bundle_dir": shown, "bundle_id": bundle.bundle_id, "feature_hash": bundle.feature_hash,
               "promoted_at": datetime.now(UTC).isoformat()}
    config_path = Path(config_path) if config_path is not None else settings.bundle_config_path()
    config_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = config_path.with_name(f".{config_path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w") as fh:
            fh.write(json.dumps(payload, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, config_path)
    finally:
        tmp.unlink(missing_ok=True)
    return payload
