"""A live source that cannot be reached: its own exit code (17, not 13 "malformed input") and one short line
naming the kind, the host and what to do; the shipped example config is what the code reads."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from foundation import settings
from foundation.guardrails import EXIT_CODES, SourceUnreachableError
from snapshots_ingest.live.http_client import LiveSourceConfig, load_live_config

EXAMPLE = settings.PROJECT_ROOT / "config" / "live_sources.example.json"


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config(tmp_path, port: int):
    payload = json.loads(EXAMPLE.read_text())
    base = f"http://127.0.0.1:{port}"
    payload.update(schedule_url=f"{base}/schedule.json", roster_url=f"{base}/roster",
                   boxscore_base_url=f"{base}/boxscore", injury_report_base_url=f"{base}/injury",
                   odds_url=None, connect_timeout_s=0.5, read_timeout_s=0.5, retries=1, backoff_factor_s=0.01,
                   backoff_max_s=0.05, min_interval_s=0.0)
    path = tmp_path / "live_sources.json"
    path.write_text(json.dumps(payload))
    return path


def _cli(args: list[str], tmp_path, config) -> subprocess.CompletedProcess:
    env = {**os.environ, "MINUTES_LIVE_SOURCES_CONFIG": str(config),
           "MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"), "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"),
           "MINUTES_LIVE_REPORTS": str(tmp_path / "reports")}
    env.pop("MINUTES_LIVE_DUCKDB", None)
    return subprocess.run([sys.executable, "-m", "minutes_live.cli.app", *args], capture_output=True, text=True,
                          cwd=settings.PROJECT_ROOT, env=env, timeout=300)


def test_the_example_config_loads_with_every_key_the_code_reads():
    payload = json.loads(EXAMPLE.read_text())
    assert set(payload) == set(LiveSourceConfig.model_fields)  # nothing missing, nothing the code would refuse
    config = load_live_config(EXAMPLE)
    assert config.contact == "ops@example.org" and config.odds_url is None


def test_unreachable_source_exits_17_with_one_short_line(tmp_path):
    port = _closed_port()
    config = _config(tmp_path, port)
    proc = _cli(["ingest", "--source", "live", "--kind", "schedule", "--date", "2026-02-08",
                 "--run-as-of-ts", "2026-02-08T20:00:00Z", "--lock-timeout", "5"], tmp_path, config)
    assert proc.returncode == SourceUnreachableError.exit_code == 17, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "Traceback" not in proc.stderr and "urllib3" not in last and "HTTPConnection" not in last, last
    assert f"schedule for 2026-02-08 from 127.0.0.1:{port}: connection failed" in last, last
    assert "Connection refused" in last and "live source config" in last, last
    assert len(last) < 400, len(last)


def test_a_live_build_records_the_unreachable_source_in_the_live_registry(tmp_path):
    config = _config(tmp_path, _closed_port())
    proc = _cli(["build", "--source", "live", "--date", "2026-02-08", "--run-as-of-ts",
                 "2026-02-08T20:00:00Z", "--lock-timeout", "5"], tmp_path, config)
    assert proc.returncode == 17, proc.stderr[-2000:]
    lines = (tmp_path / "data" / "registry" / "minutes_live_runs.jsonl").read_text().splitlines()
    failed = json.loads(lines[-1])
    assert failed["status"] == "failed" and failed["exit_code"] == 17 and "unreachable" in failed["error"]
    assert 17 in EXIT_CODES
