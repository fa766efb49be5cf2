"""Disk full and read-only roots, for real: a tiny tmpfs mounted under the test's folder (root can mount in the
project's CI machine and here). The job, pin and export end with one line and exit 15 (StorageError), nothing is
published, both `latest` pointers stay where they were, and the registry records the failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from foundation import registry
from foundation import run_directory as rd
from foundation.publication import KINDS, Roots

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("minutes-live"))


@pytest.fixture()
def small_fs(tmp_path):
    """A 512 KB tmpfs: room for the bundle pointer, not for a scored run."""
    mnt = tmp_path / "small_fs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the disk-full test: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(mnt: Path, leave: int) -> None:
    free = shutil.disk_usage(mnt).free
    with open(mnt / "filler.bin", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=900, env={**os.environ, **env})


def _latest(env: dict, day) -> dict:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        roots = Roots.default()
        return {k: rd.latest_run_id(roots.root(k), day) for k in KINDS}
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)


def test_job_on_a_full_disk_is_one_line_exit_15_and_publishes_nothing(world, small_fs):
    day, as_of = world["day"], world["as_of"] + timedelta(minutes=20)
    env = {**world["env"], "MINUTES_LIVE_ARTIFACTS": str(small_fs)}
    pointer = small_fs / "minutes_v1" / "current_run.json"
    pointer.parent.mkdir(parents=True)
    pointer.write_text(Path(world["config"]).read_text())
    before = _latest(env, day)
    _fill(small_fs, leave=16 * 1024)
    done = _run(["job", "afternoon", "--date", day.isoformat(), "--run-as-of-ts", as_of.isoformat(),
                 "--source", "none", "--allow-missing-odds"], env)
    assert done.returncode == 15, done.stderr
    errors = [ln for ln in done.stderr.splitlines() if "error" in ln.lower()]
    assert "Traceback" not in done.stderr and len(errors) == 1 and "No space left on device" in errors[0]
    assert _latest(env, day) == before
    attempt = registry.attempts(Path(env["MINUTES_LIVE_DATA_ROOT"]))[-1]
    assert attempt["status"] == "failed" and attempt["exit_code"] == 15
    assert not any(p.name.startswith(".tmp-run=") for p in small_fs.rglob(".tmp-run=*"))


def test_pin_and_export_on_a_read_only_file_system_are_one_line(world, small_fs):
    """A read-only mount: `pin` (its pin file goes under the data root) and `runs export --out` end with one
    line and a documented code (15, or 2 when the value check sees the folder is not writable first)."""
    day, as_of = world["day"], world["as_of"] + timedelta(minutes=25)
    env = dict(world["env"])
    pointer = Path(env["MINUTES_LIVE_ARTIFACTS"]) / "minutes_v1" / "current_run.json"
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(Path(world["config"]).read_text())
    done = _run(["job", "afternoon", "--date", day.isoformat(), "--run-as-of-ts", as_of.isoformat(),
                 "--source", "none", "--allow-missing-odds"], env)
    assert done.returncode == 0, done.stderr
    run_id = rd.run_id_for(as_of)
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    exported = _run(["runs", "export", run_id, "--date", day.isoformat(), "--format", "csv",
                     "--out", str(small_fs / "x.csv")], env)
    assert exported.returncode in (2, 15) and "Traceback" not in exported.stderr, exported.stderr
    assert len(exported.stderr.strip().splitlines()) == 1 and str(small_fs) in exported.stderr
    # the whole data tree on a read-only copy: pin cannot write its pin file
    ro_env = {**env, "MINUTES_LIVE_ARTIFACTS": str(small_fs / "artifacts"), "MINUTES_LIVE_DATA_ROOT": str(small_fs / "data")}
    subprocess.run(["mount", "-o", "remount,rw", str(small_fs)], check=True)
    (small_fs / "data").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    pinned = _run(["pin", "--date", day.isoformat(), "--run-id", run_id], ro_env)
    assert pinned.returncode != 0 and "Traceback" not in pinned.stderr, pinned.stderr
    assert len(pinned.stderr.strip().splitlines()) == 1
