"""Reader for a historical dataset directory in the format of `../shared/data/nba/` (its README defines it).

`load_dataset(path)` validates every file it reads (presence, columns, types, duplicate keys) and returns
canonical pandas tables keyed by the integer ids of `snapshots_ingest.ids`:

- `games`         one row per scheduled game (schedule_bref; fixturedownload for seasons without one)
- `player_games`  one row per box-score row, with the game's overtime count
- `lines`         one pre-game line per game (`game_id` NULL when the source did not match a game)
- `rosters`       rosters_derived (season, team, player)
- `injury_reports`, `players`   optional tables that only the synthetic league writes

Problems are collected over all files and raised together as one `DatasetError` whose message names each
file and column, so a user fixes a broken directory in one pass. A directory is synthetic when it holds
`dataset.json` with `{"namespace": "syn"}`; otherwise player ids use the `bref` namespace.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from foundation.guardrails import DatasetInputError
from snapshots_ingest import ids

# Column "type classes" checked against the parquet schema before any data is read.
_STR, _DATE, _TS, _INT, _FLOAT, _BOOL = "string", "date", "timestamp", "integer", "float", "boolean"

# Required columns per table (extra columns are allowed and ignored).
SCHEMAS: dict[str, dict[str, str]] = {
    "box_scores": {
        "season": _STR, "game_id": _STR, "game_date": _DATE, "game_type": _STR, "team": _STR,
        "opponent": _STR, "is_home": _BOOL, "player_id": _STR, "player_name": _STR, "starter": _BOOL,
        "status": _STR, "dnp_reason": _STR, "seconds_played": _INT, "minutes": _FLOAT,
        "fga": _INT, "fta": _INT, "orb": _INT, "tov": _INT, "pts": _INT, "trb": _INT, "ast": _INT,
        "blk": _INT, "fg3a": _INT,
    },
    "schedule_bref": {
        "season": _STR, "game_id": _STR, "game_date": _DATE, "tipoff_utc": _TS, "game_type": _STR,
        "away_team": _STR, "away_team_name": _STR, "home_team": _STR, "home_team_name": _STR,
        "overtimes": _STR, "box_score_available": _BOOL,
    },
    "schedule_fixturedownload": {
        "season": _STR, "game_date_et": _DATE, "tipoff_utc": _TS, "home_team": _STR,
        "home_team_name": _STR, "away_team": _STR, "away_team_name": _STR,
    },
    "lines": {
        "season": _STR, "game_date": _DATE, "game_id": _STR, "game_type": _STR, "home_team": _STR,
        "away_team": _STR, "total": _FLOAT, "home_spread": _FLOAT, "suspect_line_nulled": _BOOL,
    },
    "rosters_derived": {"season": _STR, "team": _STR, "player_id": _STR, "player_name": _STR},
    "teams_crosswalk": {"bref_team": _STR, "nba_tricode": _STR, "nba_team_id": _INT, "team_name": _STR},
    "injury_reports": {
        "season": _STR, "game_id": _STR, "team": _STR, "player_id": _STR, "player_name": _STR,
        "report_ts": _TS, "status": _STR, "reason": _STR,
    },
    "players": {"season": _STR, "team": _STR, "player_id": _STR, "player_name": _STR, "listed_pos": _STR},
}

# Tables every season with box scores must have; a season = a `box_scores_<YYYY>_<YY>.parquet` file.
SEASON_REQUIRED = ("box_scores", "schedule_bref", "lines", "rosters_derived")
SEASON_OPTIONAL = ("injury_reports", "players")
# Schedule-only seasons (e.g. 2022-23+ in the real data) are read from these when present.
SCHEDULE_TABLES = ("schedule_bref", "schedule_fixturedownload")

# Duplicate-key rules (NULL keys are ignored: lines may have unmatched game ids).
KEYS: dict[str, tuple[str, ...]] = {
    "box_scores": ("game_id", "team", "player_id"),
    "schedule_bref": ("game_id",),
    "schedule_fixturedownload": ("game_date_et", "home_team"),
    "lines": ("game_id",),
    "rosters_derived": ("season", "team", "player_id"),
    "teams_crosswalk": ("bref_team",),
    "injury_reports": ("game_id", "team", "player_id", "report_ts"),
    "players": ("season", "team", "player_id"),
}

INJURY_STATUSES = ("OUT", "DOUBTFUL", "QUESTIONABLE", "PROBABLE", "AVAILABLE")
PLAY_STATUSES = ("played", "dnp", "inactive")

_FILE_RE = re.compile(r"^(?P<table>[a-z_]+?)_(?P<y1>\d{4})_(?P<y2>\d{2})\.parquet$")


class DatasetError(DatasetInputError, ValueError):
    """A dataset directory that cannot be read; the message lists every problem with file and column."""


@dataclass
class Dataset:
    path: Path
    namespace: str  # player-id namespace: "bref" (real data) or "syn" (synthetic league)
    seasons: list[str]  # "2021-22" labels of the seasons with box scores
    games: pd.DataFrame
    player_games: pd.DataFrame
    lines: pd.DataFrame
    rosters: pd.DataFrame
    injury_reports: pd.DataFrame | None = None
    players: pd.DataFrame | None = None
    files: list[Path] = field(default_factory=list)
    # replay.py caches its per-kind snapshot tables here (computed once per loaded dataset).
    replay_cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_synthetic(self) -> bool:
        return self.namespace == "syn"


def season_label(file_suffix: str) -> str:
    """'2021_22' -> '2021-22'."""
    return file_suffix.replace("_", "-")


def _normalize_season(season: str) -> str:
    s = str(season).strip().replace("_", "-")
    if not re.fullmatch(r"\d{4}-\d{2}", s):
        raise DatasetError(f"invalid season {season!r}: expected a label like 2021-22")
    return s


def _type_ok(kind: str, typ: pa.DataType) -> bool:
    if pa.types.is_null(typ):  # an all-NULL column has no physical type; accept it
        return True
    if pa.types.is_dictionary(typ):
        typ = typ.value_type
    return {
        _STR: pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ),
        _DATE: pa.types.is_date(typ),
        _TS: pa.types.is_timestamp(typ),
        _INT: pa.types.is_integer(typ),
        _FLOAT: pa.types.is_floating(typ) or pa.types.is_integer(typ),
        _BOOL: pa.types.is_boolean(typ),
    }[kind]


class _Reader:
    """Reads and checks files, collecting problems instead of stopping at the first one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.files: list[Path] = []

    def read(self, table: str, path: Path) -> pd.DataFrame | None:
        schema_spec = SCHEMAS[table]
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # unreadable / not parquet
            self.problems.append(f"{path.name}: not a readable parquet file ({exc})")
            return None
        bad = False
        for col, kind in schema_spec.items():
            idx = schema.get_field_index(col)
            if idx < 0:
                self.problems.append(f"{path.name}: missing column {col!r} (expected {kind})")
                bad = True
            elif not _type_ok(kind, schema.field(idx).type):
                self.problems.append(
                    f"{path.name}: column {col!r} has type {schema.field(idx).type}, expected {kind}"
                )
                bad = True
        if bad:
            return None
        frame = pq.read_table(path, columns=list(schema_spec)).to_pandas()
        self.files.append(path)
        key = KEYS.get(table)
        if key and not frame.empty:
            keyed = frame.dropna(subset=list(key))
            dup = keyed.duplicated(list(key), keep=False)
            if dup.any():
                example = keyed.loc[dup, list(key)].iloc[0].tolist()
                self.problems.append(
                    f"{path.name}: duplicate key ({', '.join(key)}) in column {key[-1]!r}: "
                    f"{int(dup.sum())} rows, e.g. {example}"
                )
        return frame

    def check_values(self, name: str, frame: pd.DataFrame, col: str, allowed: tuple[str, ...]) -> None:
        bad = frame[col].dropna()
        bad = bad[~bad.isin(allowed)]
        if not bad.empty:
            self.problems.append(
                f"{name}: column {col!r} has unexpected values {sorted(bad.unique())[:5]} (allowed: {', '.join(allowed)})"
            )

    def check_not_null(self, name: str, frame: pd.DataFrame, cols: list[str]) -> None:
        for col in cols:
            n = int(frame[col].isna().sum())
            if n:
                self.problems.append(f"{name}: column {col!r} has {n} null value(s) but is required")


def _discover(root: Path) -> dict[str, dict[str, Path]]:
    """{table: {season_label: path}} for the per-season files in `root`."""
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(root.glob("*.parquet")):
        m = _FILE_RE.match(path.name)
        if m:
            found.setdefault(m["table"], {})[f"{m['y1']}-{m['y2']}"] = path
    return found


def detect_namespace(root: Path) -> str:
    meta = root / "dataset.json"
    if not meta.exists():
        return "bref"
    try:
        namespace = json.loads(meta.read_text()).get("namespace", "bref")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise DatasetError(f"{meta.name}: not a JSON object ({exc})") from exc
    if namespace not in ("bref", "syn"):
        raise DatasetError(f"{meta.name}: column 'namespace' must be 'bref' or 'syn', got {namespace!r}")
    return namespace


def _map_codes(values: pd.Series, fn, what: str, name: str, col: str, problems: list[str]) -> pd.Series:
    """Apply an id function once per distinct value; unknown values become problems naming file/column."""
    mapping: dict = {}
    for v in pd.unique(values.dropna()):
        try:
            mapping[v] = fn(v)
        except ids.UnknownIdError as exc:
            problems.append(f"{name}: column {col!r}: {exc}")
    return values.map(mapping)


def _overtimes(label: pd.Series) -> pd.Series:
    """'OT' -> 1, '2OT' -> 2, NULL/'' -> 0."""
    text = label.fillna("").astype(str).str.strip().str.upper()
    count = text.str.extract(r"^(\d*)OT$")[0]
    out = pd.Series(0, index=label.index, dtype="int64")
    has_ot = count.notna()
    out[has_ot] = count[has_ot].replace("", "1").astype("int64")
    return out


def _tip_utc(naive_utc: pd.Series) -> pd.Series:
    return pd.to_datetime(naive_utc).dt.tz_localize("UTC")


def load_dataset(path: str | Path, seasons: list[str] | None = None) -> Dataset:
    """Read and validate a dataset directory; `seasons` ('2021-22' labels) restricts what is read."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"dataset directory {root} does not exist")
    namespace = detect_namespace(root)
    found = _discover(root)
    wanted = {_normalize_season(s) for s in seasons} if seasons else None
    box_seasons = sorted(s for s in found.get("box_scores", {}) if wanted is None or s in wanted)
    reader = _Reader(root)
    if not box_seasons:
        what = f"for seasons {sorted(wanted)}" if wanted else ""
        raise DatasetError(f"{root}: no box_scores_<YYYY>_<YY>.parquet files {what}".rstrip())

    for season in box_seasons:
        for table in SEASON_REQUIRED:
            if season not in found.get(table, {}):
                suffix = season.replace("-", "_")
                reader.problems.append(f"{table}_{suffix}.parquet: required file is missing from {root}")
    crosswalk_path = root / "teams_crosswalk.parquet"
    if not crosswalk_path.exists():
        reader.problems.append(f"teams_crosswalk.parquet: required file is missing from {root}")
    else:
        reader.read("teams_crosswalk", crosswalk_path)

    def read_all(table: str, season_list) -> pd.DataFrame | None:
        parts = []
        for season in season_list:
            p = found.get(table, {}).get(season)
            if p is not None:
                frame = reader.read(table, p)
                if frame is not None:
                    frame["_file"] = p.name
                    parts.append(frame)
        return pd.concat(parts, ignore_index=True) if parts else None

    # Schedules: box-score seasons plus schedule-only seasons (when not restricted to listed seasons).
    sched_seasons = set(box_seasons)
    if wanted is None:
        for t in SCHEDULE_TABLES:
            sched_seasons |= set(found.get(t, {}))
    else:
        sched_seasons |= {s for t in SCHEDULE_TABLES for s in found.get(t, {}) if s in wanted}
    bref_seasons = sorted(s for s in sched_seasons if s in found.get("schedule_bref", {}))
    fix_seasons = sorted(
        s for s in sched_seasons if s in found.get("schedule_fixturedownload", {}) and s not in bref_seasons
    )

    box = read_all("box_scores", box_seasons)
    sched = read_all("schedule_bref", bref_seasons)
    fix = read_all("schedule_fixturedownload", fix_seasons)
    lines = read_all("lines", box_seasons)
    rosters = read_all("rosters_derived", box_seasons)
    injuries = read_all("injury_reports", box_seasons)
    players = read_all("players", box_seasons)
    if reader.problems:
        raise DatasetError(_format(root, reader.problems))

    problems = reader.problems
    games = _games(sched, fix, namespace, problems, reader)
    player_games = _player_games(box, games, namespace, problems, reader)
    lines_c = _lines(lines, problems)
    rosters_c = _season_players(rosters, "rosters_derived", namespace, problems)
    injuries_c = _injuries(injuries, games, namespace, problems, reader) if injuries is not None else None
    players_c = (_season_players(players, "players", namespace, problems, extra=("listed_pos",))
                 if players is not None else None)
    if problems:
        raise DatasetError(_format(root, problems))
    return Dataset(
        path=root,
        namespace=namespace,
        seasons=box_seasons,
        games=games,
        player_games=player_games,
        lines=lines_c,
        rosters=rosters_c,
        injury_reports=injuries_c,
        players=players_c,
        files=reader.files,
    )


def _format(root: Path, problems: list[str]) -> str:
    head = f"invalid dataset {root}: {len(problems)} problem(s)"
    return head + "\n  - " + "\n  - ".join(problems)


def _file_of(frame: pd.DataFrame, mask: pd.Series) -> str:
    return str(frame.loc[mask, "_file"].iloc[0])


def _games(sched, fix, namespace, problems, reader) -> pd.DataFrame:
    parts = []
    if sched is not None:
        s = sched
        reader.check_not_null("schedule_bref", s, ["game_id", "game_date", "home_team", "away_team"])
        parts.append(
            pd.DataFrame(
                {
                    "source_game_id": s["game_id"].astype(str),
                    "season": s["season"].astype(str),
                    "game_date": s["game_date"],
                    "tip_ts": _tip_utc(s["tipoff_utc"]),
                    "game_type": s["game_type"].astype(str),
                    "home_code": s["home_team"].astype(str),
                    "away_code": s["away_team"].astype(str),
                    "home_team_name": s["home_team_name"],
                    "away_team_name": s["away_team_name"],
                    "overtimes": _overtimes(s["overtimes"]),
                    "box_score_available": s["box_score_available"].fillna(False).astype(bool),
                    "schedule_file": s["_file"],
                }
            )
        )
    if fix is not None:
        f = fix
        # fixturedownload has no game id; build the basketball-reference style one from date + home team.
        day = pd.to_datetime(f["game_date_et"]).dt.strftime("%Y%m%d")
        parts.append(
            pd.DataFrame(
                {
                    "source_game_id": day + "0" + f["home_team"].astype(str),
                    "season": f["season"].astype(str),
                    "game_date": f["game_date_et"],
                    "tip_ts": _tip_utc(f["tipoff_utc"]),
                    "game_type": "regular",
                    "home_code": f["home_team"].astype(str),
                    "away_code": f["away_team"].astype(str),
                    "home_team_name": f["home_team_name"],
                    "away_team_name": f["away_team_name"],
                    "overtimes": 0,
                    "box_score_available": False,
                    "schedule_file": f["_file"],
                }
            )
        )
    g = pd.concat(parts, ignore_index=True)
    g["game_id"] = _map_codes(g["source_game_id"], ids.game_id, "game", "schedule", "game_id", problems)
    g["home_tricode"] = _map_codes(g["home_code"], ids.nba_tricode, "team", "schedule", "home_team", problems)
    g["away_tricode"] = _map_codes(g["away_code"], ids.nba_tricode, "team", "schedule", "away_team", problems)
    if problems:
        return g
    g["home_team_id"] = g["home_tricode"].map(lambda t: ids.NBA_TEAMS[t][0]).astype("int64")
    g["away_team_id"] = g["away_tricode"].map(lambda t: ids.NBA_TEAMS[t][0]).astype("int64")
    g["game_id"] = g["game_id"].astype("int64")
    dup = g["game_id"].duplicated(keep=False)
    if dup.any():
        problems.append(
            f"{_file_of(g.rename(columns={'schedule_file': '_file'}), dup)}: column 'game_id' maps to a game "
            f"already scheduled (e.g. {g.loc[dup, 'source_game_id'].iloc[0]})"
        )
    cols = [
        "game_id", "source_game_id", "season", "game_date", "tip_ts", "game_type",
        "home_team_id", "away_team_id", "home_tricode", "away_tricode", "home_team_name", "away_team_name",
        "overtimes", "box_score_available",
    ]
    return g[cols].sort_values(["tip_ts", "game_id"], kind="stable").reset_index(drop=True)


def _player_games(box, games, namespace, problems, reader) -> pd.DataFrame:
    b = box
    reader.check_not_null(
        "box_scores", b, ["game_id", "game_date", "team", "opponent", "player_id", "player_name", "status"]
    )
    reader.check_values("box_scores", b, "status", PLAY_STATUSES)
    if problems:
        return b
    out = pd.DataFrame(
        {
            "source_game_id": b["game_id"].astype(str),
            "season": b["season"].astype(str),
            "game_date": b["game_date"],
            "game_type": b["game_type"].astype(str),
            "team_tricode": _map_codes(b["team"], ids.nba_tricode, "team", "box_scores", "team", problems),
            "opponent_tricode": _map_codes(b["opponent"], ids.nba_tricode, "team", "box_scores", "opponent", problems),
            "is_home": b["is_home"].astype(bool),
            "source_player_id": b["player_id"].astype(str),
            "player_name": b["player_name"].astype(str),
            "starter": b["starter"].fillna(False).astype(bool),
            "play_status": b["status"].astype(str),
            "dnp_reason": b["dnp_reason"],
            "seconds_played": b["seconds_played"].fillna(0).astype("int64"),
            "minutes": b["minutes"].fillna(0.0).astype("float64"),
        }
    )
    for col in ("fga", "fta", "orb", "tov", "pts", "trb", "ast", "blk", "fg3a"):
        out[col] = b[col].astype("Int64")
    out["player_id"] = _map_codes(
        out["source_player_id"], lambda s: ids.player_id(s, namespace), "player", "box_scores", "player_id", problems
    )
    out["game_id"] = _map_codes(out["source_game_id"], ids.game_id, "game", "box_scores", "game_id", problems)
    if problems:
        return out
    out["game_id"] = out["game_id"].astype("int64")
    out["player_id"] = out["player_id"].astype("int64")
    out["team_id"] = out["team_tricode"].map(lambda t: ids.NBA_TEAMS[t][0]).astype("int64")
    out["opponent_team_id"] = out["opponent_tricode"].map(lambda t: ids.NBA_TEAMS[t][0]).astype("int64")
    known = out["game_id"].isin(games["game_id"])
    if not known.all():
        missing = out.loc[~known, "source_game_id"].iloc[0]
        problems.append(
            f"{b.loc[~known, '_file'].iloc[0]}: column 'game_id' has {int((~known).sum())} row(s) whose game "
            f"is not in the schedule (e.g. {missing})"
        )
        return out
    out = out.merge(games[["game_id", "overtimes", "tip_ts"]], on="game_id", how="left")
    return out.sort_values(["tip_ts", "game_id", "team_id"], kind="stable").reset_index(drop=True)


def _lines(lines, problems) -> pd.DataFrame:
    ln = lines
    gid = pd.Series(pd.NA, index=ln.index, dtype="Int64")
    has = ln["game_id"].notna()
    gid[has] = _map_codes(ln.loc[has, "game_id"], ids.game_id, "game", "lines", "game_id", problems)
    return pd.DataFrame(
        {
            "game_id": gid,
            "source_game_id": ln["game_id"],
            "season": ln["season"].astype(str),
            "game_date": ln["game_date"],
            "game_type": ln["game_type"],
            "total": ln["total"].astype("float64"),
            "home_spread": ln["home_spread"].astype("float64"),
            "suspect_line_nulled": ln["suspect_line_nulled"].fillna(False).astype(bool),
        }
    )


def _add_int_ids(out: pd.DataFrame, namespace: str) -> pd.DataFrame:
    """team_id from the tricode, player_id from the source id (each distinct id hashed once)."""
    out["team_id"] = out["team_tricode"].map(lambda t: ids.NBA_TEAMS[t][0]).astype("int64")
    uniq = {s: ids.player_id(s, namespace) for s in out["source_player_id"].unique()}
    out["player_id"] = out["source_player_id"].map(uniq).astype("int64")
    return out


def _season_players(frame: pd.DataFrame, table: str, namespace: str, problems: list[str],
                    extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row per (season, team, player) of rosters_derived or players, with integer ids."""
    out = pd.DataFrame(
        {
            "season": frame["season"].astype(str),
            "team_tricode": _map_codes(frame["team"], ids.nba_tricode, "team", table, "team", problems),
            "source_player_id": frame["player_id"].astype(str),
            "player_name": frame["player_name"].astype(str),
            **{col: frame[col] for col in extra},
        }
    )
    return out if problems else _add_int_ids(out, namespace)


def _injuries(inj, games, namespace, problems, reader) -> pd.DataFrame:
    reader.check_not_null("injury_reports", inj, ["game_id", "team", "player_id", "report_ts", "status"])
    reader.check_values("injury_reports", inj, "status", INJURY_STATUSES)
    if problems:
        return inj
    out = pd.DataFrame(
        {
            "season": inj["season"].astype(str),
            "source_game_id": inj["game_id"].astype(str),
            "team_tricode": _map_codes(inj["team"], ids.nba_tricode, "team", "injury_reports", "team", problems),
            "source_player_id": inj["player_id"].astype(str),
            "player_name": inj["player_name"],
            "report_ts": _tip_utc(inj["report_ts"]),
            "status": inj["status"].astype(str),
            "reason": inj["reason"],
        }
    )
    out["game_id"] = _map_codes(out["source_game_id"], ids.game_id, "game", "injury_reports", "game_id", problems)
    if problems:
        return out
    out["game_id"] = out["game_id"].astype("int64")
    _add_int_ids(out, namespace)
    known = out["game_id"].isin(games["game_id"])
    if not known.all():
        problems.append(
            f"{inj.loc[~known, '_file'].iloc[0]}: column 'game_id' has {int((~known).sum())} row(s) whose game "
            f"is not in the schedule (e.g. {out.loc[~known, 'source_game_id'].iloc[0]})"
        )
    return out


def subset_dataset(src: Path, dst: Path, seasons: tuple[str, ...]) -> Path:
    """A dataset directory of symlinks to `src` holding only `seasons` (file suffixes such as 2021_22: box
    scores, lines, rosters, schedules), the team crosswalk and the injury PDFs (benchmarks, full-run tests)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        keep = path.name == "teams_crosswalk.parquet" or path.name == "injury_pdfs" or any(
            path.name.endswith(f"_{s}.parquet") and not path.name.startswith("schedule_fixturedownload") for s in seasons)
        if keep and not (dst / path.name).exists():
            (dst / path.name).symlink_to(path)
    return dst
