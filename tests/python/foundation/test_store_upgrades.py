"""A store built by an older project keeps working after an upgrade: a seed that gained a column loads, and a
history rebuild that failed leaves no history state behind for the next build to trust."""

from __future__ import annotations

from pathlib import Path

import duckdb

from minutes_live.pipeline.dbt_runner import DbtError, DbtNodeFailure, run_dbt
from minutes_live.pipeline.history import _only_slate_tests_failed


def test_a_seed_that_gained_a_column_loads_into_an_older_store(tmp_path: Path) -> None:
    # the teams table as the project wrote it before the conference column existed
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table main.teams (team_id bigint, tricode varchar, bref_code varchar, team_name varchar, "
                "time_zone varchar)")
    con.execute("insert into main.teams values (1610612737, 'ATL', 'ATL', 'Atlanta Hawks', 'America/New_York')")
    con.close()
    run_dbt(["seed", "--select", "teams"], db_path=db, quiet=True)  # raised DbtError before seeds full-refreshed
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute("select conference, count(*) from main.teams group by 1 order by 1").fetchall()
    finally:
        con.close()
    assert rows == [("East", 15), ("West", 15)]


def _failure(resource_type: str, attached: str | None = None) -> DbtNodeFailure:
    return DbtNodeFailure(unique_id=f"{resource_type}.minutes_live.x", resource_type=resource_type, name="x",
                          status="error", message="boom", test_name="x" if resource_type == "test" else None,
                          attached_node=attached)


def test_only_a_slates_failed_data_tests_keep_rebuilt_history() -> None:
    live_test = _failure("test", "model.minutes_live.features_minutes_v1_live")
    history_test = _failure("test", "model.minutes_live.int_player_history")
    assert _only_slate_tests_failed(DbtError(["build"], 1, [live_test]))
    assert not _only_slate_tests_failed(DbtError(["build"], 1, [live_test, _failure("seed")]))
    assert not _only_slate_tests_failed(DbtError(["build"], 1, [history_test]))
    assert not _only_slate_tests_failed(DbtError(["build"], 1, [_failure("model")]))
    assert not _only_slate_tests_failed(DbtError(["build"], 2, []))  # dbt died before reporting nodes
    assert not _only_slate_tests_failed(KeyboardInterrupt())
