"""Train a Minutes V1.2 bundle from a gold features frame, and promote a bundle to active.

Recipe (docs/model.md): rows = non-OUT player-games with a label. Train window: a play-probability classifier
(minutes > 0) on all rows, and LightGBM quantile models of conditional minutes at several levels on played
rows. Calibration window (held back, later in time): Platt scaling of the play probability, conditional levels
per pre-game role on played rows, then (after team reconciliation) the mixture levels read as p10 / p90 per
role x starter cell on all non-OUT rows (`fit_calibration`). The reconciliation target is 240 plus the expected
overtime minutes of the training rows. Then the models are refitted on both windows; the calibration is kept.
"""

from __future__ import annotations

import logging
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

from foundation import atomic, settings
from foundation.guardrails import InvalidInput
from scoring.bundle import (
    CALIBRATION_FORMAT,
    TARGET_TAIL,
    MinutesBundle,
    cell_of,
    lgb_threads,
    lgb_workers,
    load_bundle,
    median_level,
    predict_models,
)
from scoring.contract import PROJECT_ROOT
from scoring.distribution import KNOTS, mixture_quantile, quantile_at
from scoring.features import as_float_array, build_matrix, feature_spec, stack_features
from scoring.metrics import evaluate, evaluation_rows, with_breakdown_inputs
from scoring.reconcile import REGULATION_MINUTES, ReconcileConfig, expected_overtime_minutes
from scoring.status import layer_meta as status_layer_meta

QUANTILE_LEVELS = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
MODEL_VERSION = "Minutes V1.2"

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
        raise InvalidInput(f"need at least 10 game dates to train (got {len(days)})")
    n_cal = min(cal_days, max(len(days) // 5, 1))
    return (days[0], days[-n_cal - 1]), (days[-n_cal], days[-1])


def _in_window(features: pd.DataFrame, window: Window) -> pd.Series:
    d = pd.to_datetime(features["game_date"]).dt.date
    return (d >= window[0]) & (d <= window[1])


# Minutes V1.2 calibration (docs/model.md, "Minutes V1.2"): three parts, each fitted on the held-out calibration
# window and applied in this order by MinutesBundle.components / publish
COND_TARGETS = (0.10, 0.50, 0.90)  # conditional levels recalibrated per pre-game role on played rows
MIN_BUCKET_ROWS = 300


def fit_play_calibration(raw: np.ndarray, played: np.ndarray, knots: int = 40) -> dict:
    """Isotonic calibration of the model's play probability (rows: unlisted non-OUT labelled rows of the
    calibration window): pool-adjacent-violators on the rows sorted by raw probability, read at `knots`
    quantiles of the raw probability; applied by linear interpolation between them (`calibrated_play`)."""
    order = np.argsort(raw, kind="stable")
    x, y = np.asarray(raw, float)[order], played.astype(float)[order]
    # pool adjacent violators: blocks of (sum, count), merged while a block's mean is below the previous one's
    sums, counts = [], []
    for v in y:
        sums.append(v)
        counts.append(1.0)
        while len(sums) > 1 and sums[-2] / counts[-2] > sums[-1] / counts[-1]:
            s, c = sums.pop(), counts.pop()
            sums[-1] += s
            counts[-1] += c
    fitted = np.repeat(np.array(sums) / np.array(counts), np.array(counts, int))
    at = np.unique(np.quantile(x, np.linspace(0, 1, knots + 1)))
    values = np.interp(at, x, fitted)
    return {"method": "isotonic (pool adjacent violators)", "x": [round(float(v), 6) for v in at],
            "y": [round(float(v), 6) for v in np.maximum.accumulate(values)], "rows": int(len(y))}


def _bisect_level(miss, target: float, lo: float, hi: float, increasing: bool) -> float:
    """Level in [lo, hi] where miss(level) crosses target (miss monotone in the level), by bisection (24 steps:
    a level to 1e-7 of the range)."""
    for _ in range(24):
        mid = (lo + hi) / 2
        if (miss(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return round((lo + hi) / 2, 6)


def fit_conditional_levels(V: np.ndarray, y: np.ndarray, role: np.ndarray) -> dict:
    """Per pre-game role bucket (global fallback under MIN_BUCKET_ROWS), the model level a_q whose conditional
    quantile has a share q of the played actuals below it, for q in COND_TARGETS (V: raw quantiles at KNOTS)."""

    def fit(sel: np.ndarray) -> dict:
        Vs, ys = V[sel], y[sel]
        levels = {}
        for q in COND_TARGETS:
            levels[str(q)] = _bisect_level(lambda a, Vs=Vs, ys=ys: float(np.mean(ys < quantile_at(KNOTS, Vs, a))),
                                           q, 0.001, 0.999, increasing=True)
        return {"levels": levels, "rows": int(sel.sum())}

    table = {"global": fit(np.ones(len(y), bool))}
    for name in sorted(set(role)):
        sel = role == name
        if sel.sum() >= MIN_BUCKET_ROWS:
            table[str(name)] = fit(sel)
    return table


def fit_mixture_levels(V: np.ndarray, play: np.ndarray, y: np.ndarray, cells: np.ndarray, role: np.ndarray) -> dict:
    """Per role x starter cell (then role bucket, then global), the levels read as p10, p50 and p90 of the
    mixture: 10% of all non-OUT actuals fall below p10 and 10% above p90, and p50 is read at the level with the
    least absolute error (the point forecast; 0.5 for a calibrated mixture). The p50 level is capped per row at
    1 - play_prob / 2 (`median_level`), the level whose mixture quantile is the median if he plays: so p50 never
    exceeds minutes_if_play_p50."""

    def fit(sel: np.ndarray) -> dict:
        Vs, ps, ys = V[sel], play[sel], y[sel]
        lo = _bisect_level(lambda b: float(np.mean(ys < mixture_quantile(Vs, ps, b))), TARGET_TAIL, 0.001, 0.5,
                           increasing=True)
        hi = _bisect_level(lambda b: float(np.mean(ys > mixture_quantile(Vs, ps, b))), TARGET_TAIL, 0.5, 0.999,
                           increasing=False)
        # p50 is the point forecast: the level (0.30 .. 0.70) whose mixture quantile has the least absolute error
        grid = np.round(np.arange(0.30, 0.7001, 0.01), 2)
        errors = [float(np.mean(np.abs(ys - mixture_quantile(Vs, ps, median_level(b, ps, lo, hi))))) for b in grid]
        mid = float(grid[int(np.argmin(errors))])
        return {"lo": lo, "mid": mid, "hi": hi, "rows": int(sel.sum())}

    table = {"global": fit(np.ones(len(y), bool))}
    for keys in (role, cells):
        for name in sorted(set(keys)):
            sel = keys == name
            if sel.sum() >= MIN_BUCKET_ROWS:
                table[str(name)] = fit(sel)
    return table


def fit_calibration(bundle: MinutesBundle, cal: pd.DataFrame, context: np.ndarray | None = None) -> dict:
    """The three calibration parts of a V1.2 bundle, fitted on the calibration window's rows `cal`
    (`context`: the team-context stage's out-of-fold expected minutes of those rows, when it has one)."""
    cal = cal.reset_index(drop=True)
    labelled = evaluation_rows(cal).to_numpy()
    y = cal["minutes"].fillna(0).to_numpy(float)
    raw = bundle.components(cal, calibrate=False, context=context)
    unlisted = raw.clearance >= 1.0
    sel = labelled & unlisted & ~raw.out_mask
    play_cal = fit_play_calibration(raw.model_play[sel], y[sel] > 0)
    played = labelled & ~raw.out_mask & (y > 0)
    conditional = fit_conditional_levels(raw.V[played], y[played], raw.role[played])
    bundle.calibration = {"format": CALIBRATION_FORMAT, "target_tail": TARGET_TAIL, "play": play_cal,
                          "conditional": conditional, "mixture": {}}
    comps = bundle.components(cal, context=context)
    groups = comps.out.groupby(["game_id", "team_id"], sort=False).ngroup().to_numpy()
    rec = bundle.reconciled(comps, groups)
    rows = labelled & ~comps.out_mask
    cells = cell_of(comps.role, comps.starter)
    bundle.calibration["mixture"] = fit_mixture_levels(rec.V[rows], comps.play_prob[rows], y[rows], cells[rows],
                                                       comps.role[rows])
    return bundle.calibration


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


CONTEXT_FOLDS = 3
CONTEXT_ROUNDS = 150
CONTEXT_LEARNING_RATE = 0.1


def fit_team_context(X_base: pd.DataFrame, features: pd.DataFrame, rows: np.ndarray, params: dict,
                     n_workers: int) -> tuple[list[lgb.Booster], np.ndarray]:
    """The team-context stage (docs/model.md): CONTEXT_FOLDS expected-minutes regressions (L2 on minutes, 0 for
    a DNP) on the labelled rows `rows`, each fold leaving out every third game date. Returns the fold models and
    each row's out-of-fold expected minutes (rows on a left-out date: that fold's model; other rows: the mean of
    all folds, as at scoring), which the distribution models train and calibrate on."""
    day = pd.to_datetime(features["game_date"]).dt.normalize()
    fold = (day.rank(method="dense").to_numpy(int) - 1) % CONTEXT_FOLDS
    X = as_float_array(X_base)
    y = features["minutes"].fillna(0).to_numpy(float)
    ctx_params = {**params, "objective": "regression", "learning_rate": CONTEXT_LEARNING_RATE}

    def fit(k: int) -> lgb.Booster:
        t0 = time.perf_counter()
        sel = rows & (fold != k)
        booster = lgb.train(ctx_params, lgb.Dataset(X[sel], y[sel], feature_name=list(X_base.columns)),
                            CONTEXT_ROUNDS)
        log.info("train: team context fold %d/%d, %s rows, %d rounds in %.1f s", k + 1, CONTEXT_FOLDS,
                 f"{int(sel.sum()):,}", CONTEXT_ROUNDS, time.perf_counter() - t0)
        return booster

    with ThreadPoolExecutor(max_workers=min(n_workers, CONTEXT_FOLDS)) as pool:
        models = list(pool.map(fit, range(CONTEXT_FOLDS)))
    preds = np.column_stack(predict_models(models, X))
    oof = preds.mean(axis=1)
    on_fold_dates = rows if rows.any() else np.zeros(len(X), bool)
    own = preds[np.arange(len(X)), fold]
    oof = np.where(on_fold_dates, own, oof)
    return models, oof


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
        raise InvalidInput(f"train window {train_window} must end before the calibration window {cal_window} starts")
    spec = feature_spec()
    features = features.reset_index(drop=True)
    labelled = features[evaluation_rows(features)]
    train = labelled[_in_window(labelled, train_window)]
    cal_mask = _in_window(features, cal_window)
    if len(train) < 500 or evaluation_rows(features[cal_mask]).sum() < 100:
        raise InvalidInput(f"too few rows: train {len(train)}, calibration {int(evaluation_rows(features[cal_mask]).sum())}")
    # team context must see whole teams (incl. OUT players), so the matrix is built before row filtering
    X_base = build_matrix(features, spec)
    params = lgb_params(seed, threads or lgb_threads())
    names = spec["columns"]
    n_workers = min(workers or lgb_workers(params["num_threads"]), len(QUANTILE_LEVELS) + 1)
    t0 = time.perf_counter()
    context_rows = (evaluation_rows(features) & _in_window(features, (train_window[0], cal_window[1]))).to_numpy()
    context_models, context = fit_team_context(X_base, features, context_rows, params, n_workers)
    X_all = pd.concat([X_base, stack_features(features, context)], axis=1)[names]
    log.info("train: team-context stage (%d folds) in %.1f s", CONTEXT_FOLDS, time.perf_counter() - t0)
    quantile_models, play_model, played = _fit_models(X_all, train, names, params, n_workers, quantile_rounds,
                                                      play_rounds, train_window)
    rcfg = reconcile or ReconcileConfig(target_minutes=REGULATION_MINUTES + expected_overtime_minutes(
        features[_in_window(features, (train_window[0], cal_window[1]))]))
    bundle = MinutesBundle(spec=spec, levels=list(QUANTILE_LEVELS), quantile_models=quantile_models,
                           play_model=play_model, calibration={}, reconcile={"enabled": True, **asdict(rcfg)},
                           meta={"status_layer": status_layer_meta()}, context_models=context_models)
    t0 = time.perf_counter()
    fit_calibration(bundle, features[cal_mask], context=context[cal_mask.to_numpy()])
    cal_final = bundle.predict(features[cal_mask], context=context[cal_mask.to_numpy()])
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
    bundle_id = bundle_id or f"minutes_v12_{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}_seed{seed}"
    bundle.meta = {
        "bundle_id": bundle_id,
        "model_version": MODEL_VERSION,
        "model": "lightgbm conditional quantiles + play probability (mixture), measured injury-status rates, "
                 "expected minutes reconciled to 240 + overtime, calibrated (play Platt, conditional levels per "
                 "conformal-scaled per pre-game role",
        "status_layer": status_layer_meta(),
        "expected_overtime_minutes": round(rcfg.target_minutes - REGULATION_MINUTES, 3),
        "created_at": datetime.now(UTC).isoformat(),
        "seed": seed,
        "windows": {"train": [str(d) for d in train_window], "calibration": [str(d) for d in cal_window],
                    **({"refit": [str(d) for d in refit_window]} if refit_window else {})},
        "rows": {"train": int(len(train)), "train_played": int(played.sum()),
                 "calibration": int(evaluation_rows(features[cal_mask]).sum())},
        "params": {"lightgbm": {**params, "learning_rate": {"quantile": learning_rate(quantile_rounds),
                                                              "play": learning_rate(play_rounds),
                                                              "team_context": CONTEXT_LEARNING_RATE}},
                   "team_context": {"folds": CONTEXT_FOLDS, "rounds": CONTEXT_ROUNDS, "objective": "regression",
                                    "features": list(spec.get("stacked_columns") or [])},
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
    atomic.write_json(config_path, payload)
    return payload
