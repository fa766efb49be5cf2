"""Training and predicting several LightGBM models at once changes wall time only: the same seed gives the same
model files and the same predictions as one model at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from scoring.bundle import load_bundle
from scoring.train import QUANTILE_LEVELS

MODEL_FILES = [f"quantile_q{round(level * 100):02d}.txt" for level in QUANTILE_LEVELS] + ["play_prob.txt"]


def _train(features: pd.DataFrame, out: Path, workers: int, rounds: int = 30) -> Path:
    from scoring.train import train_bundle

    days = sorted(features["game_date"].unique())
    return train_bundle(features, out, seed=11, bundle_id="same", workers=workers,
                        train_window=(days[0], days[19]), cal_window=(days[20], days[-1]),
                        quantile_rounds=rounds, play_rounds=rounds)


def _assert_same_bundle(a: Path, b: Path) -> None:
    for name in [*MODEL_FILES, "calibration.json", "feature_columns.json", "metrics.json"]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_parallel_training_writes_the_sequential_bundle(tmp_path: Path, features: pd.DataFrame) -> None:
    one = _train(features, tmp_path / "one_at_a_time", workers=1)
    four = _train(features, tmp_path / "four_at_once", workers=4)
    _assert_same_bundle(one, four)


def test_parallel_prediction_equals_sequential(bundle_dir: Path, features: pd.DataFrame,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from scoring.bundle import PARALLEL_PREDICT_ROWS

    assert len(features) >= PARALLEL_PREDICT_ROWS  # the threaded path is the one compared
    bundle = load_bundle(bundle_dir)
    monkeypatch.setenv("MINUTES_LIVE_LGB_WORKERS", "1")
    sequential = bundle.predict(features)
    monkeypatch.setenv("MINUTES_LIVE_LGB_WORKERS", "3")
    parallel = bundle.predict(features)
    pd.testing.assert_frame_equal(sequential, parallel, check_exact=True)


@pytest.mark.real_data
def test_parallel_training_on_real_box_scores(real_dataset_dir: Path, tmp_path: Path) -> None:
    from test_real_data import _features_from_box_scores

    f = _features_from_box_scores(real_dataset_dir)
    one = _train(f, tmp_path / "one", workers=1, rounds=20)
    two = _train(f, tmp_path / "two", workers=2, rounds=20)
    _assert_same_bundle(one, two)
    scored_one, scored_two = load_bundle(one).predict(f), load_bundle(two).predict(f)
    pd.testing.assert_frame_equal(scored_one, scored_two, check_exact=True)
