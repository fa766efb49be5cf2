"""The run lifecycle of the scheduled job on the synthetic league, tried as an operator would: a SIGKILL at
every step boundary, an older instant after a newer one, `--replace` of a complete run, a failed scoring
step, and what each leaves in `latest`, the run directories and the registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from foundation import registry
from foundation import run_directory as rd
from foundation.faults import BOUNDARIES
from foundation.guardrails import ScoringInputError
from foundation.publication import KINDS, Publication, Roots
from minutes_live.pipeline.live_build import LiveBuildConfig
from scoring.features import spec_hash

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module", autouse=True)
def _warm_dbt(world):
    """The jobs this process runs (each test's own, and the rerun after every kill) build through one warm dbt
    worker, as the watcher's do (minutes_live/watch/warm_dbt.py): the lifecycle is the same, and a cold dbt
    process per job cost this module about half of its time. The jobs killed at a boundary are their own
    cold processes."""
    from minutes_live.watch.warm_dbt import WarmDbt

    mp = pytest.MonkeyPatch()
    for k, v in world["env"].items():  # parsed against the module's store: its name is the dbt database
        mp.setenv(k, v)
    try:
        with WarmDbt().installed():
            yield
    finally:
        mp.undo()


@pytest.fixture()
def env(world, monkeypatch):
    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)
    return world


def _cfg(world, as_of: datetime, **kw) -> LiveBuildConfig:
    # the store already holds every snapshot of the slate (the fixture's backfill): read it as is
    return LiveBuildConfig(day=world["day"], run_as_of_ts=as_of, source="none", allow_missing_odds=True, **kw)


def _job(world, as_of: datetime, bundle_config: Path | None = None, **kw):
    from minutes_live.pipeline.job import run_job

    return run_job(_cfg(world, as_of, **kw), job="afternoon", bundle_config=bundle_config or world["config"])


def _latest(day) -> dict:
    roots = Roots.default()
    return {k: rd.latest_run_id(roots.root(k), day) for k in KINDS}


def _temp_dirs(day) -> list[Path]:
    roots = Roots.default()
    return [p for k in KINDS if (roots.root(k) / day.isoformat()).is_dir()
            for p in (roots.root(k) / day.isoformat()).iterdir() if p.name.startswith((".tmp-run=", ".old-run="))]


def _kill_job_at(sigkill_at, world, boundary: str, as_of: datetime, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    script = (
        "from datetime import datetime; from pathlib import Path; from minutes_live.pipeline.live_build import LiveBuildConfig;"
        "from minutes_live.pipeline.job import run_job;"
        f"run_job(LiveBuildConfig(day=datetime.fromisoformat('{world['day'].isoformat()}').date(),"
        f" run_as_of_ts=datetime.fromisoformat('{as_of.isoformat()}'), source='none', allow_missing_odds=True),"
        f" job='afternoon', bundle_config=Path('{world['config']}'))"
    )
    sigkill_at(script, boundary, marker, env=world["env"])


def test_sigkill_at_every_step_boundary(env, tmp_path, sigkill_at):
    """After a kill at each boundary: both `latest` pointers name the same complete run; the next command
    marks the attempt killed and removes its temp folders; the rerun succeeds without --replace."""
    day = env["day"]
    base = env["as_of"] - timedelta(hours=3)
    _job(env, base)
    previous = rd.run_id_for(base)
    assert _latest(day) == dict.fromkeys(KINDS, previous)
    pub = Publication(Roots.default(), day)
    for i, boundary in enumerate(BOUNDARIES, start=1):
        as_of = base + timedelta(minutes=i)
        run_id = rd.run_id_for(as_of)
        _kill_job_at(sigkill_at, env, boundary, as_of, tmp_path / boundary.replace(":", "_"))
        latest = _latest(day)
        assert len(set(latest.values())) == 1, (boundary, latest)
        served = latest["scores"]
        assert served in (previous, run_id), (boundary, latest)
        assert all(pub.is_complete(k, served) for k in KINDS), boundary
        rerun = _job(env, as_of)  # the next command touching the date; no --replace
        assert rerun.summary["status"] == "succeeded"
        assert any("marked killed" in n for n in rerun.summary["notes"]), (boundary, rerun.summary["notes"])
        assert _temp_dirs(day) == [], boundary
        assert _latest(day) == dict.fromkeys(KINDS, run_id), boundary
        attempts = [a for a in registry.attempts(Path(env["env"]["MINUTES_LIVE_DATA_ROOT"])) if a.get("run_id") == run_id]
        assert [a["status"] for a in attempts] == ["killed", "succeeded"], (boundary, attempts)
        previous = run_id


def test_an_older_instant_does_not_move_latest(env):
    """Jobs at 22:45 then 22:40: `latest` stays on 22:45 for features, scores and reports."""
    day = env["day"]
    newer, older = env["as_of"] + timedelta(minutes=45), env["as_of"] + timedelta(minutes=40)
    _job(env, newer)
    result = _job(env, older)
    assert f"latest stays on {rd.run_id_for(newer)}" in result.summary["publication"]
    assert _latest(day) == dict.fromkeys(KINDS, rd.run_id_for(newer))
    assert result.scores_dir.name == f"run={rd.run_id_for(older)}" and result.scores_dir.is_dir()


def _volatile_free(path: Path) -> dict:
    payload = json.loads(path.read_text())
    for key in ("durations_seconds", "generated_at", "scoring_seconds"):
        payload.pop(key, None)
    return payload


def test_replace_of_a_complete_run_is_byte_identical(env):
    day = env["day"]
    as_of = env["as_of"] + timedelta(minutes=50)
    first = _job(env, as_of)
    before = {p.relative_to(d.parent.parent.parent): p.read_bytes()
              for d in (first.features_dir, first.scores_dir, first.report_dir) for p in sorted(d.iterdir())}
    again = _job(env, as_of, replace=True)
    assert again.summary["status"] == "succeeded"
    for d in (again.features_dir, again.scores_dir, again.report_dir):
        for p in sorted(d.iterdir()):
            key = p.relative_to(d.parent.parent.parent)
            if p.name == "summary.json":
                assert _volatile_free(p) == _volatile_free_bytes(before[key]), key
            else:
                assert p.read_bytes() == before[key], key
    assert set(_latest(day).values()) == {rd.run_id_for(as_of)}


def _volatile_free_bytes(raw: bytes) -> dict:
    payload = json.loads(raw)
    for key in ("durations_seconds", "generated_at", "scoring_seconds"):
        payload.pop(key, None)
    return payload


def test_failed_scoring_leaves_nothing_that_blocks_the_rerun(env, tmp_path):
    """Scoring fails after the features were built: no run directory, no temp folder, a one-line registry
    cause with exit 14; features `latest` never names an unscored run; the rerun needs no --replace."""
    day = env["day"]
    as_of = env["as_of"] + timedelta(minutes=55)
    before = _latest(day)
    good = Path(json.loads(Path(env["config"]).read_text())["bundle_dir"])
    broken = tmp_path / "broken_bundle"
    shutil.copytree(good, broken)
    # a valid bundle that asks for an input the live features do not have: it loads, then scoring fails
    spec = json.loads((broken / "feature_columns.json").read_text())
    spec.pop("sha256", None)
    spec["input_columns"].append({"name": "not_a_feature", "type": "float"})
    spec["columns"].insert(len(spec["input_columns"]) - 1, "not_a_feature")
    spec["sha256"] = spec_hash({k: v for k, v in spec.items() if k != "sha256"})
    (broken / "feature_columns.json").write_text(json.dumps(spec))
    meta = json.loads((broken / "meta.json").read_text())
    (broken / "meta.json").write_text(json.dumps({**meta, "feature_hash": spec["sha256"]}))
    config = tmp_path / "broken.json"
    config.write_text(json.dumps({"bundle_dir": str(broken), "bundle_id": "broken"}))
    with pytest.raises(ScoringInputError) as err:
        _job(env, as_of, bundle_config=config)
    assert "\n" not in str(err.value) and "not_a_feature" in str(err.value)
    assert not any(Publication(Roots.default(), day).run_dir(k, rd.run_id_for(as_of)).exists() for k in KINDS)
    assert _temp_dirs(day) == [] and _latest(day) == before
    failed = registry.attempts(Path(env["env"]["MINUTES_LIVE_DATA_ROOT"]))[-1]
    assert failed["status"] == "failed" and failed["exit_code"] == 14 and "\n" not in failed["error"]
    Publication(Roots.default(), day).unpin()  # the old unpin pointed features at the unscored run
    assert _latest(day) == before
    assert _job(env, as_of).summary["status"] == "succeeded"
    assert _latest(day) == dict.fromkeys(KINDS, rd.run_id_for(as_of))


def test_job_cli_reports_a_scoring_failure_in_one_line(env, tmp_path):
    """The scorer's failure reached the operator as 800 characters of a traceback box. Here: a fresh set of
    roots (no bundle promoted there) over the same store."""
    fresh = {"MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"), "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"),
             "MINUTES_LIVE_REPORTS": str(tmp_path / "reports")}
    cmd = [str(Path(sys.executable).with_name("minutes-live")), "job", "afternoon", "--source", "none",
           "--date", env["day"].isoformat(), "--run-as-of-ts", (env["as_of"] + timedelta(minutes=57)).isoformat(),
           "--allow-missing-odds"]
    proc = subprocess.run(cmd, env={**os.environ, **env["env"], **fresh}, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 14, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bundle" in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    failed = registry.attempts(tmp_path / "data")[-1]
    assert failed["status"] == "failed" and failed["exit_code"] == 14
