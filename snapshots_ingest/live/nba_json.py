"""Shared reading of NBA.com JSON payloads: decoding, required fields, game-id facts, publication time."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from snapshots_ingest.live.http_client import SourceError

# The 3rd-5th characters of an NBA.com game id: the game type, then the season's start year.
GAME_TYPES = {"1": "preseason", "2": "regular", "4": "playoffs", "5": "play_in", "6": "nba_cup_final"}


def decode_json(source: str, url: str, payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(
            source, url, f"body is not valid JSON ({exc}); truncated or an error page?"
        ) from exc


def require(source: str, url: str, obj: Any, *path: str | int) -> Any:
    """obj[path[0]][path[1]]...; a missing or renamed field is a SourceError naming the field path."""
    current = obj
    walked: list[str] = []
    for key in path:
        walked.append(str(key))
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            raise SourceError(
                source, url, f"payload has no field {'.'.join(walked)!r} (renamed or missing?)"
            ) from None
    return current


def game_type(source_game_id: str) -> str | None:
    """'0022500123' -> 'regular'; None for types we do not ingest (All-Star)."""
    return GAME_TYPES.get(source_game_id[2:3])


def season_of(source_game_id: str) -> str:
    """'0022500123' -> '2025-26'."""
    start = 2000 + int(source_game_id[3:5])
    return f"{start}-{(start + 1) % 100:02d}"


def publication_ts(payload: Any, fetched_at: datetime) -> pd.Timestamp:
    """`meta.time` when the payload carries it (and it is not after the fetch), else the fetch time."""
    fetched = (
        pd.Timestamp(fetched_at).tz_convert(UTC)
        if pd.Timestamp(fetched_at).tzinfo
        else pd.Timestamp(fetched_at, tz=UTC)
    )
    meta_time = payload.get("meta", {}).get("time") if isinstance(payload, dict) else None
    if isinstance(meta_time, str):
        try:
            ts = pd.Timestamp(meta_time)
        except ValueError:
            return fetched
        ts = ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)
        if ts <= fetched:
            return ts
    return fetched


def utc_now() -> datetime:
    return datetime.now(UTC)
