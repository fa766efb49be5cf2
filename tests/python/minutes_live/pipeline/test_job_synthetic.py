"""The scheduled job end to end on the synthetic league: outputs, `latest`, immutability, pins, kill safety."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from foundation import registry, settings
from foundation import run_directory as rd
from foundation.guardrails import RunExistsError
from foundation.publication import Publication, Roots
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[4]


def _cfg(world, as_of: datetime, **kw) -> LiveBuildConfig:
    return LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="synthetic", dataset_dir=world["league"],
                           allow_missing_odds=True, **kw)


def _roots(world):
    r, name = world["root"], settings.dataset_name("synthetic", world["league"])  # every root is the dataset's
    return {"features": r / "data" / name / "features_minutes_v1", "scores": r / "artifacts" / name / "minutes_v1" / "daily",
            "reports": r / "reports" / name / "minutes_live"}


def test_job_publishes_refuses_reruns_and_respects_pins(world, monkeypatch):
    from minutes_live.pipeline.job import run_job

    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)
    roots = _roots(world)
    day = world["day"]
    t1 = world["as_of"] - timedelta(hours=2)
    t2 = world["as_of"]

    first = run_job(_cfg(world, t1), job="morning", bundle_config=world["config"])
    run1 = rd.run_id_for(t1)
    assert {p.name for p in first.features_dir.iterdir()} == {"features.parquet", "scenario_features.parquet", "ids.csv",
                                                             "summary.json", "coverage.csv"}
    # the game-time-decision worlds of the slate: the live mart's columns + the scenario keys, counted in the summary
    features = pd.read_parquet(first.features_dir / "features.parquet")
    scenarios = pd.read_parquet(first.features_dir / "scenario_features.parquet")
    assert list(scenarios.columns) == [*features.columns, "scenario_id", "scenario_gtd_player_ids",
                                       "scenario_out_player_ids"]
    assert json.loads((first.features_dir / "summary.json").read_text())["scenario_rows"] == len(scenarios)
    assert {p.name for p in first.scores_dir.iterdir()} == {"minutes.parquet", "scenarios.parquet", "summary.json"}
    assert {p.name for p in first.report_dir.iterdir()} == {"team_minutes.csv", "snapshot_coverage.csv", "feature_freshness.csv"}
    minutes = pd.read_parquet(first.scores_dir / "minutes.parquet")
    for col in ("game_id", "player_id", "team_id", "player_name", "status", "play_prob", "minutes_p10", "minutes_p50", "minutes_p90"):
        assert col in minutes.columns
    assert (minutes["minutes_p10"] <= minutes["minutes_p50"]).all() and (minutes["minutes_p50"] <= minutes["minutes_p90"]).all()
    assert (minutes.loc[minutes["status"] == "OUT", "minutes_p90"] == 0).all()
    score_summary = json.loads((first.scores_dir / "summary.json").read_text())
    assert score_summary["mode"] == "live"
    team = pd.read_csv(first.report_dir / "team_minutes.csv")
    assert {"p50_sum", "outside_230_260"} <= set(team.columns)
    for root in (roots["features"], roots["scores"]):
        assert rd.latest_run_id(root, day) == run1

    second = run_job(_cfg(world, t2), job="afternoon", bundle_config=world["config"])
    run2 = rd.run_id_for(t2)
    assert second.summary["status"] == "succeeded"
    for root in (roots["features"], roots["scores"]):
        assert rd.latest_run_id(root, day) == run2

    with pytest.raises(RunExistsError, match="already exists"):
        run_job(_cfg(world, t2), job="afternoon", bundle_config=world["config"])
    assert rd.latest_run_id(roots["scores"], day) == run2

    name = settings.dataset_name("synthetic", world["league"])
    pub = Publication(Roots.default(dataset=name), day, settings.registry_root(name))
    pub.pin(run1, reason="test")
    t3 = t2 + timedelta(minutes=10)
    third = run_job(_cfg(world, t3), job="afternoon", bundle_config=world["config"])
    assert third.scores_dir.is_dir() and "latest stays on" in third.summary["publication"]
    for root in roots.values():
        assert rd.latest_run_id(root, day) == run1  # the pin holds
    assert pub.unpin() == dict.fromkeys(("features", "scores", "reports"), rd.run_id_for(t3))

    # the dataset's own registry (data/<dataset>/registry/), not the live one
    assert not (world["root"] / "data" / "registry").exists()
    entries = registry.attempts(settings.registry_root(settings.dataset_name("synthetic", world["league"])))
    assert [e["status"] for e in entries] == ["succeeded", "succeeded", "failed", "succeeded"]
    failed = entries[2]
    assert failed["exit_code"] == RunExistsError.exit_code and "already exists" in failed["error"]
    ok = entries[0]
    assert set(ok["paths"]) == {"features", "scores", "reports"}
    assert {"build", "score", "reports", "total"} <= set(ok["durations_seconds"])


def test_next_day_validation_appends_to_the_drift_log(world, monkeypatch):
    """After the games: box scores arrive, yesterday's published projections are scored into drift.jsonl."""
    from minutes_live.pipeline.job import next_day_validation
    from snapshots_ingest.ingest import ingest_replay

    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)
    day = world["day"]
    morning_after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
    ingest_replay(world["league"], day, morning_after, kinds=["box_scores"], history_days=0)
    name = settings.dataset_name("synthetic", world["league"])
    record = next_day_validation(day, db_path=Path(world["env"]["MINUTES_LIVE_DUCKDB"]),
                                 data_root=settings.registry_root(name), dataset=name)
    assert record is not None and record["rows"] > 100 and record["unmatched_projections"] == 0
    assert 0 < record["mae_p50"] < 12 and 0.5 < record["coverage_p10_p90"] <= 1
    lines = (settings.registry_root(name) / "registry" / "drift.jsonl").read_text().splitlines()
    assert json.loads(lines[-1]) == record
    # the evidence for the next slates' play-probability shift: the published run's unshifted model
    # probabilities of unlisted players against who played (scoring/recalibrate.py)
    from scoring.recalibrate import EDGES, RECENT_DAYS, shift_from_drift

    outcomes = record["play_outcomes"]
    run = pd.read_parquet(rd.resolve_latest(settings.scores_root(name), day) / "minutes.parquet")
    assert outcomes["bundle_id"] == run["model_bundle_id"].iloc[0] and outcomes["edges"] == list(EDGES)
    assert 0 < sum(outcomes["rows"]) < record["rows"] and sum(outcomes["played"]) <= sum(outcomes["rows"])
    logged = [json.loads(x) for x in lines]
    nxt = shift_from_drift(logged, day + timedelta(days=1), outcomes["bundle_id"])
    assert nxt.rows == sum(outcomes["rows"]) and nxt.dates == (day.isoformat(),)
    assert shift_from_drift(logged, day, outcomes["bundle_id"]).rows == 0  # never a slate's own games
    assert shift_from_drift(logged, day + timedelta(days=RECENT_DAYS + 1), outcomes["bundle_id"]).rows == 0
    assert shift_from_drift(logged, day + timedelta(days=1), "another bundle").rows == 0
