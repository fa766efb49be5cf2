"""The `spark_cluster` target (dbt-spark thrift) on a real local cluster: a standalone master, two workers and
the Spark Thrift server, started once per session by deploy/spark/start-cluster.sh (the same command as
docs/scale_out.md) in its own working directory, and stopped at the end (deploy/spark/stop-cluster.sh).

- the live slate and the gold mart built through the cluster equal DuckDB's (keys exactly, numerics within
  1e-9, dtypes; minutes_live/pipeline/engine_parity.py), and the raw export is exactly the store's rows;
- the raw and mart exports travel through the Spark directory given to the runner (here a relative path,
  resolved in the runner's working directory, not the cluster's);
- `minutes-live --target spark_cluster job morning` publishes the projections DuckDB's job publishes, and the
  next run reuses the history the cluster holds;
- a worker killed mid-build: Spark retries the lost tasks on the other worker, or the job fails with exit 10;
  either way nothing half-built is published.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from foundation import run_directory as rd
from foundation import settings
from minutes_live.pipeline import engine_parity, spark_engine
from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART


def on_cluster(test):
    """The tests that use the cluster (`pytest -m spark_cluster`); also slow and spark (not in --fast)."""
    return pytest.mark.slow(pytest.mark.spark(pytest.mark.spark_cluster(test)))


START = settings.PROJECT_ROOT / "deploy" / "spark" / "start-cluster.sh"
STOP = settings.PROJECT_ROOT / "deploy" / "spark" / "stop-cluster.sh"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """One cluster for every test of the session, in its own working directory, on free ports."""
    try:
        spark_engine.check_installed("spark_cluster")
    except spark_engine.SparkTargetError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}; Spark tests must run in CI (.ci/run installs the extra and Java)")
        pytest.skip(str(exc))
    directory = tmp_path_factory.mktemp("spark_cluster")
    env = {"MINUTES_LIVE_CLUSTER_DIR": str(directory), "MINUTES_LIVE_SPARK_PORT": str(_free_port()),
           "MINUTES_LIVE_SPARK_MASTER_PORT": str(_free_port()), "MINUTES_LIVE_SPARK_HOST": "127.0.0.1",
           "PYTHON": sys.executable}
    full = {**os.environ, **env}
    try:
        proc = subprocess.run([str(START)], env=full, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            yield {"dir": directory, "env": env}
    finally:
        subprocess.run([str(STOP)], env=full, capture_output=True, text=True, timeout=120)


def _job(world, db: Path, root: Path, target: str, as_of, *, extra_env: dict | None = None,
         cwd: Path | None = None, kill_worker_of: Path | None = None) -> dict:
    """`minutes-live --target <target> job morning` as an operator runs it, in its own roots on store `db`.
    With `kill_worker_of` (a cluster directory): SIGKILL worker-1 and its executor once dbt runs models."""
    artifacts = root / "artifacts" / "minutes_v1"
    artifacts.mkdir(parents=True, exist_ok=True)
    pointer = json.loads(world["config"].read_text())
    pointer["bundle_dir"] = str(Path(pointer["bundle_dir"]).resolve())
    (artifacts / "current_run.json").write_text(json.dumps(pointer))
    env = {**os.environ, **world["env"], "MINUTES_LIVE_DUCKDB": str(db), "MINUTES_LIVE_DATA_ROOT": str(root / "data"),
           "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"), "MINUTES_LIVE_REPORTS": str(root / "reports"),
           "MINUTES_LIVE_LOG_LEVEL": "INFO", "MINUTES_LIVE_HEARTBEAT_SECONDS": "1", **(extra_env or {})}
    exe = str(Path(sys.executable).with_name("minutes-live"))
    cmd = [exe, "--target", target, "job", "morning", "--date", world["day"].isoformat(),
           "--run-as-of-ts", as_of.isoformat(), "--source", "synthetic", "--dataset-dir", str(world["league"]),
           "--allow-missing-odds", "--allow-missing-injuries"]
    proc = subprocess.Popen(cmd, env=env, cwd=cwd or settings.PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    killed = None
    if kill_worker_of is not None:
        killed = _kill_worker_when_models_run(proc, kill_worker_of)
    stdout, stderr = proc.communicate(timeout=1800)
    if killed is not None:
        stderr = killed + stderr
    run = f"run={rd.run_id_for(as_of)}"
    name = settings.dataset_name("synthetic", world["league"])
    features = root / "data" / name / "features_minutes_v1" / world["day"].isoformat() / run
    scores = root / "artifacts" / name / "minutes_v1" / "daily" / world["day"].isoformat() / run
    out = {"returncode": proc.returncode, "stdout": stdout, "stderr": stderr, "features_dir": features,
           "scores_root": root / "artifacts" / name / "minutes_v1" / "daily"}
    if proc.returncode == 0:
        out.update(summary=json.loads((features / "summary.json").read_text()),
                   features=pd.read_parquet(features / "features.parquet"),
                   minutes=pd.read_parquet(scores / "minutes.parquet"))
    return out


def _kill_worker_when_models_run(proc: subprocess.Popen, cluster_dir: Path) -> str:
    """Read the job's log until dbt has finished a node and runs models, then SIGKILL worker-1's JVM and the
    executor it launched (what losing a machine looks like). Returns the log read so far."""
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "dbt build --selector" in line and "nodes, running int_" in line and " 0/" not in line:
            break
    assert proc.poll() is None, "the job ended before dbt ran its models: nothing was killed mid-build"
    worker = int((cluster_dir / "pids" / "worker-1.pid").read_text())
    executors = subprocess.run(["pgrep", "-P", str(worker)], capture_output=True, text=True).stdout.split()
    for pid in [worker, *map(int, executors)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    seen.append(f"[test] SIGKILL worker-1 (pid {worker}) and its executor(s) {executors}\n")
    return "".join(seen)


@pytest.fixture(scope="module")
def store(world, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("cluster_store") / "store.duckdb"
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    return db


@pytest.fixture(scope="module")
def duckdb_jobs(world, store, tmp_path_factory) -> dict:
    """DuckDB's job at the first run time and 30 minutes later (what the cluster's jobs must publish)."""
    root = tmp_path_factory.mktemp("duck_jobs")
    out = {}
    for minutes in (0, 30):
        as_of = world["as_of"] + timedelta(minutes=minutes)
        out[minutes] = _job(world, store, root, "embedded", as_of)
        assert out[minutes]["returncode"] == 0, out[minutes]["stderr"][-3000:]
    return out


@on_cluster
def test_live_slate_and_gold_mart_on_the_cluster_equal_duckdb(spark_cluster, world, tmp_path, monkeypatch):
    """One `parity` build (the live slate and the whole gold mart, with their lineage and data tests) per
    engine on one store; the Spark directory is relative to the runner's working directory, which is not
    the cluster's."""
    db = tmp_path / "store.duckdb"
    shutil.copyfile(world["env"]["MINUTES_LIVE_DUCKDB"], db)
    runner_cwd = tmp_path / "runner"
    runner_cwd.mkdir()
    monkeypatch.chdir(runner_cwd)
    monkeypatch.setenv(spark_engine.SPARK_DIR_ENV, "exchange")
    params = {"target_date": world["day"].isoformat(), "run_as_of_ts": world["as_of"].isoformat(), "build_gold": True,
              "allow_missing_injuries": True, "allow_missing_odds": True}

    duck = engine_parity.build_on("embedded", "parity", params, db_path=db)
    cluster = engine_parity.build_on("spark_cluster", "parity", params, db_path=db)

    for comparison in engine_parity.compare_builds(duck, cluster):
        assert comparison.ok, "\n".join(comparison.problems)
    assert len(cluster.marts[LIVE_MART]) > 100 and len(cluster.marts[GOLD_MART]) > 5000
    assert engine_parity.raw_export_matches(db) == []
    # the exchange went through the runner's directory, which the cluster saw by absolute file:// URIs
    exchange = runner_cwd / "exchange"
    assert list((exchange / "export" / LIVE_MART).glob("*.parquet"))
    assert list((exchange / "raw" / "box_scores").glob("*.parquet"))
    assert not (spark_cluster["dir"] / "exchange").exists()


@on_cluster
def test_the_job_on_the_cluster_publishes_duckdbs_projections_and_then_reuses_history(
        spark_cluster, world, store, duckdb_jobs, tmp_path):
    root = tmp_path / "cluster"
    first = _job(world, store, root, "spark_cluster", world["as_of"])
    assert first["returncode"] == 0, first["stderr"][-3000:]
    assert first["summary"]["dbt_target"] == "spark_cluster"
    duck = duckdb_jobs[0]
    comparison = engine_parity.compare_marts(LIVE_MART, duck["features"], first["features"])
    assert comparison.ok, "\n".join(comparison.problems)
    pd.testing.assert_frame_equal(duck["minutes"], first["minutes"], check_exact=True)
    assert len(first["minutes"]) > 100

    # the next run: no new box scores, so the history the cluster holds is fresh and is not rebuilt
    later = _job(world, store, root, "spark_cluster", world["as_of"] + timedelta(minutes=30))
    assert later["returncode"] == 0, later["stderr"][-3000:]
    assert "stored history is fresh" in later["stderr"] and "--selector live_slate_on_history" in later["stderr"]
    # the raw export did not change either: the cluster keeps the raw tables it registered for the first run
    assert "spark: raw tables registered on the cluster for this export: kept" in later["stderr"], later["stderr"][-3000:]
    pd.testing.assert_frame_equal(duckdb_jobs[30]["minutes"], later["minutes"], check_exact=True)


@on_cluster
def test_a_worker_killed_mid_build_is_retried_or_fails_and_publishes_nothing_half_built(
        spark_cluster, world, store, duckdb_jobs, tmp_path):
    root = tmp_path / "cluster_kill"
    as_of = world["as_of"] + timedelta(minutes=30)
    try:
        out = _job(world, store, root, "spark_cluster", as_of, kill_worker_of=spark_cluster["dir"])
        assert "[test] SIGKILL worker-1" in out["stderr"]
        print(f"worker killed mid-build: the job exited {out['returncode']}")  # which branch ran (-rA shows it)
        if out["returncode"] == 0:
            # Spark re-ran the lost tasks on worker-2: the projections are the complete ones
            pd.testing.assert_frame_equal(duckdb_jobs[30]["minutes"], out["minutes"], check_exact=True)
        else:
            assert out["returncode"] == 10, out["stderr"][-3000:]
            assert "dbt build failed" in out["stderr"] or "job: error:" in out["stderr"], out["stderr"][-3000:]
            assert rd.resolve_latest(out["scores_root"], world["day"]) is None
            assert not out["features_dir"].exists()
    finally:
        # the next tests (and the session's stop) find the cluster whole again
        proc = subprocess.run([str(START)], env={**os.environ, **spark_cluster["env"]}, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("value", ["exchange/raw", "./raw"])
def test_a_relative_exchange_uri_is_refused(value, tmp_path, monkeypatch):
    monkeypatch.setenv(spark_engine.RAW_URI_ENV, value)
    with pytest.raises(Exception, match="is relative: the cluster would resolve it against its own working"):
        spark_engine.exchange_uris(tmp_path / "store.duckdb")


def test_the_exchange_uris_default_to_the_spark_directory_and_take_an_object_store(tmp_path, monkeypatch):
    monkeypatch.delenv(spark_engine.RAW_URI_ENV, raising=False)
    monkeypatch.delenv(spark_engine.EXPORT_URI_ENV, raising=False)
    monkeypatch.setenv(spark_engine.SPARK_DIR_ENV, str(tmp_path / "shared"))
    uris = spark_engine.exchange_uris(tmp_path / "store.duckdb")
    assert uris == {spark_engine.RAW_URI_ENV: f"file://{tmp_path}/shared/raw",
                    spark_engine.EXPORT_URI_ENV: f"file://{tmp_path}/shared/export"}
    monkeypatch.setenv(spark_engine.RAW_URI_ENV, "s3a://bucket/minutes_live/raw/")
    assert spark_engine.exchange_uris(tmp_path / "x.duckdb")[spark_engine.RAW_URI_ENV] == "s3a://bucket/minutes_live/raw"


def test_a_rewritten_raw_export_gets_a_new_tag_and_an_unchanged_one_keeps_it(tmp_path, monkeypatch):
    """The export tag decides whether the cluster registers a raw table again (spark_engine.raw_registration):
    a table whose export was rewritten must get a new tag, or the cluster would read the new file through the
    listing it cached for the old one."""
    import duckdb

    from snapshots_ingest import raw_store

    db = tmp_path / "store.duckdb"
    raw_store.connect(db).close()
    monkeypatch.delenv(spark_engine.SPARK_DIR_ENV, raising=False)
    monkeypatch.setenv(spark_engine.TARGET_ENV, "spark")
    uri = spark_engine.exchange_uris(db)[spark_engine.RAW_URI_ENV]
    assert spark_engine.raw_registration(db, uri) is None  # no export yet: the hook registers all, untagged
    spark_engine.export_raw(db)
    first = spark_engine.raw_registration(db, uri)  # the session target registers every table, tagged
    assert set(first) == set(spark_engine.RAW_TABLES) and all(first.values())
    spark_engine.export_raw(db)  # nothing new: nothing rewritten
    assert spark_engine.raw_registration(db, uri) == first
    con = duckdb.connect(str(db))
    con.execute("insert into raw.odds values (1, 2, 3, 'book', -1.5, 220.5, now(), now(), 'r', 'test', null, 'h')")
    con.close()
    spark_engine.export_raw(db)
    second = spark_engine.raw_registration(db, uri)
    assert second["odds"] != first["odds"]
    assert {t: v for t, v in second.items() if t != "odds"} == {t: v for t, v in first.items() if t != "odds"}


def test_a_registered_location_compares_as_spark_shows_it():
    assert spark_engine._location("file:///tmp/x/spark/raw/odds/") == "file:/tmp/x/spark/raw/odds"
    assert spark_engine._location("file:/tmp/x/raw/odds") == "file:/tmp/x/raw/odds"
    assert spark_engine._location("s3a://bucket/minutes_live/raw/odds") == "s3a://bucket/minutes_live/raw/odds"
