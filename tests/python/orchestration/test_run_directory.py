"""Run directories: immutable runs, atomic `latest`, pins, and crash safety of publishing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from foundation import run_directory as rd

DAY = date(2022, 1, 15)


def _write_run(root: Path, run_id: str, content: str = "x") -> rd.RunDirectory:
    run = rd.RunDirectory(root, DAY, run_id)
    with rd.staged_run(run) as tmp:
        (tmp / "features.parquet").write_text(content)
    return run


def test_run_id_is_utc_compact():
    assert rd.run_id_for(datetime(2022, 1, 15, 22, 5, 9, tzinfo=UTC)) == "20220115T220509Z"
    with pytest.raises(rd.RunDirectoryError, match="timezone-aware"):
        rd.run_id_for(datetime(2022, 1, 15, 22, 5, 9))


def test_existing_run_is_refused_unless_replace(tmp_path):
    run = _write_run(tmp_path, "20220115T220000Z", "first")
    with pytest.raises(rd.RunDirectoryError, match="already exists"):
        _write_run(tmp_path, "20220115T220000Z", "second")
    assert (run.path / "features.parquet").read_text() == "first"
    with rd.staged_run(run, replace=True) as tmp:
        (tmp / "features.parquet").write_text("second")
    assert (run.path / "features.parquet").read_text() == "second"


def test_failure_inside_staging_leaves_nothing(tmp_path):
    run = rd.RunDirectory(tmp_path, DAY, "20220115T220000Z")
    with pytest.raises(RuntimeError):
        with rd.staged_run(run) as tmp:
            (tmp / "half.parquet").write_text("half")
            raise RuntimeError("boom")
    assert not run.exists()
    assert list((tmp_path / DAY.isoformat()).iterdir()) == []


def test_latest_moves_and_pin_holds(tmp_path):
    a = _write_run(tmp_path, "20220115T150000Z")
    assert rd.publish_latest(a)
    b = _write_run(tmp_path, "20220115T220000Z")
    assert rd.publish_latest(b)
    assert rd.latest_run_id(tmp_path, DAY) == b.run_id
    rd.pin(tmp_path, DAY, a.run_id, reason="bad odds feed")
    assert rd.latest_run_id(tmp_path, DAY) == a.run_id
    c = _write_run(tmp_path, "20220115T230000Z")
    assert rd.publish_latest(c) is False
    assert rd.latest_run_id(tmp_path, DAY) == a.run_id
    assert rd.unpin(tmp_path, DAY) == c.run_id
    assert rd.latest_run_id(tmp_path, DAY) == c.run_id


def test_pin_unknown_run_is_refused(tmp_path):
    with pytest.raises(rd.RunDirectoryError, match="no such run"):
        rd.pin(tmp_path, DAY, "20220115T150000Z")
    with pytest.raises(rd.RunDirectoryError, match="invalid run id"):
        rd.pin(tmp_path, DAY, "../../etc")


def test_killed_writer_leaves_latest_on_previous_run(tmp_path):
    """SIGKILL a process in the middle of writing a run: latest still names the old, complete run."""
    old = _write_run(tmp_path, "20220115T150000Z", "old")
    rd.publish_latest(old)
    script = textwrap.dedent(
        f"""
        import time, sys
        from pathlib import Path
        from datetime import date
        from foundation import run_directory as rd
        run = rd.RunDirectory(Path({str(tmp_path)!r}), date(2022, 1, 15), "20220115T220000Z")
        with rd.staged_run(run) as tmp:
            (tmp / "features.parquet").write_text("partial")
            print("writing", flush=True)
            time.sleep(60)
        rd.publish_latest(run)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[3])
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert rd.latest_run_id(tmp_path, DAY) == old.run_id
    assert rd.complete_runs(tmp_path, DAY) == [old.run_id]
    pointer = json.loads((tmp_path / DAY.isoformat() / "latest").read_text())
    assert (tmp_path / DAY.isoformat() / f"run={pointer['run_id']}" / "features.parquet").read_text() == "old"
