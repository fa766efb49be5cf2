"""A small synthetic features frame with every contract column, and a bundle trained on it (fast)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.contract import contract_columns

DEFAULTS = {"bigint": 0, "double": 0.0, "boolean": False, "varchar": "", "date": None}


def synthetic_features(n_days: int = 32, games_per_day: int = 3, seed: int = 0) -> pd.DataFrame:
    """Rotation-like minutes: 5 starters (~32), 5 bench (~16), 3 deep (DNP-CD often), some OUT rows."""
    rng = np.random.default_rng(seed)
    rows = []
    base = [33, 32, 31, 30, 29, 22, 20, 17, 14, 10, 4, 2, 1]
    for d in range(n_days):
        day = date(2021, 11, 1) + timedelta(days=d)
        tip = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=24)
        for g in range(games_per_day):
            game_id = int(f"{day:%Y%m%d}{g:02d}")
            for t in range(2):
                team_id = 1610612700 + g * 2 + t
                out = rng.random(13) < 0.08
                for i, mu in enumerate(base):
                    dnp = (not out[i]) and rng.random() < (0.0 if i < 8 else 0.5)
                    minutes = 0.0 if (out[i] or dnp) else float(np.clip(rng.normal(mu, 3 + mu / 8), 0.5, 48))
                    rows.append({
                        "game_id": game_id, "player_id": team_id * 100 + i, "team_id": team_id,
                        "player_name": f"P{team_id}_{i}", "team_tricode": f"T{g}{t}", "season": "2021-22",
                        "game_date": day, "tip_ts": tip, "minutes": minutes, "game_type": "regular",
                        "status": "OUT" if out[i] else ("Q" if rng.random() < 0.05 else "UNK"),
                        "is_out": int(out[i]), "home_flag": t, "home_team_id": team_id - t, "away_team_id": team_id - t + 1,
                        "is_confirmed_starter": bool(i < 5 and not out[i]), "is_projected_starter": bool(i < 5),
                        "roll_mean_10": mu + rng.normal(0, 2), "roll_mean_5": mu + rng.normal(0, 3),
                        "roll_mean_3": mu + rng.normal(0, 4), "min_last1": mu + rng.normal(0, 5),
                        "min_last3": mu + rng.normal(0, 4), "min_last5": mu + rng.normal(0, 3),
                        "recent_start_pct_10": 1.0 if i < 5 else 0.0, "days_since_last": 2,
                        "spread_home": float(rng.normal(0, 5)), "total": 220.0,
                    })
    frame = pd.DataFrame(rows)
    frame["roll_mean_10"] = frame["roll_mean_10"].clip(0, 48)
    for name, dbt_type in contract_columns():
        if name not in frame.columns:
            frame[name] = DEFAULTS.get(dbt_type.split()[0], None)
    casts = {"bigint": "int64", "double": "float64", "boolean": "bool"}
    for name, dbt_type in contract_columns():
        if dbt_type in casts:
            frame[name] = frame[name].astype(casts[dbt_type])
    return frame[[n for n, _ in contract_columns()]]


@pytest.fixture(scope="session", autouse=True)
def _single_thread_lightgbm() -> None:
    # tiny models: OpenMP thread start-up and spinning dominate on a shared machine
    os.environ["MINUTES_LIVE_LGB_THREADS"] = "1"


@pytest.fixture(scope="session")
def features() -> pd.DataFrame:
    return synthetic_features()


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory: pytest.TempPathFactory, features: pd.DataFrame) -> Path:
    from scoring.train import train_bundle

    days = sorted(features["game_date"].unique())
    out = tmp_path_factory.mktemp("bundles")
    return train_bundle(features[features["game_date"] < days[-5]], out, seed=3, bundle_id="test_bundle",
                        train_window=(days[0], days[19]), cal_window=(days[20], days[-6]),
                        quantile_rounds=15, play_rounds=15)
