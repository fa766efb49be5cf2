"""For the watcher's tests (imported by them; not a test file): the instants a replayed day's watcher must
publish at, computed from the replay itself (not from the watcher's code), and the synthetic world's watch
config, window and publication."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from foundation import settings
from foundation.publication import Publication, Roots
from minutes_live.watch.sources import KINDS
from minutes_live.watch.watcher import WatchConfig
from snapshots_ingest.dataset import load_dataset
from snapshots_ingest.replay import replay_kind


def change_instants(dataset_dir, day, start, end) -> list[pd.Timestamp]:
    """The start, then every instant in (start, end) at which a snapshot of a game not yet tipped appears."""
    ds = load_dataset(dataset_dir)
    games = ds.games[pd.to_datetime(ds.games["game_date"]).dt.date == day]
    tips = dict(zip(games["game_id"], pd.to_datetime(games["tip_ts"], utc=True), strict=True))
    instants = set()
    for kind in KINDS:
        rows = replay_kind(ds, kind, end, date_from=day, date_to=day)
        for game_id, ts in zip(rows["game_id"], pd.to_datetime(rows["snapshot_ts"], utc=True), strict=True):
            if pd.Timestamp(start) < ts < pd.Timestamp(end) and tips[int(game_id)] > ts:
                instants.add(ts)
    return [pd.Timestamp(start)] + sorted(instants)


def watch_cfg(world, start, until, **kw) -> WatchConfig:
    return WatchConfig(day=world["day"], source="synthetic", dataset_dir=world["league"], clock_speed=0, start=start,
                       until=until, allow_missing_odds=True, bundle_config=world["config"], **kw)


def window(world):
    """A window of the slate's afternoon with several report, lineup and odds changes, ending before the last tip."""
    tips = pd.to_datetime(load_dataset(world["league"]).games.set_index("game_id")["tip_ts"], utc=True)
    first_tip = world["as_of"] + timedelta(minutes=30)  # the world's run is 30 min before the first tip
    return first_tip - timedelta(hours=2, minutes=10), first_tip + timedelta(minutes=40), tips


def expected_instants(world, start, end) -> list[pd.Timestamp]:
    return change_instants(world["league"], world["day"], start, end)


def published(world):
    name = settings.dataset_name("synthetic", world["league"])
    return Publication(Roots.default(dataset=name), world["day"], settings.registry_root(name)), name
