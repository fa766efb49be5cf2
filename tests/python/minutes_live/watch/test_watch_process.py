"""`minutes-live watch` as the real process systemd runs: SIGTERM stops it between two steps (a run in
progress finishes, exit 0), and after a SIGKILL mid-run a restart resumes from the registry and publishes
every change instant exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from replay_instants import change_instants

from foundation import registry, settings
from foundation.publication import Publication, Roots

pytestmark = pytest.mark.slow

EXE = str(Path(sys.executable).with_name("minutes-live"))


@pytest.fixture(autouse=True)
def _world_env(world, monkeypatch):
    for k, v in world["env"].items():  # the module's store and roots, not the per-test runtime roots
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def proc_world(world):
    artifacts = Path(world["env"]["MINUTES_LIVE_ARTIFACTS"]) / "minutes_v1" / "current_run.json"
    artifacts.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(world["config"], artifacts)  # the active bundle where the CLI looks for it
    first_tip = world["as_of"] + timedelta(minutes=30)
    start, until = first_tip - timedelta(hours=2, minutes=10), first_tip + timedelta(minutes=40)
    name = settings.dataset_name("synthetic", world["league"])
    env = {**os.environ, **world["env"], "MINUTES_LIVE_LOG_LEVEL": "INFO"}
    cmd = [EXE, "watch", "--source", "synthetic", "--dataset-dir", str(world["league"]), "--date",
           world["day"].isoformat(), "--start", start.isoformat(), "--until", until.isoformat(), "--clock-speed", "0",
           "--allow-missing-odds"]
    return {**world, "start": start, "until": until, "cmd": cmd, "env": env,
            "registry": settings.registry_root(name, Path(world["env"]["MINUTES_LIVE_DATA_ROOT"])), "dataset": name}


def _watch_attempts(w) -> list[dict]:
    return [a for a in registry.attempts(w["registry"]) if a.get("job") == "watch"
            and a.get("date") == w["day"].isoformat()]


def _start(w) -> subprocess.Popen:
    return subprocess.Popen(w["cmd"], env=w["env"], cwd=settings.PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_attempt(w, proc, n_started: int, timeout: float = 600) -> dict:
    """Wait until the n-th watch attempt is running (registry `started`, no end line yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        attempts = _watch_attempts(w)
        running = [a for a in attempts if a["status"] == "started"]
        if len(attempts) >= n_started and running:
            return running[-1]
        assert proc.poll() is None, f"the watcher exited ({proc.returncode}): {proc.stderr.read()[-2000:]}"
        time.sleep(0.2)
    raise AssertionError("no run started in time")


def test_sigterm_stops_cleanly_between_steps(proc_world):
    w = proc_world
    proc = _start(w)
    running = _wait_for_attempt(w, proc, 2)  # the second run is in progress
    os.kill(proc.pid, signal.SIGTERM)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:]
    assert "stopped (signal)" in out
    attempts = _watch_attempts(w)
    assert [a["status"] for a in attempts] == ["succeeded", "succeeded"]  # the run in progress finished, no third
    assert attempts[-1]["run_id"] == running["run_id"]
    pub = Publication(Roots.default(dataset=w["dataset"]), w["day"], w["registry"])
    assert pub.current()["scores"] == running["run_id"]
    assert "Traceback" not in err


def test_after_a_sigkill_mid_run_a_restart_publishes_each_change_once(proc_world):
    w = proc_world
    proc = _start(w)  # resumes after the two runs above
    killed = _wait_for_attempt(w, proc, 3)
    os.killpg(proc.pid, signal.SIGKILL)  # the watcher and its warm dbt worker, mid-run
    proc.wait()
    again = subprocess.run(w["cmd"], env=w["env"], cwd=settings.PROJECT_ROOT, capture_output=True, text=True,
                           timeout=1800)
    assert again.returncode == 0, again.stderr[-3000:]
    attempts = _watch_attempts(w)
    succeeded = [a["run_id"] for a in attempts if a["status"] == "succeeded"]
    expected = change_instants(w["league"], w["day"], w["start"], w["until"])
    assert [pd.to_datetime(r, format="%Y%m%dT%H%M%SZ", utc=True) for r in succeeded] == expected
    assert len(set(succeeded)) == len(succeeded)
    assert [a["status"] for a in attempts if a["attempt_id"] == killed["attempt_id"]] == ["killed"]
