"""The scheduled job: ingest -> dbt build -> score (live) -> reports -> publish -> registry.

One call = one audited run for (date, run_as_of_ts). Publishing is crash-safe: features and scores are
written as complete run directories first; the `latest` pointers move only after both exist, so a job
killed at any point leaves `latest` on the previous complete run. Every outcome (success or the guardrail
that stopped it) is appended to the run registry.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from foundation import registry, settings
from foundation import run_directory as rd
from foundation.guardrails import GuardrailError
from foundation.locks import store_lock
from foundation.store import connected
from minutes_live.build_live import LiveBuildConfig, build_live, preflight_store

TEAM_SUM_BAND = (230.0, 260.0)


@dataclass
class JobResult:
    features_dir: Path
    scores_dir: Path
    report_dir: Path
    summary: dict
    minutes: pd.DataFrame


def score_live(features_path: Path, day: date, run_as_of_ts: datetime, artifact_root: Path, bundle_config: Path | None,
               replace: bool = False) -> Path:
    """Run score_minutes_v1 in live mode as its own process; return its run directory."""
    cmd = [sys.executable, "-m", "scoring.score_cli", "--date", day.isoformat(), "--mode", "live",
           "--features-path", str(features_path), "--artifact-root", str(artifact_root),
           "--run-as-of-ts", run_as_of_ts.isoformat(), "--no-publish"]
    if bundle_config is not None:
        cmd += ["--bundle-config", str(bundle_config)]
    if replace:
        cmd += ["--replace"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=settings.PROJECT_ROOT)
    if proc.returncode != 0:
        err = GuardrailError(f"score_minutes_v1 failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}")
        err.exit_code = proc.returncode if proc.returncode > 1 else 1
        raise err
    return artifact_root / day.isoformat() / f"run={rd.run_id_for(run_as_of_ts)}"


def write_reports(report_run: rd.RunDirectory, minutes: pd.DataFrame, coverage: pd.DataFrame, features: pd.DataFrame,
                  run_as_of_ts: datetime) -> dict:
    lo, hi = TEAM_SUM_BAND
    team = (
        minutes.groupby(["game_id", "team_id", "team_tricode"], as_index=False)
        .agg(players=("player_id", "size"), p50_sum=("minutes_p50", "sum"), p10_sum=("minutes_p10", "sum"),
             p90_sum=("minutes_p90", "sum"))
        .round(2)
    )
    team["outside_230_260"] = ~team["p50_sum"].between(lo, hi)
    as_of = pd.Timestamp(run_as_of_ts)
    fmax = features.groupby("game_id", as_index=False).agg(feature_as_of_ts_max=("feature_as_of_ts", "max"),
                                                            tip_ts=("tip_ts", "first"))
    fmax["feature_lag_minutes"] = ((as_of - fmax["feature_as_of_ts_max"]).dt.total_seconds() / 60).round(2)
    with rd.staged_run(report_run) as tmp:
        team.to_csv(tmp / "team_minutes.csv", index=False)
        coverage.to_csv(tmp / "snapshot_coverage.csv", index=False)
        fmax.to_csv(tmp / "feature_freshness.csv", index=False)
    return {
        "team_games": int(len(team)),
        "team_games_outside_band": int(team["outside_230_260"].sum()),
        "p50_sum_min": float(team["p50_sum"].min()) if len(team) else None,
        "p50_sum_max": float(team["p50_sum"].max()) if len(team) else None,
        "feature_lag_minutes_max": float(fmax["feature_lag_minutes"].max()) if len(fmax) else None,
    }


def run_job(cfg: LiveBuildConfig, *, job: str = "adhoc", bundle_config: Path | None = None,
            lock_timeout: float = 600.0) -> JobResult:
    data_root = Path(cfg.data_root or settings.data_root())
    artifact_root = settings.artifacts_root() / "minutes_v1" / "daily"
    reports_root = settings.reports_root() / "minutes_live"
    entry: dict = {"job": job, "date": cfg.day.isoformat(), "run_as_of_ts": cfg.run_as_of_ts.isoformat(),
                   "run_id": cfg.run_id, "source": cfg.source, "status": "failed"}
    durations: dict[str, float] = {}
    t_start = time.perf_counter()
    try:
        with store_lock(data_root, timeout=lock_timeout, what=f"{job} {cfg.day} {cfg.run_id}"):
            preflight_store(cfg, wait_seconds=lock_timeout)  # another holder of the DuckDB file: wait, then exit 12
            t0 = time.perf_counter()
            built = build_live(cfg, publish=False)
            entry.update(run_id=cfg.run_id, run_as_of_ts=cfg.run_as_of_ts.isoformat())  # live "now" is set after the fetch
            durations["build"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            scores_dir = score_live(built.run_dir / "features.parquet", cfg.day, cfg.run_as_of_ts, artifact_root,
                                    bundle_config, replace=cfg.replace)
            durations["score"] = time.perf_counter() - t0
            minutes = pd.read_parquet(scores_dir / "minutes.parquet")
            t0 = time.perf_counter()
            report_run = rd.RunDirectory(reports_root, cfg.day, cfg.run_id)
            team_report = write_reports(report_run, minutes, built.coverage, built.features, cfg.run_as_of_ts)
            durations["reports"] = time.perf_counter() - t0
            # Publish last: both run directories are complete on disk before any pointer moves.
            moved_features = rd.publish_latest(rd.RunDirectory(Path(cfg.out_root or settings.features_root()), cfg.day,
                                                               cfg.run_id), cfg.run_as_of_ts)
            moved_scores = rd.publish_latest(rd.RunDirectory(artifact_root, cfg.day, cfg.run_id), cfg.run_as_of_ts)
            score_summary = json.loads((scores_dir / "summary.json").read_text())
            entry.update(
                status="success",
                exit_code=0,
                paths={"features": str(built.run_dir), "scores": str(scores_dir), "reports": str(report_run.path)},
                snapshots=built.summary["snapshots"],
                warnings=built.summary["warnings"] + score_summary.get("warnings", []),
                team_minutes=team_report,
                latest_moved={"features": moved_features, "scores": moved_scores},
                rows=built.summary["rows"],
                games=len(built.summary["games"]),
            )
            return JobResult(built.run_dir, scores_dir, report_run.path, entry, minutes)
    except GuardrailError as exc:
        entry.update(exit_code=exc.exit_code, error=str(exc))
        raise
    except Exception as exc:
        entry.update(exit_code=1, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc()[-2000:])
        raise
    finally:
        durations["total"] = time.perf_counter() - t_start
        entry["durations_seconds"] = {k: round(v, 2) for k, v in durations.items()}
        registry.append_entry(data_root, entry)


def next_day_validation(day: date, *, db_path: Path, data_root: Path) -> dict | None:
    """Join the published live projections of `day` to its box scores; append MAE/coverage to the drift log."""
    artifact_root = settings.artifacts_root() / "minutes_v1" / "daily"
    run_dir = rd.resolve_latest(artifact_root, day)
    if run_dir is None:
        return None
    proj = pd.read_parquet(run_dir / "minutes.parquet")
    with connected(db_path, read_only=True) as con:
        box = con.execute(
            """select game_id, player_id, team_id, minutes as actual_minutes, play_status
               from raw.box_scores where game_date = ?
               qualify row_number() over (partition by game_id, player_id, team_id
                                          order by snapshot_ts desc, ingested_at desc, content_hash) = 1""",
            [day],
        ).df()
    if box.empty:
        return None
    joined = proj.merge(box, on=["game_id", "player_id", "team_id"], how="inner")
    rows = joined[(joined["status"] != "OUT") & (joined["play_status"] != "inactive")]
    if rows.empty:
        return None
    err = (rows["minutes_p50"] - rows["actual_minutes"]).abs()
    inside = rows["actual_minutes"].between(rows["minutes_p10"], rows["minutes_p90"])
    record = {
        "date": day.isoformat(),
        "run_dir": str(run_dir),
        "rows": int(len(rows)),
        "mae_p50": round(float(err.mean()), 4),
        "mae_p50_played": round(float(err[rows["actual_minutes"] > 0].mean()), 4),
        "coverage_p10_p90": round(float(inside.mean()), 4),
        "unmatched_projections": int(len(proj) - len(joined)),
    }
    path = Path(data_root) / "registry" / "drift.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fh.write(json.dumps(record) + "\n")
    return record
