"""`runs diff` on two replayed runs of a real date: 2022-01-15, 21:00 and 23:30 UTC (16:00 and 18:30 ET).

One module store: the 2021-22 season replayed as known on the morning after the slate (the live build caps
every kind at run_as_of_ts), a small bundle trained on gold features of the games before the slate (lead 30
minutes, 40 rounds), then real scheduled jobs (dbt build -> score -> reports -> publish) at both instants.

What changes between the two instants in the replay (docs/replay.md): lineups are confirmed 30 minutes before
tip (TOR@MIL tips 23:30, POR@WAS 00:00), lines are quoted 3 hours before tip (seven more games), and the
game-day injury report comes out 90 minutes before each tip. The replay's real-data injury report only
lists OUT players, and its evening report of the day before lists the same players as the game-day one: with
the default injuries max age (36 h) that evening report already qualifies at 21:00, so no status changes
between the two runs (test_default_max_age_...). A run that only trusts same-day reports
(`--injuries-max-age-hours 12`, the 21:00 run then `--allow-missing-injuries`) sees the reports arrive over
the evening: that pair is where status-driven moves, and the teammates' vacated minutes, show.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from foundation.publication import Roots
from minutes_live.cli.app import app
from minutes_live.pipeline.live_build import LiveBuildConfig

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

DAY = date(2022, 1, 15)
EARLY, LATE = "20220115T210000Z", "20220115T233000Z"
runner = CliRunner()


def _env(root: Path, pair: str, db: Path) -> dict[str, str]:
    return {"MINUTES_LIVE_DATA_ROOT": str(root / pair / "data"), "MINUTES_LIVE_DUCKDB": str(db),
            "MINUTES_LIVE_ARTIFACTS": str(root / pair / "artifacts"), "MINUTES_LIVE_REPORTS": str(root / pair / "reports")}


@pytest.fixture(scope="module")
def replay(tmp_path_factory, real_dataset_dir):
    from minutes_live.pipeline.gold import build_gold_features
    from minutes_live.pipeline.job import run_job
    from scoring.train import promote, train_bundle
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("runs_diff_real")
    db = root / "wh.duckdb"
    known_at = datetime(2022, 1, 16, 7, 0, tzinfo=UTC)
    ingest_replay(real_dataset_dir, DAY, known_at, backfill=True, seasons=["2021-22"], db_path=db,
                  data_root=root / "data")
    gold = build_gold_features(real_dataset_dir, 30, db_path=db, data_root=root / "data", ingest=False)
    gold = gold[pd.to_datetime(gold["game_date"]) < pd.Timestamp(DAY)]
    bundle = train_bundle(gold, root / "bundles", seed=3, bundle_id="real_small", quantile_rounds=40, play_rounds=40)
    config = root / "current_run.json"
    promote(bundle, config)

    pairs = {"default": {}, "same_day_reports": {"injuries_max_age_hours": 12}}
    for pair, flags in pairs.items():
        env = _env(root, pair, db)
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            for at in (datetime(2022, 1, 15, 21, 0, tzinfo=UTC), datetime(2022, 1, 15, 23, 30, tzinfo=UTC)):
                early_without_reports = bool(flags) and at.hour == 21  # no same-day report is out yet at 21:00
                cfg = LiveBuildConfig(day=DAY, run_as_of_ts=at, source="none", db_path=db, data_root=root / pair / "data",
                                      allow_missing_odds=True, allow_missing_injuries=early_without_reports, **flags)
                run_job(cfg, job="afternoon", bundle_config=config)
    return {"root": root, "db": db, "env": {p: _env(root, p, db) for p in pairs}}


def _diff(replay, pair: str, **kw) -> pd.DataFrame:
    from minutes_live.runs.diff import diff_runs

    env = replay["env"][pair]
    roots = Roots.default(features=Path(env["MINUTES_LIVE_DATA_ROOT"]) / "live" / "features_minutes_v1",
                          scores=Path(env["MINUTES_LIVE_ARTIFACTS"]) / "minutes_v1" / "daily",
                          reports=Path(env["MINUTES_LIVE_REPORTS"]) / "minutes_live")
    return diff_runs(DAY, EARLY, "latest", roots=roots, data_root=Path(env["MINUTES_LIVE_DATA_ROOT"]), **kw)


def _features(replay, pair: str, run_id: str) -> pd.DataFrame:
    path = (Path(replay["env"][pair]["MINUTES_LIVE_DATA_ROOT"]) / "live" / "features_minutes_v1" / DAY.isoformat()
            / f"run={run_id}" / "features.parquet")
    return pd.read_parquet(path).set_index("player_id")


def _scores(replay, pair: str, run_id: str) -> pd.DataFrame:
    path = (Path(replay["env"][pair]["MINUTES_LIVE_ARTIFACTS"]) / "minutes_v1" / "daily" / DAY.isoformat()
            / f"run={run_id}" / "minutes.parquet")
    return pd.read_parquet(path)


def test_diff_names_status_lineup_and_vacated_minutes(replay):
    diff = _diff(replay, "same_day_reports")
    assert diff.attrs["run_a"] == EARLY and diff.attrs["run_b"] == LATE and diff.attrs["compared"] > 300
    kinds = diff["reason_kinds"]
    status = diff[kinds.map(lambda k: "status" in k)]
    lineup = diff[kinds.map(lambda k: "lineup" in k)]
    vacated = diff[kinds.map(lambda k: "teammate_out" in k)]
    assert len(status) >= 1 and len(lineup) >= 1 and len(vacated) >= 1, diff["primary_reason"].value_counts()

    # status-driven: the game-day report (tip - 90 min) lists them OUT at 23:30; at 21:00 no report qualified
    late = _features(replay, "same_day_reports", LATE)
    early = _features(replay, "same_day_reports", EARLY)
    for r in status.itertuples():
        assert (r.status_a, r.status_b) == ("UNK", "OUT") and r.p50_b == 0
        assert late.loc[r.player_id, "status"] == "OUT" and early.loc[r.player_id, "status"] == "UNK"
        assert r.reasons[0].startswith("status UNK -> OUT (injury report of 2022-01-15 ")
    # lineup-driven: the roles in the reason are the two runs' lineup_role (confirmed 30 min before tip)
    for r in lineup.itertuples():
        text = next(t for k, t in zip(r.reason_kinds, r.reasons, strict=True) if k == "lineup")
        if text.startswith("lineup "):
            assert text == f"lineup {early.loc[r.player_id, 'lineup_role']} -> {late.loc[r.player_id, 'lineup_role']}"
    assert lineup["lineup_b"].eq("confirmed_starter").any()
    # vacated minutes: the named teammates turned OUT, and the p50 quoted is theirs in the 21:00 run
    p50_early = _scores(replay, "same_day_reports", EARLY).set_index("player_name")["minutes_p50"]
    r = vacated.iloc[0]
    text = next(t for k, t in zip(r.reason_kinds, r.reasons, strict=True) if k == "teammate_out")
    named = text.removeprefix("teammates OUT: ").split(";")[0].split(" and ")[0].split("), ")
    for part in named:
        name, p50 = part.rstrip(")").split(" (p50 was ")
        assert abs(p50_early[name] - float(p50)) < 0.051, (name, p50)
        assert name in set(status["player_name"]) | set(diff.loc[diff["status_b"] == "OUT", "player_name"])

    out = runner.invoke(app, ["runs", "diff", EARLY, "latest", "--date", "2022-01-15"],
                        env=replay["env"]["same_day_reports"])
    assert out.exit_code == 0, out.output
    assert "status UNK -> OUT (injury report of 2022-01-15" in out.stdout
    assert "lineup bench -> confirmed_starter" in out.stdout or "lineup projected_starter -> bench" in out.stdout
    assert "min vacated" in out.stdout
    assert out.stdout.splitlines()[0].startswith(f"diff 2022-01-15: {EARLY} (2022-01-15 21:00Z) -> {LATE} (2022-01-15 23:30Z)")


def test_default_max_age_sees_lineups_move_and_no_status_change(replay):
    """With the default 36 h injuries max age both runs read the same OUT list (the replay's evening report
    equals its game-day one), so what moves at 23:30 is lineups (and lines)."""
    diff = _diff(replay, "default")
    assert not diff["reason_kinds"].map(lambda k: "status" in k).any()
    assert (diff["status_a"].astype(str) == diff["status_b"].astype(str)).all()
    lineup = diff[diff["primary_reason"] == "lineup"]
    assert len(lineup) >= 1, diff[["player_name", "delta", "reason"]]
    assert (lineup["delta"].abs() > 3).all()
    assert set(lineup["team_tricode"]) <= {"MIL", "TOR", "POR", "WAS"}  # the games confirmed by 23:30
    env = replay["env"]["default"]
    out = runner.invoke(app, ["runs", "list"], env=env)
    assert out.exit_code == 0 and f"{LATE}  succeeded" in out.stdout, out.output
    assert os.path.isdir(Path(env["MINUTES_LIVE_ARTIFACTS"]) / "minutes_v1" / "daily" / DAY.isoformat() / f"run={EARLY}")
