from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from minutes_live.cli.score import command
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


def test_missing_inputs_exit_2_or_14(setup: dict, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--date", setup["day"], "--mode", "live", "--bundle-config", str(setup["config"]),
                              "--artifact-root", str(setup["root"])])
    assert res.exit_code == 2 and "--features-path" in res.output
    res = runner.invoke(app, _args(setup) + ["--features-path", str(tmp_path / "nope.parquet")])
    assert res.exit_code == 14 and "nope.parquet" in res.output
    res = runner.invoke(app, _args(setup) + ["--features-path", str(tmp_path)])  # a folder, not one parquet
    assert res.exit_code == 14 and "is a directory" in res.output
    res = runner.invoke(app, _args(setup) + ["--bundle-config", str(tmp_path / "none.json")])
    assert res.exit_code == 14 and "no active Minutes V1 bundle" in res.output
    assert not (setup["root"] / setup["day"]).exists() or not list((setup["root"] / setup["day"]).glob("run=*"))


def test_schema_mismatch_exit_14_names_columns(setup: dict, features: pd.DataFrame, tmp_path: Path) -> None:
    broken = features.drop(columns=["sum_min_7d"])
    path = tmp_path / "broken.parquet"
    broken.to_parquet(path, index=False)
    res = runner.invoke(app, _args(setup) + ["--features-path", str(path)])
    assert res.exit_code == 14 and "sum_min_7d" in res.output
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


def _features_run(root: Path, day: str, run_id: str, as_of: str, frame: pd.DataFrame) -> Path:
    """A features run directory as build_minutes_live writes it (features.parquet + summary.json)."""
    from foundation.publication import sha256_file

    run = root / day / f"run={run_id}"
    run.mkdir(parents=True)
    frame.to_parquet(run / "features.parquet", index=False)
    (run / "summary.json").write_text(json.dumps({"run_id": run_id, "run_as_of_ts": as_of,
                                                  "features_sha256": sha256_file(run / "features.parquet")}))
    return run / "features.parquet"


def test_score_run_takes_the_id_of_the_features_run(setup: dict, features: pd.DataFrame, tmp_path: Path) -> None:
    """Finding: the score run was named from the wall clock, not from the features run it scored."""
    day = setup["day"]
    as_of = pd.Timestamp(f"{day}T23:00:00Z")
    slate = features[features["game_date"].astype(str) == day].assign(feature_as_of_ts=as_of - pd.Timedelta(minutes=5))
    run_id = as_of.strftime("%Y%m%dT%H%M%SZ")
    path = _features_run(tmp_path / "features_root", day, run_id, as_of.isoformat(), slate)
    res = runner.invoke(app, ["--date", day, "--mode", "live", "--features-path", str(path), "--bundle-config",
                              str(setup["config"]), "--artifact-root", str(setup["root"])])
    assert res.exit_code == 0, res.output
    runs = [p.name for p in (setup["root"] / day).glob("run=*")]
    assert runs == [f"run={run_id}"]
    summary = json.loads((setup["root"] / day / f"run={run_id}" / "summary.json").read_text())
    assert summary["run_as_of_ts"] == as_of.isoformat()
    assert summary["features_sha256"] == json.loads((path.parent / "summary.json").read_text())["features_sha256"]
    # another instant than the features run's is refused: the id would no longer be the features run's
    later = (as_of + pd.Timedelta(hours=1)).isoformat()
    res = runner.invoke(app, ["--date", day, "--mode", "live", "--features-path", str(path), "--bundle-config",
                              str(setup["config"]), "--artifact-root", str(setup["root"]), "--run-as-of-ts", later,
                              "--replace"])
    assert res.exit_code == 2 and "takes the id of its features run" in res.output


def test_features_newer_than_run_as_of_ts_are_refused(setup: dict, features: pd.DataFrame, tmp_path: Path) -> None:
    """Finding: scoring with --run-as-of-ts before the features' feature_as_of_ts published with a warning."""
    day = setup["day"]
    newest = pd.Timestamp(f"{day}T23:00:00Z")
    features.assign(feature_as_of_ts=newest).to_parquet(setup["features"], index=False)
    early = (newest - pd.Timedelta(minutes=1)).isoformat()
    res = runner.invoke(app, _args(setup, "--mode", "live")[:-2] + ["--run-as-of-ts", early])
    assert res.exit_code == 2
    assert newest.isoformat() in res.output and "feature_as_of_ts" in res.output
    assert not (setup["root"] / day).exists() or not list((setup["root"] / day).glob("run=*"))
