"""Parsed injury-report rows -> raw_store "injuries" rows (ids from ids.py, game ids from a schedule)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from snapshots_ingest import ids
from snapshots_ingest.live.injury_report_pdf import NOT_YET_SUBMITTED, InjuryReportRow
from snapshots_ingest.live.player_matching import UnmatchedName, match_injury_rows
from snapshots_ingest.raw_store import business_columns

SOURCE = "nba_injury_report_pdf"
TEAM_NAME_TO_TRICODE: dict[str, str] = {name.lower(): code for code, (_, name) in ids.NBA_TEAMS.items()}


def team_tricode_from_name(name: str) -> str | None:
    """'LA Clippers' -> 'LAC'; None for a name not in ids.NBA_TEAMS."""
    return TEAM_NAME_TO_TRICODE.get(" ".join(name.split()).lower())


def _game_time_12h(hhmm: str) -> str:
    """'19:30' -> '07:30 PM' (the raw contract's printed form)."""
    return pd.Timestamp(f"2000-01-01 {hhmm}").strftime("%I:%M %p")


def _schedule_lookup(schedule: pd.DataFrame | None) -> dict[tuple[str, str, str], int]:
    if schedule is None or schedule.empty:
        return {}
    dates = pd.to_datetime(schedule["game_date"]).dt.strftime("%Y-%m-%d")
    return {
        (d, away, home): int(gid)
        for d, away, home, gid in zip(
            dates, schedule["away_tricode"], schedule["home_tricode"], schedule["game_id"], strict=True
        )
    }


def to_raw_injuries(
    rows: Sequence[InjuryReportRow],
    *,
    schedule: pd.DataFrame | None = None,
    roster: pd.DataFrame | None = None,
    source: str = SOURCE,
) -> tuple[pd.DataFrame, list[UnmatchedName]]:
    """Raw "injuries" rows with snapshot_ts = the report's banner stamp (UTC) and source.

    `schedule` (raw schedule columns) fills game_id by (game_date, away, home) of the matchup; `roster`
    (raw roster columns) fills player_id through player_matching. Unmatched names are returned.
    """
    games = _schedule_lookup(schedule)
    records = []
    for r in rows:
        tricode = team_tricode_from_name(r.team)
        away, _, home = r.matchup.partition("@")
        records.append(
            {
                "game_date": r.game_date,
                "game_id": games.get((r.game_date.isoformat(), away.strip(), home.strip())),
                "game_time_et": _game_time_12h(r.game_time_et),
                "matchup": r.matchup,
                "team_id": ids.team_id(tricode) if tricode else None,
                "team_tricode": tricode,
                "player_id": None,
                "source_player_id": None,
                "player_name": r.player_name,
                "status_raw": NOT_YET_SUBMITTED if r.not_yet_submitted else r.current_status,
                "reason": r.reason,
                "snapshot_ts": pd.Timestamp(r.report_ts_utc),
                "source": source,
            }
        )
    frame = pd.DataFrame.from_records(
        records, columns=business_columns("injuries") + ["snapshot_ts", "source"]
    )
    frame["game_id"] = frame["game_id"].astype("Int64")
    frame["team_id"] = frame["team_id"].astype("Int64")
    frame["player_id"] = frame["player_id"].astype("Int64")
    if roster is not None:
        return match_injury_rows(frame, roster)
    unknown_teams = [
        UnmatchedName(
            r.player_name or NOT_YET_SUBMITTED, None, r.game_date, f"team {r.team!r} not in ids.NBA_TEAMS"
        )
        for r in rows
        if team_tricode_from_name(r.team) is None
    ]
    return frame, unknown_teams
