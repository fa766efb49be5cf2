"""NBA.com box score (liveData boxscore_<gameId>.json) -> raw_store "box_scores" rows.

Shape: game.{gameId, gameTimeUTC, gameStatus, period, regulationPeriods, homeTeam, awayTeam}; each
team has teamId and players[] with personId, name, starter ("1"/"0"), status (ACTIVE/INACTIVE),
played ("1"/"0"), notPlayingReason and statistics.minutes as an ISO-8601 duration ("PT34M12.00S").
Only final games (gameStatus 3) give labels; a game still in progress parses to no rows.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from foundation.clock import LEAGUE_TZ as EASTERN
from snapshots_ingest import ids
from snapshots_ingest.live.http_client import SourceError
from snapshots_ingest.live.nba_json import decode_json, game_type, publication_ts, require, season_of
from snapshots_ingest.raw_store import business_columns

SOURCE = "nba_boxscore"
FINAL = 3
_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?$")
STAT_FIELDS = {
    "fga": "fieldGoalsAttempted",
    "fta": "freeThrowsAttempted",
    "orb": "reboundsOffensive",
    "tov": "turnovers",
    "pts": "points",
    "trb": "reboundsTotal",
    "ast": "assists",
    "blk": "blocks",
    "fg3a": "threePointersAttempted",
}


def duration_seconds(text: str) -> int:
    """'PT34M12.00S' -> 2052; '' or 'PT' -> 0. Fractions of a second are rounded."""
    text = (text or "").strip()
    if not text:
        return 0
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"minutes {text!r} is not an ISO-8601 duration like 'PT34M12.00S'")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in m.groups())
    return round(hours * 3600 + minutes * 60 + seconds)


def _play_status(player: dict, seconds: int) -> tuple[str, str | None]:
    reason = player.get("notPlayingReason") or None
    if str(player.get("status", "")).upper() == "INACTIVE":
        return "inactive", reason
    if str(player.get("played", "1")) == "0" or (seconds == 0 and reason):
        return "dnp", reason
    return "played", None


def parse_boxscore(payload: bytes, *, url: str, fetched_at: datetime, source: str = SOURCE) -> pd.DataFrame:
    data = decode_json(source, url, payload)
    game = require(source, url, data, "game")
    gid = str(require(source, url, game, "gameId"))
    columns = business_columns("box_scores") + ["snapshot_ts", "source"]
    if require(source, url, game, "gameStatus") != FINAL:
        return pd.DataFrame(columns=columns)
    kind = game_type(gid)
    if kind is None:
        raise SourceError(source, url, f"game {gid} is not a player-minutes game type")
    tip = pd.Timestamp(require(source, url, game, "gameTimeUTC"))
    tip = tip.tz_localize("UTC") if tip.tzinfo is None else tip.tz_convert("UTC")
    overtimes = max(0, int(require(source, url, game, "period")) - int(game.get("regulationPeriods", 4)))
    snapshot_ts = publication_ts(data, fetched_at)
    records = []
    sides = (("homeTeam", "awayTeam", True), ("awayTeam", "homeTeam", False))
    for side, other, is_home in sides:
        team = require(source, url, game, side)
        opponent_id = int(require(source, url, game, other, "teamId"))
        for i, p in enumerate(require(source, url, team, "players")):
            stats = require(source, url, p, "statistics")
            try:
                seconds = duration_seconds(require(source, url, stats, "minutes"))
            except ValueError as exc:
                raise SourceError(source, url, f"{side}.players[{i}]: {exc}") from exc
            status, reason = _play_status(p, seconds)
            pid = str(require(source, url, p, "personId"))
            record = {
                "game_id": ids.game_id(gid),
                "source_game_id": gid,
                "season": season_of(gid),
                "game_date": tip.tz_convert(EASTERN).date(),
                "game_type": kind,
                "team_id": int(require(source, url, team, "teamId")),
                "opponent_team_id": opponent_id,
                "is_home": is_home,
                "player_id": ids.player_id(pid, "nba"),
                "source_player_id": pid,
                "player_name": str(require(source, url, p, "name")),
                "starter": str(p.get("starter", "0")) == "1",
                "play_status": status,
                "dnp_reason": reason,
                "seconds_played": seconds,
                "minutes": seconds / 60,
                "overtimes": overtimes,
                "snapshot_ts": snapshot_ts,
                "source": source,
            }
            record.update({col: stats.get(field) for col, field in STAT_FIELDS.items()})
            records.append(record)
    frame = pd.DataFrame.from_records(records, columns=columns)
    for col in STAT_FIELDS:
        frame[col] = frame[col].astype("Int64")
    return frame
