"""Where things live. One place for default paths and the environment variables that override them."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_DATA_ROOT", PROJECT_ROOT / "data"))


def duckdb_path() -> Path:
    """The embedded warehouse. dbt's profile reads the same variable (profiles/profiles.yml)."""
    return Path(os.environ.get("MINUTES_LIVE_DUCKDB", data_root() / "minutes_live.duckdb"))


def snapshots_root() -> Path:
    return data_root() / "live" / "snapshots"


def features_root() -> Path:
    return data_root() / "live" / "features_minutes_v1"


def artifacts_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_ARTIFACTS", PROJECT_ROOT / "artifacts"))


def reports_root() -> Path:
    return Path(os.environ.get("MINUTES_LIVE_REPORTS", PROJECT_ROOT / "reports"))


def bundle_config_path() -> Path:
    """The active Minutes V1 bundle pointer: runtime state beside the bundles (git-ignored), written by
    `promote` (`minutes-live train --promote`, `minutes-live promote`), read by `score_minutes_v1`."""
    return artifacts_root() / "minutes_v1" / "current_run.json"


def real_dataset_dir() -> Path:
    """The real NBA replay dataset (read-only, never copied into the project)."""
    return Path(os.environ.get("MINUTES_LIVE_NBA_DIR", PROJECT_ROOT.parent / "shared" / "data" / "nba"))


def synthetic_dataset_dir() -> Path:
    return data_root() / "synthetic_league"
