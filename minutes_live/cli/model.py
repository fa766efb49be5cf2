"""Model operations of `minutes-live`: train | promote | backtest (scoring itself is `score_minutes_v1`).

They sit in the orchestration package because they build gold features with dbt (minutes_live.pipeline.gold)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from foundation import cli_values, settings
from foundation.guardrails import InvalidInput
from minutes_live.cli.options import bounded
from minutes_live.cli.spine import LOCK_TIMEOUT, App

if TYPE_CHECKING:
    from minutes_live.pipeline.gold import GoldFeatures

BUNDLES_DIR = settings.artifacts_root() / "minutes_v1" / "bundles"
BACKTEST_BUNDLES_DIR = settings.artifacts_root() / "minutes_v1" / "backtest_bundles"
BACKTEST_REPORTS_DIR = settings.reports_root() / "backtest"

app = App(name=None, help="Minutes V1.2 bundle: train, promote, backtest.")




REBUILD = Annotated[bool, typer.Option(
    "--rebuild", help="Backfill and run dbt even when the dataset and the dbt project are unchanged since the last build.")]


def _gold(dataset_dir: Path, lead: int, db_path: Path | None, lock_timeout: float, what: str,
          rebuild: bool = False) -> GoldFeatures:
    """Gold features built with dbt; store and dbt failures exit with their guardrail code (12, 13, 10)."""
    from minutes_live.pipeline.gold import gold_features  # lazy: needs dbt + the warehouse

    return gold_features(Path(dataset_dir), lead, db_path=db_path, wait_seconds=lock_timeout, reuse=not rebuild)


def load_gold(features_path: Path | None, dataset_dir: Path | None, lead: int, db_path: Path | None,
              lock_timeout: float = 600.0, rebuild: bool = False) -> tuple[pd.DataFrame, str, dict]:
    """(gold frame, where it came from, per-stage seconds and actions: ingest / dbt / read)."""
    if features_path is not None:
        t0 = time.perf_counter()
        frame = pd.read_parquet(features_path)
        return frame, str(features_path), {"read": {"seconds": round(time.perf_counter() - t0, 2), "rows": len(frame)}}
    if dataset_dir is None:
        dataset_dir = settings.real_dataset_dir()
    gold = _gold(dataset_dir, lead, db_path, lock_timeout, "backtest", rebuild)
    return gold.frame, f"build_gold_features({dataset_dir}, {lead})", gold.stages


@app.command()
def train(
    features_path: Annotated[Path | None, typer.Option(
        help="Gold features parquet (contract columns, minutes filled); exactly one of this or --dataset-dir is required.")] = None,
    dataset_dir: Annotated[Path | None, typer.Option(
        help="Or: a replay dataset; gold features are built with dbt (selector gold_features); one of the two is required.")] = None,
    seasons: Annotated[str | None, typer.Option(
        help="Comma-separated seasons to train on, e.g. 2017-18,2018-19 (default: every season).")] = None,
    lead: Annotated[int, typer.Option(help=bounded("--lead", "Gold lead minutes before tip (with --dataset-dir)."))] = 30,
    out_dir: Annotated[Path, typer.Option(help="Where bundle directories go.",
                                          show_default="artifacts/minutes_v1/bundles")] = BUNDLES_DIR,
    seed: Annotated[int, typer.Option(help=bounded("--seed", "LightGBM seed."))] = 7,
    train_start: Annotated[str | None, typer.Option(help="Train window start YYYY-MM-DD (default: the first date).")] = None,
    train_end: Annotated[str | None, typer.Option(
        help="Train window end YYYY-MM-DD (default: the day before the calibration window).")] = None,
    cal_start: Annotated[str | None, typer.Option(
        help="Calibration window start YYYY-MM-DD (default: the last 120 game dates, at most a fifth of them).")] = None,
    cal_end: Annotated[str | None, typer.Option(help="Calibration window end YYYY-MM-DD (default: the last date).")] = None,
    promote_it: Annotated[bool, typer.Option("--promote", help="Make it the active bundle.")] = False,
    lock_timeout: LOCK_TIMEOUT = 600.0,
    rebuild: REBUILD = False,
) -> None:
    """Train a bundle on gold features (regular season, non-OUT rows)."""
    from scoring.train import default_windows, promote, train_bundle

    # every value before any work (foundation/cli_values.py)
    cli_values.int_in_bounds(lead, "--lead")
    cli_values.int_in_bounds(seed, "--seed")
    for flag, value in (("--train-start", train_start), ("--train-end", train_end),
                        ("--cal-start", cal_start), ("--cal-end", cal_end)):
        cli_values.optional_date(value, flag)
    wanted = cli_values.parse_seasons(seasons)
    out_dir = cli_values.writable_dir(out_dir, "--out-dir")
    if (features_path is None) == (dataset_dir is None):
        raise InvalidInput("give exactly one of --features-path or --dataset-dir")
    if features_path is not None:
        if not features_path.is_file():
            raise InvalidInput(f"--features-path {features_path}: features file not found")
        frame = pd.read_parquet(features_path)
    else:
        if not dataset_dir.is_dir():
            raise InvalidInput(f"--dataset-dir {dataset_dir}: dataset directory not found")
        frame = _gold(dataset_dir, lead, None, lock_timeout, "train", rebuild).frame
    if wanted:
        unknown = sorted(set(wanted) - set(frame["season"].unique()))
        if unknown:
            raise InvalidInput(f"--seasons: {unknown} not in the features (have {sorted(frame['season'].unique())})")
        frame = frame[frame["season"].isin(wanted)]
    if "game_type" in frame.columns:
        frame = frame[frame["game_type"] == "regular"]
    dtrain, dcal = default_windows(frame)
    tw = (train_start or dtrain[0], train_end or dtrain[1])
    cw = (cal_start or dcal[0], cal_end or dcal[1])
    path = train_bundle(frame, out_dir, seed=seed, train_window=tw, cal_window=cw)
    typer.echo(f"bundle: {path}")
    if promote_it:
        typer.echo(_promoted(promote(path)))


def _promoted(payload: dict) -> str:
    return (f"promoted: bundle {payload['bundle_id']} is active ({payload['bundle_dir']}, features "
            f"{str(payload['feature_hash'])[:12]})")


@app.command("promote")
def promote_cmd(bundle_dir: Annotated[Path, typer.Argument(help="Bundle directory to activate.")]) -> None:
    """Make this bundle the active one: artifacts/minutes_v1/current_run.json (after a load + hash check)."""
    from scoring.train import promote

    typer.echo(_promoted(promote(bundle_dir)))  # a damaged, incomplete or foreign bundle: one line, exit 14


@app.command()
def backtest(
    season: Annotated[str, typer.Option(help="Season to score, e.g. 2021-22.")],
    lead: Annotated[int, typer.Option(help=bounded("--lead", "Gold lead minutes before tip."))] = 30,
    features_path: Annotated[Path | None, typer.Option(
        help="Gold features parquet (skips the dbt build; default: build them from --dataset-dir).")] = None,
    dataset_dir: Annotated[Path | None, typer.Option(
        help="Replay dataset for the gold build (default: $MINUTES_LIVE_NBA_DIR or ../shared/data/nba).")] = None,
    db_path: Annotated[Path | None, typer.Option(
        help="Store for the gold build (default: the dataset's own, data/<dataset>/minutes_live.duckdb).")] = None,
    out_root: Annotated[Path, typer.Option(help="Where the report goes (<season>_lead<N>/report.md + plots).",
                                           show_default="reports/backtest")] = BACKTEST_REPORTS_DIR,
    bundle_root: Annotated[Path, typer.Option(help="Where the backtest's bundles go.",
                                              show_default="artifacts/minutes_v1/backtest_bundles")] = BACKTEST_BUNDLES_DIR,
    seed: Annotated[int, typer.Option(help=bounded("--seed", "LightGBM seed."))] = 7,
    lock_timeout: LOCK_TIMEOUT = 600.0,
    rebuild: REBUILD = False,
) -> None:
    """Train on the seasons before SEASON, score every game of it, write report.md, predictions.parquet + plots."""
    from scoring.backtest import run_backtest

    # every value before any work (foundation/cli_values.py)
    cli_values.parse_season(season)
    cli_values.int_in_bounds(lead, "--lead")
    cli_values.int_in_bounds(seed, "--seed")
    out_root = cli_values.writable_dir(out_root, "--out-root")
    bundle_root = cli_values.writable_dir(bundle_root, "--bundle-root")
    frame, source, stages = load_gold(features_path, dataset_dir, lead, db_path, lock_timeout, rebuild)
    res = run_backtest(frame, season, lead, out_root, bundle_root, seed=seed, source=source, gold_stages=stages)
    m = res.metrics
    typer.echo(f"{season} lead {lead}: MAE {m['mae']:.3f} (played {m['mae_played']:.3f}), coverage "
               f"{m['coverage_p10_p90']:.3f}, team share {m['team_sanity']['share_in_band']:.3f} -> {res.report_dir}")


if __name__ == "__main__":
    app()
