"""Odds feeds behind one small interface, so a user can plug in their own.

An `OddsProvider` fetches the raw bytes for a slate date and parses them into raw_store "odds" rows
(spread_home in betting convention, total, book, snapshot_ts = the quote time). `JsonOddsProvider`
reads this JSON shape from `LiveSourceConfig.odds_url` (`{date}` in the URL is replaced by YYYY-MM-DD):

    {"quotes": [{"game_id": "0022500123", "home": "BOS", "away": "MIA", "book": "examplebook",
                 "spread_home": -4.5, "total": 221.5, "quoted_at": "2025-11-13T20:05:00Z"}]}
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

import pandas as pd

from snapshots_ingest import ids
from snapshots_ingest.live.http_client import FetchResult, HttpClient, SourceError
from snapshots_ingest.live.nba_json import decode_json, require
from snapshots_ingest.raw_store import business_columns

SOURCE = "odds_json"


class OddsProvider(Protocol):
    source: str

    def fetch(self, client: HttpClient, slate_date: date) -> FetchResult: ...

    def parse(self, payload: bytes, *, url: str, fetched_at: datetime) -> pd.DataFrame: ...


def _optional_float(source: str, url: str, quote: dict, field: str) -> float | None:
    value = quote.get(field)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SourceError(source, url, f"quote field {field!r} is not a number: {value!r}") from None


class JsonOddsProvider:
    """Spread and total per game from a JSON feed (shape in the module docstring)."""

    def __init__(self, url_template: str, source: str = SOURCE) -> None:
        self.url_template = url_template
        self.source = source

    def url_for(self, slate_date: date) -> str:
        return self.url_template.replace("{date}", slate_date.isoformat())

    def fetch(self, client: HttpClient, slate_date: date) -> FetchResult:
        result = client.get(self.source, self.url_for(slate_date))
        assert result is not None  # no absent statuses requested: errors raise
        return result

    def parse(self, payload: bytes, *, url: str, fetched_at: datetime) -> pd.DataFrame:
        data = decode_json(self.source, url, payload)
        records = []
        for quote in require(self.source, url, data, "quotes"):
            gid = str(require(self.source, url, quote, "game_id"))
            quoted_at = pd.Timestamp(require(self.source, url, quote, "quoted_at"))
            quoted_at = (
                quoted_at.tz_localize("UTC") if quoted_at.tzinfo is None else quoted_at.tz_convert("UTC")
            )
            try:
                home, away = ids.team_id(quote["home"]), ids.team_id(quote["away"])
                game = ids.game_id(gid)
            except (KeyError, ids.UnknownIdError) as exc:
                raise SourceError(self.source, url, f"quote for game {gid}: {exc}") from exc
            records.append(
                {
                    "game_id": game,
                    "home_team_id": home,
                    "away_team_id": away,
                    "book": str(require(self.source, url, quote, "book")),
                    "spread_home": _optional_float(self.source, url, quote, "spread_home"),
                    "total": _optional_float(self.source, url, quote, "total"),
                    "snapshot_ts": quoted_at,
                    "source": self.source,
                }
            )
        return pd.DataFrame.from_records(
            records, columns=business_columns("odds") + ["snapshot_ts", "source"]
        )
