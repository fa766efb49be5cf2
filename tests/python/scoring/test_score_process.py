"""The `score_minutes_v1` process stays lean: scoring a slate imports neither dbt nor scikit-learn.

The real console script runs in its own process, as `python <script> ...` does, and the modules loaded in
`sys.modules` when that process exits are written to a file: it must score the slate (exit 0,
minutes.parquet written) without dbt (the scorer reads a features parquet, never the warehouse) and without
scikit-learn (lightgbm imports it only when it can, and scoring uses the Booster alone). (`-X importtime`
would also list the attempts that the scorer refuses, so it cannot tell.) Speed is measured by
bench/bench_scorer.py, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from scoring.train import promote

TS = "2021-12-10T20:00:00Z"


# runs the console script as its own __main__ and, at exit, records the modules the process loaded
RUN_AND_RECORD = """
import atexit, runpy, sys
out, script = sys.argv[1], sys.argv[2]
def record():
    with open(out, "w") as fh:
        fh.write("\\n".join(sorted(name for name, module in sys.modules.items() if module is not None)))
atexit.register(record)
sys.argv = sys.argv[2:]
runpy.run_path(script, run_name="__main__")
"""


@pytest.fixture()
def scored_process(tmp_path: Path, bundle_dir: Path, features: pd.DataFrame) -> tuple[subprocess.CompletedProcess, Path, set[str]]:
    day = sorted(features["game_date"].unique())[-1].isoformat()
    fpath = tmp_path / "features.parquet"
    features.to_parquet(fpath, index=False)
    config = tmp_path / "current_run.json"
    promote(bundle_dir, config)
    script = Path(sys.executable).parent / "score_minutes_v1"
    assert script.exists(), f"{script}: the console script is not installed (pip install -e .)"
    env = {**os.environ, "MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data"),
           "MINUTES_LIVE_ARTIFACTS": str(tmp_path / "artifacts"), "MINUTES_LIVE_REPORTS": str(tmp_path / "reports")}
    modules = tmp_path / "modules.txt"
    proc = subprocess.run(
        [sys.executable, "-c", RUN_AND_RECORD, str(modules), str(script), "--date", day, "--mode", "live",
         "--features-path", str(fpath), "--bundle-config", str(config), "--artifact-root", str(tmp_path / "daily"),
         "--run-as-of-ts", TS],
        capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    loaded = set(modules.read_text().split("\n")) if modules.exists() else set()
    return proc, tmp_path / "daily" / day / "run=20211210T200000Z", loaded


def test_scoring_process_imports_neither_dbt_nor_sklearn(scored_process) -> None:
    proc, run_dir, modules = scored_process
    assert proc.returncode == 0, proc.stderr
    assert (run_dir / "minutes.parquet").exists() and (run_dir / "summary.json").exists()
    assert {"lightgbm", "scoring.score", "scoring.bundle"} <= modules  # it did load the scoring path
    top_level = {m.split(".")[0] for m in modules}
    assert not {m for m in top_level if m == "dbt" or m.startswith("dbt_")}, "dbt imported by the scorer"
    assert "sklearn" not in top_level, "scikit-learn imported by the scorer"
    assert "scoring.train" not in modules  # training code stays out
