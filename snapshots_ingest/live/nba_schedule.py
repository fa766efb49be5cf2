"""NBA.com league schedule (scheduleLeagueV2.json) -> raw_store "schedule" rows.

Shape: leagueSchedule.seasonYear, leagueSchedule.gameDates[].games[] with gameId, gameDateTimeUTC,
gameStatus (1 scheduled, 2 live, 3 final), postponedStatus ("P" = postponed), gameStatusText ("TBD"
when the tip time is not set) and homeTeam/awayTeam {teamId, teamTricode, teamCity, teamName}.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import pandas as pd

from foundation.clock import LEAGUE_TZ as EASTERN
from snapshots_ingest import ids
from snapshots_ingest.live.nba_json import decode_json, game_type, publication_ts, require
from snapshots_ingest.raw_store import business_columns

SOURCE = "nba_schedule"


def _status(game: dict) -> str:
    if str(game.get("postponedStatus", "")).upper() == "P":
        return "postponed"
    return "final" if game.get("gameStatus") == 3 else "scheduled"


def parse_schedule(
    payload: bytes,
    *,
    url: str,
    fetched_at: datetime,
    game_dates: Collection[date] | None = None,
    source: str = SOURCE,
) -> pd.DataFrame:
    """Schedule rows for the games on `game_dates` (ET calendar date of the tip; None = all games)."""
    data = decode_json(source, url, payload)
    snapshot_ts = publication_ts(data, fetched_at)
    season = require(source, url, data, "leagueSchedule", "seasonYear")
    records = []
    for day in require(source, url, data, "leagueSchedule", "gameDates"):
        for game in require(source, url, day, "games"):
            gid = str(require(source, url, game, "gameId"))
            kind = game_type(gid)
            if kind is None:  # All-Star and exhibition games are not player-minutes games
                continue
            tbd = "TBD" in str(game.get("gameStatusText", "")).upper()
            tip = pd.Timestamp(require(source, url, game, "gameDateTimeUTC"))
            tip = tip.tz_localize("UTC") if tip.tzinfo is None else tip.tz_convert("UTC")
            if tbd:
                game_date = pd.Timestamp(require(source, url, game, "gameDateEst")).date()
            else:
                game_date = tip.tz_convert(EASTERN).date()
            if game_dates is not None and game_date not in game_dates:
                continue
            home = require(source, url, game, "homeTeam")
            away = require(source, url, game, "awayTeam")
            records.append(
                {
                    "game_id": ids.game_id(gid),
                    "source_game_id": gid,
                    "season": season,
                    "game_date": game_date,
                    "tip_ts": None if tbd else tip,
                    "game_type": kind,
                    "game_status": _status(game),
                    "home_team_id": int(require(source, url, home, "teamId")),
                    "away_team_id": int(require(source, url, away, "teamId")),
                    "home_tricode": ids.nba_tricode(require(source, url, home, "teamTricode")),
                    "away_tricode": ids.nba_tricode(require(source, url, away, "teamTricode")),
                    "home_team_name": f"{home.get('teamCity', '')} {home.get('teamName', '')}".strip()
                    or None,
                    "away_team_name": f"{away.get('teamCity', '')} {away.get('teamName', '')}".strip()
                    or None,
                    "snapshot_ts": snapshot_ts,
                    "source": source,
                }
            )
    frame = pd.DataFrame.from_records(
        records, columns=business_columns("schedule") + ["snapshot_ts", "source"]
    )
    frame["tip_ts"] = pd.to_datetime(frame["tip_ts"], utc=True)
    return frame
