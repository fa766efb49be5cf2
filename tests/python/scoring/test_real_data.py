"""Small train-and-score on real box scores (first weeks of 2021-22), label-history features only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.bundle import load_bundle
from scoring.contract import contract_columns
from scoring.metrics import evaluate

pytestmark = pytest.mark.real_data


def _features_from_box_scores(dataset_dir: Path, n_days: int = 36) -> pd.DataFrame:
    box = pd.read_parquet(dataset_dir / "box_scores_2021_22.parquet")
    box = box[box["game_type"] == "regular"]
    days = sorted(box["game_date"].unique())[:n_days]
    box = box[box["game_date"].isin(days)].sort_values(["player_id", "game_date"]).reset_index(drop=True)
    out = (box["status"] == "inactive") | ((box["status"] == "dnp") & (box["dnp_reason"] != "Did Not Play"))
    listed = box["minutes"].where(~out)
    prior = listed.groupby(box["player_id"]).shift(1)
    f = pd.DataFrame({
        "game_id": box["game_id"].str[:8].astype("int64") * 1000 + box["game_id"].str[9:].map(lambda s: sum(map(ord, s))),
        "player_id": box["player_id"].astype("category").cat.codes.astype("int64"),
        "team_id": box["team"].map(lambda s: sum(map(ord, s)) * 7).astype("int64"),
        "player_name": box["player_name"], "team_tricode": box["team"], "season": box["season"],
        "game_date": pd.to_datetime(box["game_date"]).dt.date, "minutes": box["minutes"].astype(float),
        "tip_ts": pd.to_datetime(box["game_date"]).dt.tz_localize("UTC"), "game_type": "regular",
        "status": np.where(out, "OUT", "UNK"), "is_out": out.astype("int64"),
        "is_confirmed_starter": box["starter"].astype(bool), "is_projected_starter": box["starter"].astype(bool),
        "home_flag": box["is_home"].astype("int64"),
        "min_last1": prior,
        "roll_mean_5": prior.groupby(box["player_id"]).transform(lambda x: x.rolling(5, min_periods=1).mean()),
        "roll_mean_10": prior.groupby(box["player_id"]).transform(lambda x: x.rolling(10, min_periods=1).mean()),
    })
    f["roll_mean_3"] = f["min_last1"]
    defaults = {"bigint": 0, "double": np.nan, "boolean": False}
    casts = {"bigint": "int64", "double": "float64", "boolean": "bool"}
    for name, dbt_type in contract_columns():
        if name not in f.columns:
            f[name] = defaults.get(dbt_type)
        if dbt_type in casts:
            f[name] = f[name].astype(casts[dbt_type])
    return f[[n for n, _ in contract_columns()]]


def test_train_and_score_real_weeks(real_dataset_dir: Path, tmp_path: Path) -> None:
    from scoring.train import train_bundle

    f = _features_from_box_scores(real_dataset_dir)
    days = sorted(f["game_date"].unique())
    bundle_dir = train_bundle(f[f["game_date"] < days[-4]], tmp_path, seed=1, bundle_id="real",
                              train_window=(days[0], days[22]), cal_window=(days[23], days[-5]),
                              quantile_rounds=40, play_rounds=40)
    scored = load_bundle(bundle_dir).predict(f[f["game_date"] >= days[-4]])
    m = evaluate(scored)
    assert m["rows"] > 500
    assert m["mae"] < 7.5  # a last-5 average scores ~6.5 here; a broken model scores 10+
    assert (scored["minutes_p10"] <= scored["minutes_p50"]).all() and (scored["minutes_p50"] <= scored["minutes_p90"]).all()
    assert (scored.loc[scored["status"] == "OUT", "minutes_p90"] == 0).all()
    assert m["team_sanity"]["share_in_band"] > 0.8
