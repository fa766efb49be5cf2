"""`minutes-live watch --source replay` on the real 2022-01-15 (10 games), from 09:00 ET to the last tip: a run at
each input change of a game not yet tipped and none without one, the instants computed from the replay itself
(replay_instants.py); the alerts those runs raise, read back against the replay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
from replay_instants import change_instants

from foundation import registry, settings
from foundation.publication import Publication, Roots
from minutes_live.pipeline.schedule import tips_from_dataset
from minutes_live.watch.alerts import read_alerts
from minutes_live.watch.warm_dbt import WarmDbt
from minutes_live.watch.watcher import WatchConfig, Watcher
from snapshots_ingest.dataset import load_dataset
from snapshots_ingest.replay import replay_kind

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

DAY = date(2022, 1, 15)
START = datetime(2022, 1, 15, 14, 0, tzinfo=UTC)  # 09:00 ET
OVERNIGHT = datetime(2022, 1, 15, 9, 0, tzinfo=UTC)  # 04:00 ET: the overnight job's ingest, before the watcher starts
HISTORY_DAYS = 60


@pytest.fixture(scope="module")
def watched(world, real_dataset_dir, tmp_path_factory):
    """The day's history as the overnight job left it (60 days of box scores, rosters, reports) in the dataset's own
    store under scratch roots; the watcher then ingests each snapshot of the day at its snapshot_ts. It scores
    with the synthetic world's bundle (the same feature spec): this test is about when runs happen, not accuracy."""
    from snapshots_ingest.ingest import ingest_replay

    root = tmp_path_factory.mktemp("watch_real")
    env = {"MINUTES_LIVE_DATA_ROOT": str(root / "data"), "MINUTES_LIVE_ARTIFACTS": str(root / "artifacts"),
           "MINUTES_LIVE_REPORTS": str(root / "reports")}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    mp.delenv("MINUTES_LIVE_DUCKDB", raising=False)
    try:
        ingest_replay(real_dataset_dir, DAY, OVERNIGHT, history_days=HISTORY_DAYS)
        until = tips_from_dataset(DAY, real_dataset_dir).last_tip
        cfg = WatchConfig(day=DAY, source="replay", dataset_dir=real_dataset_dir, clock_speed=0, start=START,
                          until=until, allow_missing_odds=True, bundle_config=world["config"])
        with WarmDbt().installed():
            summary = Watcher(cfg).run()
        name = settings.dataset_name("replay", real_dataset_dir)
        pub = Publication(Roots.default(dataset=name), DAY, settings.registry_root(name))
        attempts = [a for a in registry.attempts(settings.registry_root(name)) if a.get("job") == "watch"]
        yield {"summary": summary, "until": until, "pub": pub, "attempts": attempts,
               "alerts": read_alerts(summary.alerts_path)}
    finally:
        mp.undo()


def _instant(run_id: str) -> pd.Timestamp:
    return pd.to_datetime(run_id, format="%Y%m%dT%H%M%SZ", utc=True)


def test_a_run_at_each_change_of_the_real_day_and_none_without(watched, real_dataset_dir):
    """09:00 ET has no roster of the day yet (the replay's nightly rosters land at 10:00 ET): that first attempt
    fails its guardrail (exit 6) with an alert and publishes nothing; then one run per change, none without."""
    summary = watched["summary"]
    expected = change_instants(real_dataset_dir, DAY, START, watched["until"])
    print(f"\n2022-01-15: {len(summary.runs)} runs at {[r[9:13] for r in summary.runs]}, failed {summary.failed}; "
          f"refresh seconds {summary.refresh_seconds}")
    # the hourly reports of 2022 (not yet every 15 min), the lines 3 h before each tip, the confirmed lineups
    assert len(expected) >= 10 and expected[0] == START
    assert summary.failed == [START.strftime("%Y%m%dT%H%M%SZ")] and not summary.stopped
    failed = [a for a in watched["alerts"] if a["kind"] == "run_failed"]
    assert [(a["run_id"], a["exit_code"]) for a in failed] == [(summary.failed[0], 6)], failed
    assert "min_available_per_team" in failed[0]["error"], failed
    assert [_instant(r) for r in summary.runs] == expected[1:]
    succeeded = sorted(a["run_id"] for a in watched["attempts"] if a["status"] == "succeeded")
    assert succeeded == summary.runs  # one attempt per run: nothing run twice, nothing without a change
    assert watched["pub"].current()["scores"] == summary.runs[-1]


def test_move_alerts_name_two_consecutive_runs_of_an_open_game(watched, real_dataset_dir):
    """Each `minutes_move` alert compares the served run with the one just published, for a player whose game
    had not tipped at the new run, by at least --alert-min-delta (3) minutes, with the reason `runs diff` gives."""
    ds = load_dataset(real_dataset_dir)
    tips = pd.to_datetime(ds.games.set_index("game_id")["tip_ts"], utc=True)
    runs = watched["summary"].runs
    published = [a["run_id"] for a in watched["alerts"] if a["kind"] == "run_published"]
    assert published == runs
    moves = [a for a in watched["alerts"] if a["kind"] == "minutes_move"]
    assert moves, "the lines and lineups of the day move someone by 3+ minutes"
    for alert in moves:
        assert runs.index(alert["run_to"]) == runs.index(alert["run_from"]) + 1, alert
        assert tips[alert["game_id"]] > _instant(alert["run_to"]), alert
        assert abs(alert["delta"]) >= 3 and alert["reason"], alert
    # the replayed reports of the day list the same players with the same status all day (re-published per
    # game): each player's newest status is the same at every run, so there is no status change to alert on
    def newest_status(at: pd.Timestamp) -> dict:
        rows = replay_kind(ds, "injuries", at, date_from=DAY, date_to=DAY).sort_values("snapshot_ts")
        return rows.groupby("player_id")["status_raw"].last().to_dict()

    assert len({tuple(sorted(newest_status(_instant(r)).items())) for r in runs}) == 1
    assert not [a for a in watched["alerts"] if a["kind"] == "status_change"]
