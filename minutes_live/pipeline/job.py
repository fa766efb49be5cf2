"""The scheduled job: ingest -> dbt build -> score (live) -> reports -> publish -> registry.

One call = one attempt at the run (date, run_as_of_ts), recorded in the registry (started, then succeeded
or failed; a killed attempt is marked `killed` by the next command touching the date). Features, scores
and reports are staged as temp directories and published together in one step
(foundation/publication.py), so at every instant both `latest` pointers name the same complete run, and a
job killed at any step boundary (foundation/faults.py) leaves them on the previous one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from foundation import run_directory as rd
from foundation import settings
from foundation.faults import boundary
from foundation.lifecycle import run_attempt
from foundation.publication import KINDS, Publication, Roots
from foundation.store import connected, latest_row
from minutes_live.pipeline.live_build import LiveBuildConfig, build_features, store_session
from scoring.recalibrate import outcome_histogram
from scoring.reports import write_reports

log = logging.getLogger(__name__)



@dataclass
class JobResult:
    features_dir: Path
    scores_dir: Path
    report_dir: Path
    summary: dict
    minutes: pd.DataFrame


def run_job(cfg: LiveBuildConfig, *, job: str = "adhoc", bundle_config: Path | None = None,
            lock_timeout: float = 600.0, details: dict | None = None) -> JobResult:
    """One attempt at the run; `details` are recorded on its registry end line (the watcher's inputs)."""
    import time

    from scoring.score import ScoreRequest, ScoreSource, load_active_bundle, read_slate, score_into

    data_root = Path(cfg.data_root or settings.data_root())
    roots = Roots.default(features=cfg.out_root, dataset=cfg.dataset)
    pub = Publication(roots, cfg.day, settings.registry_root(cfg.dataset, data_root))
    durations: dict[str, float] = {}
    t_start = time.perf_counter()
    with run_attempt(pub, job=job, run_as_of_ts=cfg.run_as_of_ts, kinds=KINDS, replace=cfg.replace,
                     source=cfg.source, dataset=cfg.dataset) as run:
        req = ScoreRequest(day=cfg.day, mode="live", artifact_root=roots.scores,
                           **({"bundle_config": bundle_config} if bundle_config is not None else {}))
        with store_session(cfg, lock_timeout=lock_timeout, what=f"{job} {cfg.day} {run.run_id}") as session:
            bundle = load_active_bundle(req)  # before any work: no bundle, no run
            t0 = time.perf_counter()
            built, staged = build_features(run, cfg, session)
            staged_features = staged / "features.parquet"
            durations["build"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            features_path = pub.run_dir("features", run.run_id) / "features.parquet"
            source = ScoreSource(staged_features, run.run_id, cfg.run_as_of_ts, roots.features, label=features_path)
            scored = score_into(run.stage("scores"), req, source, read_slate(staged_features, cfg.day), bundle)
            durations["score"] = time.perf_counter() - t0
            log.info("score %s: %d rows with bundle %s in %.1f s", run.run_id, len(scored.scored),
                     getattr(bundle, "bundle_id", "?"), durations["score"])
            boundary("after_score")

            t0 = time.perf_counter()
            team_report = write_reports(run.stage("reports"), scored.scored, built.coverage, built.features,
                                        cfg.run_as_of_ts)
            durations["reports"] = time.perf_counter() - t0
            log.info("reports %s: %d team-games, %d outside [230, 260]", run.run_id, team_report["team_games"],
                     team_report["team_games_outside_band"])
            boundary("after_reports")

            outcome = run.publish()
            boundary("after_publish")
        durations["total"] = time.perf_counter() - t_start
        log.info("publish %s: %s (job %s in %.1f s)", run.run_id, outcome.describe(cfg.day), job, durations["total"])
        paths = {k: str(pub.run_dir(k, run.run_id)) for k in KINDS}
        run.details.update(
            paths=paths,
            snapshots=built.summary["snapshots"],
            warnings=built.summary["warnings"] + scored.summary.get("warnings", []),
            team_minutes=team_report,
            rows=built.summary["rows"],
            games=len(built.summary["games"]),
            durations_seconds={k: round(v, 2) for k, v in durations.items()},
            **(details or {}),
        )
    summary = {**run.details, "status": "succeeded", "run_id": run.run_id, "publication": outcome.describe(cfg.day),
               "notes": run.notes}
    return JobResult(Path(paths["features"]), Path(paths["scores"]), Path(paths["reports"]), summary, scored.scored)


def next_day_validation(day: date, *, db_path: Path, data_root: Path, dataset: str = settings.LIVE_DATASET) -> dict | None:
    """Join the published live projections of `day` (in `dataset`'s scores root) to its box scores; append
    MAE/coverage to the drift log `<data_root>/registry/drift.jsonl` (data_root: the dataset's registry root)."""
    run_dir = rd.resolve_latest(settings.scores_root(dataset), day)
    if run_dir is None:
        return None
    proj = pd.read_parquet(run_dir / "minutes.parquet")
    with connected(db_path, read_only=True) as con:
        box = con.execute(latest_row(
            """select game_id, player_id, team_id, minutes as actual_minutes, play_status
               from raw.box_scores where game_date = ?""", ["game_id", "player_id", "team_id"]), [day]).df()
    if box.empty:
        return None
    joined = proj.merge(box, on=["game_id", "player_id", "team_id"], how="inner")
    rows = joined[(joined["status"] != "OUT") & (joined["play_status"] != "inactive")]
    if rows.empty:
        return None
    err = (rows["minutes_p50"] - rows["actual_minutes"]).abs()
    # the evidence for the next slates' play-probability shift (scoring/recalibrate.py): unlisted players'
    # unshifted model probability against whether they played, as a histogram of this date
    unlisted = rows[rows["status"].astype("string").str.upper().fillna("UNK").isin(["UNK", "AVAILABLE", ""])]
    outcomes = None
    if "play_prob_model" in rows.columns:
        outcomes = {"bundle_id": str(rows["model_bundle_id"].iloc[0]) if "model_bundle_id" in rows else None,
                    **outcome_histogram(unlisted["play_prob_model"].to_numpy(float),
                                        unlisted["actual_minutes"].to_numpy(float) > 0)}
    inside = rows["actual_minutes"].between(rows["minutes_p10"], rows["minutes_p90"])
    record = {
        "date": day.isoformat(),
        "run_dir": str(run_dir),
        "rows": int(len(rows)),
        "mae_p50": round(float(err.mean()), 4),
        "mae_p50_played": round(float(err[rows["actual_minutes"] > 0].mean()), 4),
        "coverage_p10_p90": round(float(inside.mean()), 4),
        "unmatched_projections": int(len(proj) - len(joined)),
        **({"play_outcomes": outcomes} if outcomes is not None else {}),
    }
    append_drift(data_root, record)
    return record


def append_drift(data_root: Path, record: dict) -> Path:
    """One line of the drift log (`<data root>/registry/drift.jsonl`): strict JSON (a non-finite number is
    written as null, which the reader skips), a torn last line ended first (foundation/state.py)."""
    from foundation import state
    from foundation.atomic import dumps

    return state.append_line(settings.drift_log_path(data_root), dumps(record, indent=None, first=("date",)))
