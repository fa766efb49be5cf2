"""Negative zero is not a bound-respecting number: `-0.0` passed the CLI check and failed in the dbt macro
(exit 10 after the attempt had started). It is refused with exit 2 before any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foundation import cli_values
from foundation.guardrails import InvalidInput

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("flag", ["--odds-max-age-hours", "--injuries-max-age-hours", "--roster-max-age-hours"])
def test_negative_zero_max_age_is_refused(flag):
    with pytest.raises(InvalidInput, match=f"{flag} .*-0.0"):
        cli_values.max_age_hours(-0.0, flag)
    assert cli_values.max_age_hours(0.0, flag) == 0.0


def test_negative_zero_lock_timeout_is_refused():
    with pytest.raises(InvalidInput, match="--lock-timeout"):
        cli_values.lock_timeout(-0.0)


def test_build_minutes_live_refuses_negative_zero_before_any_work(tmp_path):
    env = {"MINUTES_LIVE_DATA_ROOT": str(tmp_path), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        [sys.executable, "-c", "from minutes_live.cli.build import main; main()", "--date", "2022-01-15",
         "--run-as-of-ts", "2022-01-15T22:00:00Z", "--source", "none", "--odds-max-age-hours", "-0.0"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "--odds-max-age-hours" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing written
