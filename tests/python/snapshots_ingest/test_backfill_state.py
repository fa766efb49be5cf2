"""A backfill is skipped exactly when the files the replay reads are byte for byte those of the last backfill."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from snapshots_ingest import backfill_state


def _dir(tmp_path: Path) -> Path:
    d = tmp_path / "dataset"
    d.mkdir()
    (d / "box_scores_2021_22.parquet").write_bytes(b"box v1")
    (d / "teams_crosswalk.parquet").write_bytes(b"teams")
    (d / "README.md").write_text("notes")
    return d


def _recorded(d: Path, at: datetime) -> backfill_state.RecordedBackfill:
    con = duckdb.connect()
    backfill_state.record(con, "ds", backfill_state.fingerprint(d), run_id="r1", run_as_of_ts=at, rows_inserted=5)
    got = backfill_state.last_backfill(con, "ds")
    assert backfill_state.last_backfill(con, "other") is None
    return got


def test_same_bytes_touched_or_copied_are_the_same_backfill(tmp_path: Path) -> None:
    d = _dir(tmp_path)
    recorded = _recorded(d, datetime(2022, 7, 1, tzinfo=UTC))
    path = d / "box_scores_2021_22.parquet"
    os.utime(path, (path.stat().st_atime + 60, path.stat().st_mtime + 60))
    (d / "README.md").write_text("edited notes: not read by the replay")
    check = backfill_state.compare("ds", recorded, backfill_state.fingerprint(d))
    assert check.current and check.reason.startswith("dataset 'ds' unchanged since the backfill of ")


def test_changed_added_and_removed_files_are_named(tmp_path: Path) -> None:
    d = _dir(tmp_path)
    recorded = _recorded(d, datetime(2022, 7, 1, tzinfo=UTC))
    (d / "box_scores_2021_22.parquet").write_bytes(b"box v2")
    (d / "lines_2021_22.parquet").write_bytes(b"lines")
    (d / "teams_crosswalk.parquet").unlink()
    (d / "dataset.json").write_text('{"namespace": "syn"}')
    check = backfill_state.compare("ds", recorded, backfill_state.fingerprint(d))
    assert not check.current
    for part in ("box_scores_2021_22.parquet changed", "dataset.json added", "lines_2021_22.parquet added",
                 "teams_crosswalk.parquet removed"):
        assert part in check.reason, check.reason


def test_no_recorded_backfill_is_not_current(tmp_path: Path) -> None:
    check = backfill_state.compare("ds", None, backfill_state.fingerprint(_dir(tmp_path)))
    assert not check.current and check.reason == "no backfill of dataset 'ds' recorded in this store yet"


def test_instant_first_at_the_dataset_end_same_files_at_the_recorded_one_changed_files_later(tmp_path: Path) -> None:
    d = _dir(tmp_path)
    end = datetime(2022, 7, 1, tzinfo=UTC)
    fp = backfill_state.fingerprint(d)
    assert backfill_state.backfill_instant(None, fp, end) == end
    recorded = _recorded(d, datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert backfill_state.backfill_instant(recorded, fp, end) == datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC)
    (d / "box_scores_2021_22.parquet").write_bytes(b"box v2")
    clock = datetime(2026, 12, 2, 10, 0, 0, 123, tzinfo=UTC)
    changed = backfill_state.backfill_instant(recorded, backfill_state.fingerprint(d), end, clock=clock)
    assert changed == datetime(2026, 12, 2, 10, 0, 0, tzinfo=UTC)


@pytest.mark.real_data
def test_backfill_of_a_small_real_copy_is_skipped_until_a_file_changes(small_dataset_dir: Path, tmp_path: Path) -> None:
    from minutes_live.pipeline.gold import backfill_unless_current

    where = {"db_path": tmp_path / "store.duckdb", "data_root": tmp_path / "data"}
    first = backfill_unless_current(small_dataset_dir, **where)
    assert first["action"] == "ingested" and first["rows_inserted"] > 0
    assert backfill_unless_current(small_dataset_dir, **where)["action"] == "skipped"

    lines = small_dataset_dir / "lines_2021_22.parquet"
    pd.read_parquet(lines).pipe(lambda f: f.assign(total=f["total"] + 1.5)).to_parquet(lines, index=False)
    changed = backfill_unless_current(small_dataset_dir, **where)
    assert changed["action"] == "ingested" and "lines_2021_22.parquet changed" in changed["reason"]
    assert changed["rows_inserted"] > 0 and changed["run_id"] != first["run_id"]  # a new instant, no conflict
    assert backfill_unless_current(small_dataset_dir, **where)["action"] == "skipped"
    # asked to rebuild the same files: the extracts filed under the recorded instant again, nothing new
    forced = backfill_unless_current(small_dataset_dir, **where, force=True)
    assert forced["action"] == "ingested" and forced["rows_inserted"] == 0 and forced["run_id"] == changed["run_id"]
