"""Why a player's p50 is what it is: LightGBM `pred_contrib` (TreeSHAP, built into LightGBM) of the bundle's
conditional-median model (quantile_q50.txt) on the run's own feature matrix (MinutesBundle.matrix).

The contributions add up, with the model's base value, to the *conditional* median (minutes if he plays,
before the play-probability mixture, team reconciliation and interval calibration of scoring/bundle.py), so
the page shows that value next to the published p50. The bundle is the one the run was scored with (its
scores summary.json `bundle.bundle_dir`), and its feature hash must match.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from foundation import settings

TOP_N = 8


class ExplainError(RuntimeError):
    """No explanation can be computed for this run (no bundle, no features); the message says why."""


def player_key(game_id, player_id) -> str:
    return f"{int(game_id)}-{int(player_id)}"


def _bundle_dir(scores_summary: dict | None) -> Path:
    recorded = ((scores_summary or {}).get("bundle") or {}).get("bundle_dir")
    if not recorded:
        raise ExplainError("the scores summary names no bundle directory")
    path = Path(recorded)
    path = path if path.is_absolute() else settings.PROJECT_ROOT / path
    if not (path / "quantile_q50.txt").is_file():
        raise ExplainError(f"the bundle that scored this run is not here any more: {path}/quantile_q50.txt")
    return path


def load_q50(scores_summary: dict | None):
    """(bundle, q50 booster, bundle id) of the bundle that scored the run."""
    from scoring.features import spec_hash

    path = _bundle_dir(scores_summary)
    spec = json.loads((path / "feature_columns.json").read_text())
    spec.pop("sha256", None)
    want = ((scores_summary or {}).get("bundle") or {}).get("feature_hash")
    if want and spec_hash(spec) != want:
        raise ExplainError(f"bundle {path}: feature hash {spec_hash(spec)[:12]} is not the {want[:12]} the run used")
    from scoring.bundle import BundleError, load_bundle

    try:  # every model file checked against its recorded sha256 before LightGBM reads it
        bundle = load_bundle(path)
    except BundleError as exc:
        raise ExplainError(str(exc)) from None
    booster = bundle.quantile_models[bundle.levels.index(0.5)]
    return bundle, booster, ((scores_summary or {}).get("bundle") or {}).get("bundle_id") or path.name


def explain_run(features: pd.DataFrame | None, scores_summary: dict | None, top: int = TOP_N) -> dict[str, dict]:
    """Per player (key `<game_id>-<player_id>`): base value, the top contributions by size (feature, value,
    contribution), the rest summed, and the conditional median they add up to."""
    from scoring.bundle import lgb_threads
    from scoring.features import as_float_array

    if features is None or features.empty:
        raise ExplainError("the run has no features.parquet")
    bundle, booster, bundle_id = load_q50(scores_summary)
    features = features.reset_index(drop=True)
    X = bundle.matrix(features)  # the q50 model's inputs, the team-context stage's columns included
    contrib = np.asarray(booster.predict(as_float_array(X), pred_contrib=True, num_threads=lgb_threads()))
    names = list(X.columns)
    values = X.to_numpy(dtype="float64")
    out: dict[str, dict] = {}
    for i, row in enumerate(contrib):
        parts, base = row[:-1], float(row[-1])
        order = np.argsort(-np.abs(parts))
        shown = order[:top]
        out[player_key(features.at[i, "game_id"], features.at[i, "player_id"])] = {
            "bundle_id": bundle_id,
            "base": round(base, 3),
            "conditional_p50": round(float(row.sum()), 3),
            "top": [{"feature": names[j], "value": None if np.isnan(values[i, j]) else round(float(values[i, j]), 3),
                     "contribution": round(float(parts[j]), 3)} for j in shown],
            "other": round(float(parts[order[top:]].sum()), 3),
            "other_features": int(max(0, len(names) - top)),
        }
    return out


def compact(explained: dict[str, dict]) -> dict:
    """The explanations of a whole slate for embedding in a static page: feature names once, per player
    [base, conditional_p50, other, [name index, value, contribution, ...]] (dashboard.js expands them)."""
    names: list[str] = []
    index: dict[str, int] = {}
    rows: dict[str, list] = {}
    bundle_id, other_features, error = None, 0, None
    for key, x in explained.items():
        if "error" in x:
            error = x["error"]
            continue
        bundle_id, other_features = x["bundle_id"], x["other_features"]
        flat: list = []
        for c in x["top"]:
            if c["feature"] not in index:
                index[c["feature"]] = len(names)
                names.append(c["feature"])
            flat += [index[c["feature"]], c["value"], c["contribution"]]
        rows[key] = [x["base"], x["conditional_p50"], x["other"], flat]
    return {"bundle_id": bundle_id, "other_features": other_features, "names": names, "rows": rows, "error": error}
