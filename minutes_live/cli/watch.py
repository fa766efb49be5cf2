"""`minutes-live watch`: the game-day watcher (thin: values checked here, the loop is minutes_live/watch)."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from minutes_live.cli.options import bounded, choices
from minutes_live.cli.spine import ALLOW_MISSING_INJURIES, ALLOW_MISSING_ODDS, DATASET_DIR, LOCK_TIMEOUT

WATCH_SOURCES = ("live", "replay", "synthetic")
_MAX_AGE = "Max age of a selected {kind} snapshot for the runs, and the age past which a silent {kind} source " \
           "is alerted stale (default: {default})."


def watch_command(
    date: Annotated[str | None, typer.Option(
        help="Slate date YYYY-MM-DD (default: today in US/Eastern; required for a replayed day).")] = None,
    source: Annotated[str, typer.Option(metavar=choices(WATCH_SOURCES), help=(
        "live polls the live sources; replay / synthetic replay a past day on a fast clock."))] = "live",
    dataset_dir: DATASET_DIR = None,
    clock_speed: Annotated[float, typer.Option(help=bounded(
        "--clock-speed", "Replayed days: seconds of the day per real second; 0 = no waiting."))] = 600.0,
    start: Annotated[str | None, typer.Option(help=(
        "ISO-8601 instant the watch starts (default: 09:00 ET for a replayed day, else now; a restart resumes "
        "after the date's last watch run)."))] = None,
    until: Annotated[str | None, typer.Option(help="ISO-8601 instant the watch ends (default: the last tip).")] = None,
    alert_min_delta: Annotated[float, typer.Option(help=bounded(
        "--alert-min-delta", "Minutes a player's minutes_mean or p50 must move to raise an alert."))] = 3.0,
    webhook: Annotated[str | None, typer.Option(
        help="http(s) URL each alert is POSTed to as JSON (default: none; the JSONL stream always).")] = None,
    allow_missing_injuries: ALLOW_MISSING_INJURIES = False,
    allow_missing_odds: ALLOW_MISSING_ODDS = False,
    injuries_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--injuries-max-age-hours", _MAX_AGE.format(kind="injury", default=36)))] = None,
    odds_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--odds-max-age-hours", _MAX_AGE.format(kind="odds", default=24)))] = None,
    roster_max_age_hours: Annotated[float | None, typer.Option(help=bounded(
        "--roster-max-age-hours", _MAX_AGE.format(kind="roster", default=18)))] = None,
    cold_dbt: Annotated[bool, typer.Option(
        "--cold-dbt", help="Start dbt as its own process on every run instead of keeping it loaded.")] = False,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Watch a slate day: poll each source at its cadence, re-run the slate when an input of a game not yet
    tipped changes (same lifecycle as `job`), alert on moves, staleness and failures. Ends at the last tip;
    SIGTERM stops it between two steps (exit 0)."""
    from minutes_live.watch.warm_dbt import WarmDbt
    from minutes_live.watch.watcher import Watcher, watch_config

    cfg = watch_config(date=date, source=source, dataset_dir=dataset_dir, clock_speed=clock_speed, start=start,
                       until=until, alert_min_delta=alert_min_delta, webhook=webhook,
                       allow_missing_injuries=allow_missing_injuries, allow_missing_odds=allow_missing_odds,
                       injuries_max_age_hours=injuries_max_age_hours, odds_max_age_hours=odds_max_age_hours,
                       roster_max_age_hours=roster_max_age_hours, warm=not cold_dbt, lock_timeout=lock_timeout)
    watcher = Watcher(cfg)
    previous = {s: signal.signal(s, lambda *_: watcher.stop.set()) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if cfg.warm:
            with WarmDbt().installed():
                summary = watcher.run()
        else:
            summary = watcher.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    how = "stopped (signal)" if summary.stopped else "done"
    typer.echo(f"watch {cfg.day} ({cfg.source}) {how}: {len(summary.runs)} run(s) published, {len(summary.failed)} "
               f"failed, {summary.polls} poll(s), {summary.skipped_same_inputs} skipped (inputs unchanged)")
    for run_id in summary.runs:
        typer.echo(f"run {run_id}")
    typer.echo(f"alerts: {summary.alerts_path}")
