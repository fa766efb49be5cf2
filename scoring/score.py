"""score_minutes_v1: score one slate with the active Minutes V1 bundle into an immutable run directory.

Inputs
- historical (default): gold features for the date from `--features-root`, either a single parquet file or
  a directory laid out `<features-root>/season=<YYYY-YY>/features.parquet` (the season of the date, Aug-Jul);
  `--features-path` (one parquet) overrides the root. All rows of the date are scored.
- live: `--features-path` is required (the live mart's features.parquet of a build run); `--features-root`
  is ignored. QUESTIONABLE / DOUBTFUL / PROBABLE players get their play probability from the measured status
  table (scoring/status.py); when the features run holds game-time-decision worlds (`scenario_features.parquet`
  beside features.parquet), their teams are published as mixtures of those worlds (scoring/worlds.py).

In both modes OUT players are kept in the output with play_prob 0 and p10 = p50 = p90 = 0.
Run identity: a score run takes the id of the features run it scores, never the clock. A features file
inside a features run directory (`<root>/<date>/run=<id>/features.parquet` with its summary.json) gives
the run id and run_as_of_ts; any other file (gold features) takes `--run-as-of-ts`, or else the newest
`feature_as_of_ts` of the slate. Features newer than `--run-as-of-ts` are refused (exit 2).
Output: `<artifact-root>/<date>/run=<run_id>/{minutes.parquet, scenarios.parquet, summary.json}` (the
summary records the per-team expected-minutes reconciliation and the
sha256 of the features file it scored); the default artifact root is the scores root of the features run's
dataset (its summary.json `dataset`; foundation.settings.scores_root). A live features run scored into its
dataset's roots also gets the job's reports (scoring/reports.py) under the dataset's reports root. Staged and published under the `latest` rule of
foundation/publication.py; the attempt is recorded in the registry (foundation/lifecycle.py).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from foundation import settings, state
from foundation.clock import season_label
from foundation.guardrails import InvalidInput, ScoringInputError
from foundation.lifecycle import run_attempt
from foundation.publication import Publication, Roots, sha256_file
from foundation.run_directory import read_json, run_id_for
from scoring.active_bundle import resolve_bundle_dir
from scoring.bundle import BundleError, MinutesBundle, load_bundle
from scoring.features import SchemaMismatchError
from scoring.metrics import TEAM_BAND
from scoring.recalibrate import PlayShift, shift_from_drift
from scoring.worlds import WorldsError
from scoring.worlds import score_slate as score_worlds

OUTPUT_COLUMNS = (
    "game_date", "tip_ts", "game_id", "player_id", "player_name", "team_id", "team_name", "team_tricode",
    "opponent_team_id", "opponent_team_name", "opponent_team_tricode", "status", "is_starter",
    "is_confirmed_starter", "is_projected_starter", "play_prob", "minutes_mean", "minutes_p10", "minutes_p50",
    "minutes_p90", "minutes_if_play_p10", "minutes_if_play_p50", "minutes_if_play_p90", "minutes_mean_raw",
    "play_prob_model", "feature_as_of_ts",
)
# the game-time-decision worlds' features, written by the live build next to features.parquet (scoring/worlds.py)
SCENARIO_FEATURES = "scenario_features.parquet"


class ScoreInputError(ScoringInputError):
    """A required input (features, bundle, config) is missing or unusable (exit 14)."""


@dataclass
class ScoreRequest:
    day: date
    mode: str = "historical"
    features_path: Path | None = None
    features_root: Path | None = None
    artifact_root: Path | None = None  # None: the scores root of the dataset the features run belongs to
    bundle_config: Path = field(default_factory=settings.bundle_config_path)
    run_as_of_ts: datetime | None = None  # None: the features run's instant (or the newest feature_as_of_ts)
    replace: bool = False


@dataclass(frozen=True)
class ScoreSource:
    """The features a score run reads, and the run identity they give it."""

    path: Path
    run_id: str
    run_as_of_ts: datetime
    features_root: Path | None  # the features run's root, when the file belongs to a features run
    label: Path | None = None  # where the file is read from once published (the job scores its staged copy)
    dataset: str = settings.LIVE_DATASET  # the features run's dataset (its summary.json), which names the roots


@dataclass
class ScoreResult:
    run_dir: Path
    summary: dict
    scored: pd.DataFrame


def resolve_features_source(req: ScoreRequest) -> Path:
    if req.mode == "live":
        if req.features_path is None:
            raise InvalidInput("--mode live requires --features-path (the live features.parquet of a build run)")
        path = Path(req.features_path)
    elif req.features_path is not None:
        path = Path(req.features_path)
    else:
        if req.features_root is None:
            raise InvalidInput("historical mode needs --features-root (or --features-path)")
        root = Path(req.features_root)
        path = root if root.is_file() else root / f"season={season_label(req.day)}" / "features.parquet"
    if not path.exists():
        raise ScoreInputError(f"features file not found: {path}")
    if path.is_dir():
        raise ScoreInputError(f"features path {path} is a directory: pass one features parquet file")
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


def read_scenarios(features_path: Path, day: date) -> pd.DataFrame | None:
    """The game-time-decision worlds written beside a features file (SCENARIO_FEATURES), rows of `day`; None
    when there is no such file (gold features, older runs)."""
    path = Path(features_path).parent / SCENARIO_FEATURES
    if not path.exists():
        return None
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise ScoreInputError(f"cannot read scenario features {path}: {exc}") from None
    if frame.empty:
        return frame
    return frame[pd.to_datetime(frame["game_date"]).dt.date == day].reset_index(drop=True)


def features_run_of(path: Path) -> dict | None:
    """The summary of the features run a file belongs to (`.../run=<id>/features.parquet`), or None."""
    if not path.parent.name.startswith("run="):
        return None
    summary = read_json(path.parent / "summary.json")
    if summary and summary.get("run_id") == path.parent.name.removeprefix("run=") and summary.get("run_as_of_ts"):
        return summary
    return None


def resolve_run(req: ScoreRequest, path: Path, slate: pd.DataFrame) -> ScoreSource:
    """Run id and instant of the score run: those of the features run scored (see the module docstring)."""
    newest = pd.to_datetime(slate["feature_as_of_ts"], utc=True).max() if "feature_as_of_ts" in slate else pd.NaT
    if req.run_as_of_ts is not None and pd.notna(newest) and newest > pd.Timestamp(req.run_as_of_ts):
        raise InvalidInput(
            f"--run-as-of-ts {req.run_as_of_ts.isoformat()} is before the newest feature_as_of_ts "
            f"{newest.isoformat()} of {path}: scoring would publish information from after its own instant")
    run = features_run_of(path)
    if run is not None:
        as_of = datetime.fromisoformat(run["run_as_of_ts"]).astimezone(UTC)
        if req.run_as_of_ts is not None and req.run_as_of_ts != as_of:
            raise InvalidInput(
                f"--run-as-of-ts {req.run_as_of_ts.isoformat()} differs from the run_as_of_ts {as_of.isoformat()} "
                f"of the features run {run['run_id']} it scores; a score run takes the id of its features run "
                "(leave --run-as-of-ts out)")
        return ScoreSource(path, run["run_id"], as_of, path.parent.parent.parent,
                           dataset=run.get("dataset") or settings.LIVE_DATASET)
    if req.run_as_of_ts is not None:
        as_of = req.run_as_of_ts
    elif pd.notna(newest):
        as_of = newest.to_pydatetime().replace(microsecond=0)
    else:
        raise InvalidInput(f"{path} has no feature_as_of_ts and is not a features run: pass --run-as-of-ts")
    return ScoreSource(path, run_id_for(as_of), as_of, None)


def team_minutes_check(scored: pd.DataFrame, target: float | None = None) -> dict:
    """Per team-game: expected minutes after reconciliation (`mean_sum`, = the target), before it (`raw_mean_sum`)
    and the adjustment; the p50 sum with its [230, 260] flag (a sanity measure, never a target)."""
    teams = scored.groupby(["game_id", "team_id"], sort=True)
    rows = []
    for (game_id, team_id), part in teams:
        total = float(part["minutes_p50"].sum())
        mean_sum = float(part["minutes_mean"].sum()) if "minutes_mean" in part else None
        raw = float(part["minutes_mean_raw"].sum()) if "minutes_mean_raw" in part else None
        rows.append({"game_id": int(game_id), "team_id": int(team_id),
                     "team_tricode": str(part["team_tricode"].iloc[0]) if "team_tricode" in part else None,
                     "mean_sum": None if mean_sum is None else round(mean_sum, 2),
                     "raw_mean_sum": None if raw is None else round(raw, 2),
                     "adjustment": None if raw is None or mean_sum is None else round(mean_sum - raw, 2),
                     "p50_sum": round(total, 2), "flag": not (TEAM_BAND[0] <= total <= TEAM_BAND[1])})
    adjustments = [abs(r["adjustment"]) for r in rows if r["adjustment"] is not None]
    return {"band": list(TEAM_BAND), "target_minutes": None if target is None else round(target, 3),
            "teams": rows, "flagged": [r for r in rows if r["flag"]],
            "share_in_band": (sum(not r["flag"] for r in rows) / len(rows)) if rows else None,
            "median_abs_adjustment": round(float(pd.Series(adjustments).median()), 2) if adjustments else None}


def build_summary(req: ScoreRequest, source: ScoreSource, bundle: MinutesBundle, scored: pd.DataFrame,
                  seconds: float, scenarios: pd.DataFrame | None = None) -> dict:
    status = scored["status"].astype("string").str.upper().fillna("UNK")
    warnings = []
    sanity = team_minutes_check(scored, bundle.reconcile.get("target_minutes"))
    for r in sanity["flagged"]:
        warnings.append(f"team {r['team_tricode'] or r['team_id']} in game {r['game_id']}: p50 sum {r['p50_sum']} "
                        f"outside [{TEAM_BAND[0]:.0f}, {TEAM_BAND[1]:.0f}]")
    if req.mode == "historical" and "minutes" in scored and scored["minutes"].isna().all():
        warnings.append("historical mode but no labels present (minutes all NULL): is this a live features file?")
    return {
        "date": req.day.isoformat(),
        "mode": req.mode,
        "run_id": source.run_id,
        "run_as_of_ts": source.run_as_of_ts.isoformat(),
        "generated_at": datetime.now(UTC).isoformat(),
        "features_source": str(source.label or source.path),
        "features_sha256": sha256_file(source.path),
        "bundle": {"bundle_id": bundle.bundle_id, "bundle_dir": str(bundle.path), "feature_hash": bundle.feature_hash,
                   "git_commit": bundle.meta.get("git_commit"), "windows": bundle.meta.get("windows")},
        "counts": {
            "rows": int(len(scored)),
            "games": int(scored["game_id"].nunique()),
            "teams": int(scored[["game_id", "team_id"]].drop_duplicates().shape[0]),
            "players": int(scored["player_id"].nunique()),
            "out": int((status == "OUT").sum()),
            "questionable": int(status.isin(["Q", "QUESTIONABLE"]).sum()),
            "doubtful": int(status.isin(["D", "DOUBTFUL"]).sum()),
            "probable": int(status.isin(["PROB", "PROBABLE"]).sum()),
            "starters": int(scored["is_starter"].sum()),
        },
        "team_minutes": sanity,
        "game_time_decisions": {
            "players": int(scenarios["gtd_player_id"].nunique()) if scenarios is not None and len(scenarios) else 0,
            "team_games": int(scenarios[["game_id", "team_id"]].drop_duplicates().shape[0])
            if scenarios is not None and len(scenarios) else 0,
            "file": "scenarios.parquet",
        },
        "scoring_seconds": round(seconds, 3),
        "warnings": warnings,
    }


_LOADED: tuple[str, tuple, MinutesBundle] | None = None  # the last bundle loaded: its directory, files, bundle


def _bundle_signature(path: Path) -> tuple:
    """Every file of the bundle directory by name, inode, size and mtime: what changes when one is replaced,
    damaged or retrained in place."""
    out = []
    for f in sorted(path.iterdir()):
        st = f.stat()
        out.append((f.name, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def load_active_bundle(req: ScoreRequest) -> MinutesBundle:
    """The active bundle, checked (scoring/bundle.py: every file against its recorded sha256). A long-lived
    process (the watcher) loads it once: the next call reuses it while no file of its directory changed."""
    global _LOADED
    try:
        path = Path(resolve_bundle_dir(req.bundle_config))
        key = (str(path.resolve()), _bundle_signature(path) if path.is_dir() else None)
        if _LOADED is not None and key[1] is not None and _LOADED[:2] == key:
            return _LOADED[2]
        bundle = load_bundle(path)
        _LOADED = (*key, bundle)
        return bundle
    except (FileNotFoundError, ValueError, BundleError) as exc:
        raise ScoreInputError(str(exc)) from None


def recent_play_shift(dataset: str, day: date, bundle: MinutesBundle) -> PlayShift:
    """The recent-outcome shift of the play probability for a slate of `dataset` on `day` (scoring/recalibrate.py),
    from the dataset's drift log; a missing log is no evidence (shift 0), a damaged line is skipped with a
    warning naming the file (foundation/state.py)."""
    path = settings.drift_log_path(settings.registry_root(dataset, settings.data_root()))
    if not path.is_file():
        return PlayShift(0.0, 0, (), f"no drift log yet ({path})")
    return shift_from_drift(list(state.iter_lines(path)), day, bundle.bundle_id)


def score_into(directory: Path, req: ScoreRequest, source: ScoreSource, slate: pd.DataFrame,
               bundle: MinutesBundle) -> ScoreResult:
    """Score the slate and write minutes.parquet + summary.json into a staged run directory."""
    started = time.perf_counter()
    scenario_features = read_scenarios(source.path, req.day)
    recalibration = recent_play_shift(source.dataset, req.day, bundle)
    bundle.play_shift = recalibration.shift
    try:
        scored, scenarios = score_worlds(bundle, slate, scenario_features)
    except SchemaMismatchError as exc:
        raise ScoreInputError(str(exc)) from None
    except WorldsError as exc:
        raise ScoreInputError(f"{source.path.parent / SCENARIO_FEATURES}: {exc}") from None
    scored["model_bundle_id"] = bundle.bundle_id
    scored["run_id"] = source.run_id
    cols = [c for c in OUTPUT_COLUMNS if c in scored.columns] + ["model_bundle_id", "run_id"]
    if req.mode == "historical" and "minutes" in scored.columns:
        cols.append("minutes")
    scored = scored[cols]
    summary = build_summary(req, source, bundle, scored, time.perf_counter() - started, scenarios)
    summary["play_recalibration"] = {**recalibration.describe(), "source": "drift log (overnight next-day validation)"}
    scored.to_parquet(directory / "minutes.parquet", index=False)
    scenarios.assign(model_bundle_id=bundle.bundle_id, run_id=source.run_id).to_parquet(
        directory / "scenarios.parquet", index=False)
    (directory / "summary.json").write_text(_json(summary))
    return ScoreResult(run_dir=directory, summary=summary, scored=scored)


def score_slate(req: ScoreRequest, bundle: MinutesBundle | None = None, *, job: str = "score") -> ScoreResult:
    """score_minutes_v1: score one slate into a run with the features run's id and publish it."""
    if req.mode not in ("historical", "live"):
        raise InvalidInput(f"--mode must be historical or live, got {req.mode!r}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        # LightGBM parses the text models in native code, without the GIL: they load while the slate is read.
        # A bundle error still surfaces where it always did (inside the attempt, after the features checks).
        loading = pool.submit(load_active_bundle, req) if bundle is None else None
        path = resolve_features_source(req)
        slate = read_slate(path, req.day)
        source = resolve_run(req, path, slate)
        default_scores = settings.scores_root(source.dataset)
        artifact_root = Path(req.artifact_root) if req.artifact_root is not None else default_scores
        if source.features_root is None and artifact_root.resolve() != default_scores.resolve():
            roots = Roots(None, artifact_root)  # a file of no features run, scored to a root of its own
        else:
            roots = Roots.default(features=source.features_root, scores=artifact_root, dataset=source.dataset)
        # a live features run scored into the dataset's own roots gets the job's reports too (team minutes,
        # snapshot coverage, feature freshness): build + score leaves the same three directories as a job
        coverage = path.parent / "coverage.csv"
        kinds = ("scores", "reports") if (req.mode == "live" and source.features_root is not None
                                          and req.artifact_root is None and coverage.exists()) else ("scores",)
        pub = Publication(roots, req.day, settings.registry_root(source.dataset))
        with run_attempt(pub, job=job, run_as_of_ts=source.run_as_of_ts, kinds=kinds, replace=req.replace,
                         features_source=str(path), dataset=source.dataset) as run:
            bundle = bundle or loading.result()
            result = score_into(run.stage("scores"), req, source, slate, bundle)
            if "reports" in kinds:
                from scoring.reports import write_reports

                write_reports(run.stage("reports"), result.scored, pd.read_csv(coverage), slate, source.run_as_of_ts)
            outcome = run.publish()
            run.details.update(paths={k: str(pub.run_dir(k, source.run_id)) for k in kinds},
                               warnings=result.summary["warnings"])
    result.run_dir = pub.run_dir("scores", source.run_id)
    result.summary["publication"] = outcome.describe(req.day)
    return result


def _json(payload: dict) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
