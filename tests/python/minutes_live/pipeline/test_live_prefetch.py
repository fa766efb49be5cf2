"""A live job fetches (and parses the injury PDF) before it takes the store lock: a failing or slow upstream
is the job's own problem, never a lock other jobs wait on, and while another job holds the lock this one
still fetches. Real processes: the lock is held by another Python process; the upstream is a local server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from foundation.guardrails import SourceUnreachableError
from minutes_live.pipeline.job import run_job
from minutes_live.pipeline.live_build import LiveBuildConfig

ROOT = Path(__file__).resolve().parents[4]
DAY = date(2026, 2, 8)
AS_OF = datetime(2026, 2, 8, 23, 30, tzinfo=UTC)


@pytest.fixture
def locked_elsewhere(tmp_path):
    """Another process holds the store lock of tmp_path/data for a minute."""
    code = ("import sys, time; from pathlib import Path; from foundation.locks import store_lock\n"
            "with store_lock(Path(sys.argv[1]), timeout=0, what='other job'):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "data")], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def test_a_failing_upstream_fails_the_job_without_waiting_for_the_lock(httpserver, tmp_path, monkeypatch,
                                                                       locked_elsewhere):
    httpserver.expect_request("/schedule.json").respond_with_data("down", status=503)
    config = tmp_path / "live_sources.json"
    config.write_text(json.dumps({
        "schedule_url": httpserver.url_for("/schedule.json"), "roster_url": httpserver.url_for("/roster"),
        "injury_report_base_url": httpserver.url_for("/injury"), "boxscore_base_url": httpserver.url_for("/box"),
        "retries": 1, "backoff_factor_s": 0.01, "min_interval_s": 0.0, "connect_timeout_s": 1, "read_timeout_s": 1}))
    monkeypatch.setenv("MINUTES_LIVE_SOURCES_CONFIG", str(config))
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MINUTES_LIVE_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("MINUTES_LIVE_REPORTS", str(tmp_path / "reports"))
    cfg = LiveBuildConfig(day=DAY, run_as_of_ts=AS_OF, source="live", db_path=tmp_path / "data" / "wh.duckdb",
                          data_root=tmp_path / "data")
    t0 = time.monotonic()
    # a 5xx after the retries is an unreachable source (exit 17, not the lock's 12 after 20 s)
    with pytest.raises(SourceUnreachableError, match=r"live source unreachable: schedule for 2026-02-08 from .*HTTP 503"):
        run_job(cfg, job="afternoon", lock_timeout=20)
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "data" / "wh.duckdb").exists()  # the store was never opened
