"""Append-only raw snapshot store in DuckDB (schema `raw`), one table per snapshot kind.

Every row carries `snapshot_ts` (when the source published that state), `ingested_at` (when we stored
it), `run_id`, `source`, `extract_path` (the persisted raw extract) and `content_hash` (sha256 of the
row's business columns + snapshot_ts + source). A row whose content_hash is already stored is skipped,
so re-ingesting the same extract adds nothing. Rows are never updated or deleted.

The column lists below are the contract between ingestors (replay, synthetic, live fetchers) and the
dbt sources (`models/staging/raw/_raw__sources.yml`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from foundation import store

AUDIT_COLUMNS: dict[str, str] = {
    "snapshot_ts": "TIMESTAMPTZ NOT NULL",
    "ingested_at": "TIMESTAMPTZ NOT NULL",
    "run_id": "VARCHAR NOT NULL",
    "source": "VARCHAR NOT NULL",
    "extract_path": "VARCHAR",
    "content_hash": "VARCHAR NOT NULL",
}

# Business columns per kind: name -> DuckDB type. Order is the table's column order.
KIND_COLUMNS: dict[str, dict[str, str]] = {
    "schedule": {
        "game_id": "BIGINT NOT NULL",
        "source_game_id": "VARCHAR NOT NULL",
        "season": "VARCHAR NOT NULL",  # "2021-22"
        "game_date": "DATE NOT NULL",  # US/Eastern calendar date of the tip
        "tip_ts": "TIMESTAMPTZ",  # NULL = tip time unknown (refused by the live builder)
        "game_type": "VARCHAR NOT NULL",  # regular | play_in | playoffs | nba_cup_final | preseason
        "game_status": "VARCHAR NOT NULL",  # scheduled | final | postponed
        "home_team_id": "BIGINT NOT NULL",
        "away_team_id": "BIGINT NOT NULL",
        "home_tricode": "VARCHAR NOT NULL",
        "away_tricode": "VARCHAR NOT NULL",
        "home_team_name": "VARCHAR",
        "away_team_name": "VARCHAR",
    },
    "roster": {
        # One row per player per team per game date (nightly export, later lineup confirmations).
        "game_date": "DATE NOT NULL",
        "game_id": "BIGINT",
        "team_id": "BIGINT NOT NULL",
        "team_tricode": "VARCHAR NOT NULL",
        "player_id": "BIGINT NOT NULL",
        "source_player_id": "VARCHAR NOT NULL",
        "player_name": "VARCHAR NOT NULL",
        "active_flag": "BOOLEAN NOT NULL",  # on the active roster for that date
        "lineup_role": "VARCHAR",  # confirmed_starter | projected_starter | bench | out | NULL
        "listed_pos": "VARCHAR",  # G/F/C style when a source has it, else NULL
    },
    "injuries": {
        "game_date": "DATE NOT NULL",
        "game_id": "BIGINT",  # NULL when the report's matchup could not be matched to the schedule
        "game_time_et": "VARCHAR",  # "07:30 PM" as printed
        "matchup": "VARCHAR",  # "MIA@BOS"
        "team_id": "BIGINT",
        "team_tricode": "VARCHAR",
        "player_id": "BIGINT",  # NULL when the name was not matched to a roster player
        "source_player_id": "VARCHAR",
        "player_name": "VARCHAR",  # as printed ("Adebayo, Bam"); NULL for NOT YET SUBMITTED rows
        "status_raw": "VARCHAR NOT NULL",  # Out | Doubtful | Questionable | Probable | Available | NOT YET SUBMITTED
        "reason": "VARCHAR",
    },
    "odds": {
        "game_id": "BIGINT NOT NULL",
        "home_team_id": "BIGINT NOT NULL",
        "away_team_id": "BIGINT NOT NULL",
        "book": "VARCHAR NOT NULL",
        "spread_home": "DOUBLE",  # betting convention: negative = home favored
        "total": "DOUBLE",
    },
    "box_scores": {
        "game_id": "BIGINT NOT NULL",
        "source_game_id": "VARCHAR NOT NULL",
        "season": "VARCHAR NOT NULL",
        "game_date": "DATE NOT NULL",
        "game_type": "VARCHAR NOT NULL",
        "team_id": "BIGINT NOT NULL",
        "opponent_team_id": "BIGINT NOT NULL",
        "is_home": "BOOLEAN NOT NULL",
        "player_id": "BIGINT NOT NULL",
        "source_player_id": "VARCHAR NOT NULL",
        "player_name": "VARCHAR NOT NULL",
        "starter": "BOOLEAN NOT NULL",
        "play_status": "VARCHAR NOT NULL",  # played | dnp | inactive
        "dnp_reason": "VARCHAR",
        "seconds_played": "INTEGER NOT NULL",
        "minutes": "DOUBLE NOT NULL",
        "overtimes": "INTEGER NOT NULL",  # of the game, so team minutes = 240 + 25 * overtimes
        "fga": "INTEGER",
        "fta": "INTEGER",
        "orb": "INTEGER",
        "tov": "INTEGER",
        "pts": "INTEGER",
        "trb": "INTEGER",
        "ast": "INTEGER",
        "blk": "INTEGER",
        "fg3a": "INTEGER",
    },
}

KINDS: tuple[str, ...] = tuple(KIND_COLUMNS)

CROSSWALK_DDL = """
create table if not exists raw.id_crosswalk (
    entity varchar not null,          -- player | game | team
    namespace varchar not null,       -- bref | syn | nba
    source_id varchar not null,
    int_id bigint not null,
    name varchar,
    first_seen_at timestamptz not null,
    primary key (entity, namespace, source_id)
)"""

INGEST_LOG_DDL = """
create table if not exists raw.ingest_log (
    run_id varchar not null,
    kind varchar not null,
    source varchar not null,
    slate_date date,
    run_as_of_ts timestamptz,
    rows_received bigint not null,
    rows_inserted bigint not null,
    extract_path varchar,
    ingested_at timestamptz not null
)"""


class RawStoreError(RuntimeError):
    """Raised for rows that do not fit the raw table contract; the message names kind and column."""


@dataclass(frozen=True)
class AppendResult:
    kind: str
    rows_received: int
    rows_inserted: int


def table_ddl(kind: str) -> str:
    cols = {**KIND_COLUMNS[kind], **AUDIT_COLUMNS}
    body = ",\n    ".join(f"{name} {typ}" for name, typ in cols.items())
    return f"create table if not exists raw.{kind} (\n    {body}\n)"


def connect(db_path: str | Path, *, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open the store read-write (foundation.store: busy / unusable files are guardrail errors) with the
    raw schema in place."""
    con = store.open_store(db_path, wait_seconds=wait_seconds)
    try:
        with store.errors_mapped(db_path):
            ensure_schema(con)
    except BaseException:
        con.close()
        raise
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for kind in KINDS:
        con.execute(table_ddl(kind))
    con.execute(CROSSWALK_DDL)
    con.execute(INGEST_LOG_DDL)


def business_columns(kind: str) -> list[str]:
    if kind not in KIND_COLUMNS:
        raise RawStoreError(f"unknown snapshot kind {kind!r}; expected one of {', '.join(KINDS)}")
    return list(KIND_COLUMNS[kind])


def content_hashes(kind: str, frame: pd.DataFrame) -> pd.Series:
    """sha256 over business columns, snapshot_ts and source, in a canonical text form."""
    cols = business_columns(kind) + ["snapshot_ts", "source"]
    canon = frame[cols].astype("string").fillna("\x00")
    # Vectorized join (same text as a row-wise "\x1f".join, ~20x faster on replay backfills).
    joined = canon[cols[0]].str.cat([canon[c] for c in cols[1:]], sep="\x1f")
    return pd.Series([hashlib.sha256(s.encode()).hexdigest() for s in joined], index=frame.index, dtype=object)


# A tip must fall within its game date's US/Eastern day widened by this much on each side: a game abroad is
# dated by its local day (Tokyo 19:00 = 05:00 ET the same date), a late west-coast tip is after ET midnight.
# Every tip of the 2017-2026 replay dataset lies 11-23 h after the ET midnight of its date.
TIP_WINDOW = pd.Timedelta(hours=12)
EASTERN = "America/New_York"


def implausible_tips(frame: pd.DataFrame) -> pd.DataFrame:
    """Schedule rows (game_id, game_date, tip_ts) whose known tip lies outside the game date's US/Eastern
    day +- TIP_WINDOW, or cannot be read as an instant; an unknown tip (null) is not judged here."""
    if frame.empty or "tip_ts" not in frame.columns:
        return frame.iloc[0:0]
    known = frame[frame["tip_ts"].notna()]
    tips = pd.to_datetime(known["tip_ts"], utc=True, errors="coerce")
    day_start = pd.to_datetime(known["game_date"], errors="coerce").dt.tz_localize(EASTERN).dt.tz_convert("UTC")
    low, high = day_start - TIP_WINDOW, day_start + pd.Timedelta(days=1) + TIP_WINDOW
    bad = tips.isna() | day_start.isna() | (tips < low) | (tips >= high)
    return known[bad.to_numpy()]


def tip_problem(frame: pd.DataFrame) -> str | None:
    """One line naming the first implausible tip of `frame` (and how many there are), or None."""
    bad = implausible_tips(frame)
    if bad.empty:
        return None
    g = bad.iloc[0]
    tip = pd.to_datetime(g["tip_ts"], utc=True, errors="coerce")
    shown = f"{tip.isoformat()} ({tip.tz_convert(EASTERN):%Y-%m-%d %H:%M} ET)" if pd.notna(tip) else repr(g["tip_ts"])
    more = f" ({len(bad)} such rows)" if len(bad) > 1 else ""
    return (f"game {g['game_id']} dated {pd.Timestamp(g['game_date']).date()} has tip_ts {shown}, outside its "
            f"US/Eastern day +- {int(TIP_WINDOW / pd.Timedelta(hours=1))} h: not a believable tip{more}")


def validate_frame(kind: str, frame: pd.DataFrame) -> None:
    expected = business_columns(kind) + ["snapshot_ts", "source"]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise RawStoreError(f"{kind}: extract is missing columns {missing}")
    for col, typ in KIND_COLUMNS[kind].items():
        if "NOT NULL" in typ and frame[col].isna().any():
            n = int(frame[col].isna().sum())
            raise RawStoreError(f"{kind}: column {col!r} has {n} null value(s) but is required")
    ts = pd.to_datetime(frame["snapshot_ts"], utc=True, errors="coerce")
    if ts.isna().any():
        raise RawStoreError(f"{kind}: column 'snapshot_ts' has {int(ts.isna().sum())} missing or unparseable value(s)")
    if kind == "schedule":
        problem = tip_problem(frame)
        if problem:
            raise RawStoreError(f"schedule: {problem}")


def append(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    frame: pd.DataFrame,
    *,
    run_id: str,
    extract_path: str | None,
    ingested_at: datetime | None = None,
    transaction: bool = True,
) -> AppendResult:
    """Append rows not stored yet (by content hash), inside one transaction.

    `transaction=False` lets a caller that already opened a transaction (the ingest engine, which also
    writes the id crosswalk and ingest log) make the append part of it.
    """
    validate_frame(kind, frame)
    if frame.empty:
        return AppendResult(kind, 0, 0)
    out = frame[business_columns(kind) + ["snapshot_ts", "source"]].copy()
    out["snapshot_ts"] = pd.to_datetime(out["snapshot_ts"], utc=True)
    out["content_hash"] = content_hashes(kind, out)
    out = out.drop_duplicates("content_hash")
    out["ingested_at"] = pd.Timestamp(ingested_at or datetime.now(UTC))
    out["run_id"] = run_id
    out["extract_path"] = extract_path
    ordered = list(KIND_COLUMNS[kind]) + list(AUDIT_COLUMNS)
    out = out[ordered]
    # A failed insert aborts the transaction: `registered` and `rollback_quietly` make sure nothing run
    # after it (unregister, rollback) replaces DuckDB's own error with "Current transaction is aborted".
    with store.registered(con, "incoming_rows", out):
        try:
            if transaction:
                con.execute("begin transaction")
            before = con.execute(f"select count(*) from raw.{kind}").fetchall()[0][0]
            con.execute(
                f"insert into raw.{kind} select * from incoming_rows i "
                f"where not exists (select 1 from raw.{kind} r where r.content_hash = i.content_hash)"
            )
            after = con.execute(f"select count(*) from raw.{kind}").fetchall()[0][0]
            if transaction:
                con.execute("commit")
        except Exception:
            if transaction:
                store.rollback_quietly(con)
            raise
    return AppendResult(kind, len(frame), int(after - before))
