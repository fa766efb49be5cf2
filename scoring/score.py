"""score_minutes_v1: score one slate with the active Minutes V1 bundle into an immutable run directory.

Inputs
- historical (default): gold features for the date from `--features-root`, either a single parquet file or
  a directory laid out `<features-root>/season=<YYYY-YY>/features.parquet` (the season of the date, Aug-Jul);
  `--features-path` (one parquet) overrides the root. All rows of the date are scored.
- live: `--features-path` is required (the live mart's features.parquet of a build run); `--features-root`
  is ignored. QUESTIONABLE / PROBABLE players keep their projection (availability lives in play_prob).

In both modes OUT players are kept in the output with play_prob 0 and p10 = p50 = p90 = 0.
Output: `<artifact-root>/<date>/run=<run_id>/{minutes.parquet, summary.json}`, written atomically through
foundation.run_directory, then `latest` moves (unless a pin holds it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.run_directory import RunDirectory, RunDirectoryError, publish_latest, run_id_for, staged_run
from scoring.bundle import MinutesBundle, load_bundle
from scoring.metrics import TEAM_BAND
from scoring.train import resolve_bundle_dir

OUTPUT_COLUMNS = (
    "game_date", "tip_ts", "game_id", "player_id", "player_name", "team_id", "team_name", "team_tricode",
    "opponent_team_id", "opponent_team_name", "opponent_team_tricode", "status", "is_starter",
    "is_confirmed_starter", "is_projected_starter", "play_prob", "minutes_p10", "minutes_p50", "minutes_p90",
    "minutes_p10_cond", "minutes_p50_cond", "minutes_p90_cond", "minutes_p50_raw", "feature_as_of_ts",
)


class ScoreInputError(RuntimeError):
    """A required input (features, bundle, config) is missing or unusable. Exit code 1."""


@dataclass
class ScoreRequest:
    day: date
    mode: str = "historical"
    features_path: Path | None = None
    features_root: Path | None = None
    artifact_root: Path = field(default_factory=lambda: settings.artifacts_root() / "minutes_v1" / "daily")
    bundle_config: Path = field(default_factory=settings.bundle_config_path)
    run_as_of_ts: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    replace: bool = False
    publish: bool = True  # False: write the run directory only (the scheduled job moves `latest` last)


@dataclass
class ScoreResult:
    run_dir: Path
    summary: dict
    scored: pd.DataFrame


def season_of(day: date) -> str:
    start = day.year if day.month >= 8 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def resolve_features_source(req: ScoreRequest) -> Path:
    if req.mode == "live":
        if req.features_path is None:
            raise ScoreInputError("--mode live requires --features-path (the live features.parquet of a build run)")
        path = Path(req.features_path)
    elif req.features_path is not None:
        path = Path(req.features_path)
    else:
        if req.features_root is None:
            raise ScoreInputError("historical mode needs --features-root (or --features-path)")
        root = Path(req.features_root)
        path = root if root.is_file() else root / f"season={season_of(req.day)}" / "features.parquet"
    if not path.exists():
        raise ScoreInputError(f"features file not found: {path}")
    return path


def read_slate(path: Path, day: date) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise ScoreInputError(f"cannot read features parquet {path}: {exc}") from None
    if "game_date" not in frame.columns:
        raise ScoreInputError(f"features file {path} has no game_date column")
    slate = frame[pd.to_datetime(frame["game_date"]).dt.date == day].reset_index(drop=True)
    if slate.empty:
        raise ScoreInputError(f"no feature rows for {day} in {path}")
    return slate


def team_minutes_check(scored: pd.DataFrame) -> dict:
    teams = scored.groupby(["game_id", "team_id"], sort=True)
    rows = []
    for (game_id, team_id), part in teams:
        total = float(part["minutes_p50"].sum())
        rows.append({"game_id": int(game_id), "team_id": int(team_id),
                     "team_tricode": str(part["team_tricode"].iloc[0]) if "team_tricode" in part else None,
                     "p50_sum": round(total, 2), "flag": not (TEAM_BAND[0] <= total <= TEAM_BAND[1])})
    return {"band": list(TEAM_BAND), "teams": rows, "flagged": [r for r in rows if r["flag"]],
            "share_in_band": (sum(not r["flag"] for r in rows) / len(rows)) if rows else None}


def build_summary(req: ScoreRequest, source: Path, bundle: MinutesBundle, scored: pd.DataFrame,
                  run_id: str, seconds: float) -> dict:
    status = scored["status"].astype("string").str.upper().fillna("UNK")
    warnings = []
    sanity = team_minutes_check(scored)
    for r in sanity["flagged"]:
        warnings.append(f"team {r['team_tricode'] or r['team_id']} in game {r['game_id']}: p50 sum {r['p50_sum']} "
                        f"outside [{TEAM_BAND[0]:.0f}, {TEAM_BAND[1]:.0f}]")
    if "feature_as_of_ts" in scored and req.mode == "live":
        late = pd.to_datetime(scored["feature_as_of_ts"], utc=True) > pd.Timestamp(req.run_as_of_ts)
        if late.any():
            warnings.append(f"{int(late.sum())} rows have feature_as_of_ts after run_as_of_ts (possible leak)")
    if req.mode == "historical" and "minutes" in scored and scored["minutes"].isna().all():
        warnings.append("historical mode but no labels present (minutes all NULL): is this a live features file?")
    return {
        "date": req.day.isoformat(),
        "mode": req.mode,
        "run_id": run_id,
        "run_as_of_ts": req.run_as_of_ts.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "features_source": str(source),
        "bundle": {"bundle_id": bundle.bundle_id, "bundle_dir": str(bundle.path), "feature_hash": bundle.feature_hash,
                   "git_commit": bundle.meta.get("git_commit"), "windows": bundle.meta.get("windows")},
        "counts": {
            "rows": int(len(scored)),
            "games": int(scored["game_id"].nunique()),
            "teams": int(scored[["game_id", "team_id"]].drop_duplicates().shape[0]),
            "players": int(scored["player_id"].nunique()),
            "out": int((status == "OUT").sum()),
            "questionable": int(status.isin(["Q", "QUESTIONABLE"]).sum()),
            "probable": int(status.isin(["PROB", "PROBABLE"]).sum()),
            "starters": int(scored["is_starter"].sum()),
        },
        "team_minutes": sanity,
        "scoring_seconds": round(seconds, 3),
        "warnings": warnings,
    }


def score_slate(req: ScoreRequest, bundle: MinutesBundle | None = None) -> ScoreResult:
    """Score one slate and publish the run directory. Raises ScoreInputError / SchemaMismatchError / RunDirectoryError."""
    if req.mode not in ("historical", "live"):
        raise ValueError(f"--mode must be historical or live, got {req.mode!r}")
    run = RunDirectory(Path(req.artifact_root), req.day, run_id_for(req.run_as_of_ts))
    if run.exists() and not req.replace:
        # checked before any work; staged_run checks again at publish time
        raise RunDirectoryError(f"run {run.run_id} for {req.day} already exists at {run.path}; runs are immutable "
                                "(pass --replace to overwrite it deliberately, or use another --run-as-of-ts)")
    source = resolve_features_source(req)
    if bundle is None:
        try:
            bundle_dir = resolve_bundle_dir(req.bundle_config)
        except (FileNotFoundError, ValueError) as exc:
            raise ScoreInputError(str(exc)) from None
        bundle = load_bundle(bundle_dir)
    slate = read_slate(source, req.day)
    started = time.perf_counter()
    scored = bundle.predict(slate)
    scored["model_bundle_id"] = bundle.bundle_id
    scored["run_id"] = run.run_id
    cols = [c for c in OUTPUT_COLUMNS if c in scored.columns] + ["model_bundle_id", "run_id"]
    if req.mode == "historical" and "minutes" in scored.columns:
        cols.append("minutes")
    scored = scored[cols]
    seconds = time.perf_counter() - started
    summary = build_summary(req, source, bundle, scored, run.run_id, seconds)
    with staged_run(run, replace=req.replace) as tmp:
        scored.to_parquet(tmp / "minutes.parquet", index=False)
        (tmp / "summary.json").write_text(_json(summary))
    summary["latest_moved"] = publish_latest(run, req.run_as_of_ts) if req.publish else False
    return ScoreResult(run_dir=run.path, summary=summary, scored=scored)


def _json(payload: dict) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
