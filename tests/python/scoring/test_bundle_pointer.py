"""The active-bundle pointer is runtime state (artifacts/minutes_v1/current_run.json), never a tracked file.

A fresh clone has no pointer: scoring says so in one line naming the command that makes one, and training
+ promoting a bundle leaves the git checkout clean.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
TRACKED_POINTER = ROOT / "config" / "minutes_current_run.json"  # where the pointer used to live (tracked)
FRESH_CLONE_MESSAGE = (
    "no active Minutes V1 bundle ({path} does not exist): train and promote one with "
    "`minutes-live train --dataset-dir ../shared/data/nba --promote`"
)


def _env(tmp_path: Path) -> dict[str, str]:
    """A fresh-clone-like environment: empty artifacts, data and reports roots."""
    return {
        **os.environ,
        "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"),
        "MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"),
        "MINUTES_LIVE_REPORTS": str(tmp_path / "reports"),
        "MINUTES_LIVE_LGB_THREADS": "1",
    }


def _git_status() -> str:
    return subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True,
                          check=True).stdout


def test_fresh_clone_scoring_names_the_command_to_run(tmp_path: Path, features: pd.DataFrame) -> None:
    day = sorted(features["game_date"].unique())[-1]
    fpath = tmp_path / "features.parquet"
    features.to_parquet(fpath, index=False)
    proc = subprocess.run(
        [sys.executable, "-m", "minutes_live.cli.score", "--date", day.isoformat(), "--mode", "live",
         "--features-path", str(fpath), "--run-as-of-ts", "2021-12-10T20:00:00Z"],
        capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path),
    )
    pointer = tmp_path / "artifacts" / "minutes_v1" / "current_run.json"
    assert proc.returncode == 14, proc.stderr
    assert proc.stderr.strip() == "score_minutes_v1: error: " + FRESH_CLONE_MESSAGE.format(path=pointer)
    assert not (tmp_path / "artifacts" / "minutes_v1" / "daily").exists()  # nothing written


def test_pointer_naming_a_missing_bundle_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from scoring.active_bundle import resolve_bundle_dir

    monkeypatch.setenv("MINUTES_LIVE_ARTIFACTS", str(tmp_path / "artifacts"))
    pointer = tmp_path / "artifacts" / "minutes_v1" / "current_run.json"
    pointer.parent.mkdir(parents=True)
    pointer.write_text(json.dumps({"bundle_dir": str(tmp_path / "gone"), "bundle_id": "gone"}))
    with pytest.raises(FileNotFoundError, match=r"names bundle directory .*gone, which does not exist: train and "
                                                r"promote one with `minutes-live train"):
        resolve_bundle_dir()


def test_train_and_promote_leave_git_clean(tmp_path: Path, features: pd.DataFrame) -> None:
    fpath = tmp_path / "gold.parquet"
    features.to_parquet(fpath, index=False)
    saved = TRACKED_POINTER.read_bytes() if TRACKED_POINTER.exists() else None
    before = _git_status()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "minutes_live.cli.app", "train", "--features-path", str(fpath), "--promote"],
            capture_output=True, text=True, cwd=ROOT, env=_env(tmp_path),
        )
        after = _git_status()
    finally:  # on the old code the tracked pointer was rewritten: put it back
        if saved is not None:
            TRACKED_POINTER.write_bytes(saved)
    assert proc.returncode == 0, proc.stderr
    assert after == before, f"train --promote changed the checkout:\n{after}"
    pointer = tmp_path / "artifacts" / "minutes_v1" / "current_run.json"
    payload = json.loads(pointer.read_text())
    assert (tmp_path / "artifacts" / "minutes_v1" / "bundles" / payload["bundle_id"]).is_dir()
    assert not list(pointer.parent.glob(".current_run.json.tmp-*"))  # written atomically, no leftovers


def test_pointer_is_not_tracked_and_is_ignored() -> None:
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "config/minutes_current_run.json",
                              "artifacts/minutes_v1/current_run.json"], capture_output=True, text=True, check=True)
    assert tracked.stdout.strip() == ""
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "artifacts/minutes_v1/current_run.json"])
    assert ignored.returncode == 0
