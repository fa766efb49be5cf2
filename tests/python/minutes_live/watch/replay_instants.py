"""For the watcher's tests (imported by them; not a test file): the instants a replayed day's watcher must
publish at, computed from the replay itself (not from the watcher's code)."""

from __future__ import annotations

import pandas as pd

from minutes_live.watch.sources import KINDS
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

