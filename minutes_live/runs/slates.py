"""Slates: named selections of a date's games, for DFS players (early, main, late, or a custom set).

    slate_names(day, dataset=None)              -> ["all", "early", "main", "late", <custom names of the date>]
    slate_game_ids(day, slate, dataset=None)    -> the game ids (str) of that slate of the date
    slates(day, dataset=None)                   -> every slate of the date with its games and how it is defined
    find_slate(day, name, dataset=None)         -> one of them (SlateError listing the date's slates)
    filter_games(frame, day, slate, dataset)    -> the rows of a frame with a game_id column in the slate

Runs stay per date: every run projects the whole day (the daily superset), and a slate is a filter applied
when reading (runs list/show/export --slate, the API, the dashboard). So a slate never needs its own run,
its own `latest` or its own pin, and a late swap of the main slate is the same run as the late slate's.

Default slates, by tip time in US/Eastern (America/New_York), half-open windows:

    all     every game of the date
    early   tips before 19:00 ET          (weekend matinees and 18:00-18:30 games)
    main    tips 19:00 to 21:59 ET        (the 19:00-21:30 wave)
    late    tips at 22:00 ET and later    (the West-coast games)

Chosen from the real schedules (../shared/data/nba, 2017-18..2025-26: 11,207 games on 1,702 dates): tips cluster at 19:00,
19:30, 20:00 (the largest wave), 21:00, 22:00 and 22:30 ET; 29.6% of dates have a game before 19:00, 98.2% one
in 19:00-21:59, 64.5% one at 22:00 or later (docs/operations.md, "Slates").

Custom slates are configured per date in `$MINUTES_LIVE_SLATES_CONFIG`, else `config/slates.json`:

    {"slates": [
      {"name": "showdown", "date": "2022-01-15", "dataset": "nba", "games": ["2022011549"]},
      {"name": "main", "date": "2022-01-15", "from": "19:30", "to": "22:00"}
    ]}

An entry names a game-id list (`games`) or a tip window (`from`, `to`: HH:MM in ET, `to` exclusive, up to
36:00 for games past midnight); `dataset` limits it to one dataset (game ids differ between datasets). An
entry may redefine early, main or late for its date (a DFS site's main slate that starts at 19:30), never
`all`. A bad file or entry is one line naming the file and the entry (exit 2).

A date's games and tips are read from its published features runs (coverage.csv: game_id, tip_ts; files
only, the store is never opened, so readers never block a job): the newest readable run, or a given run.
A date with no run has no known games: window slates are empty, a game-list slate is its list.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from foundation import settings, state
from foundation.clock import LEAGUE_TZ
from foundation.guardrails import InvalidInput
from foundation.run_directory import RUN_ID_RE

if TYPE_CHECKING:
    from minutes_live.runs.catalog import RunInfo, RunView

CONFIG_ENV = "MINUTES_LIVE_SLATES_CONFIG"
ALL = "all"
# name -> (from, to) minutes after the date's ET midnight, half-open
DEFAULT_WINDOWS: dict[str, tuple[int, int]] = {"early": (0, 19 * 60), "main": (19 * 60, 22 * 60),
                                               "late": (22 * 60, 36 * 60)}
DEFAULT_NAMES = (ALL, *DEFAULT_WINDOWS)
_NAME_RE = re.compile(r"\A[a-z0-9][a-z0-9_-]{0,39}\Z", re.ASCII)
_HHMM_RE = re.compile(r"\A([0-9]{2}):([0-9]{2})\Z", re.ASCII)
_GAME_RE = re.compile(r"\A[0-9A-Za-z]{1,32}\Z", re.ASCII)
_DATE_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", re.ASCII)


class SlateError(InvalidInput):
    """A slate that the date does not have (the message lists the date's slates), exit 2."""


class SlateConfigError(InvalidInput):
    """The slates config file or one of its entries is invalid (file and entry named), exit 2."""


@dataclass(frozen=True)
class Slate:
    name: str
    day: date
    game_ids: frozenset[str]
    definition: str  # e.g. "tips 19:00-21:59 ET", "games 2022011549, 2022011564 (config/slates.json)"
    custom: bool = False

    def as_dict(self) -> dict:
        return {"name": self.name, "date": self.day.isoformat(), "games": sorted(self.game_ids),
                "definition": self.definition, "custom": self.custom}


@dataclass(frozen=True)
class _Entry:
    name: str
    day: date
    dataset: str | None
    games: tuple[str, ...] | None
    window: tuple[int, int] | None
    where: str


# ------------------------------------------------------------------------------------------------ config

def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or settings.PROJECT_ROOT / "config" / "slates.json")


def _minutes(value: object, where: str, key: str) -> int:
    m = _HHMM_RE.match(value) if isinstance(value, str) else None
    if m is None or int(m[2]) > 59 or int(m[1]) * 60 + int(m[2]) > 36 * 60:
        raise SlateConfigError(f"{where}: {key} {value!r} is not a time HH:MM between 00:00 and 36:00 (US/Eastern)")
    return int(m[1]) * 60 + int(m[2])


def _entry(raw: object, where: str) -> _Entry:
    if not isinstance(raw, dict):
        raise SlateConfigError(f"{where}: not an object")
    unknown = sorted(set(raw) - {"name", "date", "dataset", "games", "from", "to", "note"})
    if unknown:
        raise SlateConfigError(f"{where}: unknown keys {unknown} (expected name, date, dataset, games | from, to, note)")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SlateConfigError(f"{where}: name {name!r} is not a lower-case slug (a-z, 0-9, _ or -, up to 40)")
    if name == ALL:
        raise SlateConfigError(f"{where}: `all` is every game of the date and cannot be redefined")
    where = f"{where} ({name})"
    day_raw = raw.get("date")
    try:
        if not isinstance(day_raw, str) or not _DATE_RE.match(day_raw):
            raise ValueError
        day = date.fromisoformat(day_raw)
    except ValueError:
        raise SlateConfigError(f"{where}: date {day_raw!r} is not YYYY-MM-DD") from None
    dataset = raw.get("dataset")
    if dataset is not None:
        try:
            settings.check_dataset_name(dataset if isinstance(dataset, str) else "")
        except ValueError:
            raise SlateConfigError(f"{where}: dataset {dataset!r} is not a dataset name") from None
    has_games, has_window = "games" in raw, "from" in raw or "to" in raw
    if has_games == has_window:
        raise SlateConfigError(f"{where}: give either games (a list of game ids) or a tip window (from, to)")
    if has_games:
        games = raw["games"]
        if not isinstance(games, list) or not games or not all(isinstance(g, str | int) and not isinstance(g, bool)
                                                                and _GAME_RE.match(str(g)) for g in games):
            raise SlateConfigError(f"{where}: games must be a non-empty list of game ids")
        return _Entry(name, day, dataset, tuple(dict.fromkeys(str(g) for g in games)), None, where)
    lo, hi = _minutes(raw.get("from", "00:00"), where, "from"), _minutes(raw.get("to", "36:00"), where, "to")
    if lo >= hi:
        raise SlateConfigError(f"{where}: from {raw.get('from')} is not before to {raw.get('to')}")
    return _Entry(name, day, dataset, None, (lo, hi), where)


@functools.lru_cache(maxsize=8)
def _load(path: str, stamp: tuple[int, int] | None) -> tuple[_Entry, ...]:
    if stamp is None:
        return ()
    try:
        payload = state.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise SlateConfigError(f"slates config {path} is unreadable: {state.one_reason(exc)}") from None
    if not isinstance(payload, dict) or set(payload) - {"slates", "about"} or not isinstance(payload.get("slates", []), list):
        raise SlateConfigError(f"slates config {path}: expected an object {{\"slates\": [...]}}")
    entries = tuple(_entry(raw, f"slates config {path}, entry {i + 1}") for i, raw in enumerate(payload.get("slates", [])))
    seen: set[tuple] = set()
    for e in entries:
        key = (e.name, e.day, e.dataset)
        if key in seen:
            raise SlateConfigError(f"{e.where}: slate {e.name} of {e.day} is defined twice")
        seen.add(key)
    return entries


def configured(day: date, dataset: str) -> dict[str, _Entry]:
    """The custom slates of the date for the dataset (an entry naming the dataset wins over one for all)."""
    path = config_path()
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        stamp = None
    out: dict[str, _Entry] = {}
    for e in sorted(_load(str(path), stamp), key=lambda e: e.dataset is not None):
        if e.day == day and e.dataset in (None, dataset):
            out[e.name] = e
    return out


# ------------------------------------------------------------------------------------------------- games

@functools.lru_cache(maxsize=256)
def _coverage(path: str, stamp: tuple[int, int]) -> pd.DataFrame:
    frame = state.read_table(Path(path), usecols=lambda c: c in ("game_id", "tip_ts", "matchup"))
    if frame is None or "game_id" not in frame or "tip_ts" not in frame:
        raise state.damaged(path, "has no game_id and tip_ts columns")
    return frame


def games(day: date, dataset: str | None = None, run_id: str | None = None) -> pd.DataFrame:
    """The date's games (game_id as str, tip_ts UTC, matchup) from its newest features run whose coverage.csv
    reads (or from `run_id`); an empty frame when the date has no run."""
    dataset = _dataset(dataset)
    folder = settings.features_root(dataset) / day.isoformat()
    if run_id is not None:
        if not RUN_ID_RE.match(run_id):
            raise SlateError(f"run {run_id!r} is not a run id YYYYMMDDTHHMMSSZ")
        candidates = [folder / f"run={run_id}"]
    else:
        candidates = sorted((p for p in folder.glob("run=*") if p.is_dir()), reverse=True) if folder.is_dir() else []
    for run in candidates:
        path = run / "coverage.csv"
        try:
            st = path.stat()
        except OSError:
            continue
        try:
            frame = _coverage(str(path), (st.st_mtime_ns, st.st_size)).copy()
        except state.DamagedStateError as exc:
            state.warn(path, f"{state.one_reason(exc)}; slates read an older run")
            continue
        frame["game_id"] = frame["game_id"].map(_game_id)
        frame["tip_ts"] = pd.to_datetime(frame["tip_ts"], utc=True, errors="coerce")
        if "matchup" not in frame:
            frame["matchup"] = None
        return frame[["game_id", "tip_ts", "matchup"]].drop_duplicates("game_id").reset_index(drop=True)
    return pd.DataFrame({"game_id": pd.Series(dtype=str), "tip_ts": pd.Series(dtype="datetime64[ns, UTC]"),
                         "matchup": pd.Series(dtype=object)})


def _game_id(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _dataset(dataset: str | None) -> str:
    if dataset is None:
        from minutes_live.runs.catalog import current_dataset

        return current_dataset()
    try:
        return settings.check_dataset_name(dataset)
    except ValueError as exc:
        raise SlateError(str(exc)) from None


def minutes_after_midnight(day: date, tips: pd.Series) -> pd.Series:
    """Each tip as minutes after the date's US/Eastern midnight (a tip past midnight is over 1440)."""
    midnight = pd.Timestamp(datetime.combine(day, datetime.min.time()), tz=LEAGUE_TZ)
    return (pd.to_datetime(tips, utc=True) - midnight) / pd.Timedelta(minutes=1)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window_text(lo: int, hi: int) -> str:
    if lo == 0:
        return f"tips before {_hhmm(hi)} ET"
    if hi >= 36 * 60:
        return f"tips at {_hhmm(lo)} ET and later"
    return f"tips {_hhmm(lo)}-{_hhmm(hi - 1)} ET"


def slates(day: date, dataset: str | None = None, run_id: str | None = None) -> list[Slate]:
    """Every slate of the date: all, early, main, late (each possibly redefined for the date), then the date's
    custom slates by name; games from the newest run of the date (or `run_id`)."""
    dataset = _dataset(dataset)
    return slates_of_games(day, games(day, dataset, run_id), dataset)


def slates_of_games(day: date, frame: pd.DataFrame | None, dataset: str | None = None) -> list[Slate]:
    """`slates` for games already read (a run's coverage: game_id, tip_ts), e.g. by the dashboard."""
    dataset = _dataset(dataset)
    if frame is None or "game_id" not in frame or "tip_ts" not in frame:
        frame = pd.DataFrame({"game_id": pd.Series(dtype=str), "tip_ts": pd.Series(dtype="datetime64[ns, UTC]")})
    frame = pd.DataFrame({"game_id": frame["game_id"].map(_game_id),
                          "tip_ts": pd.to_datetime(frame["tip_ts"], utc=True, errors="coerce")})
    known = frozenset(frame["game_id"])
    after = minutes_after_midnight(day, frame["tip_ts"]) if len(frame) else pd.Series(dtype=float)
    custom = configured(day, dataset)

    def in_window(lo: int, hi: int) -> frozenset[str]:
        if not len(frame):
            return frozenset()
        return frozenset(frame.loc[(after >= lo) & (after < hi), "game_id"])

    out = [Slate(ALL, day, known, "every game of the date")]
    for name, (lo, hi) in DEFAULT_WINDOWS.items():
        if name not in custom:
            out.append(Slate(name, day, in_window(lo, hi), _window_text(lo, hi)))
    for name in sorted(custom):
        e = custom[name]
        source = f"{config_path().name}"
        if e.window is not None:
            out.append(Slate(name, day, in_window(*e.window), f"{_window_text(*e.window)} ({source})", True))
        else:
            ids = frozenset(e.games or ())
            unknown = sorted(ids - known) if known else []
            if unknown:
                state.warn(config_path(), f"slate {name} of {day} names game(s) {', '.join(unknown)} that the date's "
                                          "runs do not have; left out")
            chosen = ids & known if known else ids
            out.append(Slate(name, day, frozenset(chosen), f"games {', '.join(e.games or ())} ({source})", True))
    order = {n: i for i, n in enumerate(DEFAULT_NAMES)}
    return sorted(out, key=lambda s: (order.get(s.name, len(order)), s.name))


def slate_names(day: date, dataset: str | None = None) -> list[str]:
    """all, early, main, late, then the date's custom slates (config) by name."""
    dataset = _dataset(dataset)
    custom = configured(day, dataset)
    return [*DEFAULT_NAMES, *sorted(n for n in custom if n not in DEFAULT_NAMES)]


def find_slate(day: date, name: str, dataset: str | None = None, run_id: str | None = None) -> Slate:
    """One slate of the date; SlateError (exit 2) naming the date's slates for an unknown name."""
    found = {s.name: s for s in slates(day, dataset, run_id)}
    if name not in found:
        raise SlateError(f"slate {name!r} is not a slate of {day} (slates: {', '.join(found)}; custom slates are "
                         f"configured in {config_path()})")
    return found[name]


def slate_game_ids(day: date, slate: str, dataset: str | None = None, run_id: str | None = None) -> set[str]:
    """The game ids (as str) of the date's slate `slate`; SlateError (an InvalidInput, exit 2) naming the known
    slates when the date has no such slate."""
    return set(find_slate(day, slate, dataset, run_id).game_ids)


def filter_games(frame: pd.DataFrame | None, game_ids: set[str] | frozenset[str] | None,
                 column: str = "game_id") -> pd.DataFrame | None:
    """The rows of `frame` whose `column` is one of `game_ids` (None: every row)."""
    if frame is None or game_ids is None or column not in frame:
        return frame
    return frame[frame[column].map(_game_id).isin(game_ids)].reset_index(drop=True)


def restrict(info: RunInfo, game_ids: set[str] | frozenset[str]) -> RunInfo:
    """A catalog RunInfo counted over the slate's games only: rows, games, worst snapshot age and missing games
    per kind (from the run's coverage.csv and ids.csv); a run without features is returned as it is."""
    from minutes_live.runs import catalog

    if "features" not in info.kinds:
        return info
    run_dir = catalog.publication(info.day).run_dir("features", info.run_id)
    try:
        coverage = filter_games(state.read_table(run_dir / "coverage.csv"), game_ids)
        ids = filter_games(state.read_table(run_dir / "ids.csv", usecols=["game_id"]), game_ids)
    except (state.DamagedStateError, ValueError):
        return info  # listed as damaged by the catalog already
    return dataclasses.replace(
        info, games=None if coverage is None else len(coverage), rows=None if ids is None else len(ids),
        worst_age_minutes=catalog.worst_ages(coverage), missing_games=catalog.missing_games(coverage))


def restrict_view(view: RunView, game_ids: set[str] | frozenset[str]) -> RunView:
    """A catalog RunView cut to the slate's games: coverage, team minutes and projections, and its info."""
    from minutes_live.runs import catalog

    coverage = filter_games(view.coverage, game_ids)
    info = view.info
    if coverage is not None:
        info = dataclasses.replace(info, games=len(coverage), worst_age_minutes=catalog.worst_ages(coverage),
                                   missing_games=catalog.missing_games(coverage))
    projections = filter_games(view.projections, game_ids)
    if projections is not None:
        info = dataclasses.replace(info, rows=len(projections))
    return dataclasses.replace(view, info=info, coverage=coverage,
                               team_minutes=filter_games(view.team_minutes, game_ids), projections=projections)


__all__ = ["ALL", "DEFAULT_WINDOWS", "Slate", "SlateConfigError", "SlateError", "filter_games", "find_slate", "games", "restrict", "restrict_view", "slates_of_games",
           "slate_game_ids", "slate_names", "slates"]
