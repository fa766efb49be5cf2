"""What the watcher polls: each input kind of the slate, at the times its source publishes, and the content
hash that says whether it changed.

Kinds: the schedule, the roster (nightly rosters and confirmed lineups), the injury report and the odds.
A poll returns a `Polled`: the sha256 of the raw extract's bytes (a refetch of identical bytes is no
change) and, per game, a hash of its rows (which games a change feeds).

When a source publishes:
- live (`LiveSource`): the injury report at the league's publication times (every 15 minutes since
  2025-12-22, hourly before), lineups every 5 minutes, odds every 10, the schedule hourly; each poll a
  minute after the time (`POLL_LAG`), so the file is up;
- replay / synthetic (`ReplaySource`): the replayed day's own snapshot instants (docs/replay.md): a snapshot
  appears at its `snapshot_ts`, and the extract polled at T is exactly what a run at T replays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from foundation.clock import LEAGUE_TZ

KINDS = ("schedule", "roster", "injuries", "odds")
# the kinds whose polled extract the run ingests as is (the schedule is replayed by the run with its history)
RUN_INPUT_KINDS = ("roster", "injuries", "odds")
FIFTEEN_MINUTE_REPORTS_FROM = date(2025, 12, 22)
LIVE_CADENCE = {"roster": timedelta(minutes=5), "odds": timedelta(minutes=10), "schedule": timedelta(hours=1)}
POLL_LAG = timedelta(minutes=1)


def injury_report_interval(day: date) -> timedelta:
    """The league's injury-report cadence on `day`: every 15 minutes since 2025-12-22, hourly before."""
    return timedelta(minutes=15) if day >= FIFTEEN_MINUTE_REPORTS_FROM else timedelta(hours=1)


def _next_on_grid(after: datetime, step: timedelta) -> datetime:
    """The first multiple of `step` (from the US/Eastern midnight) strictly after `after`."""
    local = after.astimezone(LEAGUE_TZ)
    midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=LEAGUE_TZ)
    n = int((local - midnight) // step) + 1
    return (midnight + n * step).astimezone(UTC)


def live_next_poll(day: date, kind: str, after: datetime) -> datetime:
    """The live cadence's next poll of `kind` after `after` (a minute after the publication time)."""
    step = injury_report_interval(day) if kind == "injuries" else LIVE_CADENCE[kind]
    return _next_on_grid(after - POLL_LAG, step) + POLL_LAG


@dataclass(frozen=True)
class Polled:
    kind: str
    at: datetime  # the instant the extract describes (a replayed poll's instant, or a live fetch's)
    sha256: str
    games: dict  # game_id (None: rows without a game) -> hash of its rows
    newest_snapshot_ts: datetime | None
    rows: int
    payload: bytes = field(repr=False, default=b"")  # the extract (parquet) a replayed run ingests
    filename: str = ""


def _game_hashes(frame: pd.DataFrame) -> dict:
    if frame.empty:
        return {}
    if "game_id" not in frame.columns:
        return {None: str(int(pd.util.hash_pandas_object(frame, index=False).sum()))}
    out = {}
    for game_id, rows in frame.groupby(frame["game_id"].astype("Int64"), dropna=False, sort=True):
        key = None if pd.isna(game_id) else int(game_id)
        out[key] = str(int(pd.util.hash_pandas_object(rows.reset_index(drop=True), index=False).sum()))
    return out


def _newest(frame: pd.DataFrame) -> datetime | None:
    if frame.empty or "snapshot_ts" not in frame.columns:
        return None
    ts = pd.to_datetime(frame["snapshot_ts"], utc=True).max()
    return None if pd.isna(ts) else ts.to_pydatetime()


class ReplaySource:
    """A replayed dataset (real or synthetic) as the watcher's sources for `day`."""

    def __init__(self, dataset_dir: Path, day: date) -> None:
        from snapshots_ingest.dataset import load_dataset
        from snapshots_ingest.replay import source_label

        self.day = day
        self.dataset = load_dataset(dataset_dir)
        self.label = source_label(self.dataset)

    def _rows(self, kind: str, at: datetime) -> pd.DataFrame:
        from snapshots_ingest.replay import replay_kind

        return replay_kind(self.dataset, kind, at, date_from=self.day, date_to=self.day)

    def tips(self) -> pd.DataFrame:
        g = self.dataset.games
        g = g[pd.to_datetime(g["game_date"]).dt.date == self.day]
        if "game_status" in g:
            g = g[g["game_status"] != "postponed"]
        return g[["game_id", "tip_ts"]].assign(tip_ts=lambda f: pd.to_datetime(f["tip_ts"], utc=True))

    def next_publication(self, kind: str, after: datetime) -> datetime:
        """The next poll after `after`: the replayed source's next snapshot instant of the day, or the live
        cadence's next poll if that comes first (such a poll finds the same bytes, as a live poll between
        two reports does, and an outage is noticed at the live pace)."""
        rows = self._rows(kind, datetime(2262, 1, 1, tzinfo=UTC))
        later = pd.to_datetime(rows["snapshot_ts"], utc=True)
        later = later[later > pd.Timestamp(after)]
        cadence = live_next_poll(self.day, kind, after)
        return cadence if later.empty else min(later.min().to_pydatetime(), cadence)

    def fetch(self, kind: str, at: datetime) -> Polled:
        from snapshots_ingest.extract import frame_to_parquet_bytes

        frame = self._rows(kind, at)
        payload = frame_to_parquet_bytes(frame)
        return Polled(kind, at, hashlib.sha256(payload).hexdigest(), _game_hashes(frame), _newest(frame), len(frame),
                      payload, f"watch_{kind}.parquet")


class LiveSource:
    """The live HTTP/PDF sources (snapshots_ingest/live), polled at their publication cadence."""

    label = "live"

    def __init__(self, day: date) -> None:
        self.day = day

    def tips(self) -> pd.DataFrame:
        polled = self._frames("schedule", datetime.now(UTC))[1]
        return polled[["game_id", "tip_ts"]].assign(tip_ts=lambda f: pd.to_datetime(f["tip_ts"], utc=True))

    def next_publication(self, kind: str, after: datetime) -> datetime:
        return live_next_poll(self.day, kind, after)

    def _frames(self, kind: str, at: datetime) -> tuple[list, pd.DataFrame]:
        from snapshots_ingest import ingest

        extracts = ingest.fetch_live(self.day, at, [kind])
        frames = [e.parse(e.payload) for e in extracts]
        return extracts, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def fetch(self, kind: str, at: datetime) -> Polled:
        extracts, frame = self._frames(kind, at)
        digest = hashlib.sha256()
        for e in sorted(extracts, key=lambda e: e.filename):
            digest.update(hashlib.sha256(e.payload).digest())
        return Polled(kind, at, digest.hexdigest(), _game_hashes(frame), _newest(frame), len(frame))
