"""Damaged bundles are refused with one line and exit 14, never by a LightGBM abort or a traceback (issue 20,
defect 3): every model file is checked against the sha256 recorded at training before LightGBM reads it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scoring.bundle import BundleError, load_bundle

CLI = Path(sys.executable).with_name("minutes-live")


@pytest.fixture()
def copy(bundle_dir: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle_dir, tmp_path / "bundle"))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def test_a_truncated_model_file_exits_14_with_one_line(copy: Path, tmp_path: Path) -> None:
    _truncate(copy / "quantile_q50.txt")
    proc = subprocess.run([str(CLI), "promote", str(copy)], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts")})
    assert proc.returncode == 14, (proc.returncode, proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "quantile_q50.txt does not match its recorded sha256" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts" / "minutes_v1" / "current_run.json").exists()  # nothing promoted


@pytest.mark.parametrize("damage, message", [
    (lambda b: (b / "play_prob.txt").unlink(), "play_prob.txt is missing"),
    (lambda b: (b / "play_prob.txt").write_text(""), "play_prob.txt does not match"),
    (lambda b: (b / "quantile_q10.txt").write_bytes(b"\x00garbage" * 50), "quantile_q10.txt does not match"),
    (lambda b: (b / "team_context_k1.txt").unlink(), "team_context_k1.txt is missing"),
    (lambda b: _truncate(b / "team_context_k2.txt"), "team_context_k2.txt does not match"),
    (lambda b: (b / "meta.json").write_text("[]"), "meta.json is not a JSON object"),
    (lambda b: (b / "calibration.json").write_text("{not json"), "calibration.json is unreadable"),
])
def test_damaged_bundle_files_are_named(copy: Path, damage, message: str) -> None:
    damage(copy)
    with pytest.raises(BundleError, match=message):
        load_bundle(copy)


def test_meta_without_levels_or_model_checksums_is_refused(copy: Path) -> None:
    meta = json.loads((copy / "meta.json").read_text())
    (copy / "meta.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "levels"}))
    with pytest.raises(BundleError, match="no valid `levels`"):
        load_bundle(copy)
    (copy / "meta.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "files"}))
    with pytest.raises(BundleError, match="records no sha256"):
        load_bundle(copy)


def test_a_bundle_built_on_other_derived_columns_is_refused(copy: Path) -> None:
    from scoring.features import spec_hash

    spec = json.loads((copy / "feature_columns.json").read_text())
    spec.pop("sha256")
    spec["derived_columns"] = [*spec["derived_columns"], "team_secret_sauce"]
    spec["columns"] = [*spec["columns"], "team_secret_sauce"]
    spec["sha256"] = spec_hash({k: v for k, v in spec.items() if k != "sha256"})
    (copy / "feature_columns.json").write_text(json.dumps(spec))
    meta = json.loads((copy / "meta.json").read_text())
    meta["feature_hash"] = spec["sha256"]
    (copy / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(BundleError, match="feature list is not one this code builds"):
        load_bundle(copy)
