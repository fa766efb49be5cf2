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
