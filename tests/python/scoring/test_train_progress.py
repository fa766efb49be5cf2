"""Training says what it is doing: one log line per model with its seconds (no minutes of silence)."""

from __future__ import annotations

import logging
import re

from foundation import logs


def test_training_logs_one_line_per_model(tmp_path, features, caplog) -> None:
    from scoring.train import CONTEXT_FOLDS, QUANTILE_LEVELS, train_bundle

    days = sorted(features["game_date"].unique())
    logs.setup("INFO")
    try:
        with caplog.at_level(logging.INFO, logger="scoring.train"):
            train_bundle(features, tmp_path, seed=3, bundle_id="progress", train_window=(days[0], days[19]),
                         cal_window=(days[20], days[-1]), quantile_rounds=5, play_rounds=5)
    finally:
        logs.setup("WARNING")
    lines = [r.getMessage() for r in caplog.records if r.name == "scoring.train"]
    n = len(QUANTILE_LEVELS) + 1
    models = [ln for ln in lines if re.fullmatch(rf"train: model \d/{n} .+, 5 rounds in \d+\.\d s", ln)]
    assert len(models) == n, lines
    assert models[0].startswith(f"train: model 1/{n} quantile 0.05") and "play probability" in models[-1]
    # the team-context stage first: one line per date fold, then the stage's total
    folds = [ln for ln in lines if re.fullmatch(rf"train: team context fold \d/{CONTEXT_FOLDS}, [\d,]+ rows, \d+ rounds "
                                                  r"in \d+\.\d s", ln)]
    assert len(folds) == CONTEXT_FOLDS, lines
    assert lines[CONTEXT_FOLDS].startswith("train: team-context stage")
    first = lines[CONTEXT_FOLDS + 1]
    assert first.startswith("train: ") and " rows (" in first and "quantile models + play model" in first
    assert any(ln.startswith("train: calibration on ") for ln in lines)
    assert re.fullmatch(r"train: bundle progress saved in \d+\.\d s total", lines[-1])
