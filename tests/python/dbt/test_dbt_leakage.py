"""Anti-leak check of the dbt feature models: information published after a game's cutoff cannot move
its features. Builds a small hand-made league in a temporary DuckDB, runs `dbt build` (models + tests),
then adds rows that a leaky model would pick up (snapshots after the live cutoff, box scores of the target
date and later) and checks both marts are identical. A positive control (an injury report before the
cutoff) must change the live features, so the check can fail.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from foundation.clock import LEAGUE_TZ
from minutes_live.pipeline.dbt_runner import run_dbt
from snapshots_ingest import raw_store

ET = LEAGUE_TZ
TEAMS = [
    (1610612738, "BOS", "Boston Celtics"),
    (1610612748, "MIA", "Miami Heat"),
    (1610612747, "LAL", "Los Angeles Lakers"),
    (1610612744, "GSW", "Golden State Warriors"),
]
POSITIONS = ["G", "G", "F", "F", "C", "G", "F", "C", "G", "F", "F", "C"]
START = date(2022, 3, 8)
DAYS = 8
TARGET = START + timedelta(days=DAYS - 1)  # the last scheduled date is the live slate
RUN_AS_OF = datetime(TARGET.year, TARGET.month, TARGET.day, 18, 0, tzinfo=ET).astimezone(UTC)
KEYS = ["game_id", "player_id", "team_id"]


def _tip(day: date, slot: int) -> datetime:
    return datetime(day.year, day.month, day.day, 19 + 3 * slot, 30, tzinfo=ET).astimezone(UTC)


def _game_id(day: date, home_team_id: int) -> int:
    return int(day.strftime("%Y%m%d")) * 100 + home_team_id % 100


def _league(seed: int = 3) -> dict[str, list[dict]]:
    """Schedule for DAYS dates; snapshots as replay.md times them; box scores for dates before TARGET."""
    rnd = random.Random(seed)
    rows: dict[str, list[dict]] = {k: [] for k in raw_store.KINDS}
    for d in range(DAYS):
        day = START + timedelta(days=d)
        pairs = (
            [(TEAMS[0], TEAMS[1]), (TEAMS[2], TEAMS[3])]
            if d % 2 == 0
            else [(TEAMS[1], TEAMS[2]), (TEAMS[3], TEAMS[0])]
        )
        for slot, (home, away) in enumerate(pairs):
            tip, gid = _tip(day, slot), _game_id(day, home[0])
            rows["schedule"].append(
                dict(
                    game_id=gid,
                    source_game_id=f"{day:%Y%m%d}0{home[1]}",
                    season="2021-22",
                    game_date=day,
                    tip_ts=tip,
                    game_type="regular",
                    game_status="scheduled",
                    home_team_id=home[0],
                    away_team_id=away[0],
                    home_tricode=home[1],
                    away_tricode=away[1],
                    home_team_name=home[2],
                    away_team_name=away[2],
                    snapshot_ts=datetime(2021, 9, 1, tzinfo=UTC),
                    source="test",
                )
            )
            rows["odds"].append(
                dict(
                    game_id=gid,
                    home_team_id=home[0],
                    away_team_id=away[0],
                    book="test",
                    spread_home=rnd.choice([-9.5, -3.0, 2.5]),
                    total=rnd.choice([210.5, 228.0]),
                    snapshot_ts=tip - timedelta(hours=3),
                    source="test",
                )
            )
            nightly = min(
                datetime(day.year, day.month, day.day, 10, tzinfo=ET).astimezone(UTC),
                tip - timedelta(hours=2),
            )
            for team, opp, is_home in ((home, away, True), (away, home, False)):
                out = rnd.randrange(5, 11) if rnd.random() < 0.5 else None
                pool = [36, 34, 32, 30, 28, 22, 18, 14, 12, 8, 6, 0]
                if out is not None:
                    pool[11] += pool[out]
                for i, pos in enumerate(POSITIONS):
                    pid, name = team[0] * 100 + i, f"{team[1]} Player {i}"
                    is_out = i == out
                    rows["roster"].append(
                        dict(
                            game_date=day,
                            game_id=gid,
                            team_id=team[0],
                            team_tricode=team[1],
                            player_id=pid,
                            source_player_id=str(pid),
                            player_name=name,
                            active_flag=True,
                            lineup_role="projected_starter" if i < 5 else "bench",
                            listed_pos=pos,
                            snapshot_ts=nightly,
                            source="test",
                        )
                    )
                    if is_out:
                        rows["injuries"].append(
                            dict(
                                game_date=day,
                                game_id=gid,
                                game_time_et="07:30 PM",
                                matchup=f"{away[1]}@{home[1]}",
                                team_id=team[0],
                                team_tricode=team[1],
                                player_id=pid,
                                source_player_id=str(pid),
                                player_name=name,
                                status_raw="Out",
                                reason="Injury/Illness - Knee",
                                snapshot_ts=tip - timedelta(minutes=90),
                                source="test",
                            )
                        )
                    if day < TARGET:
                        minutes = 0.0 if is_out else float(pool[i])
                        rows["box_scores"].append(
                            _box_row(
                                day,
                                gid,
                                home,
                                team,
                                opp,
                                is_home,
                                pid,
                                name,
                                i < 5,
                                "inactive" if is_out else ("played" if minutes else "dnp"),
                                minutes,
                                tip + timedelta(hours=3),
                            )
                        )
    return rows


def _box_row(day, gid, home, team, opp, is_home, pid, name, starter, play_status, minutes, published) -> dict:
    return dict(
        game_id=gid,
        source_game_id=f"{day:%Y%m%d}0{home[1]}",
        season="2021-22",
        game_date=day,
        game_type="regular",
        team_id=team[0],
        opponent_team_id=opp[0],
        is_home=is_home,
        player_id=pid,
        source_player_id=str(pid),
        player_name=name,
        starter=starter,
        play_status=play_status,
        dnp_reason=None
        if play_status == "played"
        else ("Did Not Play" if play_status == "dnp" else "Inactive"),
        seconds_played=int(minutes * 60),
        minutes=minutes,
        overtimes=0,
        fga=int(minutes / 3),
        fta=2,
        orb=1,
        tov=1,
        pts=int(minutes / 2),
        trb=3,
        ast=2,
        blk=0,
        fg3a=2,
        snapshot_ts=published,
        source="test",
    )


def _late_rows() -> dict[str, list[dict]]:
    """Rows a leaky model would use: everything is published after the live cutoff of every target game."""
    after = RUN_AS_OF + timedelta(minutes=1)
    late: dict[str, list[dict]] = {k: [] for k in raw_store.KINDS}
    for slot, (home, away) in enumerate(
        [(TEAMS[1], TEAMS[2]), (TEAMS[3], TEAMS[0])]
        if (DAYS - 1) % 2
        else [(TEAMS[0], TEAMS[1]), (TEAMS[2], TEAMS[3])]
    ):
        gid, tip = _game_id(TARGET, home[0]), _tip(TARGET, slot)
        late["odds"].append(
            dict(
                game_id=gid,
                home_team_id=home[0],
                away_team_id=away[0],
                book="late",
                spread_home=-20.0,
                total=250.0,
                snapshot_ts=after,
                source="test",
            )
        )
        for team, opp, is_home in ((home, away, True), (away, home, False)):
            star = team[0] * 100
            late["injuries"].append(
                dict(
                    game_date=TARGET,
                    game_id=gid,
                    game_time_et="07:30 PM",
                    matchup=f"{away[1]}@{home[1]}",
                    team_id=team[0],
                    team_tricode=team[1],
                    player_id=star,
                    source_player_id=str(star),
                    player_name=f"{team[1]} Player 0",
                    status_raw="Out",
                    reason="Rest",
                    snapshot_ts=after,
                    source="test",
                )
            )
            late["roster"].append(
                dict(
                    game_date=TARGET,
                    game_id=gid,
                    team_id=team[0],
                    team_tricode=team[1],
                    player_id=star + 7,
                    source_player_id=str(star + 7),
                    player_name=f"{team[1]} Player 7",
                    active_flag=True,
                    lineup_role="confirmed_starter",
                    listed_pos="C",
                    snapshot_ts=after,
                    source="test",
                )
            )
            for i in range(12):
                # the target game's own box score, published after the game
                late["box_scores"].append(
                    _box_row(
                        TARGET,
                        gid,
                        home,
                        team,
                        opp,
                        is_home,
                        team[0] * 100 + i,
                        f"{team[1]} Player {i}",
                        i >= 7,
                        "played",
                        20.0,
                        tip + timedelta(hours=3),
                    )
                )
    # a correction of the previous day's box scores, published after the cutoff: swaps starters and minutes
    previous = TARGET - timedelta(days=1)
    for row in _league()["box_scores"]:
        if row["game_date"] == previous:
            late["box_scores"].append(
                {
                    **row,
                    "minutes": 48.0 - row["minutes"] if row["play_status"] == "played" else 0.0,
                    "starter": not row["starter"],
                    "snapshot_ts": after,
                }
            )
    return late


def _append(db: Path, rows: dict[str, list[dict]], run_id: str) -> None:
    con = raw_store.connect(db)
    try:
        for kind, kind_rows in rows.items():
            if kind_rows:
                raw_store.append(con, kind, pd.DataFrame(kind_rows), run_id=run_id, extract_path=None)
    finally:
        con.close()


def _build(db: Path, tmp_path: Path) -> dict[str, pd.DataFrame]:
    target = tmp_path / f"target_{db.stem}"
    run_dbt(
        ["build", "--target-path", str(target), "--log-path", str(target / "logs")],
        vars={"target_date": TARGET.isoformat(), "run_as_of_ts": RUN_AS_OF.isoformat()},
        db_path=db,
        quiet=True,
    )
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            m: con.sql(f"select * from main.{m}").df().sort_values(KEYS).reset_index(drop=True)
            for m in ("features_minutes_v1_live", "features_minutes_v1")
        }
    finally:
        con.close()


@pytest.mark.slow
def test_rows_after_cutoff_do_not_change_features(tmp_path: Path) -> None:
    base = _league()
    clean, perturbed, control = (
        tmp_path / "clean.duckdb",
        tmp_path / "perturbed.duckdb",
        tmp_path / "control.duckdb",
    )
    for db in (clean, perturbed, control):
        _append(db, base, "base")
    _append(perturbed, _late_rows(), "late")

    early = _late_rows()["injuries"]
    for row in early:
        row["snapshot_ts"] = RUN_AS_OF - timedelta(minutes=1)
    _append(control, {"injuries": early}, "early")

    clean_marts, perturbed_marts, control_marts = (_build(db, tmp_path) for db in (clean, perturbed, control))

    live = clean_marts["features_minutes_v1_live"]
    assert len(live) == 48 and live["minutes"].isna().all()
    for mart in ("features_minutes_v1_live", "features_minutes_v1"):
        pd.testing.assert_frame_equal(clean_marts[mart], perturbed_marts[mart], check_exact=True)

    # positive control: the same injury rows published one minute before the cutoff do change the features
    changed = control_marts["features_minutes_v1_live"]
    assert (changed["status"] == "OUT").sum() > (live["status"] == "OUT").sum()
