"""The model's ordered feature list (derived from the contract) and the team-context features built on it.

Contract columns enter the model only when they are numeric (bigint / double / boolean) and are not keys,
team ids, labels, timestamps, the status prior or a known-leaky column. Team-context features are computed
here, from the contract columns of teammates in the same game (all known before tip), because a player's
minutes depend on who else is available: e.g. his rank by recent minutes among the team's non-OUT players.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from scoring.contract import KEY_COLUMNS, contract_columns

NUMERIC_DBT_TYPES = {"bigint": "int", "integer": "int", "double": "float", "float": "float", "boolean": "bool"}

# Why each numeric contract column is kept out of the model.
EXCLUDED = {
    **{k: "row key" for k in KEY_COLUMNS},
    "home_team_id": "team id (an identifier, not a quantity)",
    "away_team_id": "team id (an identifier, not a quantity)",
    "opponent_team_id": "team id (an identifier, not a quantity)",
    "minutes": "label",
    "prior_play_prob": "hand-set status prior; status acts through the post-model status layer (scoring/status.py)",
    "is_q": "status acts through the post-model status layer (scoring/status.py): real training data has no Q rows",
    "is_prob": "status acts through the post-model status layer (scoring/status.py): real training data has no "
               "PROBABLE rows",
    "is_out": "OUT rows are not modelled: they are removed from training and forced to 0 at scoring",
    "starter_flag": "gold value is the top-5-by-actual-minutes label (leaky); use is_confirmed/projected_starter",
    "role_change_rate_10g": "original definition includes the current game's starter label (leaky)",
}

DERIVED_FEATURES = (
    "starter_signal",
    "team_active_n",
    "team_starter_n",
    "team_roll10_sum",
    "roll10_share240",
    "roll10_rank_team",
    "roll10_rank_role",
    "roll5_rank_team",
    "roll5_share240",
    "last5_share240",
    "last1_share240",
    "roll10_role_share",
    "team_starter_roll10_sum",
    "team_bench_roll10_sum",
)

# The team-context stage (Minutes V1.2, docs/model.md "Team context"): a first model's expected minutes for every
# player, summed over his team. The distribution models read them, so a player's minutes are predicted knowing
# what his teammates are predicted to take: the team's sum stops drifting from 240 player by player.
STACKED_FEATURES = (
    "ctx_expected",  # the first stage's expected minutes (0 when OUT)
    "ctx_team_sum",  # the sum of them over the team's players (per world)
    "ctx_teammates_sum",  # the same without the player himself
    "ctx_share240",  # 240 x his share of the team's sum
)


def contract_feature_columns() -> list[tuple[str, str]]:
    """(name, logical type int|float|bool) of the contract columns the model reads, in contract order."""
    out = []
    for name, dbt_type in contract_columns():
        logical = NUMERIC_DBT_TYPES.get(dbt_type.lower())
        if logical is None or name in EXCLUDED:
            continue
        out.append((name, logical))
    return out


def feature_spec() -> dict:
    """The full feature specification stored in a bundle as feature_columns.json (hashed)."""
    inputs = contract_feature_columns()
    return {
        "input_columns": [{"name": n, "type": t} for n, t in inputs],
        "derived_columns": list(DERIVED_FEATURES),
        "stacked_columns": list(STACKED_FEATURES),
        "columns": [n for n, _ in inputs] + list(DERIVED_FEATURES) + list(STACKED_FEATURES),
    }


def base_columns(spec: dict) -> list[str]:
    """The columns `build_matrix` makes: contract inputs and team-context features (no stacked ones)."""
    return [c["name"] for c in spec["input_columns"]] + list(spec.get("derived_columns") or [])


def stack_features(features: pd.DataFrame, expected: np.ndarray) -> pd.DataFrame:
    """The STACKED_FEATURES of a frame, from the first stage's expected minutes per row (same order)."""
    e = pd.Series(np.where(is_out(features), 0.0, np.clip(np.asarray(expected, float), 0.0, 48.0)),
                  index=features.index)
    # rounded to 1e-6 minutes: a sum's last bits depend on the order of the team's rows, and the live and gold
    # frames hold them in different orders (live path = gold path exactly, tests/python/minutes_live/lab)
    team = e.groupby(team_key(features)).transform("sum").round(6)
    return pd.DataFrame({"ctx_expected": e.to_numpy(), "ctx_team_sum": team.to_numpy(),
                         "ctx_teammates_sum": (team - e).round(6).to_numpy(),
                         "ctx_share240": (240.0 * e / team.where(team > 0)).round(6).to_numpy()}, index=features.index)


def spec_hash(spec: dict) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def is_out(features: pd.DataFrame) -> pd.Series:
    status = features["status"].astype("string").str.upper().fillna("")
    return (status == "OUT").to_numpy() | (pd.to_numeric(features.get("is_out", 0), errors="coerce").fillna(0) == 1).to_numpy()


WORLD_COLUMN = "scenario_id"  # rows of game-time-decision worlds (scoring/worlds.py): one team per world


def team_key(features: pd.DataFrame) -> list[np.ndarray]:
    """Grouping of a team's rows in one game (and one world, when the frame holds several)."""
    key = [features["game_id"].to_numpy(), features["team_id"].to_numpy()]
    if WORLD_COLUMN in features.columns:
        key.append(features[WORLD_COLUMN].fillna(-1).to_numpy())
    return key


def starter_signal(features: pd.DataFrame) -> pd.Series:
    """Pre-tip starter knowledge: confirmed lineups when the team has them, else projected starters."""
    confirmed = features["is_confirmed_starter"].fillna(False).astype(bool)
    projected = features["is_projected_starter"].fillna(False).astype(bool)
    team_has_confirmed = confirmed.groupby(team_key(features)).transform("any")
    return confirmed.where(team_has_confirmed, projected).astype(bool)


def _ordered(features: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Cast the contract inputs to float (NaN for missing), in spec order."""
    cols = [c["name"] for c in spec["input_columns"]]
    return features[cols].apply(lambda s: pd.to_numeric(s.astype("float64") if s.dtype == bool else s, errors="coerce")).astype("float64")


def build_matrix(features: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """Base model matrix: contract inputs + team-context features, in `base_columns(spec)` order (the stacked
    columns come from the bundle's team-context stage: `MinutesBundle.matrix`).

    Team context is computed over the non-OUT players of each (game, team): OUT players' minutes are
    what the others share.
    """
    X = _ordered(features, spec)
    out = is_out(features)
    key = team_key(features)
    starter = starter_signal(features)
    active = pd.Series(~out, index=features.index)
    r10 = pd.to_numeric(features["roll_mean_10"], errors="coerce").fillna(0.0).where(active)
    r5 = pd.to_numeric(features["roll_mean_5"], errors="coerce").fillna(0.0).where(active)
    X["starter_signal"] = starter.astype(float).to_numpy()
    X["team_active_n"] = active.groupby(key).transform("sum").astype(float).to_numpy()
    X["team_starter_n"] = (starter & active).groupby(key).transform("sum").astype(float).to_numpy()
    team_sum = r10.groupby(key).transform("sum")
    X["team_roll10_sum"] = team_sum.to_numpy()
    X["roll10_share240"] = (240.0 * r10 / team_sum.where(team_sum > 0)).to_numpy()
    X["roll10_rank_team"] = r10.groupby(key).rank(ascending=False, method="first").to_numpy()
    X["roll10_rank_role"] = r10.groupby(key + [starter.to_numpy()]).rank(ascending=False, method="first").to_numpy()
    X["roll5_rank_team"] = r5.groupby(key).rank(ascending=False, method="first").to_numpy()
    # "share of 240 if the team played its active players like it recently did", on several recency windows
    for col, name in (("roll_mean_5", "roll5_share240"), ("min_last5", "last5_share240"), ("min_last1", "last1_share240")):
        v = pd.to_numeric(features[col], errors="coerce").fillna(0.0).where(active)
        total = v.groupby(key).transform("sum")
        X[name] = (240.0 * v / total.where(total > 0)).to_numpy()
    role_sum = r10.groupby(key + [starter.to_numpy()]).transform("sum")
    X["roll10_role_share"] = (r10 / role_sum.where(role_sum > 0)).to_numpy()
    X["team_starter_roll10_sum"] = r10.where(starter).groupby(key).transform("sum").to_numpy()
    X["team_bench_roll10_sum"] = r10.where(~starter).groupby(key).transform("sum").to_numpy()
    return X[base_columns(spec)].astype("float64")



class SchemaMismatchError(ValueError):
    """The features frame does not carry the bundle's input columns with the expected types."""


_TYPE_CHECKS = {
    "int": lambda s: pd.api.types.is_integer_dtype(s) or (pd.api.types.is_float_dtype(s) and s.dropna().mod(1).eq(0).all()),
    "float": lambda s: pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s),
    "bool": lambda s: pd.api.types.is_bool_dtype(s) or (s.dtype == object and s.dropna().map(type).eq(bool).all()),
}


def check_schema(features: pd.DataFrame, spec: dict, extra_required: tuple[str, ...] = ()) -> None:
    """Refuse a frame whose columns or types differ from the bundle's inputs; the error names the columns."""
    missing = [c["name"] for c in spec["input_columns"] if c["name"] not in features.columns]
    missing += [c for c in extra_required if c not in features.columns]
    wrong = []
    for c in spec["input_columns"]:
        name = c["name"]
        if name in features.columns and not features[name].isna().all() and not _TYPE_CHECKS[c["type"]](features[name]):
            wrong.append(f"{name} (expected {c['type']}, got {features[name].dtype})")
    if missing or wrong:
        parts = []
        if missing:
            parts.append("missing columns: " + ", ".join(missing))
        if wrong:
            parts.append("wrong types: " + ", ".join(wrong))
        raise SchemaMismatchError("features do not match the bundle's feature list; " + "; ".join(parts))


def as_float_array(X: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(X.to_numpy(dtype="float64"))
