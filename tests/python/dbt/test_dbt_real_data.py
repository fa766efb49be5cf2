"""dbt feature build on replayed real data: a live slate (2022-01-10 at 23:00Z) on top of 120 days of
replayed history. Checks what an operator would notice: every scheduled game of the slate has both teams
with plausible rosters, live rows carry no label and nothing newer than the run instant, and the gold
mart carries real labels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from minutes_live.pipeline.dbt_runner import run_dbt

DATE, RUN_AS_OF = "2022-01-10", "2022-01-10T23:00:00Z"


@pytest.mark.real_data
@pytest.mark.slow
def test_live_and_gold_build_on_replayed_real_data(tmp_path: Path, real_dataset_dir: Path) -> None:
    db = tmp_path / "real.duckdb"
    env = {**os.environ, "MINUTES_LIVE_DUCKDB": str(db), "MINUTES_LIVE_DATA_ROOT": str(tmp_path / "data")}
    cmd = [
        sys.executable,
        "-m",
        "minutes_live.cli.app",
        "ingest",
        "--source",
        "replay",
        "--dataset-dir",
        str(real_dataset_dir),
        "--date",
        DATE,
        "--run-as-of-ts",
        RUN_AS_OF,
        "--history-days",
        "120",
        "--no-progress",
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)

    target = tmp_path / "target"
    run_dbt(
        ["build", "--target-path", str(target), "--log-path", str(target / "logs")],
        vars={"target_date": DATE, "run_as_of_ts": RUN_AS_OF},
        db_path=db,
        quiet=True,
    )

    con = duckdb.connect(str(db), read_only=True)
    try:
        games = con.execute("select count(*) from int_games where game_date = ?", [DATE]).fetchone()[0]
        live = con.execute(
            """select count(*), count(distinct game_id), count(distinct team_id), count(minutes),
                      max(feature_as_of_ts) <= cast(? as timestamptz), sum(starter_flag)
               from features_minutes_v1_live""",
            [RUN_AS_OF],
        ).fetchone()
        gold = con.execute(
            "select count(*), sum(minutes) / count(distinct game_id || '-' || team_id) from features_minutes_v1"
        ).fetchone()
    finally:
        con.close()

    rows, live_games, live_teams, labelled, before_run, starters = live
    assert games > 0 and live_games == games and live_teams == 2 * games
    assert labelled == 0 and before_run
    assert 4 * live_teams <= starters <= 6 * live_teams  # about five projected starters per team
    assert gold[0] > 10_000 and 239 <= gold[1] <= 250  # real labels: ~240 minutes per team-game
