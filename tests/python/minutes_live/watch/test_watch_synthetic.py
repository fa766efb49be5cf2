"""`minutes-live watch` on a replayed synthetic day: a run at each input change before a tip and none
without one, the same lifecycle as `job`, fresh data through the warm dbt, alerts, resume without duplicates."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from replay_instants import expected_instants, published, watch_cfg, window

from foundation import registry, settings
from minutes_live.watch.alerts import read_alerts
from minutes_live.watch.sources import KINDS, ReplaySource
from minutes_live.watch.warm_dbt import WarmDbt
from minutes_live.watch.watcher import Watcher
from snapshots_ingest.dataset import load_dataset
from snapshots_ingest.replay import replay_kind

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _world_env(world, monkeypatch):
    for k, v in world["env"].items():  # the module's store and roots, not the per-test runtime roots
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="module")
def watched(world):
    start, end, _ = window(world)
    with WarmDbt().installed() as warm:
        summary = Watcher(watch_cfg(world, start, end)).run()
    return {"summary": summary, "start": start, "end": end, "parse_seconds": warm.parse_seconds}


def test_a_run_at_each_input_change_before_a_tip_and_none_without(world, watched):
    summary = watched["summary"]
    print(f"parse {watched['parse_seconds']} s; refresh seconds {summary.refresh_seconds}")
    runs = [pd.to_datetime(r, format="%Y%m%dT%H%M%SZ", utc=True) for r in summary.runs]
    expected = expected_instants(world, watched["start"], watched["end"])
    assert len(expected) >= 4
    assert runs == expected
    assert summary.failed == [] and not summary.stopped
    # the same lifecycle as `job`: one succeeded registry attempt per run, job `watch`, with its inputs' hashes
    pub, name = published(world)
    attempts = [a for a in registry.attempts(settings.registry_root(name))
                if a.get("job") == "watch" and a.get("date") == world["day"].isoformat()]
    assert sorted(a["run_id"] for a in attempts if a["status"] == "succeeded") == summary.runs
    assert all(set(a["watch"]["inputs"]) == set(KINDS) for a in attempts)
    assert len({tuple(sorted(a["watch"]["inputs"].items())) for a in attempts}) == len(attempts)  # never twice the same
    assert pub.current()["scores"] == summary.runs[-1] == pub.current()["features"]


def test_each_refresh_reads_the_snapshots_of_its_instant(world, watched):
    """Freshness through the warm dbt (one parse, builds in a long-lived process): each run's features carry
    the newest injury report and lineup known at its instant, not an earlier refresh's."""
    pub, _ = published(world)
    ds = load_dataset(world["league"])
    seen = set()
    for run_id in watched["summary"].runs:
        at = pd.to_datetime(run_id, format="%Y%m%dT%H%M%SZ", utc=True)
        features = pd.read_parquet(pub.run_dir("features", run_id) / "features.parquet")
        open_games = features[pd.to_datetime(features["tip_ts"], utc=True) > at]
        for kind, col in (("injuries", "injury_as_of_ts"), ("roster", "roster_as_of_ts")):
            rows = replay_kind(ds, kind, at, date_from=world["day"], date_to=world["day"])
            rows = rows[rows["game_id"].isin(open_games["game_id"])]
            newest = pd.to_datetime(rows["snapshot_ts"], utc=True).max()
            assert pd.to_datetime(open_games[col], utc=True).max() == newest, (run_id, kind)
        seen.add(pd.to_datetime(open_games["roster_as_of_ts"], utc=True).max())
    assert len(seen) > 1  # the lineups did move during the window: the check above saw new data


def test_alerts_stream_has_each_publication_and_the_moves(world, watched):
    summary = watched["summary"]
    alerts = [a for a in read_alerts(summary.alerts_path) if a["ts"] < watched["end"].isoformat()]
    published = [a["run_id"] for a in alerts if a["kind"] == "run_published"]
    assert published[-len(summary.runs):] == summary.runs
    moves = [a for a in alerts if a["kind"] == "minutes_move"]
    assert moves, "a lineup confirmation moves someone by 3+ minutes"
    assert all(abs(a["delta"]) >= 3 and a["reason"] for a in moves)
    assert {a["column"] for a in moves} <= {"minutes_mean", "minutes_p50"}


def test_a_restart_resumes_from_the_registry_without_duplicates(world, watched):
    """A second watcher over the same window publishes nothing (the registry says what is served); one that
    goes further resumes at the last run's instant and publishes only the later changes."""
    start, end = watched["start"], watched["end"]
    again = Watcher(watch_cfg(world, start, end)).run()
    assert again.runs == [] and again.resumed_from == watched["summary"].runs[-1]
    later_end = end + timedelta(minutes=35)
    more = Watcher(watch_cfg(world, start, later_end, warm=False)).run()
    expected = [t for t in expected_instants(world, start, later_end) if t > pd.Timestamp(end)]
    assert [pd.to_datetime(r, format="%Y%m%dT%H%M%SZ", utc=True) for r in more.runs] == expected


class CutSource(ReplaySource):
    """The replayed sources with one of them cut from an instant on (connection refused)."""

    def __init__(self, dataset_dir, day, kind, cut_at):
        super().__init__(dataset_dir, day)
        self.cut_kind, self.cut_at = kind, cut_at

    def fetch(self, kind, at):
        if kind == self.cut_kind and at >= self.cut_at:
            raise ConnectionRefusedError(f"{kind} source unreachable (test cut)")
        return super().fetch(kind, at)


def test_a_source_cut_mid_day_is_an_alert_not_a_crash(world, watched):
    """Odds cut mid-window: one unreachable alert, a stale alert past the odds max age, backoff, no crash; the
    other sources' changes still re-run the slate (with the last odds polled), and every run succeeds."""
    start = watched["end"] + timedelta(minutes=35)
    until = start + timedelta(minutes=45)
    cfg = watch_cfg(world, start, until, odds_max_age_hours=0.25, warm=False)
    source = CutSource(world["league"], world["day"], "odds", start + timedelta(minutes=1))
    summary = Watcher(cfg, source=source).run()
    assert not summary.stopped and summary.failed == []
    alerts = [a for a in read_alerts(summary.alerts_path) if start.isoformat() <= a["ts"] <= until.isoformat()]
    kinds = [(a["kind"], a.get("source")) for a in alerts]
    assert kinds.count(("source_unreachable", "odds")) == 1
    assert kinds.count(("source_stale", "odds")) == 1
    stale = next(a for a in alerts if a["kind"] == "source_stale")
    assert stale["age_minutes"] > 15 and stale["last_ok"] == start.isoformat()
    # the runs it made are exactly the other sources' changes after the start
    expected = [t for t in expected_instants(world, start, until)[1:]]
    assert [pd.to_datetime(r, format="%Y%m%dT%H%M%SZ", utc=True) for r in summary.runs] == expected
    pub, _ = published(world)
    assert pub.current()["scores"] == (summary.runs[-1] if summary.runs else summary.resumed_from)
