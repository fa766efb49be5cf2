"""The what-if experiment's live-path check on real dates: the live builder at `first tip - lead` and the
scorer give exactly the gold path's p50 for the games tipping at the first tip (same cutoff on both paths);
later games differ only in inputs read from snapshots published between the two cutoffs and in the standings
moved by the same day's earlier results, never in history.

A small bundle (10 rounds, trained on 2020-21) is enough: the check compares two paths through the same bundle.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

def test_live_path_equals_gold_path_on_first_tip_games(real_dataset_dir: Path, tmp_path: Path) -> None:
    from minutes_live.lab.experiment import LEAGUE_RESULT_INPUTS, SNAPSHOT_INPUTS, run_what_if

    res = run_what_if(real_dataset_dir, "2021-22", [30], train_lead=30, out_root=tmp_path / "reports",
                      bundle_root=tmp_path / "bundles", live_dates=2, live_leads=(30,), rounds=10, train_seasons=1,
                      data_root=tmp_path / "data")
    c = res.metrics["live_check"]
    assert len(c["dates"]) == 2 and len(c["runs"]) == 2
    assert c["unmatched_rows"] == 0  # the replay's as-of roster lists exactly the box score's players
    assert c["first_tip_rows"] > 0 and c["other_rows"] > 0
    assert c["max_abs_diff_first_tip"] == 0.0, c["runs"]
    assert c["feature_columns_differing_first_tip"] == {}
    # later games differ only in inputs read from snapshots published between the two cutoffs, and in the
    # standings that the same day's earlier results move; never in the player's own history
    assert set(c["feature_columns_differing_other"]) <= SNAPSHOT_INPUTS | LEAGUE_RESULT_INPUTS, \
        c["feature_columns_differing_other"]
    assert c["history_inputs_differing"] == []
    for run in c["runs"]:
        assert (res.report_dir / "live_check" / f"{run['date']}_tip-30" / "minutes.parquet").is_file()
