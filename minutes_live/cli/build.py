"""`build_minutes_live` console script (also `minutes-live build`): flags -> pipeline.live_build.build_live."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values
from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import InvalidInput
from minutes_live.cli.options import bounded
from minutes_live.cli.spine import (
    ALLOW_MISSING_INJURIES,
    ALLOW_MISSING_ODDS,
    DATASET_DIR,
    LOCK_TIMEOUT,
    REPLACE,
    SOURCE,
    TARGET,
    guarded,
    run_single,
)
from minutes_live.pipeline.live_build import build_live, live_config


def command(
    date: Annotated[str | None, typer.Option(
        help="Slate date (US/Eastern) YYYY-MM-DD; required unless --parity-check-date is given.")] = None,
    run_as_of_ts: Annotated[str | None, typer.Option(help="ISO-8601 instant with an offset (default: now, UTC).")] = None,
    source: SOURCE = "replay",
    dataset_dir: DATASET_DIR = None,
    roster_fallback_days: Annotated[int | None, typer.Option(help=bounded(
        "--roster-fallback-days", "Use the newest roster of the previous N days when the date has none (default: 0)."))] = None,
    roster_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--roster-max-age-hours", "An older roster does not qualify (default: 18)."))] = None,
    injuries_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--injuries-max-age-hours", "An older injury report does not qualify (default: 36)."))] = None,
    odds_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--odds-max-age-hours", "An older odds quote does not qualify (default: 24)."))] = None,
    history_days: Annotated[int | None, typer.Option(help=bounded(
        "--history-days", "Rolling-window history before the cutoff (default: 365)."))] = None,
    allow_missing_injuries: ALLOW_MISSING_INJURIES = False,
    allow_missing_odds: ALLOW_MISSING_ODDS = False,
    allow_started_slate: Annotated[bool, typer.Option(
        "--allow-started-slate", help="Allow run_as_of_ts after every tip (not exit 8).")] = False,
    replace: REPLACE = False,
    out_root: Annotated[Path | None, typer.Option(help="Features root (default: the dataset's, data/<dataset>/features_minutes_v1; live: data/live/...).")] = None,
    data_root: Annotated[Path | None, typer.Option(help="Data root: stores, registry, raw extracts (default: data/ or $MINUTES_LIVE_DATA_ROOT).")] = None,
    schedule_path: Annotated[Path | None, typer.Option(help="Read the schedule from this extract instead of --source (default: none).")] = None,
    injuries_path: Annotated[Path | None, typer.Option(help="Read the injury report from this extract, e.g. the official PDF (default: none).")] = None,
    odds_path: Annotated[Path | None, typer.Option(help="Read odds from this extract (default: none).")] = None,
    roster_path: Annotated[Path | None, typer.Option(help="Read rosters from this extract (default: none).")] = None,
    parity_check_date: Annotated[str | None, typer.Option(
        help="Rebuild this past date live-style and diff it against gold (default: no parity check).")] = None,
    parity_run_as_of_ts: Annotated[str | None, typer.Option(
        help="The parity build's instant, after the date's last tip (required with --parity-check-date).")] = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
    target: TARGET = None,
) -> None:
    """Build live features for one slate as of run_as_of_ts and publish an immutable run directory."""
    from minutes_live.pipeline import spark_engine

    spark_engine.select_target(target)
    lock_timeout = cli_values.lock_timeout(lock_timeout)
    shared = dict(source=source, dataset_dir=dataset_dir, history_days=history_days,
                  roster_fallback_days=roster_fallback_days, roster_max_age_hours=roster_max_age_hours,
                  injuries_max_age_hours=injuries_max_age_hours, odds_max_age_hours=odds_max_age_hours,
                  out_root=out_root, data_root=data_root)
    if parity_check_date is not None:
        from minutes_live.pipeline.live_gold_parity import parity_check

        pday = parse_date(parity_check_date, "--parity-check-date")
        pts = parse_ts(parity_run_as_of_ts, "--parity-run-as-of-ts", default_now=False)
        cfg = live_config(date=pday, run_as_of_ts=pts, allow_missing_injuries=True, allow_missing_odds=True,
                          allow_started_slate=True, replace=True, **shared)
        res = parity_check(cfg, pday, pts, lock_timeout=lock_timeout)
        typer.echo(f"parity ok for {pday}: {res.live_rows} live rows == {res.gold_rows} gold rows (report {res.report_dir})")
        return
    if date is None:
        raise InvalidInput("--date is required (YYYY-MM-DD), unless --parity-check-date is given")
    cfg = live_config(
        date=date, run_as_of_ts=run_as_of_ts, allow_missing_injuries=allow_missing_injuries,
        allow_missing_odds=allow_missing_odds, allow_started_slate=allow_started_slate, replace=replace,
        overrides={"schedule": schedule_path, "injuries": injuries_path, "odds": odds_path, "roster": roster_path},
        **shared,
    )
    result = build_live(cfg, lock_timeout=lock_timeout)
    s = result.summary
    typer.echo(f"features: {s['rows']} rows, {len(s['games'])} games -> {result.run_dir}")
    typer.echo(s["publication"])
    from minutes_live.runs.terminal import group_warnings

    for w in group_warnings(s["warnings"]):
        typer.echo(f"warning: {w}")


command = guarded(command, "build_minutes_live")  # the error boundary, however the command is registered


def main() -> None:
    run_single(command, "build_minutes_live")
