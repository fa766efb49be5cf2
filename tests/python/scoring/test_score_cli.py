from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from scoring.score_cli import command
from scoring.train import promote

app = typer.Typer()
app.command()(command)
runner = CliRunner()
TS = "2021-12-10T20:00:00Z"


@pytest.fixture()
def setup(tmp_path: Path, bundle_dir: Path, features: pd.DataFrame) -> dict:
    day = sorted(features["game_date"].unique())[-1]
    fpath = tmp_path / "features.parquet"
    features.to_parquet(fpath, index=False)
    config = tmp_path / "minutes_current_run.json"
    promote(bundle_dir, config)
    return {"day": day.isoformat(), "features": fpath, "config": config, "root": tmp_path / "daily"}


def _args(s: dict, *extra: str) -> list[str]:
    return ["--date", s["day"], "--features-path", str(s["features"]), "--bundle-config", str(s["config"]),
            "--artifact-root", str(s["root"]), "--run-as-of-ts", TS, *extra]


def test_writes_run_dir_and_latest_then_refuses_rerun(setup: dict) -> None:
    res = runner.invoke(app, _args(setup, "--mode", "live"))
    assert res.exit_code == 0, res.output
    run_dir = setup["root"] / setup["day"] / "run=20211210T200000Z"
    scored = pd.read_parquet(run_dir / "minutes.parquet")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert {"minutes_p10", "minutes_p50", "minutes_p90", "play_prob", "player_id", "status"} <= set(scored.columns)
    assert summary["mode"] == "live" and summary["bundle"]["bundle_id"] == "test_bundle"
    assert summary["counts"]["rows"] == len(scored) and len(summary["team_minutes"]["teams"]) == 6
    assert json.loads((setup["root"] / setup["day"] / "latest").read_text())["run_id"] == "20211210T200000Z"
    again = runner.invoke(app, _args(setup, "--mode", "live"))
    assert again.exit_code == 9 and "already exists" in again.output
    assert runner.invoke(app, _args(setup, "--mode", "live", "--replace")).exit_code == 0


def test_bad_values_exit_2_with_one_line(setup: dict) -> None:
    for bad in (["--date", "2021-13-40"], ["--mode", "later"], ["--run-as-of-ts", "yesterday"]):
        args = _args(setup) + bad  # the later value wins
        res = runner.invoke(app, args)
        assert res.exit_code == 2, res.output
        assert len(res.output.strip().splitlines()) == 1


def test_missing_inputs_exit_1(setup: dict, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--date", setup["day"], "--mode", "live", "--bundle-config", str(setup["config"]),
                              "--artifact-root", str(setup["root"])])
    assert res.exit_code == 1 and "--features-path" in res.output
    res = runner.invoke(app, _args(setup) + ["--features-path", str(tmp_path / "nope.parquet")])
    assert res.exit_code == 1 and "nope.parquet" in res.output
    res = runner.invoke(app, _args(setup) + ["--bundle-config", str(tmp_path / "none.json")])
    assert res.exit_code == 1 and "no active Minutes V1 bundle" in res.output


def test_schema_mismatch_exit_1_names_columns(setup: dict, features: pd.DataFrame, tmp_path: Path) -> None:
    broken = features.drop(columns=["sum_min_7d"])
    path = tmp_path / "broken.parquet"
    broken.to_parquet(path, index=False)
    res = runner.invoke(app, _args(setup) + ["--features-path", str(path)])
    assert res.exit_code == 1 and "sum_min_7d" in res.output
    assert not (setup["root"] / setup["day"] / "latest").exists()


def test_historical_mode_reads_season_partition(setup: dict, features: pd.DataFrame, tmp_path: Path) -> None:
    root = tmp_path / "gold"
    (root / "season=2021-22").mkdir(parents=True)
    features.to_parquet(root / "season=2021-22" / "features.parquet", index=False)
    args = ["--date", setup["day"], "--features-root", str(root), "--bundle-config", str(setup["config"]),
            "--artifact-root", str(setup["root"]), "--run-as-of-ts", TS]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((setup["root"] / setup["day"] / "run=20211210T200000Z" / "summary.json").read_text())
    assert summary["mode"] == "historical" and "season=2021-22" in summary["features_source"]
