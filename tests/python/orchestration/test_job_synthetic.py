"""The scheduled job end to end on the synthetic league: outputs, `latest`, immutability, pins, kill safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from foundation import registry
from foundation import run_directory as rd
from foundation.guardrails import RunExistsError
from minutes_live.build_live import LiveBuildConfig

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A one-season synthetic league, its raw store, and a small bundle trained on gold features."""
    from minutes_live.demo import pick_slate
    from minutes_live.gold import build_gold_features
    from scoring.train import promote, train_bundle
    from snapshots_ingest.ingest import ingest_replay
    from snapshots_ingest.synthetic_league import generate_league

    root = tmp_path_factory.mktemp("job_syn")
    env = {
        "MINUTES_LIVE_DATA_ROOT": str(root / "data"),
        "MINUTES_LIVE_DUCKDB": str(root / "data" / "wh.duckdb"),
        "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"),
        "MINUTES_LIVE_REPORTS": str(root / "reports"),
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        league = root / "league"
        generate_league(league, seed=3, seasons=1)
        day, first_as_of = pick_slate(league)
        ingest_replay(league, first_as_of.date(), first_as_of, backfill=True)
        gold = build_gold_features(league, 30, ingest=False)
        gold = gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(day)]
        bundle = train_bundle(gold, root / "artifacts" / "bundles", seed=3, bundle_id="test_bundle",
                              quantile_rounds=40, play_rounds=40)
        config = root / "minutes_current_run.json"
        promote(bundle, config)
        yield {"root": root, "league": league, "day": date.fromisoformat(day), "as_of": first_as_of,
               "config": config, "env": env}


def _cfg(world, as_of: datetime, **kw) -> LiveBuildConfig:
    return LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="synthetic", dataset_dir=world["league"],
                           allow_missing_odds=True, **kw)


def _roots(world):
    r = world["root"]
    return {"features": r / "data" / "live" / "features_minutes_v1", "scores": r / "artifacts" / "minutes_v1" / "daily",
            "reports": r / "reports" / "minutes_live"}


def test_job_publishes_refuses_reruns_and_respects_pins(world, monkeypatch):
    from minutes_live.job import run_job

    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)
    roots = _roots(world)
    day = world["day"]
    t1 = world["as_of"] - timedelta(hours=2)
    t2 = world["as_of"]

    first = run_job(_cfg(world, t1), job="morning", bundle_config=world["config"])
    run1 = rd.run_id_for(t1)
    assert {p.name for p in first.features_dir.iterdir()} == {"features.parquet", "ids.csv", "summary.json", "coverage.csv"}
    assert {p.name for p in first.scores_dir.iterdir()} == {"minutes.parquet", "summary.json"}
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
    assert second.summary["status"] == "success"
    for root in (roots["features"], roots["scores"]):
        assert rd.latest_run_id(root, day) == run2

    with pytest.raises(RunExistsError, match="already exists"):
        run_job(_cfg(world, t2), job="afternoon", bundle_config=world["config"])
    assert rd.latest_run_id(roots["scores"], day) == run2

    for root in (roots["features"], roots["scores"]):
        rd.pin(root, day, run1, reason="test")
    t3 = t2 + timedelta(minutes=10)
    third = run_job(_cfg(world, t3), job="afternoon", bundle_config=world["config"])
    assert third.scores_dir.is_dir()
    for root in (roots["features"], roots["scores"]):
        assert rd.latest_run_id(root, day) == run1  # the pin holds
    assert rd.unpin(roots["scores"], day) == rd.run_id_for(t3)

    entries = registry.read_registry(world["root"] / "data")
    assert list(entries["status"]) == ["success", "success", "failed", "success"]
    failed = entries.iloc[2]
    assert failed["exit_code"] == RunExistsError.exit_code and "already exists" in failed["error"]
    ok = entries.iloc[0]
    assert set(ok["paths"]) == {"features", "scores", "reports"}
    assert {"build", "score", "reports", "total"} <= set(ok["durations_seconds"])


def test_killed_job_leaves_latest_on_a_complete_run(world):
    """SIGKILL the job while it runs: `latest` still names a complete run, no half-written run is served."""
    roots = _roots(world)
    day = world["day"]
    before = {k: rd.latest_run_id(r, day) for k, r in roots.items() if k != "reports"}
    t4 = world["as_of"] + timedelta(minutes=20)
    script = (
        "from datetime import datetime; from pathlib import Path; from minutes_live.build_live import LiveBuildConfig;"
        "from minutes_live.job import run_job;"
        f"run_job(LiveBuildConfig(day=datetime.fromisoformat('{day.isoformat()}').date(),"
        f" run_as_of_ts=datetime.fromisoformat('{t4.isoformat()}'), source='none', allow_missing_odds=True),"
        f" job='killed', bundle_config=Path('{world['config']}'))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, **world["env"]}, cwd=ROOT,
                            start_new_session=True)
    time.sleep(12)  # inside the dbt build / scoring
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for key in ("features", "scores"):
        latest = rd.latest_run_id(roots[key], day)
        assert latest == before[key]
        run_dir = roots[key] / day.isoformat() / f"run={latest}"
        assert (run_dir / "summary.json").exists()
        for complete in rd.complete_runs(roots[key], day):
            assert (roots[key] / day.isoformat() / f"run={complete}" / "summary.json").exists()


def test_next_day_validation_appends_to_the_drift_log(world, monkeypatch):
    """After the games: box scores arrive, yesterday's published projections are scored into drift.jsonl."""
    from minutes_live.job import next_day_validation
    from snapshots_ingest.ingest import ingest_replay

    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)
    day = world["day"]
    morning_after = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
    ingest_replay(world["league"], day, morning_after, kinds=["box_scores"], history_days=0)
    record = next_day_validation(day, db_path=Path(world["env"]["MINUTES_LIVE_DUCKDB"]),
                                 data_root=Path(world["env"]["MINUTES_LIVE_DATA_ROOT"]))
    assert record is not None and record["rows"] > 100 and record["unmatched_projections"] == 0
    assert 0 < record["mae_p50"] < 12 and 0.5 < record["coverage_p10_p90"] <= 1
    lines = (Path(world["env"]["MINUTES_LIVE_DATA_ROOT"]) / "registry" / "drift.jsonl").read_text().splitlines()
    assert json.loads(lines[-1]) == record
