"""A season backtest writes report.md, metrics.json and predictions.parquet that agree with each other."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, features: pd.DataFrame):
    from scoring.backtest import run_backtest

    # the synthetic month played a year earlier is the season trained on
    earlier = features.copy()
    earlier["game_date"] = [d.replace(year=2020) for d in earlier["game_date"]]
    earlier["tip_ts"] = earlier["tip_ts"] - pd.Timedelta(days=365)
    earlier["game_id"] = earlier["game_id"] - 10_000_000_00
    earlier["season"] = "2020-21"
    frame = pd.concat([earlier, features], ignore_index=True)
    root = tmp_path_factory.mktemp("backtest")
    stages = {"ingest": {"action": "skipped", "reason": "unchanged", "seconds": 0.1}}
    res = run_backtest(frame, "2021-22", 30, root / "reports", root / "bundles", seed=5, gold_stages=stages)
    return res, frame


def test_predictions_parquet_has_one_row_per_evaluated_player_game(backtest) -> None:
    from scoring.backtest import PREDICTION_COLUMNS

    res, frame = backtest
    pred = pd.read_parquet(res.report_dir / "predictions.parquet")
    m = json.loads((res.report_dir / "metrics.json").read_text())
    assert list(pred.columns) == list(PREDICTION_COLUMNS)
    season = frame[frame["season"] == "2021-22"]
    assert len(pred) == m["rows"] == int((season["status"] != "OUT").sum())
    assert not pred.duplicated(["game_id", "team_id", "player_id"]).any()
    assert (pred["status"] != "OUT").all() and pred["actual_minutes"].notna().all()
    assert ((pred["minutes_p10"] <= pred["minutes_p50"]) & (pred["minutes_p50"] <= pred["minutes_p90"])).all()
    assert pred["play_prob"].between(0, 1).all()


def test_predictions_re_evaluate_to_the_reported_metrics(backtest) -> None:
    res, _ = backtest
    pred = pd.read_parquet(res.report_dir / "predictions.parquet")
    m = json.loads((res.report_dir / "metrics.json").read_text())
    err = (pred["minutes_p50"] - pred["actual_minutes"]).abs()
    assert err.mean() == pytest.approx(m["mae"], abs=1e-12)
    played = pred["actual_minutes"] > 0
    assert err[played].mean() == pytest.approx(m["mae_played"], abs=1e-12)
    inside = pred["actual_minutes"].between(pred["minutes_p10"], pred["minutes_p90"])
    assert inside.mean() == pytest.approx(m["coverage_p10_p90"], abs=1e-12)
    for label, group in m["breakdowns"]["pregame_role"].items():
        sel = pred["pregame_role"] == label
        assert int(sel.sum()) == group["rows"], label
        if group["rows"]:
            assert err[sel].mean() == pytest.approx(group["mae"], abs=1e-12)
            base = (pred.loc[sel, "baseline_last5_played"] - pred.loc[sel, "actual_minutes"]).abs().mean()
            assert base == pytest.approx(group["baselines"]["baseline_last5_played"], abs=1e-12)
    back = m["breakdowns"]["first_game_back"]["after >= 1 missed game"]
    assert int((pred["missed_team_games"] >= 1).sum()) == back["rows"]


def test_report_shows_the_breakdowns_and_the_stages(backtest) -> None:
    res, _ = backtest
    report = (res.report_dir / "report.md").read_text()
    m = json.loads((res.report_dir / "metrics.json").read_text())
    for title in ("By actual minutes", "By pre-game role", "First game back after an absence", "By month",
                  "By pre-tip role (confirmed / projected starter)"):
        assert f"## {title}" in report, title
    assert set(m["breakdowns"]) == {"actual_minutes", "pregame_role", "first_game_back", "starter", "month"}
    stages = m["run"]["stages"]
    assert list(stages) == ["ingest", "prepare", "train", "score", "report"]
    assert all(np.isfinite(s["seconds"]) for s in stages.values())
    assert "| ingest | 0.1 | skipped; unchanged |" in report
    assert f"predictions.parquet ({m['rows']:,} rows)" in report
