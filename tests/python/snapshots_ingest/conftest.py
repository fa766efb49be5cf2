"""Fixtures of the ingest tests (helpers in small_dataset.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from small_dataset import build_small_dataset


@pytest.fixture()
def small_dataset_dir(real_dataset_dir: Path, tmp_path: Path) -> Path:
    return build_small_dataset(real_dataset_dir, tmp_path / "dataset")


@pytest.fixture()
def store(tmp_path: Path) -> dict:
    """Paths for an isolated raw store + extract root."""
    return {"db_path": tmp_path / "store" / "minutes_live.duckdb", "data_root": tmp_path / "data"}
