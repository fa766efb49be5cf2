"""dbt outcomes come from the invocation's own results (its structured events, or run_results.json), not from
searching its text output.

Real dbt builds on a small synthetic-league store: a slate replayed without its odds fails the guardrail
test `assert_live_slate_has_odds` (exit 5, the test named); a store whose raw odds table is gone fails the
model `stg_raw__odds` (exit 10, the model named), also in the overnight job; a bad var fails before any
node runs (no run_results.json), and the message still names the var.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from foundation.guardrails import DbtBuildError, OddsCoverageError
from minutes_live.cli.app import app
from minutes_live.pipeline.dbt_runner import DbtError, run_dbt
from minutes_live.pipeline.live_build import LIVE_MART, LiveBuildConfig, dbt_failure_to_guardrail

pytestmark = pytest.mark.slow
runner = CliRunner()


@pytest.fixture(scope="module")
def league(tmp_path_factory, synthetic_league) -> dict:
    """A one-season synthetic league; its busiest January slate replayed into a store WITHOUT odds."""
    from minutes_live.demo import pick_slate
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("dbt_results")
    synthetic_league(root / "league", seed=3, seasons=1)
    day, as_of = pick_slate(root / "league")
    ingest_replay(root / "league", date.fromisoformat(day), as_of, kinds=["schedule", "roster", "injuries", "box_scores"],
                  db_path=root / "data" / "wh.duckdb", data_root=root / "data")
    return {"root": root, "day": day, "as_of": as_of, "db": root / "data" / "wh.duckdb"}


def _env(monkeypatch, data: Path, db: Path) -> None:
    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(data))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(db))
    monkeypatch.setenv("MINUTES_LIVE_ARTIFACTS", str(data.parent / "artifacts"))
    monkeypatch.setenv("MINUTES_LIVE_REPORTS", str(data.parent / "reports"))


def _live_vars(league: dict, **extra) -> dict:
    return {"target_date": league["day"], "run_as_of_ts": league["as_of"].isoformat(), "build_gold": False, **extra}


def _store_without_raw_odds(league: dict, tmp_path: Path) -> Path:
    db = tmp_path / "data" / "wh.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(league["db"], db)
    con = duckdb.connect(str(db))
    try:
        con.execute("drop table raw.odds")
    finally:
        con.close()
    return db


def test_failing_guardrail_test_is_read_from_run_results(league):
    with pytest.raises(DbtError) as caught:
        run_dbt(["build", "--select", f"+{LIVE_MART}", "--exclude", "test_type:unit"], vars=_live_vars(league),
                db_path=league["db"], quiet=True)
    exc = caught.value
    failed = {f.name: f for f in exc.failures}
    odds = failed["assert_live_slate_has_odds"]
    assert odds.unique_id == "test.minutes_live.assert_live_slate_has_odds"
    assert (odds.resource_type, odds.status, odds.test_name) == ("test", "fail", "assert_live_slate_has_odds")
    assert odds.message and "\n" not in odds.message
    assert all(f.status in ("fail", "error") for f in exc.failures)
    cfg = LiveBuildConfig(day=date.fromisoformat(league["day"]), run_as_of_ts=league["as_of"])
    guardrail = dbt_failure_to_guardrail(exc, cfg)
    assert isinstance(guardrail, OddsCoverageError) and guardrail.exit_code == 5
    assert str(guardrail).startswith("dbt test assert_live_slate_has_odds failed: ")
    assert "--allow-missing-odds" in str(guardrail)


def test_build_cli_exits_5_naming_the_failing_test(league, monkeypatch):
    _env(monkeypatch, league["root"] / "data", league["db"])
    result = runner.invoke(app, ["build", "--date", league["day"], "--run-as-of-ts", league["as_of"].isoformat(),
                                 "--source", "none"])
    assert result.exit_code == 5, (result.output, result.exception)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert "dbt test assert_live_slate_has_odds failed: " in err, err
    assert not list((league["root"] / "data").rglob("run=*/features.parquet"))


def test_failing_model_exits_10_naming_the_model(league, tmp_path, monkeypatch):
    db = _store_without_raw_odds(league, tmp_path)
    with pytest.raises(DbtError) as caught:
        run_dbt(["build", "--select", f"+{LIVE_MART}", "--exclude", "test_type:unit"],
                vars=_live_vars(league, allow_missing_odds=True), db_path=db, quiet=True)
    model = next(f for f in caught.value.failures if f.resource_type == "model")
    assert (model.unique_id, model.status) == ("model.minutes_live.stg_raw__odds", "error")
    assert "odds" in model.message
    _env(monkeypatch, tmp_path / "data", db)
    result = runner.invoke(app, ["build", "--date", league["day"], "--run-as-of-ts", league["as_of"].isoformat(),
                                 "--source", "none", "--allow-missing-odds"])
    assert result.exit_code == 10, (result.output, result.exception)
    err = result.stderr.strip()
    # the job builds on stored history: the staging view is not rebuilt, the first model reading it fails,
    # and the line carries DuckDB's cause
    assert len(err.splitlines()) == 1 and "dbt model int_odds_asof failed: " in err, err
    assert "Table with name odds does not exist" in err, err


def test_overnight_job_maps_dbt_failures_the_same_way(league, tmp_path, monkeypatch):
    db = _store_without_raw_odds(league, tmp_path)
    _env(monkeypatch, tmp_path / "data", db)
    result = runner.invoke(app, ["job", "overnight", "--source", "none", "--date", league["day"],
                                 "--run-as-of-ts", league["as_of"].isoformat()])
    assert result.exit_code == 10, (result.output, result.exception)
    err = result.stderr.strip()
    # the overnight build rebuilds everything, staging views included
    assert len(err.splitlines()) == 1 and "dbt model stg_raw__odds failed: " in err, err
    assert "Table with name odds does not exist" in err, err


def test_var_error_before_any_node_names_the_var(league):
    bad = _live_vars(league, run_as_of_ts="2024-01-05T23:00:00")  # naive: refused by macros/run_vars.sql
    with pytest.raises(DbtError) as caught:
        run_dbt(["build", "--select", f"+{LIVE_MART}"], vars=bad, db_path=league["db"], quiet=True)
    exc = caught.value
    assert exc.failures == []  # dbt stopped before writing run_results.json
    assert "invalid dbt var run_as_of_ts=2024-01-05T23:00:00" in str(exc)
    cfg = LiveBuildConfig(day=date.fromisoformat(league["day"]), run_as_of_ts=league["as_of"])
    guardrail = dbt_failure_to_guardrail(exc, cfg)
    assert isinstance(guardrail, DbtBuildError) and "invalid dbt var run_as_of_ts=" in str(guardrail)
    assert "\n" not in str(guardrail)


def test_failures_from_structured_events_match_the_run_results_contract():
    """dbt's console events (--log-format json, what run_dbt reads when it skips run_results.json): the final
    node_status of a node's result event, the message of its RunResultError (dbt 1.11 sends node_status
    'None' on the events after the result)."""
    from minutes_live.pipeline.dbt_runner import read_failures_from_events

    def ev(name, uid, status, rtype="test", node="assert_live_slate_has_odds", **data):
        return {"info": {"name": name, "msg": "", "ts": "2026-01-01T00:00:00Z"},
                "data": {**data, "node_info": {"unique_id": uid, "resource_type": rtype, "node_name": node,
                                               "node_status": status}}}

    odds = "test.minutes_live.assert_live_slate_has_odds"
    model = "model.minutes_live.int_odds_asof"
    events = [
        ev("LogStartLine", odds, "started"),
        ev("LogTestResult", odds, "fail", num_failures=10),
        ev("LogModelResult", model, "error", rtype="model", node="int_odds_asof"),
        ev("SkippingDetails", "model.minutes_live.int_features", "skipped", rtype="model", node="int_features"),
        ev("RunResultFailure", odds, "None"),
        ev("RunResultError", odds, "None", msg="  Got 10 results, configured to fail if != 0"),
        ev("RunResultError", model, "None", rtype="model", node="int_odds_asof",
           msg="Runtime Error in model int_odds_asof (models/intermediate/asof/int_odds_asof.sql)\n"
               "  Catalog Error: Table with name odds does not exist!"),
    ]
    failures = {f.unique_id: f for f in read_failures_from_events(events)}
    assert set(failures) == {odds, model}
    f = failures[odds]
    assert (f.resource_type, f.name, f.status, f.test_name) == ("test", "assert_live_slate_has_odds", "fail",
                                                                "assert_live_slate_has_odds")
    assert f.message == "Got 10 results, configured to fail if != 0"
    m = failures[model]
    assert (m.resource_type, m.name, m.status, m.test_name) == ("model", "int_odds_asof", "error", None)
    assert m.message.endswith(": Catalog Error: Table with name odds does not exist!"), m.message
    assert read_failures_from_events(events[:1]) is None  # no node finished: dbt stopped before running any
    assert read_failures_from_events([ev("LogTestResult", odds, "pass")]) == []


def test_a_failed_column_rule_names_the_model_the_column_and_the_rule(league, tmp_path, monkeypatch):
    """The marts' column rules are one test node per model (macros/tests/column_rules.sql): a failure still
    names the model, each violated column and its rule, in the cold runner (dbt as a process) and in the
    watcher's warm one, and exits 10 as any failed data test."""
    from minutes_live.pipeline import dbt_runner
    from minutes_live.watch.warm_dbt import WarmDbt

    db = tmp_path / "data" / "wh.duckdb"
    db.parent.mkdir(parents=True)
    shutil.copy(league["db"], db)
    params = _live_vars(league, allow_missing_odds=True)
    run_dbt(["build", "--select", f"+{LIVE_MART}", "--exclude", "test_type:unit"], params=params, db_path=db, quiet=True)
    con = duckdb.connect(str(db))
    try:  # two rules broken on the built mart: a minutes value out of range, a snapshot after the cutoff
        con.execute(f"update main.{LIVE_MART} set minutes = 99 where player_id = (select min(player_id) from main.{LIVE_MART})")
        con.execute(f"update main.{LIVE_MART} set roster_as_of_ts = cutoff_ts + interval 1 minute "
                    f"where player_id = (select max(player_id) from main.{LIVE_MART})")
    finally:
        con.close()
    rules_test = f"column_rules_{LIVE_MART}"
    cfg = LiveBuildConfig(day=date.fromisoformat(league["day"]), run_as_of_ts=league["as_of"])

    def check(exc: DbtError) -> None:
        (f,) = exc.failures
        assert (f.resource_type, f.name, f.status, f.test_name) == ("test", rules_test, "fail", "column_rules")
        assert f.describe() == f"test column_rules on {LIVE_MART}"
        assert "minutes value_between(max_value=68, min_value=0) on " in f.message, f.message
        assert "roster_as_of_ts no_snapshot_after_cutoff(max_age_column=roster_max_age_minutes) on " in f.message
        guardrail = dbt_failure_to_guardrail(exc, cfg)
        assert isinstance(guardrail, DbtBuildError) and guardrail.exit_code == 10
        assert f"dbt test column_rules on {LIVE_MART} failed: " in str(guardrail) and "\n" not in str(guardrail)

    with pytest.raises(DbtError) as cold:
        run_dbt(["build", "--select", rules_test], params=params, db_path=db, quiet=True)
    check(cold.value)
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(db))  # the warm worker's profile names the store it parsed with
    with WarmDbt().installed():
        assert dbt_runner.WARM_RUNNER is not None
        with pytest.raises(DbtError) as warm:
            run_dbt(["build", "--select", rules_test], params=params, db_path=db, quiet=True)
    check(warm.value)


def test_a_model_that_fails_keeps_its_previous_table(league, tmp_path):
    """The project's table materialization on DuckDB (macros/materializations/table_duckdb.sql) drops the previous
    table and creates the new one in one transaction: when the create fails, the previous table is still there,
    whole, and no staging relation is left behind."""
    db = tmp_path / "wh.duckdb"
    shutil.copy(league["db"], db)
    select = ["--select", "+int_injury_status_asof", "--resource-type", "model", "--resource-type", "seed"]
    run_dbt(["build", *select], vars=_live_vars(league, allow_missing_odds=True), db_path=db, quiet=True)

    def state() -> tuple:
        con = duckdb.connect(str(db), read_only=True)
        try:
            rows = con.execute("select count(*), sum(hash(game_id)) from main.int_injury_status_asof").fetchone()
            names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
            return rows, names
        finally:
            con.close()

    before, names = state()
    assert before[0] > 0 and not [n for n in names if "__dbt_" in n]
    con = duckdb.connect(str(db))
    try:
        con.execute("drop table raw.injuries")  # the staging view now fails, and so does the model reading it
    finally:
        con.close()
    with pytest.raises(DbtError) as caught:
        run_dbt(["run", "--select", "int_injury_status_asof"], vars=_live_vars(league, allow_missing_odds=True), db_path=db,
                quiet=True)
    assert [f.unique_id for f in caught.value.failures] == ["model.minutes_live.int_injury_status_asof"]
    after, names = state()
    assert after == before and not [n for n in names if "__dbt_" in n]
