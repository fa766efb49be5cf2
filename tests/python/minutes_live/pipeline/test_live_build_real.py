"""End to end on a replayed real date: build_minutes_live, its guardrails, and parity against gold.

One warehouse per module: the replay of 2022-01-15 (60 days of history) is ingested once, then each test
runs the real dbt build through the live builder with a different run_as_of_ts / flags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from foundation import run_directory as rd
from foundation.guardrails import (
    InjuryCoverageError,
    OddsCoverageError,
    RosterCoverageError,
    RunExistsError,
    ScheduleCoverageError,
    SlateStartedError,
)
from minutes_live.pipeline.live_build import LiveBuildConfig, build_live
from minutes_live.pipeline.live_gold_parity import compare, run_parity
from scoring.contract import contract_names

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[4]
DAY = date(2022, 1, 15)  # 10 games; first tip 00:00 UTC on the 16th (19:00 ET), last 03:00 UTC
HISTORY_DAYS = 60


@pytest.fixture(scope="module")
def store(tmp_path_factory, real_dataset_dir):
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("live_real")
    db = root / "wh.duckdb"
    # everything known an hour after the slate's last game: the builder's as-of rules must hide the rest
    known_at = datetime(2022, 1, 16, 7, 0, tzinfo=UTC)
    ingest_replay(real_dataset_dir, DAY, known_at, history_days=HISTORY_DAYS, db_path=db, data_root=root / "data")
    for back in (1, 2, 3, 4, 5):  # earlier nightly rosters, as the previous days' runs would have stored them
        ingest_replay(real_dataset_dir, DAY - timedelta(days=back), known_at, kinds=["roster"], db_path=db,
                      data_root=root / "data")
    return {"root": root, "db": db, "dataset": real_dataset_dir}


def _cfg(store, as_of: str, **kw) -> LiveBuildConfig:
    return LiveBuildConfig(day=kw.pop("day", DAY), run_as_of_ts=datetime.fromisoformat(as_of), source="none",
                           history_days=HISTORY_DAYS, db_path=store["db"], data_root=store["root"] / "data",
                           out_root=store["root"] / "features", **kw)


def test_live_build_writes_complete_run_and_moves_latest(store):
    # 23:00 UTC (18:00 ET): lines are quoted 3h before tip, so games tipping after 02:00 UTC have none yet
    res = build_live(_cfg(store, "2022-01-15T23:00:00+00:00", allow_missing_odds=True))
    run_dir = res.run_dir
    assert {p.name for p in run_dir.iterdir()} == {"features.parquet", "scenario_features.parquet", "ids.csv", "summary.json",
                                                   "coverage.csv"}
    features = pd.read_parquet(run_dir / "features.parquet")
    # real reports list OUT only: no game-time decisions, an empty worlds file with the live columns + scenario keys
    scenarios = pd.read_parquet(run_dir / "scenario_features.parquet")
    assert scenarios.empty and list(scenarios.columns) == [*features.columns, "scenario_id", "scenario_gtd_player_ids",
                                                           "scenario_out_player_ids"]
    assert json.loads((run_dir / "summary.json").read_text())["scenario_rows"] == 0
    assert list(features.columns[: len(contract_names())]) == contract_names()
    assert features["minutes"].isna().all()
    assert features["game_date"].astype(str).eq("2022-01-15").all()
    assert features.duplicated(["game_id", "player_id", "team_id"]).sum() == 0
    assert (features["feature_as_of_ts"] <= features["tip_ts"]).all()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["rows"] == len(features) and len(summary["games"]) == 10
    assert set(summary["snapshots"]) == {"injuries", "odds", "roster"}
    assert summary["roster"]["roster_game_date_source"] == ["target_date"]
    coverage = pd.read_csv(run_dir / "coverage.csv")
    assert len(coverage) == 10
    assert {"injuries_as_of_age_minutes", "odds_snapshot_to_tip_minutes", "home_roster_players"} <= set(coverage.columns)
    ids = pd.read_csv(run_dir / "ids.csv")
    assert list(ids.columns) == ["game_id", "player_id", "team_id"] and len(ids) == len(features)
    assert rd.latest_run_id(store["root"] / "features", DAY) == "20220115T230000Z"
    # the 02:30 UTC tips are quoted at 23:30 UTC: after this run, so recorded as missing
    assert summary["fallbacks"]["games_without_odds"]
    assert any("ran without odds" in w for w in summary["warnings"])

    with pytest.raises(RunExistsError, match="already exists"):
        build_live(_cfg(store, "2022-01-15T23:00:00+00:00", allow_missing_odds=True))


def test_missing_odds_is_an_error_unless_allowed(store):
    with pytest.raises(OddsCoverageError, match=r"no qualifying odds snapshot for \d+ game\(s\) on 2022-01-15"):
        build_live(_cfg(store, "2022-01-15T22:00:00+00:00"))


def test_missing_injuries_is_an_error_unless_allowed(store):
    # 19:00 UTC on the day: the nightly roster (15:00 UTC) exists, but the only report out (17:30 ET on the
    # 14th) is older than an injuries max age of 12 hours
    with pytest.raises(InjuryCoverageError, match="no qualifying injury report for any game of 2022-01-15"):
        build_live(_cfg(store, "2022-01-15T19:00:00+00:00", injuries_max_age_hours=12, allow_missing_odds=True))


def test_no_roster_is_an_error(store):
    # 09:00 ET on the slate day: the nightly roster export (10:00 ET) is not out yet and no fallback is allowed
    with pytest.raises(RosterCoverageError, match="2022-01-15"):
        build_live(_cfg(store, "2022-01-15T14:00:00+00:00", allow_missing_odds=True))


def test_roster_fallback_is_recorded(store):
    # each team falls back to its newest roster of the previous 5 days (MIL: 2022-01-10; its 01-13 game
    # has no box score in the archive, so the replay has no roster for it)
    res = build_live(_cfg(store, "2022-01-15T14:00:00+00:00", allow_missing_odds=True, roster_fallback_days=5,
                          roster_max_age_hours=144))
    assert "2022-01-10" <= res.summary["roster"]["source_date"] < "2022-01-15"
    assert res.summary["roster"]["snapshot_age_minutes"] > 18 * 60
    assert res.features["roster_game_date_source"].str.startswith("fallback:").all()


def test_started_slate_is_refused(store):
    with pytest.raises(SlateStartedError, match="after every tip of 2022-01-15"):
        build_live(_cfg(store, "2022-01-16T06:00:00+00:00"))


def test_date_without_games_is_refused(store):
    with pytest.raises(ScheduleCoverageError, match="no schedule rows for 2022-07-15"):
        build_live(_cfg(store, "2022-07-15T12:00:00+00:00", day=date(2022, 7, 15)))


def test_cli_exit_code_and_message(store):
    env = {"MINUTES_LIVE_DATA_ROOT": str(store["root"] / "data"), "MINUTES_LIVE_DUCKDB": str(store["db"]),
           "MINUTES_LIVE_ARTIFACTS": str(store["root"] / "artifacts"), "MINUTES_LIVE_REPORTS": str(store["root"] / "reports"),
           "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        [sys.executable, "-c", "from minutes_live.cli.build import main; main()", "--date", "2022-01-15",
         "--run-as-of-ts", "2022-01-16T06:00:00Z", "--source", "none"],
        capture_output=True, text=True, cwd=ROOT, env=env,
    )
    assert proc.returncode == SlateStartedError.exit_code
    assert "after every tip of 2022-01-15" in proc.stderr


def test_parity_passes_then_names_a_perturbed_column(store):
    res = run_parity(DAY, datetime(2022, 1, 16, 6, 0, tzinfo=UTC), db_path=store["db"],
                     out_root=store["root"] / "features", extra_vars={"history_days": HISTORY_DAYS})
    assert res.ok and res.live_rows == res.gold_rows > 300
    assert json.loads((res.report_dir / "parity.json").read_text())["ok"] is True

    from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART, read_mart

    live = read_mart(store["db"], LIVE_MART)
    gold = read_mart(store["db"], GOLD_MART, "where game_date = ?", [DAY])
    live.loc[live.index[3], "roll_mean_5"] += 1.5
    _, _, diffs = compare(live, gold)
    assert diffs["column"].tolist() == ["roll_mean_5"]
    assert diffs["rows_differing"].tolist() == [1]


def test_overnight_job_freezes_rebuilds_gold_and_checks_parity(store, monkeypatch):
    from typer.testing import CliRunner

    from foundation import registry
    from minutes_live.cli.app import app

    monkeypatch.setenv("MINUTES_LIVE_DATA_ROOT", str(store["root"] / "data"))
    monkeypatch.setenv("MINUTES_LIVE_DUCKDB", str(store["db"]))
    result = CliRunner().invoke(app, ["job", "overnight", "--source", "none", "--date", "2022-01-15",
                                      "--run-as-of-ts", "2022-01-16T09:00:00Z"])
    assert result.exit_code == 0, result.output
    assert "overnight 2022-01-15: labels ingested, gold rebuilt, parity ok" in result.output
    entry = registry.attempts(store["root"] / "data")[-1]
    assert entry["job"] == "overnight" and entry["status"] == "succeeded"
    assert (Path(entry["parity_report"]) / "parity.json").exists()
