"""NBA.com team roster (stats.nba.com CommonTeamRoster) -> raw_store "roster" rows.

Shape: resultSets[] with name "CommonTeamRoster", `headers` (TeamID, SEASON, PLAYER, POSITION,
PLAYER_ID, ...) and `rowSet` (lists in header order). Fields are read by header name, so a reordered
payload still parses and a renamed one fails naming the field. The roster has no publication time:
snapshot_ts is the fetch time.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from snapshots_ingest import ids
from snapshots_ingest.live.http_client import SourceError
from snapshots_ingest.live.nba_json import decode_json, require
from snapshots_ingest.raw_store import business_columns

SOURCE = "nba_roster"
RESULT_SET = "CommonTeamRoster"
REQUIRED_FIELDS = ("TeamID", "PLAYER", "PLAYER_ID")
TEAM_ID_TO_TRICODE = {team_id: code for code, (team_id, _) in ids.NBA_TEAMS.items()}


def parse_roster(
    payload: bytes,
    *,
    url: str,
    fetched_at: datetime,
    game_date: date,
    game_id: int | None = None,
    source: str = SOURCE,
) -> pd.DataFrame:
    data = decode_json(source, url, payload)
    sets = require(source, url, data, "resultSets")
    table = next((s for s in sets if isinstance(s, dict) and s.get("name") == RESULT_SET), None)
    if table is None:
        raise SourceError(source, url, f"payload has no result set named {RESULT_SET!r}")
    headers = list(require(source, url, table, "headers"))
    missing = [f for f in REQUIRED_FIELDS if f not in headers]
    if missing:
        raise SourceError(
            source, url, f"{RESULT_SET} has no field(s) {missing} (renamed or missing?); got {headers}"
        )
    col = {name: i for i, name in enumerate(headers)}
    records = []
    for row in require(source, url, table, "rowSet"):
        if len(row) != len(headers):
            raise SourceError(
                source, url, f"{RESULT_SET} row has {len(row)} values for {len(headers)} headers"
            )
        team_id = int(row[col["TeamID"]])
        if team_id not in TEAM_ID_TO_TRICODE:
            raise SourceError(source, url, f"unknown TeamID {team_id}")
        pos = row[col["POSITION"]] if "POSITION" in col else None
        records.append(
            {
                "game_date": game_date,
                "game_id": game_id,
                "team_id": team_id,
                "team_tricode": TEAM_ID_TO_TRICODE[team_id],
                "player_id": ids.player_id(str(row[col["PLAYER_ID"]]), "nba"),
                "source_player_id": str(row[col["PLAYER_ID"]]),
                "player_name": str(row[col["PLAYER"]]),
                "active_flag": True,
                "lineup_role": None,
                "listed_pos": pos or None,
                "snapshot_ts": pd.Timestamp(fetched_at),
                "source": source,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=business_columns("roster") + ["snapshot_ts", "source"])
    frame["game_id"] = frame["game_id"].astype("Int64")
    return frame
