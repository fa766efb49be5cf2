"""Synthetic league: a seeded, deterministic dataset in the format of `../shared/data/nba/`.

It is the embedded default for the demo and for tests that must run without the real tables. The same
seed gives byte-identical files. Everything is invented except the 30 team codes and names: players are
`syn...` slugs with made-up names, arenas are "<code> Synthetic Arena".

What it simulates (the rules a minutes model has to learn from):
- an 82-game regular season per team, Oct -> Apr, tips in each home arena's local time (Phoenix without DST),
  back-to-backs, about 6% overtime games (team seconds sum to exactly 240*60 + 25*60 per OT);
- 14-17-man rosters, at most 13 active per game: healthy scratches and injured players are `inactive`,
  deep-bench players are often `dnp` (coach's decision); roles drift and change during the season;
- injuries with durations, two injury reports per game (day before 17:30 ET and tip - 90 min) whose final
  status drives whether the player suits up (OUT never, DOUBTFUL ~25%, QUESTIONABLE ~55%, PROBABLE ~90%,
  AVAILABLE ~99%);
- a trade deadline with player swaps (rosters_derived has one row per team for a traded player);
- team strength that drives both the results and the closing lines (spread, total, moneylines).

Two tables exist only here: `injury_reports_*` and `players_*` (listed positions). Calibration against the
real seasons lives in docs/synthetic_league.md (numbers from bench/calibrate_synthetic.py).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from foundation import clock
from foundation.clock import LEAGUE_TZ as ET
from snapshots_ingest.ids import BREF_TO_NBA_TRICODE, NBA_TEAMS

GENERATOR_VERSION = "1.0.0"
NAMESPACE = "syn"

UTC = ZoneInfo("UTC")

# --------------------------------------------------------------------------------------------------
# League constants
# --------------------------------------------------------------------------------------------------

_NBA_TO_BREF = {nba: bref for bref, nba in BREF_TO_NBA_TRICODE.items()}
# basketball-reference spells the Clippers out; NBA.com (and fixturedownload) say "LA Clippers".
_BREF_NAME_OVERRIDES = {"LAC": "Los Angeles Clippers"}

_ARENA_TZ = {
    **dict.fromkeys(
        ["ATL", "BOS", "BRK", "CHO", "CLE", "DET", "IND", "MIA", "NYK", "ORL", "PHI", "TOR", "WAS"],
        "America/New_York",
    ),
    **dict.fromkeys(["CHI", "DAL", "HOU", "MEM", "MIL", "MIN", "NOP", "OKC", "SAS"], "America/Chicago"),
    "DEN": "America/Denver",
    "UTA": "America/Denver",
    "PHO": "America/Phoenix",  # Arizona does not observe DST
    **dict.fromkeys(["GSW", "LAC", "LAL", "POR", "SAC"], "America/Los_Angeles"),
}


@dataclass(frozen=True)
class Team:
    bref: str
    nba_tricode: str
    nba_team_id: int
    name: str  # basketball-reference name (schedule, lines)
    nba_name: str  # NBA.com / fixturedownload name
    tz: ZoneInfo


def league_teams() -> list[Team]:
    teams = []
    for tricode, (team_id, nba_name) in NBA_TEAMS.items():
        bref = _NBA_TO_BREF.get(tricode, tricode)
        name = _BREF_NAME_OVERRIDES.get(bref, nba_name)
        teams.append(Team(bref, tricode, team_id, name, nba_name, ZoneInfo(_ARENA_TZ[bref])))
    return sorted(teams, key=lambda t: t.bref)


# Injury report statuses and the probability that a player with that final (game-day) status suits up.
SUIT_UP_PROBABILITY = {"OUT": 0.0, "DOUBTFUL": 0.25, "QUESTIONABLE": 0.55, "PROBABLE": 0.90, "AVAILABLE": 0.99}
ACTIVE_LIMIT = 13  # NBA game-day active list
# Players under contract at a time (15 standard + two-way deals); the rest of the listed players are inactive.
_ROSTER_SIZES, _ROSTER_SIZE_WEIGHTS = [15, 16, 17, 18], [0.15, 0.35, 0.35, 0.15]
_HOME_EDGE = 2.2  # points

_INJURY_REASONS = [
    "Left Ankle; Sprain", "Right Ankle; Sprain", "Left Knee; Soreness", "Right Knee; Soreness",
    "Low Back; Tightness", "Left Hamstring; Strain", "Right Hamstring; Strain", "Right Calf; Strain",
    "Left Groin; Strain", "Right Wrist; Sprain", "Left Foot; Plantar Fasciitis", "Illness",
    "Right Shoulder; Soreness", "Left Hip; Contusion", "Concussion Protocol", "Right Thumb; Sprain",
]
_MINOR_REASONS = ["Illness", "Low Back; Soreness", "Left Ankle; Soreness", "Right Knee; Soreness",
                  "Right Hip; Tightness", "Left Wrist; Soreness", "Personal Reasons"]

_FIRST_NAMES = [
    "Arlo", "Bexley", "Corwin", "Dashiell", "Ezran", "Fennick", "Galen", "Harlan", "Idris", "Jory",
    "Kasimir", "Lucan", "Marek", "Nevin", "Orrin", "Pell", "Quill", "Rafe", "Soren", "Tavish", "Ulric",
    "Vance", "Wystan", "Xavi", "Yorick", "Zeph", "Bram", "Caspian", "Dorian", "Emrys", "Florian",
    "Gideon", "Hale", "Ivo", "Jasper", "Kell", "Lorcan", "Milo", "Nash", "Oakley", "Penn", "Rowan",
    "Sully", "Thane", "Evander", "Wilder", "Cato", "Anselm", "Bastian", "Cyprian", "Dax", "Eben",
]
_SURNAME_HEADS = ["Ash", "Bram", "Cal", "Dun", "Elm", "Fen", "Gry", "Hal", "Ivor", "Kest", "Lind", "Mor",
                  "Nor", "Orl", "Pim", "Quar", "Ros", "Strat", "Thorn", "Vel", "Wex", "Yar", "Zell", "Brin"]
_SURNAME_TAILS = ["ley", "wick", "ford", "brook", "mere", "ton", "dale", "holt", "crest", "ridge", "wood",
                  "haven", "by", "stead", "combe", "more"]

_POSITIONS = ["G", "G-F", "F", "F-C", "C"]
_POSITION_WEIGHTS = [0.34, 0.14, 0.26, 0.12, 0.14]

# Per-minute box-score rates by position (field goal attempts, share of threes, free throws per FGA,
# offensive / defensive rebounds, assists, steals, blocks, turnovers, fouls).
_RATES = {
    "G": dict(fga=0.40, p3=0.46, ftr=0.24, orb=0.018, drb=0.100, ast=0.170, stl=0.036, blk=0.010, tov=0.062, pf=0.070),
    "G-F": dict(fga=0.38, p3=0.42, ftr=0.24, orb=0.030, drb=0.125, ast=0.100, stl=0.034, blk=0.016, tov=0.050, pf=0.078),
    "F": dict(fga=0.36, p3=0.38, ftr=0.25, orb=0.040, drb=0.150, ast=0.075, stl=0.030, blk=0.022, tov=0.046, pf=0.085),
    "F-C": dict(fga=0.35, p3=0.22, ftr=0.30, orb=0.070, drb=0.190, ast=0.065, stl=0.026, blk=0.038, tov=0.046, pf=0.095),
    "C": dict(fga=0.34, p3=0.10, ftr=0.34, orb=0.095, drb=0.225, ast=0.060, stl=0.024, blk=0.055, tov=0.050, pf=0.105),
}
_P2, _P3, _PFT = 0.535, 0.355, 0.775
_MAKE_PROBABILITY = np.array([[_P2], [_P3], [_PFT]])

# Rotation shape: base minutes by depth rank (starters first) and the chance that a healthy, active
# player at that rank gets into a normal (non-blowout) game.
_BASE_MINUTES = [35.0, 33.5, 32.0, 30.0, 27.5, 24.0, 21.0, 18.0, 15.0, 11.0, 8.0, 6.0, 5.0, 4.0, 4.0, 4.0, 4.0]
_PLAY_PROBABILITY = [1.0] * 5 + [0.99, 0.98, 0.95, 0.86, 0.64, 0.42, 0.27, 0.18, 0.10, 0.10, 0.10, 0.10]


# --------------------------------------------------------------------------------------------------
# Output schemas (same Arrow types as the real files; extra synthetic-only tables at the end)
# --------------------------------------------------------------------------------------------------

_S, _D, _B, _F = pa.large_string(), pa.date32(), pa.bool_(), pa.float64()
_I16, _I32, _I64, _TS = pa.int16(), pa.int32(), pa.int64(), pa.timestamp("us")
_STAT_COLUMNS = ["fg", "fga", "fg3", "fg3a", "ft", "fta", "orb", "drb", "trb", "ast", "stl", "blk", "tov", "pf",
                 "pts", "plus_minus"]

SCHEMAS: dict[str, pa.Schema] = {
    "box_scores": pa.schema(
        [("season", _S), ("game_id", _S), ("game_date", _D), ("game_type", _S), ("team", _S), ("opponent", _S),
         ("is_home", _B), ("player_id", _S), ("player_name", _S), ("starter", _B), ("box_order", _I16),
         ("status", _S), ("dnp_reason", _S), ("seconds_played", _I32), ("minutes", _F)]
        + [(c, _I16) for c in _STAT_COLUMNS]
    ),
    "schedule_bref": pa.schema(
        [("season", _S), ("game_id", _S), ("game_date", _D), ("tipoff_et", _S), ("tipoff_utc", _TS),
         ("game_type", _S), ("in_season_tournament", _B), ("away_team", _S), ("away_team_name", _S),
         ("home_team", _S), ("home_team_name", _S), ("away_pts", _I16), ("home_pts", _I16), ("overtimes", _S),
         ("attendance", _I32), ("arena", _S), ("remarks", _S), ("box_score_available", _B)]
    ),
    "lines": pa.schema(
        [("season", _S), ("game_date", _D), ("game_id", _S), ("game_type", _S), ("home_team", _S),
         ("away_team", _S), ("home_team_name", _S), ("away_team_name", _S), ("total", _F),
         ("home_favored_by", _F), ("home_spread", _F), ("spread_sign_source", _S), ("ml_home", _I32),
         ("ml_away", _I32), ("suspect_line_nulled", _B), ("final_total_points", _I16), ("final_home_margin", _I16)]
    ),
    "rosters_derived": pa.schema(
        [("season", _S), ("team", _S), ("player_id", _S), ("player_name", _S), ("games_listed", _I64),
         ("games_played", _I64), ("games_started", _I64), ("dnp_games", _I64), ("inactive_games", _I64),
         ("first_game_date", _D), ("last_game_date", _D)]
    ),
    "teams_crosswalk": pa.schema(
        [("bref_team", _S), ("nba_tricode", _S), ("nba_team_id", _I64), ("team_name", _S),
         ("fixturedownload_name", _S)]
    ),
    "injury_reports": pa.schema(
        [("season", _S), ("game_id", _S), ("team", _S), ("player_id", _S), ("player_name", _S),
         ("report_ts", _TS), ("status", _S), ("reason", _S)]
    ),
    "players": pa.schema(
        [("season", _S), ("team", _S), ("player_id", _S), ("player_name", _S), ("listed_pos", _S)]
    ),
}

_PANDAS_DTYPES = {pa.int16(): "Int16", pa.int32(): "Int32"}


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


@dataclass
class GeneratedFile:
    name: str
    rows: int
    bytes: int
    sha256: str


@dataclass
class GenerationSummary:
    out_dir: Path
    seed: int
    seasons: list[str]
    games: int
    players: int
    elapsed_seconds: float
    files: list[GeneratedFile] = field(default_factory=list)

    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)


def season_label(start_year: int) -> str:
    """'2023-24' for the season starting in `start_year` (foundation.clock.season_label of its first October)."""
    return clock.season_label(date(start_year, 10, 1))


def season_suffix(start_year: int) -> str:
    return f"{start_year}_{(start_year + 1) % 100:02d}"


def generate_league(
    out_dir: Path, seed: int = 7, seasons: int = 2, first_season_start_year: int = 2023
) -> GenerationSummary:
    """Write a synthetic league (`seasons` regular seasons) into `out_dir`; same seed -> same bytes."""
    if seasons < 1:
        raise ValueError(f"seasons must be >= 1, got {seasons}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    teams = league_teams()
    league = _League(teams, rng)

    files: list[GeneratedFile] = []
    labels: list[str] = []
    n_games = 0
    files.append(_write(out_dir / "teams_crosswalk.parquet", "teams_crosswalk", _crosswalk_frame(teams)))
    for i in range(seasons):
        year = first_season_start_year + i
        if i > 0:
            league.offseason()
        tables = _SeasonSimulator(league, year, rng).run()
        suffix = season_suffix(year)
        for table, frame in tables.items():
            files.append(_write(out_dir / f"{table}_{suffix}.parquet", table, frame))
        labels.append(season_label(year))
        n_games += len(tables["schedule_bref"])

    (out_dir / "dataset.json").write_text(
        json.dumps({"namespace": NAMESPACE, "seed": seed, "generator_version": GENERATOR_VERSION}, indent=2) + "\n"
    )
    (out_dir / "README.md").write_text(_readme_text(seed, labels))
    for extra in ("dataset.json", "README.md"):
        data = (out_dir / extra).read_bytes()
        files.append(GeneratedFile(extra, -1, len(data), hashlib.sha256(data).hexdigest()))
    return GenerationSummary(
        out_dir=out_dir, seed=seed, seasons=labels, games=n_games, players=len(league.players),
        elapsed_seconds=time.perf_counter() - started, files=sorted(files, key=lambda f: f.name),
    )


# --------------------------------------------------------------------------------------------------
# Players and league state carried across seasons
# --------------------------------------------------------------------------------------------------


@dataclass
class Player:
    player_id: str
    name: str
    pos: str
    quality: float  # drives depth-chart rank (higher = better)
    usage: float  # multiplies shot attempts
    injury_prone: float


class _League:
    def __init__(self, teams: list[Team], rng: np.random.Generator) -> None:
        self.teams = teams
        self.rng = rng
        self.players: dict[str, Player] = {}
        self._used_names: set[str] = set()
        self._slug_counts: dict[str, int] = {}
        # Standardized so that every seed gives a league as spread out as a real one (spread ranges and the
        # line/margin correlation would otherwise swing with the sample spread of 30 draws).
        self.strength = _standardized([t.bref for t in teams], rng, sd=4.2)
        self.pace = _standardized([t.bref for t in teams], rng, sd=4.5)
        self.rosters: dict[str, list[str]] = {}
        for t in teams:
            size = int(rng.choice(_ROSTER_SIZES, p=_ROSTER_SIZE_WEIGHTS))
            self.rosters[t.bref] = [self.new_player().player_id for _ in range(size)]

    def new_player(self, quality: float | None = None) -> Player:
        rng = self.rng
        while True:
            first = _FIRST_NAMES[int(rng.integers(len(_FIRST_NAMES)))]
            last = _SURNAME_HEADS[int(rng.integers(len(_SURNAME_HEADS)))] + _SURNAME_TAILS[
                int(rng.integers(len(_SURNAME_TAILS)))]
            name = f"{first} {last}"
            if name not in self._used_names:
                break
        self._used_names.add(name)
        base = f"syn{last[:5].lower()}{first[:2].lower()}"
        n = self._slug_counts.get(base, 0) + 1
        self._slug_counts[base] = n
        player = Player(
            player_id=f"{base}{n:02d}",
            name=name,
            pos=str(rng.choice(_POSITIONS, p=_POSITION_WEIGHTS)),
            quality=float(rng.normal(0.0, 1.0)) if quality is None else quality,
            usage=float(np.exp(rng.normal(0.0, 0.22))),
            injury_prone=float(np.exp(rng.normal(0.0, 0.45))),
        )
        self.players[player.player_id] = player
        return player

    def offseason(self) -> None:
        """Age the league: some players leave, some change teams, newcomers fill the rosters."""
        rng = self.rng
        drift = _standardized(sorted(self.strength), rng, sd=1.0)
        self.strength = {t: float(0.6 * v + 0.8 * 4.2 * drift[t]) for t, v in self.strength.items()}
        free_agents: list[str] = []
        for team in sorted(self.rosters):
            kept = []
            for pid in self.rosters[team]:
                p = self.players[pid]
                p.quality = float(p.quality + rng.normal(0.0, 0.35))
                u = rng.random()
                if u < 0.12:
                    continue  # retired / left the league
                if u < 0.22:
                    free_agents.append(pid)
                    continue
                kept.append(pid)
            self.rosters[team] = kept
        order = rng.permutation(len(free_agents))
        free_agents = [free_agents[int(i)] for i in order]
        for team in sorted(self.rosters):
            target = int(rng.choice(_ROSTER_SIZES, p=_ROSTER_SIZE_WEIGHTS))
            while len(self.rosters[team]) < target:
                if free_agents and rng.random() < 0.6:
                    self.rosters[team].append(free_agents.pop())
                else:
                    self.rosters[team].append(self.new_player(quality=float(rng.normal(-0.4, 0.9))).player_id)


# --------------------------------------------------------------------------------------------------
# Schedule
# --------------------------------------------------------------------------------------------------


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    d = date(year, month, 1)
    d += timedelta(days=(weekday - d.weekday()) % 7)
    return d + timedelta(weeks=n - 1)


def _season_days(year: int) -> list[date]:
    """Game days of a regular season: late-October Tuesday to mid-April, minus the usual dark days."""
    start = date(year, 10, 18)
    start += timedelta(days=(1 - start.weekday()) % 7)  # first Tuesday on/after Oct 18
    end = date(year + 1, 4, 13)
    thanksgiving = _nth_weekday(year, 11, 3, 4)
    presidents_day = _nth_weekday(year + 1, 2, 0, 3)
    all_star = {presidents_day + timedelta(days=k) for k in range(-3, 3)}
    dark = {thanksgiving, date(year, 12, 24)} | all_star
    days, d = [], start
    while d <= end:
        if d not in dark:
            days.append(d)
        d += timedelta(days=1)
    return days


def _matchups(teams: list[str], rng: np.random.Generator) -> list[tuple[str, str]]:
    """1,230 (home, away) pairs: every pair home-and-away once, plus 24 more games per team (12 home)."""
    games = [(h, a) for h in teams for a in teams if h != a]
    perm = [teams[int(i)] for i in rng.permutation(len(teams))]
    n = len(perm)
    for i in range(n):
        for k in range(1, 13):  # i hosts i+k: every team gets 12 extra home and 12 extra away games
            games.append((perm[i], perm[(i + k) % n]))
    return games


def _assign_dates(
    games: list[tuple[str, str]], days: list[date], rng: np.random.Generator
) -> list[tuple[date, str, str]]:
    pending = [games[int(i)] for i in rng.permutation(len(games))]
    remaining: dict[str, int] = {}
    for h, a in pending:
        remaining[h] = remaining.get(h, 0) + 1
        remaining[a] = remaining.get(a, 0) + 1
    last_played: dict[str, list[date]] = {t: [] for t in remaining}
    weekday_factor = [1.0, 1.0, 1.25, 0.65, 1.25, 1.05, 0.8]
    scheduled: list[tuple[date, str, str]] = []
    day_index = 0
    while pending:
        if day_index < len(days):
            day = days[day_index]
            days_left = len(days) - day_index
        else:  # overflow (should not happen): extend the season by a day
            day = scheduled[-1][0] + timedelta(days=1)
            days_left = 1
        day_index += 1
        target = len(pending) / days_left * weekday_factor[day.weekday()] * float(rng.uniform(0.75, 1.25))
        target = max(1, min(15, int(round(target))))
        # Teams that are behind (many games left for the days remaining) get scheduled first.
        noise = rng.random(len(pending))
        order = sorted(range(len(pending)),
                       key=lambda i: (-(remaining[pending[i][0]] + remaining[pending[i][1]]), noise[i]))
        busy: set[str] = set()
        taken: list[int] = []
        for i in order:
            if len(taken) >= target:
                break
            h, a = pending[i]
            if h in busy or a in busy:
                continue
            ok = True
            for t in (h, a):
                recent = last_played[t]
                yesterday = bool(recent) and recent[-1] == day - timedelta(days=1)
                three_in_three = len(recent) >= 2 and recent[-2] == day - timedelta(days=2) and yesterday
                four_in_five = len(recent) >= 3 and recent[-3] >= day - timedelta(days=4)
                behind = remaining[t] > 0.62 * days_left
                if three_in_three or (four_in_five and not behind) or (yesterday and not behind and rng.random() > 0.20):
                    ok = False
                    break
            if not ok:
                continue
            taken.append(i)
            busy.update((h, a))
        for i in taken:
            h, a = pending[i]
            scheduled.append((day, h, a))
            for t in (h, a):
                remaining[t] -= 1
                last_played[t].append(day)
        taken_set = set(taken)
        pending = [g for i, g in enumerate(pending) if i not in taken_set]
    return scheduled


def _local_tip(day: date, home: Team, rng: np.random.Generator) -> datetime:
    """Scheduled tip in the home arena's local time (weekend matinees, otherwise evening)."""
    if day.weekday() >= 5 and rng.random() < 0.22:
        hhmm = str(rng.choice(["12:00", "13:00", "15:00", "15:30", "17:00", "18:00"]))
    else:
        hhmm = str(rng.choice(["18:00", "18:30", "19:00", "19:30", "20:00"], p=[0.05, 0.05, 0.42, 0.36, 0.12]))
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=home.tz)


# --------------------------------------------------------------------------------------------------
# One season
# --------------------------------------------------------------------------------------------------


@dataclass
class _Injury:
    start: date  # last day he played (injured in that game); misses games after it
    end: date  # first day he can play again
    reason: str


@dataclass
class _PlayerSeason:
    """Season-specific state: role trajectory, injuries, return-from-injury window."""

    quality: float
    slope: float  # role drift over the season
    step_day: date | None  # day of a role change (breakout / demotion)
    step: float
    injuries: list[_Injury] = field(default_factory=list)
    returning_reason: str | None = None  # set after an injury until he plays again

    def role(self, day: date, frac: float) -> float:
        step = self.step if self.step_day is not None and day >= self.step_day else 0.0
        return self.quality + self.slope * frac + step

    def injury_on(self, day: date) -> _Injury | None:
        for inj in self.injuries:
            if inj.start < day < inj.end:
                return inj
        return None


class _SeasonSimulator:
    def __init__(self, league: _League, year: int, rng: np.random.Generator) -> None:
        self.league = league
        self.year = year
        self.rng = rng
        self.label = season_label(year)
        self.teams = {t.bref: t for t in league.teams}
        self.days = _season_days(year)
        self.first_day, self.last_day = self.days[0], self.days[-1]
        self.trade_day = _nth_weekday(year + 1, 2, 3, 2)  # second Thursday of February
        self.state: dict[str, _PlayerSeason] = {}
        for team in sorted(league.rosters):
            for pid in league.rosters[team]:
                self._init_player(pid)
        self.box_rows: list[dict] = []
        self.schedule_rows: list[dict] = []
        self.line_rows: list[dict] = []
        self.report_rows: list[dict] = []
        self.player_team_rows: set[tuple[str, str]] = set()
        self.last_game_day: dict[str, date] = {}
        self._profiles: dict[str, np.ndarray] = {}

    def _init_player(self, pid: str) -> None:
        rng = self.rng
        has_step = rng.random() < 0.12
        span = (self.last_day - self.first_day).days
        self.state[pid] = _PlayerSeason(
            quality=self.league.players[pid].quality,
            slope=float(rng.normal(0.0, 0.35)),
            step_day=self.first_day + timedelta(days=int(rng.integers(20, span - 20))) if has_step else None,
            step=float(rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 1.6)) if has_step else 0.0,
        )

    # --- season events ---------------------------------------------------------------------------

    def _trade_deadline(self) -> None:
        """Two or three one-for-one swaps of rotation players between random teams."""
        rng = self.rng
        codes = sorted(self.league.rosters)
        n_trades = int(rng.integers(2, 4))
        picks = [codes[int(i)] for i in rng.permutation(len(codes))[: 2 * n_trades]]
        for a, b in zip(picks[::2], picks[1::2], strict=True):
            pa_, pb = self._trade_candidate(a), self._trade_candidate(b)
            ra, rb = self.league.rosters[a], self.league.rosters[b]
            ra[ra.index(pa_)] = pb
            rb[rb.index(pb)] = pa_

    def _trade_candidate(self, team: str) -> str:
        frac = self._frac(self.trade_day)
        ranked = sorted(self.league.rosters[team], key=lambda p: -self.state[p].role(self.trade_day, frac))
        return ranked[int(self.rng.integers(3, 9))]

    def _midseason_signings(self) -> None:
        """Some teams waive their last man in January and sign someone new."""
        rng = self.rng
        day = date(self.year + 1, 1, 10)
        for team in sorted(self.league.rosters):
            for _ in range(int(rng.choice([0, 1, 2, 3], p=[0.3, 0.35, 0.25, 0.1]))):
                roster = self.league.rosters[team]
                frac = self._frac(day)
                worst = min(roster, key=lambda p: self.state[p].role(day, frac))
                roster.remove(worst)
                newcomer = self.league.new_player(quality=float(rng.normal(-1.0, 0.6)))
                roster.append(newcomer.player_id)
                self._init_player(newcomer.player_id)

    def _frac(self, day: date) -> float:
        return (day - self.first_day).days / max(1, (self.last_day - self.first_day).days)

    # --- main loop -------------------------------------------------------------------------------

    def run(self) -> dict[str, pd.DataFrame]:
        rng = self.rng
        scheduled = _assign_dates(_matchups(sorted(self.teams), rng), self.days, rng)
        scheduled.sort(key=lambda g: (g[0], g[1]))
        signed = traded = False
        for day, home, away in scheduled:
            if not signed and day >= date(self.year + 1, 1, 10):
                self._midseason_signings()
                signed = True
            if not traded and day > self.trade_day:
                self._trade_deadline()
                traded = True
            self._play_game(day, home, away)
        return {
            "box_scores": _frame("box_scores", self.box_rows),
            "schedule_bref": _frame("schedule_bref", self.schedule_rows),
            "lines": _frame("lines", self.line_rows),
            "rosters_derived": self._rosters_derived(),
            "injury_reports": _frame(
                "injury_reports", sorted(self.report_rows, key=lambda r: (r["report_ts"], r["game_id"], r["team"],
                                                                         r["player_id"]))),
            "players": _frame("players", [
                {"season": self.label, "team": t, "player_id": p, "player_name": self.league.players[p].name,
                 "listed_pos": self.league.players[p].pos}
                for t, p in sorted(self.player_team_rows)
            ]),
        }

    def _play_game(self, day: date, home: str, away: str) -> None:
        rng = self.rng
        home_team, away_team = self.teams[home], self.teams[away]
        local_tip = _local_tip(day, home_team, rng)
        tip_et = local_tip.astimezone(ET)
        tip_utc = local_tip.astimezone(UTC).replace(tzinfo=None)
        game_day = tip_et.date()
        game_id = f"{game_day:%Y%m%d}0{home}"

        # Who is available, and what the injury reports said.
        lineups = {side: self._team_availability(side, game_id, game_day, tip_et, opp)
                   for side, opp in ((home, away), (away, home))}

        # Strength of tonight's lineups (missing top players cost their team points).
        def effective(team: str) -> float:
            avail = lineups[team]
            lost = sum(max(0.0, q) for q in avail["missing_quality"])
            return self.league.strength[team] - 1.3 * lost

        expected_margin = effective(home) - effective(away) + _HOME_EDGE
        expected_total = 224.0 + self.league.pace[home] + self.league.pace[away] + float(rng.normal(0.0, 3.0))
        favored_by = _half(expected_margin + float(rng.normal(0.0, 1.2)))
        line_total = _half(expected_total + float(rng.normal(0.0, 2.0)))

        raw_margin = expected_margin + float(rng.normal(0.0, 13.0))
        margin = int(round(raw_margin))
        total = expected_total + float(rng.normal(0.0, 17.0))
        overtimes = 0
        if abs(raw_margin) < 1.0:  # tied after regulation (~5.5% of games)
            overtimes = 1 + int(rng.random() < 0.13) + int(rng.random() < 0.02)
            total += 11.0 * overtimes
            margin = int(rng.choice([-1, 1])) * int(rng.integers(1, 9))
        home_pts = int(round((total + margin) / 2.0))
        away_pts = home_pts - margin

        for team, opp, is_home, pts, opp_pts in ((away, home, False, away_pts, home_pts),
                                                 (home, away, True, home_pts, away_pts)):
            self._box_score(game_id, game_day, team, opp, is_home, lineups[team], pts, pts - opp_pts, overtimes)

        self.schedule_rows.append({
            "season": self.label, "game_id": game_id, "game_date": game_day, "tipoff_et": f"{tip_et:%H:%M}",
            "tipoff_utc": tip_utc, "game_type": "regular", "in_season_tournament": False,
            "away_team": away, "away_team_name": away_team.name, "home_team": home,
            "home_team_name": home_team.name, "away_pts": away_pts, "home_pts": home_pts,
            "overtimes": None if overtimes == 0 else ("OT" if overtimes == 1 else f"{overtimes}OT"),
            "attendance": int(rng.integers(15000, 20500)), "arena": f"{home} Synthetic Arena",
            "remarks": None, "box_score_available": True,
        })
        ml_home, ml_away = _moneylines(favored_by)
        self.line_rows.append({
            "season": self.label, "game_date": game_day, "game_id": game_id, "game_type": "regular",
            "home_team": home, "away_team": away, "home_team_name": home_team.name,
            "away_team_name": away_team.name, "total": line_total, "home_favored_by": favored_by,
            "home_spread": 0.0 - favored_by + 0.0, "spread_sign_source": "signed_in_source",
            "ml_home": ml_home, "ml_away": ml_away, "suspect_line_nulled": False,
            "final_total_points": home_pts + away_pts, "final_home_margin": home_pts - away_pts,
        })
        self.last_game_day[home] = game_day
        self.last_game_day[away] = game_day

    # --- availability and injury reports ---------------------------------------------------------

    def _team_availability(self, team: str, game_id: str, day: date, tip_et: datetime, opp: str) -> dict:
        rng = self.rng
        frac = self._frac(day)
        roster = self.league.rosters[team]
        back_to_back = self.last_game_day.get(team) == day - timedelta(days=1)
        day_before_ts = datetime(day.year, day.month, day.day, 17, 30, tzinfo=ET) - timedelta(days=1)
        game_day_ts = tip_et - timedelta(minutes=90)
        roles = {p: self.state[p].role(day, frac) for p in roster}
        ranked = sorted(roster, key=lambda p: -roles[p])
        rank_of = {p: i for i, p in enumerate(ranked)}

        suited: list[str] = []
        cleared: set[str] = set()
        out: list[str] = []
        missing_quality: list[float] = []
        for pid in ranked:
            st = self.state[pid]
            injury = st.injury_on(day)
            reports: list[tuple[datetime, str]] = []  # (timestamp, status)
            reason = None
            if injury is not None:
                reason = injury.reason
                reports.append((game_day_ts, "OUT"))
                if day - timedelta(days=1) > injury.start:  # injured before the day-before report
                    reports.append((day_before_ts, "OUT"))
                st.returning_reason = injury.reason
            elif st.returning_reason is not None:
                reason = st.returning_reason
                final = str(rng.choice(["DOUBTFUL", "QUESTIONABLE", "PROBABLE"], p=[0.25, 0.5, 0.25]))
                earlier = {"DOUBTFUL": "OUT", "QUESTIONABLE": "DOUBTFUL", "PROBABLE": "QUESTIONABLE"}[final]
                reports += [(day_before_ts, earlier if rng.random() < 0.4 else final), (game_day_ts, final)]
            elif back_to_back and rank_of[pid] < 3 and rng.random() < 0.06:
                reason = "Rest"
                reports.append((game_day_ts, "OUT"))
            else:
                u = rng.random()
                if u < 0.030:
                    final = "QUESTIONABLE"
                elif u < 0.045:
                    final = "PROBABLE"
                elif u < 0.055:
                    final = "AVAILABLE"
                elif u < 0.060:
                    final = "DOUBTFUL"
                else:
                    final = None
                if final is not None:
                    reason = _MINOR_REASONS[int(rng.integers(len(_MINOR_REASONS)))]
                    earlier = "QUESTIONABLE" if final == "AVAILABLE" else final
                    if rng.random() < 0.5:
                        reports.append((day_before_ts, earlier))
                    reports.append((game_day_ts, final))
            final_status = max(reports, key=lambda r: r[0])[1] if reports else None
            for ts, status in reports:
                self.report_rows.append({
                    "season": self.label, "game_id": game_id, "team": team, "player_id": pid,
                    "player_name": self.league.players[pid].name,
                    "report_ts": ts.astimezone(UTC).replace(tzinfo=None), "status": status, "reason": reason,
                })
            plays = final_status is None or rng.random() < SUIT_UP_PROBABILITY[final_status]
            if plays:
                suited.append(pid)
                if final_status is not None:
                    cleared.add(pid)
                if final_status is not None and injury is None:
                    st.returning_reason = None
            else:
                out.append(pid)
                if rank_of[pid] < 8:
                    missing_quality.append(roles[pid])
        # Active list: at most 13; the lowest-ranked healthy players are scratched (inactive, not reported).
        # A player listed on the report who is cleared to play keeps his spot: his status decided it.
        keep = sorted(suited, key=lambda p: (p not in cleared, rank_of[p]))[:ACTIVE_LIMIT]
        active = [p for p in suited if p in keep]
        scratched = [p for p in suited if p not in keep]
        return {"active": active, "inactive": out + scratched, "roles": roles,
                "missing_quality": missing_quality}

    # --- box score -------------------------------------------------------------------------------

    def _box_score(self, game_id: str, day: date, team: str, opp: str, is_home: bool, lineup: dict,
                   points: int, margin: int, overtimes: int) -> None:
        rng = self.rng
        roles = lineup["roles"]
        # Coaches shuffle the order a little from night to night.
        jitter = rng.normal(0.0, 0.25, len(lineup["active"]))
        noisy = {p: roles[p] + float(j) for p, j in zip(lineup["active"], jitter, strict=True)}
        active = sorted(lineup["active"], key=lambda p: -noisy[p])
        blowout = abs(margin) >= 20
        n = len(active)
        raw = np.zeros(n)
        u_play, noise, u_injury = rng.random(n), rng.normal(0.0, 1.0, n), rng.random(n)
        for i in range(n):
            rank = min(i, len(_BASE_MINUTES) - 1)
            p_play = _PLAY_PROBABILITY[rank] + (0.45 if blowout and rank >= 8 else 0.0)
            if i < 5 or u_play[i] < p_play:
                base = _BASE_MINUTES[rank] * (0.88 if blowout and i < 5 else 1.0)
                raw[i] = base * math.exp(noise[i] * (0.19 if i < 5 else 0.28))
        total_seconds = (240 + 25 * overtimes) * 60
        seconds = _integer_seconds(raw, total_seconds, cap=(48 + 5 * overtimes) * 60)

        stats = self._player_stats(active, seconds, points, margin, overtimes)
        stat_lists = [stats[c].tolist() for c in _STAT_COLUMNS]
        secs = seconds.tolist()
        order = list(range(5)) + sorted(range(5, n), key=lambda i: (-secs[i], i))
        for box_order, i in enumerate(order, start=1):
            played = secs[i] > 0
            row = self._row(game_id, day, team, opp, is_home, active[i])
            row.update(starter=i < 5, box_order=box_order, status="played" if played else "dnp",
                       dnp_reason=None if played else "Did Not Play", seconds_played=secs[i],
                       minutes=secs[i] / 60.0)
            row.update(zip(_STAT_COLUMNS, (col[i] for col in stat_lists), strict=True) if played
                       else dict.fromkeys(_STAT_COLUMNS))
            self.box_rows.append(row)
        for pid in lineup["inactive"]:
            row = self._row(game_id, day, team, opp, is_home, pid)
            row.update(starter=False, box_order=None, status="inactive", dnp_reason="Inactive", seconds_played=0,
                       minutes=0.0)
            row.update(dict.fromkeys(_STAT_COLUMNS))
            self.box_rows.append(row)

        # New injuries happen in games (he played tonight, misses what follows).
        for i, pid in enumerate(active):
            if secs[i] > 0 and u_injury[i] < 0.010 * self.league.players[pid].injury_prone:
                # Days out: 45% a few days, 33% one-two weeks, 16% up to five weeks, 6% long-term.
                u = rng.random()
                low, high = (2, 6) if u < 0.45 else (6, 16) if u < 0.78 else (16, 36) if u < 0.94 else (36, 80)
                days = int(rng.integers(low, high))
                reason = _INJURY_REASONS[int(rng.integers(len(_INJURY_REASONS)))]
                self.state[pid].injuries.append(_Injury(day, day + timedelta(days=days), reason))

    def _row(self, game_id: str, day: date, team: str, opp: str, is_home: bool, pid: str) -> dict:
        self.player_team_rows.add((team, pid))
        return {"season": self.label, "game_id": game_id, "game_date": day, "game_type": "regular", "team": team,
                "opponent": opp, "is_home": is_home, "player_id": pid,
                "player_name": self.league.players[pid].name}

    def _profile(self, pid: str) -> np.ndarray:
        """Per-minute rates: fga, three share, FT rate, then orb, drb, ast, stl, blk, tov, pf."""
        profile = self._profiles.get(pid)
        if profile is None:
            p = self.league.players[pid]
            r = _RATES[p.pos]
            profile = np.array([r["fga"] * p.usage, r["p3"], r["ftr"], r["orb"], r["drb"],
                                r["ast"] * math.sqrt(p.usage), r["stl"], r["blk"], r["tov"] * p.usage, r["pf"]])
            self._profiles[pid] = profile
        return profile

    def _player_stats(self, active: list[str], seconds: np.ndarray, points: int, margin: int,
                      overtimes: int) -> dict[str, np.ndarray]:
        """Box stats proportional to minutes and position, adjusted so points sum to the team score."""
        rng = self.rng
        minutes = seconds / 60.0
        prof = np.array([self._profile(p) for p in active])
        # Scale attempt rates so the expected points match tonight's score; the makes are then nudged.
        fga_mean = minutes * prof[:, 0]
        expected = float((fga_mean * ((1 - prof[:, 1]) * 2 * _P2 + prof[:, 1] * 3 * _P3 + prof[:, 2] * _PFT)).sum())
        fga = rng.poisson(fga_mean * (points / expected if expected > 0 else 1.0))
        fg3a = rng.binomial(fga, prof[:, 1])
        fg2a = fga - fg3a
        fta = rng.poisson(fga * prof[:, 2] + 0.02 * minutes)
        fg2, fg3, ft = rng.binomial(np.stack([fg2a, fg3a, fta]), _MAKE_PROBABILITY)
        while 3 * int(fg3.sum()) > points:  # a freak shooting night above the final score: miss some threes
            fg3[int(np.argmax(fg3))] -= 1
        _match_points(points - 3 * int(fg3.sum()), seconds, fg2, fg2a, ft, fta, rng)
        orb, drb, ast, stl, blk, tov, pf = rng.poisson(minutes[:, None] * prof[:, 3:]).T
        played = np.flatnonzero(seconds > 0)
        pm = np.zeros(len(active), dtype=np.int64)
        if len(played):
            share = minutes[played] / (48.0 + 5 * overtimes)
            pm_played = np.rint(margin * share + rng.normal(0.0, 6.0, len(played)) * np.sqrt(share)).astype(np.int64)
            # Five players are on the floor at all times: plus-minus sums to 5 x margin.
            residual = 5 * margin - int(pm_played.sum())
            top = np.argsort(-share, kind="stable")[:5]
            pm_played[top] += residual // 5
            pm_played[top[: residual % 5]] += 1
            pm[played] = pm_played
        return {
            "fg": fg2 + fg3, "fga": fg2a + fg3a, "fg3": fg3, "fg3a": fg3a, "ft": ft, "fta": fta,
            "orb": orb, "drb": drb, "trb": orb + drb, "ast": ast, "stl": stl, "blk": blk, "tov": tov,
            "pf": np.minimum(6, pf),
            "pts": 2 * fg2 + 3 * fg3 + ft, "plus_minus": pm,
        }

    def _rosters_derived(self) -> pd.DataFrame:
        box = pd.DataFrame(self.box_rows, columns=["team", "player_id", "player_name", "status", "starter",
                                                   "game_date"])
        g = box.assign(
            played=box["status"].eq("played"), dnp=box["status"].eq("dnp"), inactive=box["status"].eq("inactive")
        ).groupby(["team", "player_id", "player_name"], sort=True)
        out = g.agg(games_listed=("status", "size"), games_played=("played", "sum"),
                    games_started=("starter", "sum"), dnp_games=("dnp", "sum"), inactive_games=("inactive", "sum"),
                    first_game_date=("game_date", "min"), last_game_date=("game_date", "max")).reset_index()
        out.insert(0, "season", self.label)
        return _frame("rosters_derived", out.to_dict("records"))


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _match_points(points: int, seconds: np.ndarray, fg2: np.ndarray, fg2a: np.ndarray, ft: np.ndarray,
                  fta: np.ndarray, rng: np.random.Generator) -> None:
    """Add or take away made twos and free throws (in place) until they are worth `points` (>= 0).

    The player is picked in proportion to minutes among those who can give or take the basket; an added
    make beyond the attempts adds an attempt.
    """
    weight = seconds.astype(np.float64)

    def pick(eligible: np.ndarray) -> int:
        w = weight * eligible
        cumulative = np.cumsum(w / w.sum())
        return min(int(np.searchsorted(cumulative, rng.random())), len(w) - 1)

    diff = points - int((2 * fg2 + ft).sum())
    while diff != 0:
        if diff > 0:
            i = pick(seconds > 0)
            if diff >= 2:
                fg2[i] += 1
                fg2a[i] = max(fg2a[i], fg2[i])
                diff -= 2
            else:
                ft[i] += 1
                fta[i] = max(fta[i], ft[i])
                diff -= 1
        elif (diff <= -2 or not ft.any()) and fg2.any():
            fg2[pick(fg2 > 0)] -= 1  # with diff == -1 and no free throw made, overshoot by one and add one back
            diff += 2
        elif ft.any():
            ft[pick(ft > 0)] -= 1
            diff += 1
        else:
            raise ValueError(f"cannot bring box-score points down to {points}")


def _standardized(keys: list[str], rng: np.random.Generator, sd: float) -> dict[str, float]:
    draws = rng.normal(0.0, 1.0, len(keys))
    draws = (draws - draws.mean()) / draws.std() * sd
    return {k: float(v) for k, v in zip(keys, draws, strict=True)}


def _half(x: float) -> float:
    """Round to the nearest half point (betting lines), without negative zero."""
    return float(math.floor(x * 2.0 + 0.5) / 2.0) + 0.0


def _moneylines(favored_by: float) -> tuple[int, int]:
    """American odds from the spread: win probability from a normal margin (sd 12.5) plus ~4.5% vig."""
    p_home = 0.5 * (1.0 + math.erf(favored_by / (12.5 * math.sqrt(2.0))))
    p_home = min(max(p_home, 0.02), 0.98)

    def american(p: float) -> int:
        p = min(p * 1.0225, 0.99)
        if p >= 0.5:
            return -int(round(100.0 * p / (1.0 - p) / 5.0) * 5)
        return int(round(100.0 * (1.0 - p) / p / 5.0) * 5)

    return american(p_home), american(1.0 - p_home)


def _integer_seconds(raw_minutes: np.ndarray, total_seconds: int, cap: int) -> np.ndarray:
    """Scale minutes to the team total and round to whole seconds that add up exactly (largest remainder)."""
    seconds = np.zeros(len(raw_minutes), dtype=np.int64)
    mask = raw_minutes > 0
    if raw_minutes.max() <= 0:
        return seconds
    scaled = raw_minutes / raw_minutes.sum() * total_seconds
    for _ in range(5):  # cap a player at the game length and give the excess to the others
        if scaled.max() <= cap:
            break
        over = scaled > cap
        excess = float((scaled[over] - cap).sum())
        scaled[over] = cap
        room = mask & ~over & (scaled < cap)
        scaled[room] += excess * scaled[room] / scaled[room].sum()
    scaled = np.where(mask, np.maximum(scaled, 30.0), 0.0)  # nobody plays less than half a minute
    scaled *= total_seconds / scaled.sum()
    floor = np.floor(scaled).astype(np.int64)
    short = total_seconds - int(floor.sum())
    order = np.argsort(-(scaled - floor), kind="stable")
    floor[order[:short]] += 1
    return floor


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    schema = SCHEMAS[table]
    names = schema.names
    transposed = list(zip(*[[r[n] for n in names] for r in rows], strict=True)) if rows else [()] * len(names)
    columns = {}
    for f, values in zip(schema, transposed, strict=True):
        values = list(values)
        if f.type in _PANDAS_DTYPES:
            columns[f.name] = pd.array(values, dtype=_PANDAS_DTYPES[f.type])
        elif f.type == _S:
            columns[f.name] = pd.array(values, dtype="str")
        elif f.type == _TS:
            columns[f.name] = pd.array(np.array(values, dtype="datetime64[us]"))
        elif f.type == _D:
            columns[f.name] = pd.Series(values, dtype=object)
        elif f.type == _I64:
            columns[f.name] = np.array(values, dtype=np.int64)
        elif f.type == _B:
            columns[f.name] = np.array(values, dtype=bool)
        else:
            columns[f.name] = np.array(values, dtype=np.float64)
    return pd.DataFrame(columns)


def _write(path: Path, table: str, frame: pd.DataFrame) -> GeneratedFile:
    arrow = pa.Table.from_pandas(frame, schema=SCHEMAS[table], preserve_index=False)
    pq.write_table(arrow, path, compression="zstd")
    data = path.read_bytes()
    return GeneratedFile(path.name, arrow.num_rows, len(data), hashlib.sha256(data).hexdigest())


def _crosswalk_frame(teams: list[Team]) -> pd.DataFrame:
    return _frame("teams_crosswalk", [
        {"bref_team": t.bref, "nba_tricode": t.nba_tricode, "nba_team_id": t.nba_team_id, "team_name": t.name,
         "fixturedownload_name": t.nba_name}
        for t in teams
    ])


def _readme_text(seed: int, labels: list[str]) -> str:
    return f"""# Synthetic NBA league (seed {seed}, generator {GENERATOR_VERSION})

Invented data in the format of the real basketball-reference-derived tables (see the project's
docs/synthetic_league.md). Seasons: {", ".join(labels)}, regular season only. Team codes and names are real;
players (`syn...` ids), arenas, results, injuries and lines are made up. Safe to commit and share.

Tables per season: box_scores, schedule_bref, lines, rosters_derived (same columns as the real files), plus
injury_reports (two reports per game: 17:30 ET the day before and tip - 90 min; `report_ts` is naive UTC)
and players (listed positions). teams_crosswalk maps basketball-reference codes to NBA.com ids.
Regenerate: `python -m snapshots_ingest.synthetic_league --out DIR --seed {seed}`.
"""


def _iter_summary_lines(summary: GenerationSummary) -> Iterator[str]:
    yield f"wrote {len(summary.files)} files ({summary.total_bytes() / 1e6:.1f} MB) to {summary.out_dir}"
    yield (f"seasons {', '.join(summary.seasons)}: {summary.games} games, {summary.players} players, "
           f"{summary.elapsed_seconds:.1f} s")


def main() -> None:
    """`python -m snapshots_ingest.synthetic_league --out DIR [--seed N]` (the project CLI wraps the same call)."""
    import typer  # only the command line needs it; the function API stays importable without typer

    def synth(
        out: Annotated[Path, typer.Option(help="Output directory (created if missing).")],
        seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 7,
        seasons: Annotated[int, typer.Option(min=1, help="Number of regular seasons.")] = 2,
        first_season_start_year: Annotated[int, typer.Option(help="First season's start year (2023 = 2023-24).")] = 2023,
    ) -> None:
        summary = generate_league(out, seed, seasons, first_season_start_year)
        for line in _iter_summary_lines(summary):
            typer.echo(line)

    typer.run(synth)


if __name__ == "__main__":
    main()
