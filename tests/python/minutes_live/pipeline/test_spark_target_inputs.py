"""Choosing the dbt target (minutes_live/pipeline/spark_engine.py): a wrong name or a missing Spark setup is refused
before any work, with one line naming what to do (the real console scripts, in subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("MINUTES_LIVE_DBT_TARGET", "JAVA_HOME")}
    return subprocess.run(args, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_an_unknown_target_exits_2_naming_the_choices(tmp_path):
    proc = _run([str(BIN / "minutes-live"), "--target", "sparkk", "runs", "--date", "2025-01-01"])
    assert proc.returncode == 2
    assert "--target 'sparkk' is not one of embedded, spark, spark_cluster" in proc.stderr
    proc = _run([str(BIN / "build_minutes_live"), "--date", "2025-01-01", "--target", "duck"])
    assert proc.returncode == 2
    assert "--target 'duck' is not one of embedded, spark, spark_cluster" in proc.stderr


def test_an_unknown_target_in_the_environment_exits_2(tmp_path):
    proc = _run([str(BIN / "minutes-live"), "runs", "--date", "2025-01-01"], MINUTES_LIVE_DBT_TARGET="postgres")
    assert proc.returncode == 2
    assert "MINUTES_LIVE_DBT_TARGET='postgres' is not one of embedded, spark, spark_cluster" in proc.stderr


def test_spark_without_java_exits_10_before_any_work(tmp_path):
    # a PATH holding only the virtualenv: no java on it, and JAVA_HOME unset
    proc = _run([str(BIN / "build_minutes_live"), "--target", "spark", "--date", "2025-01-01",
                 "--source", "synthetic", "--dataset-dir", str(tmp_path / "nowhere")], PATH=str(BIN))
    assert proc.returncode == 10, proc.stderr
    assert "the spark target needs Java 17: apt-get install openjdk-17-jre-headless" in proc.stderr
    assert not (tmp_path / "nowhere").exists()


def test_the_session_targets_short_lived_driver_gets_its_java_options(tmp_path, monkeypatch):
    """The session target's driver lives for one dbt call: the runner hands it the quick JIT tier and the
    serial collector (profiles/profiles.yml appends MINUTES_LIVE_SPARK_JAVA_OPTS to its Java options), an
    operator's own value wins, and the cluster and DuckDB targets get none. The JVM here takes the options."""
    import shutil

    import pytest

    from minutes_live.pipeline import spark_engine

    db = tmp_path / "store.duckdb"
    monkeypatch.delenv(spark_engine.JAVA_OPTS_ENV, raising=False)
    monkeypatch.setenv(spark_engine.TARGET_ENV, "spark")
    assert spark_engine.dbt_env(db)[spark_engine.JAVA_OPTS_ENV] == "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    monkeypatch.setenv(spark_engine.JAVA_OPTS_ENV, "-XX:+UseParallelGC")
    assert spark_engine.dbt_env(db)[spark_engine.JAVA_OPTS_ENV] == "-XX:+UseParallelGC"
    monkeypatch.delenv(spark_engine.JAVA_OPTS_ENV)
    monkeypatch.setenv(spark_engine.TARGET_ENV, "spark_cluster")
    assert spark_engine.JAVA_OPTS_ENV not in spark_engine.dbt_env(db)
    profile = (Path(__file__).resolve().parents[4] / "profiles" / "profiles.yml").read_text()
    assert "spark.driver.extraJavaOptions: \"-Dderby.system.home={{ env_var('MINUTES_LIVE_SPARK_DIR', 'data/live/spark') }} " \
           "{{ env_var('MINUTES_LIVE_SPARK_JAVA_OPTS', '') }}\"" in profile

    java = shutil.which("java")
    if java is None:
        if os.environ.get("CI"):
            pytest.fail("java is missing: .ci/run installs Java 17")
        pytest.skip("no java here")
    flags = subprocess.run([java, *spark_engine.SESSION_JAVA_OPTIONS.split(), "-XX:+PrintFlagsFinal", "-version"],
                           capture_output=True, text=True, timeout=60)
    assert flags.returncode == 0, flags.stderr
    final = {line.split()[1]: line.split()[3] for line in flags.stdout.splitlines() if line.count("=") == 1
             and len(line.split()) >= 4}
    assert final["TieredStopAtLevel"] == "1" and final["UseSerialGC"] == "true", flags.stdout[:500]
