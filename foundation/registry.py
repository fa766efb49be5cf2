"""The run registry: one JSON line per job run (append-only), readable with pandas or DuckDB.

Path: <data_root>/registry/minutes_live_runs.jsonl. Each entry: date, run_as_of_ts, run_id, job,
status (success | failed), exit_code, error, paths, snapshot ages, warnings, stage durations.
Writes happen under the store lock; each line is written with a single write + fsync.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd


def registry_path(data_root: Path) -> Path:
    return Path(data_root) / "registry" / "minutes_live_runs.jsonl"


def append_entry(data_root: Path, entry: dict) -> Path:
    path = registry_path(data_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"recorded_at": datetime.now(UTC).isoformat(), **entry}, default=str, sort_keys=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_registry(data_root: Path) -> pd.DataFrame:
    path = registry_path(data_root)
    if not path.exists():
        return pd.DataFrame()
    return pd.read_json(path, lines=True)
