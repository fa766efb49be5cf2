"""The watcher's parts that need no store: the sources' cadence, the alerts (JSONL and a real webhook
server), the CLI's values, and the systemd unit."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from foundation.clock import LEAGUE_TZ
from minutes_live.cli.app import app
from minutes_live.watch.alerts import Alerts, read_alerts
from minutes_live.watch.sources import injury_report_interval, live_next_poll

ROOT = Path(__file__).resolve().parents[4]
runner = CliRunner()


def _et(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=LEAGUE_TZ).astimezone(UTC)


def test_the_injury_report_is_polled_at_the_leagues_publication_times():
    before, since = date(2025, 12, 21), date(2025, 12, 22)
    assert injury_report_interval(before).total_seconds() == 3600
    assert injury_report_interval(since).total_seconds() == 900
    # a minute after each publication time: hourly before 2025-12-22, every 15 minutes since
    assert live_next_poll(before, "injuries", _et(before, 10, 5)) == _et(before, 11, 1)
    assert live_next_poll(since, "injuries", _et(since, 10, 5)) == _et(since, 10, 16)
    assert live_next_poll(since, "injuries", _et(since, 10, 16)) == _et(since, 10, 31)
    assert live_next_poll(since, "roster", _et(since, 10, 5)) == _et(since, 10, 6)


def test_alerts_go_to_the_stream_and_to_a_real_webhook(tmp_path, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    alerts = Alerts(tmp_path / "watch" / "alerts.jsonl", date(2022, 1, 15), httpserver.url_for("/hook"))
    at = _et(date(2022, 1, 15), 18, 0)
    alerts.emit("status_change", at, "X (BOS): status Q -> OUT", player_id=7, status_from="Q", status_to="OUT")
    alerts.emit("source_stale", at, "odds: no successful poll for 45 min", source="odds")
    stream = read_alerts(tmp_path / "watch" / "alerts.jsonl")
    assert [a["kind"] for a in stream] == ["status_change", "source_stale"]
    assert stream[0]["ts"] == at.isoformat() and stream[0]["status_to"] == "OUT"
    bodies = [json.loads(req.get_data()) for req, _ in httpserver.log]
    assert [b["kind"] for b in bodies] == ["status_change", "source_stale"]
    assert all(req.headers["Content-Type"] == "application/json" for req, _ in httpserver.log)
    assert bodies[0] == stream[0]


def test_a_webhook_that_fails_never_stops_the_stream(tmp_path, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    alerts = Alerts(tmp_path / "alerts.jsonl", date(2022, 1, 15), httpserver.url_for("/hook"))
    alerts.emit("run_failed", datetime.now(UTC), "run x failed", run_id="20220115T180000Z", exit_code=10)
    assert len(httpserver.log) >= 2  # retried
    assert read_alerts(tmp_path / "alerts.jsonl")[0]["kind"] == "run_failed"


@pytest.mark.parametrize(("args", "flag"), [
    (["--source", "synthetic", "--date", "2025-01-01", "--clock-speed", "-1"], "--clock-speed"),
    (["--source", "synthetic", "--date", "2025-01-01", "--clock-speed", "nan"], "--clock-speed"),
    (["--source", "synthetic", "--date", "2025-01-01", "--alert-min-delta", "49"], "--alert-min-delta"),
    (["--source", "synthetic", "--date", "2025-01-01", "--webhook", "file:///etc/passwd"], "--webhook"),
    (["--source", "synthetic"], "--date"),
    (["--source", "synthetic", "--date", "2025-01-01", "--start", "2025-01-01T20:00:00Z",
      "--until", "2025-01-01T19:00:00Z"], "--until"),
    (["--source", "synthetic", "--date", "2025-01-01", "--start", "20:00"], "--start"),
    (["--source", "none", "--date", "2025-01-01"], "--source"),
    (["--source", "synthetic", "--date", "2025-13-01"], "--date"),
])
def test_bad_values_are_one_line_and_exit_2(args, flag, tmp_path):
    result = runner.invoke(app, ["watch", "--dataset-dir", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("watch: error:") and flag in lines[0], result.output


def test_the_watcher_unit_runs_one_long_lived_process_stopped_by_sigterm():
    units = ROOT / "deploy" / "systemd"
    service = (units / "minutes-live-watch.service").read_text()
    assert "Type=simple" in service and "KillSignal=SIGTERM" in service and "Restart=on-failure" in service
    assert "ExecStart=/srv/minutes-live/.venv/bin/minutes-live watch --source live" in service
    assert "OnCalendar=*-*-* 09:00:00 America/New_York" in (units / "minutes-live-watch.timer").read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_watcher_units(tmp_path):
    import sys

    bin_ = Path(sys.executable).with_name("minutes-live")
    for name in ("minutes-live-watch.service", "minutes-live-watch.timer"):
        text = (ROOT / "deploy" / "systemd" / name).read_text()
        text = text.replace("/srv/minutes-live/.venv/bin/minutes-live", str(bin_)).replace("/srv/minutes-live", str(ROOT))
        (tmp_path / name).write_text(text)
    proc = subprocess.run(["systemd-analyze", "verify", "minutes-live-watch.service", "minutes-live-watch.timer"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Unknown key" not in proc.stderr and "is not executable" not in proc.stderr, proc.stderr
