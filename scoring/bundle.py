"""The Minutes V1.2 bundle: a directory of LightGBM text models plus the JSON that makes them usable.

    <bundle>/feature_columns.json   ordered feature spec (contract inputs with types + derived columns)
    <bundle>/quantile_qXX.txt       conditional-minutes quantile models (trained on played rows)
    <bundle>/play_prob.txt          P(minutes > 0) classifier (non-OUT rows)
    <bundle>/team_context_kN.txt    the team-context stage: expected-minutes regressions, one per date fold;
                                    their mean, summed per team, is read by the models above (STACKED_FEATURES)
    <bundle>/calibration.json       play-probability scaling, conditional level maps per pre-game role (played
                                    rows), mixture levels per role x starter cell (all non-OUT rows)
    <bundle>/meta.json              feature hash, windows, parameters, status rate table, reconciliation target,
                                    library versions, git commit
    <bundle>/metrics.json           metrics on the calibration window

What a bundle publishes (docs/model.md, "Minutes V1.2"): per player one two-part distribution
(scoring/distribution.py): play_prob = calibrated model probability x P(cleared) from the injury status
(scoring/status.py); minutes if he plays = the conditional quantile models, recalibrated per pre-game role on
played rows; team reconciliation scales each team's conditional distributions so that expected minutes sum to
240 + expected overtime (scoring/reconcile.py); then every published number is read from that distribution.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from foundation.guardrails import ScoringInputError
from scoring.distribution import (
    KNOTS,
    MAX_MINUTES,
    conditional_mean,
    extend_to_unit,
    level_map_through,
    mixture_quantile,
    quantile_at,
    remap_levels,
)
from scoring.features import (
    DERIVED_FEATURES,
    STACKED_FEATURES,
    as_float_array,
    build_matrix,
    check_schema,
    is_out,
    spec_hash,
    stack_features,
    starter_signal,
)
from scoring.metrics import ROLE_COLUMN, role_bucket
from scoring.recalibrate import shifted
from scoring.reconcile import ReconcileConfig, Reconciled, reconcile_expected_minutes
from scoring.status import clearance_probability
from scoring.threads import lgb_threads

PUBLISHED_LEVELS = {"minutes_p10": 0.10, "minutes_p50": 0.50, "minutes_p90": 0.90}
PASSTHROUGH = (
    "game_id", "player_id", "team_id", "player_name", "team_name", "team_tricode", "opponent_team_id",
    "opponent_team_name", "opponent_team_tricode", "season", "game_date", "game_type", "tip_ts", "status",
    "is_confirmed_starter", "is_projected_starter", "feature_as_of_ts",
)


def lgb_workers(threads_per_model: int | None = None) -> int:
    """LightGBM models trained or predicted at once, each with its own threads (env MINUTES_LIVE_LGB_WORKERS,
    else the usable cores // threads per model, at least 1). The models are independent and keep their
    parameters, so this changes wall time only, never a model or a prediction."""
    if os.environ.get("MINUTES_LIVE_LGB_WORKERS"):
        return max(1, int(os.environ["MINUTES_LIVE_LGB_WORKERS"]))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // (threads_per_model or lgb_threads()))


# below this many rows a prediction takes milliseconds: threads would cost more than they save
PARALLEL_PREDICT_ROWS = 2000


def predict_models(models: list[lgb.Booster], X: np.ndarray) -> list[np.ndarray]:
    """Each model's raw prediction of X, in model order; large X is predicted by `lgb_workers()` models at once
    (LightGBM releases the GIL while it predicts)."""
    workers = min(lgb_workers(), len(models))
    if workers <= 1 or len(X) < PARALLEL_PREDICT_ROWS:
        return [m.predict(X, num_threads=lgb_threads()) for m in models]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda m: m.predict(X, num_threads=lgb_threads()), models))


class BundleError(ScoringInputError):
    """A bundle is missing, incomplete or fails its integrity check."""


def _model_file(level: float) -> str:
    return f"quantile_q{round(level * 100):02d}.txt"


def conditional_quantiles(models: list[lgb.Booster], X: np.ndarray) -> np.ndarray:
    """(n, k) conditional quantiles, made monotone across levels and clipped to [0, 48]."""
    return _monotone(predict_models(models, X))


def _monotone(predictions: list[np.ndarray]) -> np.ndarray:
    return np.clip(np.sort(np.column_stack(predictions), axis=1), 0.0, MAX_MINUTES)


CALIBRATION_FORMAT = "minutes-v1.2"
COND_LEVELS = {"minutes_if_play_p10": 0.10, "minutes_if_play_p50": 0.50, "minutes_if_play_p90": 0.90}
DISTRIBUTION_COLUMNS = ("play_prob", "minutes_mean", *PUBLISHED_LEVELS, *COND_LEVELS, "minutes_mean_raw")


def calibrated_play(raw: np.ndarray, play_cal: dict | None) -> np.ndarray:
    """The model's play probability (a player not ruled out) through the bundle's isotonic map."""
    if not play_cal:
        return np.clip(raw, 0.0, 1.0)
    return np.interp(np.clip(raw, 0.0, 1.0), play_cal["x"], play_cal["y"])


TARGET_TAIL = 0.10  # the share of actuals meant to fall below p10, and above p90


def status_levels(levels: tuple[np.ndarray, np.ndarray, np.ndarray], clearance: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mixture levels of a listed player, composed exactly from his cell's calibrated levels and his P(cleared)
    c. The cell's calibration describes a player as the model sees him (unlisted: read nominal 0.1 / 0.5 / 0.9 at
    the levels lo / mid / hi, linear in between). Listed, he sits with extra mass 1 - c and otherwise is that
    player: his nominal level q is the unlisted nominal t = (q - (1 - c)) / c, read through the cell's map g, so
    his level is (1 - c) + c g(t); once 1 - c >= q, t <= 0 and the quantile is 0. c = 1 leaves the levels as
    they are. (Read directly at the cell's levels, a QUESTIONABLE starter who sits 18% of the time got a p10
    above 0 whenever his cell calibrated its p10 level above 0.18.)"""
    lo, mid, hi = (np.asarray(v, float) for v in levels)
    c = np.clip(np.asarray(clearance, float), 0.0, 1.0)
    if np.all(c >= 1.0):
        return lo, mid, hi
    safe = np.where(c > 0, c, 1.0)

    def through(q: float) -> np.ndarray:
        t = np.clip((q - (1.0 - c)) / safe, 0.0, 1.0)
        g = np.where(t <= 0.1, lo * t / 0.1,
                     np.where(t <= 0.5, lo + (mid - lo) * (t - 0.1) / 0.4,
                              np.where(t <= 0.9, mid + (hi - mid) * (t - 0.5) / 0.4,
                                       hi + (1.0 - hi) * (t - 0.9) / 0.1)))
        return np.where(c > 0, (1.0 - c) + c * g, 1.0)

    # unlisted rows keep their cell's levels bit for bit (lo + (mid - lo) is not always mid in floating point)
    return tuple(np.where(c < 1.0, through(q), level) for q, level in ((0.1, lo), (0.5, mid), (0.9, hi)))


def median_level(level: np.ndarray | float, play_prob: np.ndarray | float, lo: np.ndarray | float = 0.0,
                 hi: np.ndarray | float = 1.0) -> np.ndarray:
    """The level read as p50: the calibrated level capped at 1 - play_prob / 2 (there the mixture's quantile is
    the conditional median, so p50 never exceeds minutes_if_play_p50), kept within the p10 and p90 levels
    [lo, hi] (lo <= 0.5 <= hi, so both hold): p10 <= p50 <= p90."""
    capped = np.minimum(level, 1.0 - np.asarray(play_prob, float) / 2.0)
    return np.minimum(np.maximum(capped, lo), hi)


def cell_of(role: np.ndarray, starter: np.ndarray) -> np.ndarray:
    """Mixture-calibration cell of each row: pre-game role bucket x pre-tip starter / bench."""
    return np.char.add(np.char.add(role.astype(str), "|"), np.where(starter, "starter", "bench"))


def lookup(table: dict, keys: np.ndarray, fallback_keys: np.ndarray | None = None) -> list[dict]:
    """table[key] per row, else table[fallback key], else table["global"]."""
    out = []
    for i, k in enumerate(keys):
        entry = table.get(str(k))
        if entry is None and fallback_keys is not None:
            entry = table.get(str(fallback_keys[i]))
        out.append(entry if entry is not None else table["global"])
    return out


@dataclass
class Components:
    """One scored frame before reconciliation: per row the model's (calibrated) play probability for a player
    not ruled out, P(cleared) from his injury status, and his calibrated conditional quantiles at KNOTS."""

    out: pd.DataFrame  # passthrough columns + is_starter
    model_play: np.ndarray
    clearance: np.ndarray
    V: np.ndarray
    out_mask: np.ndarray
    role: np.ndarray
    starter: np.ndarray
    model_play_unshifted: np.ndarray | None = None  # before the recent-outcome shift (scoring/recalibrate.py)

    @property
    def play_prob(self) -> np.ndarray:
        return np.where(self.out_mask, 0.0, self.model_play * self.clearance)


@dataclass
class MinutesBundle:
    spec: dict
    levels: list[float]
    quantile_models: list[lgb.Booster]
    play_model: lgb.Booster
    calibration: dict
    reconcile: dict
    meta: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    path: Path | None = None
    context_models: list[lgb.Booster] = field(default_factory=list)  # the team-context stage (date folds)
    # the recent-outcome logit shift of the play probability (scoring/recalibrate.py): runtime state set by the
    # scorer for one slate, never saved with the bundle
    play_shift: float = 0.0

    @property
    def feature_hash(self) -> str:
        return spec_hash(self.spec)

    @property
    def bundle_id(self) -> str:
        return self.meta.get("bundle_id") or (self.path.name if self.path else "unsaved")

    @property
    def reconcile_config(self) -> ReconcileConfig:
        known = ReconcileConfig.__dataclass_fields__
        return ReconcileConfig(**{k: v for k, v in self.reconcile.items() if k in known})

    def context_expected(self, X_base: np.ndarray) -> np.ndarray:
        """The team-context stage's expected minutes per row: the mean of its fold models."""
        return np.mean(predict_models(self.context_models, X_base), axis=0)

    def matrix(self, features: pd.DataFrame, context: np.ndarray | None = None) -> pd.DataFrame:
        """The full model matrix (`spec["columns"]`): build_matrix's columns, then the stacked team-context
        columns from the first stage (or from `context`, the first stage's expected minutes per row: training
        passes its out-of-fold values). `features` must have a default index."""
        X = build_matrix(features, self.spec)
        stacked = list(self.spec.get("stacked_columns") or [])
        if stacked:
            expected = context if context is not None else self.context_expected(as_float_array(X))
            X = pd.concat([X, stack_features(features, expected)[stacked]], axis=1)
        return X[self.spec["columns"]]

    def components(self, features: pd.DataFrame, *, calibrate: bool = True,
                   context: np.ndarray | None = None) -> Components:
        """Model outputs for a features frame (contract columns; a `scenario_id` column keeps worlds apart in
        the team-context features), calibrated unless `calibrate=False`; `context`: see `matrix`."""
        check_schema(features, self.spec, extra_required=("game_id", "team_id", "player_id", "status"))
        features = features.reset_index(drop=True)
        out = pd.DataFrame({c: features[c] for c in PASSTHROUGH if c in features.columns})
        if "minutes" in features.columns:
            out["minutes"] = features["minutes"]
        starter = starter_signal(features).to_numpy()
        out["is_starter"] = starter
        role = role_bucket(pd.to_numeric(features.get(ROLE_COLUMN), errors="coerce")
                           if ROLE_COLUMN in features else pd.Series(np.nan, index=features.index)).to_numpy()
        n = len(features)
        if n == 0:
            return Components(out, np.zeros(0), np.zeros(0), np.zeros((0, len(KNOTS))), np.zeros(0, bool), role,
                              starter)
        X = as_float_array(self.matrix(features, context))
        play, *quantiles = predict_models([self.play_model, *self.quantile_models], X)
        L, V = extend_to_unit(self.levels, _monotone(quantiles))
        cal = self.calibration if calibrate else {}
        if cal.get("conditional"):
            entries = lookup(cal["conditional"], role)
            gmap = np.vstack([level_map_through({float(k): v for k, v in e["levels"].items()}) for e in entries])
        else:
            gmap = np.tile(KNOTS, (n, 1))
        V_k = np.clip(remap_levels(L, V, gmap), 0.0, MAX_MINUTES)
        rates = self.meta.get("status_layer", {}).get("play_rate_table")
        model_play = calibrated_play(play, cal.get("play"))
        return Components(out=out, model_play=shifted(model_play, self.play_shift if calibrate else 0.0),
                          clearance=clearance_probability(features, rates), V=V_k,
                          out_mask=is_out(features), role=role, starter=starter, model_play_unshifted=model_play)

    def mixture_levels(self, comps: Components, calibrate: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row the levels read as minutes_p10 / p50 (before `median_level`'s cap) / p90: fitted on all
        non-OUT rows per cell, composed with the row's injury status (`status_levels`)."""
        table = (self.calibration.get("mixture") if calibrate else None) or {}
        n = len(comps.V)
        if not table:
            return tuple(np.full(n, level) for level in PUBLISHED_LEVELS.values())
        entries = lookup(table, cell_of(comps.role, comps.starter), comps.role)
        cell = (np.array([e["lo"] for e in entries]), np.array([e.get("mid", 0.5) for e in entries]),
                np.array([e["hi"] for e in entries]))
        return status_levels(cell, np.where(comps.out_mask, 1.0, comps.clearance))

    def reconciled(self, comps: Components, groups: np.ndarray, reconcile: bool = True) -> Reconciled:
        play = comps.play_prob
        if reconcile and self.reconcile.get("enabled", True):
            return reconcile_expected_minutes(comps.V, play, groups, self.reconcile_config)
        raw = pd.Series(play * conditional_mean(comps.V)).groupby(groups).transform("sum").to_numpy()
        return Reconciled(V=comps.V, factor=np.ones(len(play)), raw_sum=raw, final_sum=raw)

    def publish(self, comps: Components, rec: Reconciled, calibrate: bool = True) -> pd.DataFrame:
        """The published columns of one world (module docstring of scoring/distribution.py)."""
        out = comps.out
        play = comps.play_prob
        lo, mid, hi = self.mixture_levels(comps, calibrate)
        out["play_prob"] = play
        out["minutes_mean"] = play * conditional_mean(rec.V)
        out["minutes_mean_raw"] = play * conditional_mean(comps.V)
        for name, level in (("minutes_p10", lo), ("minutes_p50", median_level(mid, play, lo, hi)),
                            ("minutes_p90", hi)):
            out[name] = mixture_quantile(rec.V, play, level)
        for name, level in COND_LEVELS.items():
            out[name] = quantile_at(KNOTS, rec.V, level)
        out["team_minutes_raw"] = rec.raw_sum
        out["team_minutes_factor"] = rec.factor
        # the model's calibrated probability before the recent-outcome shift and the status layer: the evidence
        # the overnight job turns into the next shift (scoring/recalibrate.py)
        unshifted = comps.model_play if comps.model_play_unshifted is None else comps.model_play_unshifted
        out["play_prob_model"] = np.where(comps.out_mask, 0.0, unshifted)
        out.loc[comps.out_mask, list(DISTRIBUTION_COLUMNS)] = 0.0
        return out

    def predict(self, features: pd.DataFrame, *, reconcile: bool = True, calibrate: bool = True,
                context: np.ndarray | None = None) -> pd.DataFrame:
        """Score a features frame (one world). OUT players get play_prob 0 and every minutes column 0."""
        comps = self.components(features, calibrate=calibrate, context=context)
        if len(comps.V) == 0:
            for c in (*DISTRIBUTION_COLUMNS, "team_minutes_raw", "team_minutes_factor", "play_prob_model"):
                comps.out[c] = pd.Series(dtype=float)
            return comps.out
        groups = comps.out.groupby(["game_id", "team_id"], sort=False).ngroup().to_numpy()
        return self.publish(comps, self.reconciled(comps, groups, reconcile), calibrate)

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=False)
        for level, model in zip(self.levels, self.quantile_models, strict=True):
            model.save_model(str(path / _model_file(level)))
        self.play_model.save_model(str(path / "play_prob.txt"))
        for name, model in zip(context_files(len(self.context_models)), self.context_models, strict=True):
            model.save_model(str(path / name))
        names = model_files(self.levels) + context_files(len(self.context_models))
        files = {name: hashlib.sha256((path / name).read_bytes()).hexdigest() for name in names}
        spec = dict(self.spec, sha256=self.feature_hash)
        _dump(path / "feature_columns.json", spec)
        _dump(path / "calibration.json", self.calibration)
        meta = dict(self.meta, feature_hash=self.feature_hash, levels=self.levels, reconcile=self.reconcile,
                    bundle_id=self.meta.get("bundle_id") or path.name, files=files,
                    context_folds=len(self.context_models))
        _dump(path / "meta.json", meta)
        _dump(path / "metrics.json", self.metrics)
        self.meta, self.path = meta, path
        return path


def _dump(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def _read_json(path: Path) -> dict:
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        raise BundleError(f"bundle {path.parent} is incomplete: {path.name} is missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"bundle {path.parent}: {path.name} is unreadable ({exc})") from None
    if not isinstance(payload, dict):
        raise BundleError(f"bundle {path.parent}: {path.name} is not a JSON object")
    return payload


def model_files(levels: list[float]) -> list[str]:
    return [_model_file(lv) for lv in levels] + ["play_prob.txt"]


def context_files(folds: int) -> list[str]:
    return [f"team_context_k{k}.txt" for k in range(folds)]


def _checked_booster(path: Path, expected_sha256: str | None) -> lgb.Booster:
    """A LightGBM model file, checked against the sha256 recorded at training before LightGBM reads it (a
    truncated file makes LightGBM's parser abort the whole process, not raise)."""
    if not path.is_file():
        raise BundleError(f"bundle {path.parent} is incomplete: {path.name} is missing")
    if expected_sha256 is None:
        raise BundleError(f"bundle {path.parent}: meta.json records no sha256 for {path.name}; retrain the bundle")
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected_sha256:
        raise BundleError(f"bundle {path.parent}: {path.name} does not match its recorded sha256 ({actual[:12]} != "
                          f"{expected_sha256[:12]}): the file was damaged or modified after training")
    try:
        return lgb.Booster(model_file=str(path))
    except Exception as exc:  # LightGBM raises LightGBMError (and others) for files it cannot parse
        raise BundleError(f"bundle {path.parent}: {path.name} is not a LightGBM model ({exc})") from None


def load_bundle(path: Path) -> MinutesBundle:
    """Load a bundle directory; refuse it (BundleError, exit 14 in the CLIs) when a file is missing, unreadable
    or not what training wrote: feature_columns.json against its recorded hash, every model file against its
    recorded sha256, the feature list against this code's."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"bundle directory not found: {path}")
    spec = _read_json(path / "feature_columns.json")
    meta = _read_json(path / "meta.json")
    calibration = _read_json(path / "calibration.json")
    stored = spec.pop("sha256", None)
    actual = spec_hash(spec)
    if stored != actual or meta.get("feature_hash") != actual:
        raise BundleError(
            f"bundle {path}: feature_columns.json hash {actual[:12]} does not match the recorded "
            f"{str(meta.get('feature_hash') or stored or 'none')[:12]}; the bundle was modified after training"
        )
    if calibration.get("format") != CALIBRATION_FORMAT:
        raise BundleError(
            f"bundle {path} is a {meta.get('model_version', 'Minutes V1')} bundle: scoring publishes the Minutes V1.2 "
            "distribution (play probability x minutes if he plays); train and promote a new bundle with "
            "`minutes-live train ... --promote`")
    try:
        levels = [float(x) for x in meta["levels"]]
    except (KeyError, TypeError, ValueError):
        raise BundleError(f"bundle {path}: meta.json has no valid `levels` (the conditional quantile levels)") from None
    derived = list(spec.get("derived_columns") or [])
    stacked = list(spec.get("stacked_columns") or [])
    unknown = [c for c in derived if c not in DERIVED_FEATURES] + [c for c in stacked if c not in STACKED_FEATURES]
    if unknown or spec.get("columns") != [c["name"] for c in spec.get("input_columns", [])] + derived + stacked:
        listed = [c["name"] for c in spec.get("input_columns", [])] + derived + stacked
        odd = sorted(set(listed) ^ set(spec.get("columns") or []))
        raise BundleError(f"bundle {path}: its feature list is not one this code builds ("
                          + (f"unknown derived columns {unknown}" if unknown else
                             f"`columns` and input+derived columns differ in {odd[:5] or 'their order'}")
                          + "); retrain the bundle")
    files = meta.get("files") or {}
    models = [_checked_booster(path / name, files.get(name)) for name in model_files(levels)]
    folds = meta.get("context_folds") or 0
    if stacked and not (isinstance(folds, int) and folds > 0):
        raise BundleError(f"bundle {path}: its models read the team-context stage ({', '.join(stacked)}) but "
                          "meta.json records no `context_folds`; retrain the bundle")
    context = [_checked_booster(path / name, files.get(name)) for name in context_files(folds if stacked else 0)]
    metrics_path = path / "metrics.json"
    metrics = _read_json(metrics_path) if metrics_path.exists() else {}
    return MinutesBundle(spec=spec, levels=levels, quantile_models=models[:-1], play_model=models[-1],
                         calibration=calibration, reconcile=meta.get("reconcile", {}), meta=meta, metrics=metrics,
                         path=path, context_models=context)
