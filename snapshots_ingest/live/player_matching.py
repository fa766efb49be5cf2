"""Match injury-report names ("Jaquez Jr., Jaime") to the roster players of that team and date.

Tried in order, first hit wins; every step must find exactly one player of the team:
1. exact     — `ids.normalize_person_name` equal (accents, apostrophes, "Last, First" order folded)
2. suffix    — equal after dropping generational suffixes (Jr, Sr, II, III, IV, V) on both sides
3. compact   — equal after also removing spaces ("P. J." vs "PJ", "De'Aaron" vs "De Aaron")
4. last_initial — the report's last name and first initial fit exactly one player of the team
A name that fits none, or more than one player, is returned as unmatched with the reason: the caller
puts it in the run summary. Names are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pandas as pd

from snapshots_ingest.ids import normalize_person_name

SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})


@dataclass(frozen=True)
class RosterPlayer:
    player_id: int
    source_player_id: str
    player_name: str  # "Jaime Jaquez Jr." as the roster prints it


@dataclass(frozen=True)
class NameMatch:
    player: RosterPlayer
    method: str  # exact | suffix | compact | last_initial


@dataclass(frozen=True)
class UnmatchedName:
    report_name: str
    team_tricode: str | None
    game_date: date | None
    why: str

    def __str__(self) -> str:
        return f"{self.report_name} ({self.team_tricode}, {self.game_date}): {self.why}"


def _tokens(name: str) -> list[str]:
    return normalize_person_name(name).split()


def _without_suffix(tokens: list[str]) -> list[str]:
    kept = [t for t in tokens if t not in SUFFIXES]
    return kept or tokens


def _report_last_first(report_name: str) -> tuple[list[str], str]:
    """Last-name tokens (suffix dropped) and first-name initial of a report or roster name."""
    if "," in report_name:
        last, first = report_name.split(",", 1)
        last_tokens = _without_suffix(_tokens(last))
        first_tokens = _tokens(first)
    else:  # "First Last Jr." (roster style): the last non-suffix token is the last name
        tokens = _without_suffix(_tokens(report_name))
        last_tokens, first_tokens = tokens[-1:], tokens[:-1]
    return last_tokens, (first_tokens[0][0] if first_tokens else "")


def match_name(report_name: str, roster: Iterable[RosterPlayer]) -> NameMatch | str:
    """The one roster player a report name refers to, or a string saying why there is none."""
    players = list(roster)
    if not players:
        return "no roster players for this team and date"
    wanted = _tokens(report_name)
    keys = [
        ("exact", lambda t: " ".join(t)),
        ("suffix", lambda t: " ".join(_without_suffix(t))),
        ("compact", lambda t: "".join(_without_suffix(t))),
    ]
    for method, key in keys:
        hits = [p for p in players if key(_tokens(p.player_name)) == key(wanted)]
        if len(hits) == 1:
            return NameMatch(hits[0], method)
        if len(hits) > 1:
            return f"ambiguous ({method}): " + ", ".join(p.player_name for p in hits)
    last, initial = _report_last_first(report_name)
    last_compact = "".join(last)
    hits = []
    for p in players:
        tokens = _without_suffix(_tokens(p.player_name))
        if len(tokens) < 2 or not initial:
            continue
        if "".join(tokens[1:]).endswith(last_compact) and tokens[0].startswith(initial):
            hits.append(p)
    if len(hits) == 1:
        return NameMatch(hits[0], "last_initial")
    if len(hits) > 1:
        return "ambiguous (last name + initial): " + ", ".join(p.player_name for p in hits)
    return "no roster player of this team has this name"


def roster_for(roster: pd.DataFrame, team_tricode: str, game_date: date) -> list[RosterPlayer]:
    """The team's players on `game_date`, else on its latest earlier roster date (a roster fetched
    today may be used for tomorrow's report). Never a later date: that would leak."""
    team = roster[roster["team_tricode"] == team_tricode]
    dates = pd.to_datetime(team["game_date"]).dt.date
    usable = sorted({d for d in dates if d <= game_date})
    if not usable:
        return []
    rows = team[dates == usable[-1]].drop_duplicates("player_id")
    return [
        RosterPlayer(int(r.player_id), str(r.source_player_id), str(r.player_name))
        for r in rows.itertuples(index=False)
    ]


def match_injury_rows(
    injuries: pd.DataFrame, roster: pd.DataFrame
) -> tuple[pd.DataFrame, list[UnmatchedName]]:
    """Fill `player_id`/`source_player_id` of raw injuries rows from roster rows (raw_store columns).

    Rows without a player (NOT YET SUBMITTED) pass through untouched. Returns the frame and the
    names that could not be matched, each with the reason.
    """
    out = injuries.copy()
    out["player_id"] = out["player_id"].astype("Int64")
    out["source_player_id"] = out["source_player_id"].astype("string")
    unmatched: list[UnmatchedName] = []
    cache: dict[tuple[str, date], list[RosterPlayer]] = {}
    for idx, row in out.iterrows():
        name = row["player_name"]
        if pd.isna(name) or not str(name).strip():
            continue
        team = row["team_tricode"]
        game_date = pd.Timestamp(row["game_date"]).date()
        if pd.isna(team):
            unmatched.append(UnmatchedName(str(name), None, game_date, "team name not recognised"))
            continue
        key = (str(team), game_date)
        if key not in cache:
            cache[key] = roster_for(roster, str(team), game_date)
        result = match_name(str(name), cache[key])
        if isinstance(result, str):
            unmatched.append(UnmatchedName(str(name), str(team), game_date, result))
            continue
        out.at[idx, "player_id"] = result.player.player_id
        out.at[idx, "source_player_id"] = result.player.source_player_id
    return out, unmatched
