"""Every output of a run lives under its dataset: a synthetic job, a replay job and a failed `--source live`
attempt, through the real CLI on the default layout (no MINUTES_LIVE_DUCKDB). data/live/ and the live registry
hold only the live attempt; `runs` and the dashboard name the dataset and select by it; the two-step path
(`build_minutes_live`, then `score_minutes_v1`) writes the same reports as the job."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from foundation import registry, settings
from foundation import run_directory as rd

pytestmark = pytest.mark.slow


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict, module: str = "minutes_live.cli.app") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True,
                          cwd=settings.PROJECT_ROOT, env=env, timeout=900)


@pytest.fixture(scope="module")
def house(world, tmp_path_factory):
    root = tmp_path_factory.mktemp("house")
    env = {k: v for k, v in os.environ.items() if k != "MINUTES_LIVE_DUCKDB"}
    env.update(MINUTES_LIVE_DATA_ROOT=str(root / "data"), MINUTES_LIVE_ARTIFACTS=str(root / "artifacts"),
               MINUTES_LIVE_REPORTS=str(root / "reports"))
    pointer = root / "artifacts" / "minutes_v1" / "current_run.json"  # the world's small bundle, active here
    pointer.parent.mkdir(parents=True)
    shutil.copy(world["config"], pointer)
    replayed = root / "replayed_league"  # the same league as a replay directory of another name: another dataset
    shutil.copytree(world["league"], replayed, ignore=shutil.ignore_patterns("*.duckdb*", "minutes_current_run.json"))
    port = _closed_port()
    config = root / "live_sources.json"
    config.write_text(json.dumps({"schedule_url": f"http://127.0.0.1:{port}/schedule.json",
                                  "roster_url": f"http://127.0.0.1:{port}/roster", "retries": 0,
                                  "connect_timeout_s": 0.5, "min_interval_s": 0.0}))
    env["MINUTES_LIVE_SOURCES_CONFIG"] = str(config)
    day, as_of = world["day"].isoformat(), world["as_of"]
    common = ["--date", day, "--allow-missing-odds"]
    synthetic = _run(["job", "afternoon", "--source", "synthetic", "--dataset-dir", str(world["league"]),
                      "--run-as-of-ts", as_of.isoformat(), *common], env)
    assert synthetic.returncode == 0, synthetic.stderr[-3000:]
    replay = _run(["job", "afternoon", "--source", "replay", "--dataset-dir", str(replayed),
                   "--run-as-of-ts", as_of.isoformat(), *common], env)
    assert replay.returncode == 0, replay.stderr[-3000:]
    live = _run(["build", "--source", "live", "--date", day, "--run-as-of-ts", as_of.isoformat(), "--lock-timeout", "5"],
                env)
    assert live.returncode == 17, live.stderr[-3000:]
    # the two-step path in the replay dataset, one hour earlier
    early = as_of - timedelta(hours=1)
    build = _run(["build", "--date", day, "--run-as-of-ts", early.isoformat(), "--source", "replay", "--dataset-dir",
                  str(replayed), "--allow-missing-odds", "--allow-missing-injuries"], env)
    assert build.returncode == 0, build.stderr[-3000:]
    features = root / "data" / "replayed_league" / "features_minutes_v1" / day / f"run={rd.run_id_for(early)}"
    score = _run(["--date", day, "--mode", "live", "--features-path", str(features / "features.parquet")], env,
                 module="minutes_live.cli.score")
    assert score.returncode == 0, score.stderr[-3000:]
    return {"root": root, "env": env, "day": day, "as_of": as_of, "early": early, "league": world["league"].name,
            "synthetic": synthetic, "replay": replay, "live": live, "score": score}


def test_each_dataset_owns_its_outputs_and_data_live_holds_only_live(house):
    root, day, run = house["root"], house["day"], f"run={rd.run_id_for(house['as_of'])}"
    for name in (house["league"], "replayed_league"):
        assert (root / "data" / name / "features_minutes_v1" / day / run / "features.parquet").is_file()
        assert (root / "artifacts" / name / "minutes_v1" / "daily" / day / run / "minutes.parquet").is_file()
        assert (root / "reports" / name / "minutes_live" / day / run / "team_minutes.csv").is_file()
        assert list((root / "data" / name / "snapshots").glob(f"*/{day}/{run}/*"))
        attempts = registry.attempts(root / "data" / name)
        assert {a["job"] for a in attempts} >= {"afternoon"} and all(a.get("dataset") == name for a in attempts)
    # the live dataset: only the failed live attempt, no run of another dataset anywhere under its roots
    live_attempts = registry.attempts(root / "data")
    assert [(a["status"], a["exit_code"], a["source"]) for a in live_attempts] == [("failed", 17, "live")]
    live_runs = [p for p in (root / "data" / "live").rglob("run=*")] if (root / "data" / "live").exists() else []
    assert live_runs == []
    assert not (root / "artifacts" / "minutes_v1" / "daily").exists()
    assert not (root / "reports" / "minutes_live").exists()


def test_runs_and_dashboard_name_the_dataset_and_select_by_it(house):
    env, day = house["env"], house["day"]
    default = _run(["runs", "list"], env)  # no --dataset, no --date: the newest successful run, not the failure
    assert default.returncode == 0, default.stderr
    head = default.stdout.splitlines()[0]
    assert head.startswith(f"runs of {day} in dataset replayed_league: 2 "), head
    assert f"other datasets: live, {house['league']}" in head, head
    live = _run(["runs", "list", "--dataset", "live"], env)
    assert live.returncode == 0, live.stderr
    assert live.stdout.splitlines()[0].startswith(f"runs of {day} in dataset live: 1 (latest none)")
    assert "exit 17: live source unreachable" in live.stdout
    synthetic = _run(["runs", "show", "latest", "--dataset", house["league"], "--date", day], env)
    assert synthetic.returncode == 0 and f"in dataset {house['league']}: succeeded (afternoon)" in synthetic.stdout
    unknown = _run(["runs", "list", "--dataset", "nba"], env)
    assert unknown.returncode == 2 and "--dataset nba: no runs (datasets with runs: live, " in unknown.stderr

    out = house["root"] / "dash"
    static = _run(["dashboard", "--static", str(out)], env)
    assert static.returncode == 0, static.stderr
    assert "dataset replayed_league" in static.stdout
    html = (out / "index.html").read_text()
    assert 'id="dataset">dataset <b>replayed_league</b>' in html
    assert f'<optgroup label="dataset replayed_league"><option value="index.html" selected>{day}</option>' in html


def test_build_then_score_writes_the_jobs_reports_and_a_pinned_run_has_team_minutes(house):
    from minutes_live.dashboard.model import build_page
    from minutes_live.runs import catalog

    root, day, early = house["root"], house["day"], rd.run_id_for(house["early"])
    reports = root / "reports" / "replayed_league" / "minutes_live" / day / f"run={early}"
    assert {p.name for p in reports.iterdir()} == {"team_minutes.csv", "snapshot_coverage.csv", "feature_freshness.csv"}
    assert str(root / "artifacts" / "replayed_league" / "minutes_v1" / "daily") in house["score"].stdout
    pin = _run(["pin", "--date", day, "--run-id", early, "--dataset", "replayed_league"], house["env"])
    assert pin.returncode == 0, pin.stderr
    assert "reports -> " + early in pin.stdout
    with pytest.MonkeyPatch.context() as mp:
        for k in ("MINUTES_LIVE_DATA_ROOT", "MINUTES_LIVE_ARTIFACTS", "MINUTES_LIVE_REPORTS"):
            mp.setenv(k, house["env"][k])
        with catalog.dataset_scope("replayed_league"):
            page = build_page(None)
    assert page["run"]["run_id"] == early and page["run"]["pinned"]
    assert len(page["run"]["team_minutes"]) == 2 * page["run"]["games"]
    assert Path(house["env"]["MINUTES_LIVE_DATA_ROOT"]).is_dir()
