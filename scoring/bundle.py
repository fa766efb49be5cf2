"""The Minutes V1 bundle: a directory of LightGBM text models plus the JSON that makes them usable.

    <bundle>/feature_columns.json   ordered feature spec (contract inputs with types + derived columns)
    <bundle>/quantile_qXX.txt       conditional-minutes quantile models (trained on played rows)
    <bundle>/play_prob.txt          P(minutes > 0) classifier (non-OUT rows)
    <bundle>/calibration.json       interval scaling per starter/bench bucket (fitted on the cal window)
    <bundle>/meta.json              feature hash, windows, parameters, library versions, git commit
    <bundle>/metrics.json           metrics on the calibration window

Publishing p10/p50/p90 (see docs/model.md): the conditional quantile function F_c^-1 is interpolated
between the trained levels; minutes M are 0 with probability 1 - p and ~F_c otherwise, so the
unconditional q-quantile is 0 when q <= 1 - p and F_c^-1((q - (1 - p)) / p) above, with p scaled by the
injury-report status (scoring/status.py). Then team reconciliation moves p50, and the calibrated interval is
p50 -/+ s * (p50 - p10, p90 - p50), s per pre-game role bucket (Minutes V1.1; V1 bundles: starter / bench).
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

from scoring.features import as_float_array, build_matrix, check_schema, is_out, spec_hash, starter_signal
from scoring.metrics import ROLE_COLUMN, role_bucket
from scoring.reconcile import ReconcileConfig, reconcile_team_minutes
from scoring.status import status_play_rate
from scoring.threads import lgb_threads

MAX_MINUTES = 48.0
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


class BundleError(RuntimeError):
    """A bundle is missing, incomplete or fails its integrity check."""


def _model_file(level: float) -> str:
    return f"quantile_q{round(level * 100):02d}.txt"


def conditional_quantiles(models: list[lgb.Booster], X: np.ndarray) -> np.ndarray:
    """(n, k) conditional quantiles, made monotone across levels and clipped to [0, 48]."""
    return _monotone(predict_models(models, X))


def _monotone(predictions: list[np.ndarray]) -> np.ndarray:
    return np.clip(np.sort(np.column_stack(predictions), axis=1), 0.0, MAX_MINUTES)


def mixture_quantile(levels: list[float], cond_q: np.ndarray, play_prob: np.ndarray, q: float) -> np.ndarray:
    """Unconditional q-quantile of the mixture 'DNP (0) with prob 1-p, else conditional minutes'."""
    lv = np.asarray(levels, float)
    # extend the quantile function to levels 0 and 1 linearly from the outermost trained levels
    q_lo = np.clip(cond_q[:, 0] - (cond_q[:, 1] - cond_q[:, 0]) * lv[0] / (lv[1] - lv[0]), 0, MAX_MINUTES)
    q_hi = np.clip(cond_q[:, -1] + (cond_q[:, -1] - cond_q[:, -2]) * (1 - lv[-1]) / (lv[-1] - lv[-2]), 0, MAX_MINUTES)
    L = np.concatenate([[0.0], lv, [1.0]])
    V = np.column_stack([q_lo, cond_q, q_hi])
    p = np.clip(play_prob, 1e-6, 1.0)
    u = (q - (1.0 - p)) / p
    played = u > 0
    u = np.clip(u, 0.0, 1.0)
    j = np.clip(np.searchsorted(L, u, side="right"), 1, len(L) - 1)
    rows = np.arange(len(u))
    l0, l1 = L[j - 1], L[j]
    v0, v1 = V[rows, j - 1], V[rows, j]
    val = v0 + (u - l0) / (l1 - l0) * (v1 - v0)
    return np.where(played, val, 0.0)


def apply_calibration(frame: pd.DataFrame, calibration: dict, role_minutes: pd.Series | None = None) -> pd.DataFrame:
    """Scale each interval's halves around p50 by its bucket's (s_lo, s_hi); clip and order. Buckets:
    `calibration["bucket_by"]` (V1 bundles: starter / bench; V1.1: pre-game role from `role_minutes`)."""
    f = frame
    if calibration.get("bucket_by", "starter") == "role" and role_minutes is not None:
        bucket = role_bucket(pd.Series(np.asarray(role_minutes, float))).to_numpy()
    else:
        bucket = np.where(f["is_starter"].to_numpy(bool), "starter", "bench")
    s_lo = np.array([calibration["buckets"].get(b, calibration["global"])["s_lo"] for b in bucket])
    s_hi = np.array([calibration["buckets"].get(b, calibration["global"])["s_hi"] for b in bucket])
    p10, p50, p90 = (f[c].to_numpy(float) for c in ("minutes_p10", "minutes_p50", "minutes_p90"))
    lo = np.clip(p50 - s_lo * np.maximum(p50 - p10, 0), 0, MAX_MINUTES)
    hi = np.clip(p50 + s_hi * np.maximum(p90 - p50, 0), 0, MAX_MINUTES)
    f["minutes_p10"] = np.minimum(lo, p50)
    f["minutes_p90"] = np.maximum(hi, p50)
    return f


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

    @property
    def feature_hash(self) -> str:
        return spec_hash(self.spec)

    @property
    def bundle_id(self) -> str:
        return self.meta.get("bundle_id") or (self.path.name if self.path else "unsaved")

    def predict(self, features: pd.DataFrame, *, reconcile: bool = True, calibrate: bool = True) -> pd.DataFrame:
        """Score a features frame (contract columns). OUT players get play_prob 0 and p10 = p50 = p90 = 0."""
        check_schema(features, self.spec, extra_required=("game_id", "team_id", "player_id", "status"))
        features = features.reset_index(drop=True)
        X = as_float_array(build_matrix(features, self.spec))
        out = pd.DataFrame({c: features[c] for c in PASSTHROUGH if c in features.columns})
        if "minutes" in features.columns:
            out["minutes"] = features["minutes"]
        out["is_starter"] = starter_signal(features).to_numpy()
        if len(features) == 0:
            for c in ("play_prob", "minutes_p10_cond", "minutes_p50_cond", "minutes_p90_cond", *PUBLISHED_LEVELS):
                out[c] = pd.Series(dtype=float)
            return out
        play, *quantiles = predict_models([self.play_model, *self.quantile_models], X)
        play = np.clip(play, 0.0, 1.0)
        cond = _monotone(quantiles)
        for name, q in (("minutes_p10_cond", 0.1), ("minutes_p50_cond", 0.5), ("minutes_p90_cond", 0.9)):
            out[name] = mixture_quantile(self.levels, cond, np.ones(len(X)), q)
        # status layer (scoring/status.py): the models never saw Q / D / PROBABLE, so the status scales the play
        # probability here, and a listed player's p90 stays at least his unlisted p90 (cleared -> usual minutes)
        rates = self.meta.get("status_layer", {}).get("play_rate")
        status_rate = status_play_rate(features["status"], rates)
        unlisted_p90 = mixture_quantile(self.levels, cond, play, PUBLISHED_LEVELS["minutes_p90"])
        play = play * status_rate
        for name, q in PUBLISHED_LEVELS.items():
            out[name] = mixture_quantile(self.levels, cond, play, q)
        listed = status_rate < 1.0
        out.loc[listed, "minutes_p90"] = np.maximum(out["minutes_p90"].to_numpy(), unlisted_p90)[listed]
        out["play_prob"] = play
        out_mask = is_out(features)
        out.loc[out_mask, ["play_prob", *PUBLISHED_LEVELS, "minutes_p10_cond", "minutes_p50_cond", "minutes_p90_cond"]] = 0.0
        if reconcile and self.reconcile.get("enabled", True):
            cfg = ReconcileConfig(**{k: v for k, v in self.reconcile.items() if k != "enabled"})
            out = reconcile_team_minutes(out, cfg)
        if calibrate and self.calibration:
            out = apply_calibration(out, self.calibration, features.get(ROLE_COLUMN))
            out.loc[listed, "minutes_p90"] = np.maximum(out["minutes_p90"].to_numpy(), unlisted_p90)[listed]
        out.loc[out_mask, list(PUBLISHED_LEVELS)] = 0.0
        return out

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=False)
        for level, model in zip(self.levels, self.quantile_models, strict=True):
            model.save_model(str(path / _model_file(level)))
        self.play_model.save_model(str(path / "play_prob.txt"))
        spec = dict(self.spec, sha256=self.feature_hash)
        _dump(path / "feature_columns.json", spec)
        _dump(path / "calibration.json", self.calibration)
        meta = dict(self.meta, feature_hash=self.feature_hash, levels=self.levels, reconcile=self.reconcile,
                    bundle_id=self.meta.get("bundle_id") or path.name)
        _dump(path / "meta.json", meta)
        _dump(path / "metrics.json", self.metrics)
        self.meta, self.path = meta, path
        return path


def _dump(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")


def load_bundle(path: Path) -> MinutesBundle:
    """Load a bundle directory; refuse it when feature_columns.json does not match the recorded hash."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"bundle directory not found: {path}")
    try:
        spec = json.loads((path / "feature_columns.json").read_text())
        meta = json.loads((path / "meta.json").read_text())
        calibration = json.loads((path / "calibration.json").read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"bundle {path} is incomplete: {exc.filename} is missing") from exc
    stored = spec.pop("sha256", None)
    actual = spec_hash(spec)
    if stored != actual or meta.get("feature_hash") != actual:
        raise BundleError(
            f"bundle {path}: feature_columns.json hash {actual[:12]} does not match the recorded "
            f"{(meta.get('feature_hash') or stored or 'none')[:12]}; the bundle was modified after training"
        )
    levels = [float(x) for x in meta["levels"]]
    models = [lgb.Booster(model_file=str(path / _model_file(lv))) for lv in levels]
    play = lgb.Booster(model_file=str(path / "play_prob.txt"))
    metrics_path = path / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
    return MinutesBundle(spec=spec, levels=levels, quantile_models=models, play_model=play, calibration=calibration,
                         reconcile=meta.get("reconcile", {}), meta=meta, metrics=metrics, path=path)
