"""CLI values are validated before any work; the store lock serializes jobs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import EXIT_CODES, InvalidInput, LockBusyError
from foundation.locks import store_lock

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("value", ["2022-13-01", "20220115", "2022-02-30", "", "2022-01-15; drop table x"])
def test_bad_dates_are_refused(value):
    with pytest.raises(InvalidInput, match="--date"):
        parse_date(value)


@pytest.mark.parametrize(
    "value, message",
    [("2022-01-15T22:00:00", "no UTC offset"), ("yesterday", "not an ISO-8601"), ("1890-01-01T00:00:00Z", "outside")],
)
def test_bad_timestamps_are_refused(value, message):
    with pytest.raises(InvalidInput, match=message):
        parse_ts(value)


def test_timestamps_normalize_to_utc():
    assert parse_ts("2022-03-13T03:30:00-04:00").isoformat() == "2022-03-13T07:30:00+00:00"
    assert parse_ts("2022-01-15T22:00:00Z").isoformat() == "2022-01-15T22:00:00+00:00"


def test_exit_codes_are_distinct_and_documented():
    assert len(EXIT_CODES) == len(set(EXIT_CODES))
    doc = (ROOT / "docs" / "operations.md").read_text()
    for code, label in EXIT_CODES.items():
        assert f"| {code} | {label} |" in doc, f"docs/operations.md lacks exit code {code}"


def test_second_job_gets_lock_busy(tmp_path):
    with store_lock(tmp_path, timeout=1, what="first job"):
        with pytest.raises(LockBusyError, match="first job"):
            with store_lock(tmp_path, timeout=0.2, what="second job"):
                pass
    with store_lock(tmp_path, timeout=0.2, what="third job"):
        pass


@pytest.mark.parametrize(
    "args, message",
    [
        (["--date", "2022-02-30"], "not a valid calendar date"),
        (["--date", "2022-01-15", "--run-as-of-ts", "2022-01-15 22:00"], "no UTC offset"),
        (["--date", "2022-01-15", "--source", "ftp"], "--source"),
        (["--date", "2022-01-15", "--history-days", "-3"], "--history-days must be >= 0"),
        (["--date", "2022-01-15", "--source", "replay", "--dataset-dir", "/nonexistent/dir"], "does not exist"),
    ],
)
def test_build_minutes_live_refuses_bad_flags_before_any_work(tmp_path, args, message):
    env = {"MINUTES_LIVE_DATA_ROOT": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run([sys.executable, "-c", "from minutes_live.cli.build import main; main()", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written
