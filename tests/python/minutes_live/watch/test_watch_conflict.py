"""A watcher whose next run id already has an extract with other content (an operator's `ingest` at the same
instant): the run fails with an alert, the day goes on (its own module: a fresh copy of the world, so the
registry holds no earlier watch run)."""

from __future__ import annotations

import pandas as pd
import pytest
from replay_instants import expected_instants, published, watch_cfg, window

from foundation import run_directory as rd
from foundation import settings
from minutes_live.watch.alerts import read_alerts
from minutes_live.watch.watcher import Watcher

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _world_env(world, monkeypatch):
    for k, v in world["env"].items():
        monkeypatch.setenv(k, v)


def test_an_extract_already_stored_for_a_run_id_is_a_failed_run_not_a_served_one(world):
    """It took that run as served though it was never built, then crashed diffing against it at the next
    change (AttributeError). Now: a run_failed alert (exit 9, naming the extract), the next change publishes."""
    start, _, _ = window(world)
    changes = expected_instants(world, start, start + pd.Timedelta(hours=3))
    assert len(changes) >= 3, changes
    until = changes[2]  # two runs: the blocked one at the start, then the next change
    first = rd.run_id_for(start)
    _, name = published(world)
    # where the watcher's first run stores the day's schedule (snapshots_ingest/ingest.py: replay_<kind>.parquet)
    blocker = settings.snapshots_root(name) / "schedule" / world["day"].isoformat() / f"run={first}" / \
        "replay_schedule.parquet"
    blocker.parent.mkdir(parents=True)
    blocker.write_bytes(b"another ingest's schedule")

    summary = Watcher(watch_cfg(world, start, until, warm=False)).run()

    assert not summary.stopped and summary.failed == [first]
    assert [pd.to_datetime(r, format="%Y%m%dT%H%M%SZ", utc=True) for r in summary.runs] == changes[1:2]
    alerts = [a for a in read_alerts(summary.alerts_path) if a.get("run_id") == first]
    assert [a["kind"] for a in alerts] == ["run_failed"] and alerts[0]["exit_code"] == 9, alerts
    assert blocker.name in alerts[0]["error"], alerts
    pub, _ = published(world)
    assert pub.current()["scores"] == summary.runs[-1]
