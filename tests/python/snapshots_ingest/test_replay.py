"""Replay: nothing published after T is ever emitted, and the docs/replay.md timing rules hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snapshots_ingest import ids, raw_store
from snapshots_ingest.dataset import load_dataset
from snapshots_ingest.replay import all_snapshots, replay, replay_kind

pytestmark = pytest.mark.real_data

# US DST switches inside the 2021-22 season, plus ordinary game days.
DAYS = [date(2021, 11, 7), date(2022, 3, 13), date(2021, 11, 6), date(2022, 3, 12), date(2022, 1, 10)]


@pytest.fixture(scope="module")
def ds(real_dataset_dir: Path):
    ds = load_dataset(real_dataset_dir, seasons=["2021-22"])
    for kind in raw_store.KINDS:
        all_snapshots(ds, kind)  # build the caches once for the whole module
    return ds


def _tips(ds) -> list[datetime]:
    g = ds.games
    return [t.to_pydatetime() for t in g.loc[pd.to_datetime(g["game_date"]).dt.date.isin(DAYS), "tip_ts"]]


@st.composite
def instants(draw, tips: list[datetime]) -> datetime:
    """Minutes around a tip (incl. the minute around it), or any second of a DST-switch day."""
    if draw(st.booleans()):
        tip = draw(st.sampled_from(tips))
        return tip + timedelta(seconds=draw(st.integers(-6 * 3600, 6 * 3600)))
    day = draw(st.sampled_from(DAYS))
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(seconds=draw(st.integers(0, 48 * 3600)))


def test_never_emits_a_row_after_the_instant(ds) -> None:
    tips = _tips(ds)
    edge_cases = [t + timedelta(seconds=s) for t in tips[:3] for s in (-60, -1, 0, 1, 60)]

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(instants(tips))
    def check(t: datetime) -> None:
        for kind, frame in replay(ds, t).items():
            assert (frame["snapshot_ts"] <= pd.Timestamp(t)).all(), kind
            assert list(frame.columns) == [*raw_store.KIND_COLUMNS[kind], "snapshot_ts", "source"]

    for t in edge_cases:
        check.hypothesis.inner_test(t)
    check()


def test_rows_appear_exactly_at_their_snapshot_ts(ds) -> None:
    gid = ids.game_id("202111070TOR")  # DST switch day, 15:30 ET tip, no overtime
    tip = ds.games.set_index("game_id").loc[gid, "tip_ts"].to_pydatetime()
    day = date(2021, 11, 7)
    one = timedelta(seconds=1)

    def roles(t):
        r = replay_kind(ds, "roster", t, day, day)
        return set(r.loc[r["game_id"] == gid, "lineup_role"])

    assert "confirmed_starter" not in roles(tip - timedelta(minutes=30) - one)
    assert "confirmed_starter" in roles(tip - timedelta(minutes=30))
    assert replay_kind(ds, "odds", tip - timedelta(hours=3) - one, day, day).query("game_id == @gid").empty
    assert len(replay_kind(ds, "odds", tip - timedelta(hours=3), day, day).query("game_id == @gid")) == 1
    box_at = tip + timedelta(hours=3)  # regulation game: no overtime delay
    assert replay_kind(ds, "box_scores", box_at - one, day, day).query("game_id == @gid").empty
    assert len(replay_kind(ds, "box_scores", box_at, day, day).query("game_id == @gid")) > 20


def test_wall_clock_rules_follow_eastern_time_across_dst(ds) -> None:
    inj = all_snapshots(ds, "injuries")
    for day in (date(2021, 11, 6), date(2021, 11, 7), date(2021, 11, 8), date(2022, 3, 13), date(2022, 3, 14)):
        # eve report at 17:30 ET the day before: 21:30 UTC under EDT, 22:30 UTC under EST
        eve = inj[(inj["game_date"] == day) & (inj["snapshot_ts"] < pd.Timestamp(day, tz="UTC"))]
        eve_day = day - timedelta(days=1)
        expected_et = pd.Timestamp(datetime(eve_day.year, eve_day.month, eve_day.day, 17, 30)).tz_localize("America/New_York")
        assert set(eve["snapshot_ts"]) == {expected_et.tz_convert("UTC")}, day


def test_slate_window_and_source_label(ds) -> None:
    t = datetime(2022, 1, 11, 12, tzinfo=UTC)
    frames = replay(ds, t, date_from=date(2022, 1, 10), date_to=date(2022, 1, 10))
    for kind, frame in frames.items():
        assert not frame.empty, kind
        assert set(frame["source"]) == {"replay"}
        if "game_date" in frame.columns:
            assert set(frame["game_date"]) == {date(2022, 1, 10)}, kind


def test_injury_report_never_lists_coach_decisions(ds) -> None:
    inj = all_snapshots(ds, "injuries")
    assert set(inj["status_raw"]) == {"Out"}
    assert "Did Not Play" not in set(inj["reason"])
