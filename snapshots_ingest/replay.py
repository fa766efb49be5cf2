"""Replay a historical dataset as the snapshots a live pipeline would have seen at an instant T.

Every rule for *when* a replayed row becomes known (its `snapshot_ts`) is in docs/replay.md; this module
implements exactly those rules. `replay_kind(ds, kind, T)` returns rows in the raw-store business-column
format (`raw_store.KIND_COLUMNS[kind]` + `snapshot_ts` + `source`) and never a row with `snapshot_ts > T`.

All snapshot rows of a dataset are computed once (vectorized) and cached on the `Dataset`; a call then
only filters by `snapshot_ts <= T` and by the games' slate dates, so replaying five seasons takes seconds.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from snapshots_ingest import raw_store
from snapshots_ingest.dataset import Dataset

ET = "America/New_York"

# Timing rules (docs/replay.md is the specification; keep the two in step).
SCHEDULE_RELEASE_LEAD = pd.Timedelta(days=45)
ROSTER_NIGHTLY_ET_HOUR = pd.Timedelta(hours=10)
ROSTER_NIGHTLY_MAX_LEAD = pd.Timedelta(hours=2)
ROSTER_CONFIRM_LEAD = pd.Timedelta(minutes=30)
INJURY_EVE_REPORT_ET = pd.Timedelta(hours=17, minutes=30)  # on the day before the game
INJURY_GAMEDAY_LEAD = pd.Timedelta(minutes=90)
ODDS_LEAD = pd.Timedelta(hours=3)
BOX_SCORE_DELAY = pd.Timedelta(hours=3)
BOX_SCORE_DELAY_PER_OT = pd.Timedelta(minutes=15)

ODDS_BOOK = "replay_close"
# DNP reasons that mean the player was unavailable (listed OUT); "Did Not Play" is a coach's decision.
OUT_DNP_REASONS = ("Did Not Dress", "Not With Team", "Player Suspended", "Inactive")
INJURY_STATUS_RAW = {
    "OUT": "Out",
    "DOUBTFUL": "Doubtful",
    "QUESTIONABLE": "Questionable",
    "PROBABLE": "Probable",
    "AVAILABLE": "Available",
}


def source_label(ds: Dataset) -> str:
    return "synthetic" if ds.is_synthetic else "replay"


def _et_clock(game_date: pd.Series, offset: pd.Timedelta, days: int = 0) -> pd.Series:
    """UTC instant of a US/Eastern wall-clock time on (game_date + days); DST-aware."""
    local = pd.to_datetime(game_date) + pd.Timedelta(days=days) + offset
    return local.dt.tz_localize(ET).dt.tz_convert("UTC")


def _game_times(ds: Dataset) -> pd.DataFrame:
    g = ds.games
    return pd.DataFrame(
        {
            "game_id": g["game_id"],
            "tip_ts": g["tip_ts"],
            "game_time_et": g["tip_ts"].dt.tz_convert(ET).dt.strftime("%I:%M %p"),
            "matchup": g["away_tricode"] + "@" + g["home_tricode"],
        }
    )


def _out_flags(ds: Dataset) -> pd.Series:
    """Real data: the box-score rows that the replayed injury report lists as Out."""
    pg = ds.player_games
    return (pg["play_status"] == "inactive") | (
        (pg["play_status"] == "dnp") & pg["dnp_reason"].isin(OUT_DNP_REASONS)
    )


def _schedule(ds: Dataset) -> pd.DataFrame:
    g = ds.games.copy()
    release = g.groupby("season")["tip_ts"].transform("min") - SCHEDULE_RELEASE_LEAD
    g["snapshot_ts"] = release
    g["game_status"] = "scheduled"
    return g


def _previous_game_starters(pg: pd.DataFrame) -> pd.Series:
    """True where the player started his team's previous game (by tip time, across seasons)."""
    team_games = pg[["team_id", "game_id", "tip_ts"]].drop_duplicates(["team_id", "game_id"])
    team_games = team_games.sort_values(["team_id", "tip_ts", "game_id"], kind="stable")
    team_games["prev_game_id"] = team_games.groupby("team_id")["game_id"].shift(1)
    prev = pg[["team_id", "game_id"]].merge(team_games[["team_id", "game_id", "prev_game_id"]], how="left")
    starters = pg.loc[pg["starter"], ["team_id", "game_id", "player_id"]].rename(columns={"game_id": "prev_game_id"})
    starters["started_prev"] = True
    keyed = pd.DataFrame(
        {"team_id": pg["team_id"].to_numpy(), "prev_game_id": prev["prev_game_id"].to_numpy(), "player_id": pg["player_id"].to_numpy()}
    )
    keyed["prev_game_id"] = keyed["prev_game_id"].astype("Int64")
    starters["prev_game_id"] = starters["prev_game_id"].astype("Int64")
    flagged = keyed.merge(starters, how="left", on=["team_id", "prev_game_id", "player_id"])
    return pd.Series(flagged["started_prev"].fillna(False).astype(bool).to_numpy(), index=pg.index)


def _synthetic_out_at(ds: Dataset, pg: pd.DataFrame, at: pd.Series) -> pd.Series:
    """Synthetic league: the player's latest report at or before `at` (per row) says OUT."""
    reports = ds.injury_reports
    if reports is None or reports.empty:
        return pd.Series(False, index=pg.index)
    rows = pd.DataFrame({"game_id": pg["game_id"], "player_id": pg["player_id"], "at": at, "row": np.arange(len(pg))})
    joined = rows.merge(reports[["game_id", "player_id", "report_ts", "status"]], on=["game_id", "player_id"])
    joined = joined[joined["report_ts"] <= joined["at"]]
    latest = joined.sort_values(["row", "report_ts"], kind="stable").groupby("row").tail(1)
    out = np.zeros(len(pg), dtype=bool)
    out[latest.loc[latest["status"] == "OUT", "row"].to_numpy()] = True
    return pd.Series(out, index=pg.index)


def _roster(ds: Dataset) -> pd.DataFrame:
    pg = ds.player_games
    base = pd.DataFrame(
        {
            "game_date": pg["game_date"],
            "game_id": pg["game_id"],
            "team_id": pg["team_id"],
            "team_tricode": pg["team_tricode"],
            "player_id": pg["player_id"],
            "source_player_id": pg["source_player_id"],
            "player_name": pg["player_name"],
            "listed_pos": None,
        }
    )
    if ds.players is not None and not ds.players.empty:
        pos = ds.players.drop_duplicates(["season", "team_id", "player_id"])
        keyed = pd.DataFrame({"season": pg["season"], "team_id": pg["team_id"], "player_id": pg["player_id"]})
        base["listed_pos"] = keyed.merge(pos[["season", "team_id", "player_id", "listed_pos"]], how="left")[
            "listed_pos"
        ].to_numpy()

    nightly_ts = np.minimum(
        _et_clock(pg["game_date"], ROSTER_NIGHTLY_ET_HOUR), pg["tip_ts"] - ROSTER_NIGHTLY_MAX_LEAD
    )
    out_known = _synthetic_out_at(ds, pg, nightly_ts) if ds.is_synthetic else _out_flags(ds)
    projected = _previous_game_starters(pg) & ~out_known
    nightly = base.assign(
        active_flag=True,
        lineup_role=np.where(projected, "projected_starter", "bench"),
        snapshot_ts=nightly_ts,
    )
    inactive = pg["play_status"] == "inactive"
    confirmed = base.assign(
        active_flag=~inactive,
        lineup_role=np.select([pg["starter"], inactive], ["confirmed_starter", "out"], "bench"),
        snapshot_ts=pg["tip_ts"] - ROSTER_CONFIRM_LEAD,
    )
    return pd.concat([nightly, confirmed], ignore_index=True)


def _injuries(ds: Dataset) -> pd.DataFrame:
    times = _game_times(ds)
    games = ds.games[["game_id", "game_date"]].merge(times, on="game_id")
    if ds.is_synthetic:
        r = ds.injury_reports
        if r is None or r.empty:
            return pd.DataFrame(columns=[*raw_store.KIND_COLUMNS["injuries"], "snapshot_ts"])
        rows = pd.DataFrame(
            {
                "game_id": r["game_id"],
                "team_id": r["team_id"],
                "team_tricode": r["team_tricode"],
                "player_id": r["player_id"],
                "source_player_id": r["source_player_id"],
                "player_name": r["player_name"],
                "status_raw": r["status"].map(INJURY_STATUS_RAW),
                "reason": r["reason"],
                "snapshot_ts": r["report_ts"],
            }
        ).merge(games, on="game_id")
        return rows

    pg = ds.player_games
    out = pg[_out_flags(ds)]
    rows = pd.DataFrame(
        {
            "game_id": out["game_id"],
            "team_id": out["team_id"],
            "team_tricode": out["team_tricode"],
            "player_id": out["player_id"],
            "source_player_id": out["source_player_id"],
            "player_name": out["player_name"],
            "status_raw": "Out",
            "reason": out["dnp_reason"],
        }
    ).merge(games, on="game_id")
    eve = rows.assign(snapshot_ts=_et_clock(rows["game_date"], INJURY_EVE_REPORT_ET, days=-1))
    gameday = rows.assign(snapshot_ts=rows["tip_ts"] - INJURY_GAMEDAY_LEAD)
    return pd.concat([eve, gameday], ignore_index=True)


def _odds(ds: Dataset) -> pd.DataFrame:
    ln = ds.lines
    usable = ln["game_id"].notna() & ~ln["suspect_line_nulled"] & (ln["total"].notna() | ln["home_spread"].notna())
    ln = ln[usable].astype({"game_id": "int64"})
    g = ds.games[["game_id", "game_date", "tip_ts", "home_team_id", "away_team_id"]]
    rows = ln[["game_id", "total", "home_spread"]].merge(g, on="game_id")
    return rows.assign(
        book=ODDS_BOOK,
        spread_home=rows["home_spread"],
        snapshot_ts=rows["tip_ts"] - ODDS_LEAD,
    )


def _box_scores(ds: Dataset) -> pd.DataFrame:
    pg = ds.player_games
    return pg.assign(snapshot_ts=pg["tip_ts"] + BOX_SCORE_DELAY + BOX_SCORE_DELAY_PER_OT * pg["overtimes"])


_BUILDERS = {
    "schedule": _schedule,
    "roster": _roster,
    "injuries": _injuries,
    "odds": _odds,
    "box_scores": _box_scores,
}


def all_snapshots(ds: Dataset, kind: str) -> pd.DataFrame:
    """Every replayed row of `kind` (any snapshot_ts), sorted by snapshot_ts; cached on the dataset."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown snapshot kind {kind!r}; expected one of {', '.join(_BUILDERS)}")
    cached = ds.replay_cache.get(kind)
    if cached is None:
        rows = _BUILDERS[kind](ds)
        cols = [*raw_store.KIND_COLUMNS[kind], "snapshot_ts"]
        frame = rows[cols].copy()
        frame["source"] = source_label(ds)
        # the slate date used by the window filter (odds rows have no game_date column of their own)
        frame["_day"] = pd.to_datetime(rows["game_date"]).to_numpy().astype("datetime64[D]")
        sort_cols = [c for c in ("snapshot_ts", "game_id", "team_id", "player_id") if c in frame.columns]
        frame = frame.sort_values(sort_cols, kind="stable").reset_index(drop=True)
        days = frame.pop("_day").to_numpy()
        frame["snapshot_ts"] = pd.to_datetime(frame["snapshot_ts"], utc=True)
        # naive-UTC datetime64 copy: numpy comparisons on it are fast and exact
        snap = frame["snapshot_ts"].dt.tz_localize(None).to_numpy()
        cached = (frame, days, snap)
        ds.replay_cache[kind] = cached
    return cached[0]


def _as_utc(ts: datetime | pd.Timestamp) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    if t.tzinfo is None:
        raise ValueError(f"replay instant {ts!r} must be timezone-aware (UTC)")
    return t.tz_convert("UTC")


def replay_kind(
    ds: Dataset,
    kind: str,
    as_of: datetime | pd.Timestamp,
    date_from: date | None = None,
    date_to: date | None = None,
) -> pd.DataFrame:
    """Rows of `kind` known at `as_of` (snapshot_ts <= as_of) for games dated in [date_from, date_to]."""
    all_snapshots(ds, kind)
    frame, days, snap = ds.replay_cache[kind]
    t = _as_utc(as_of)
    mask = snap <= t.tz_localize(None).to_datetime64()
    if date_from is not None:
        mask &= days >= np.datetime64(date_from, "D")
    if date_to is not None:
        mask &= days <= np.datetime64(date_to, "D")
    return frame[mask].reset_index(drop=True)


def replay(
    ds: Dataset,
    as_of: datetime | pd.Timestamp,
    kinds: list[str] | tuple[str, ...] = raw_store.KINDS,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, pd.DataFrame]:
    return {kind: replay_kind(ds, kind, as_of, date_from, date_to) for kind in kinds}
