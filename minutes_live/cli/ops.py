"""Operator commands: the daily jobs (`minutes-live job morning|afternoon|overnight`), pin and unpin.
Thin: values are checked, the work is in minutes_live/pipeline (job.py, overnight.py) and foundation/publication.py."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from foundation import cli_values
from foundation.cli_values import parse_date, parse_ts
from foundation.clock import LEAGUE_TZ
from minutes_live.cli.spine import (
    ALLOW_MISSING_INJURIES,
    ALLOW_MISSING_ODDS,
    DATASET_DIR,
    LOCK_TIMEOUT,
    REPLACE,
    RUN_AS_OF,
    SHOW,
    SOURCE,
    App,
)
from minutes_live.runs.terminal import group_warnings, slate_summary

job_app = App(name="job", help="The scheduled jobs: morning run, afternoon refresh, overnight freeze.")


def _run_day_job(job: str, *, date: str | None, run_as_of_ts: str | None, source: str, dataset_dir, allow_missing_injuries: bool,
                 allow_missing_odds: bool, replace: bool, lock_timeout: float, show: int) -> None:
    from minutes_live.pipeline.job import run_job
    from minutes_live.pipeline.live_build import live_config

    lock_timeout = cli_values.lock_timeout(lock_timeout)
    cli_values.int_in_bounds(show, "--show")
    as_of = parse_ts(run_as_of_ts)
    day = parse_date(date) if date is not None else as_of.astimezone(LEAGUE_TZ).date()
    cfg = live_config(date=day, run_as_of_ts=as_of, source=source, dataset_dir=dataset_dir,
                      allow_missing_injuries=allow_missing_injuries, allow_missing_odds=allow_missing_odds,
                      replace=replace)
    cfg.as_of_from_clock = run_as_of_ts is None
    result = run_job(cfg, job=job, lock_timeout=lock_timeout)
    s = result.summary
    typer.echo(f"{job} run {cfg.run_id} for {cfg.day}: {s['rows']} players in {s['games']} games")
    for line in slate_summary(result.minutes, per_team=show):
        typer.echo(line)
    typer.echo(f"features : {result.features_dir}")
    typer.echo(f"scores   : {result.scores_dir}")
    typer.echo(f"reports  : {result.report_dir}")
    typer.echo(s["publication"])
    for note in s.get("notes", []):
        typer.echo(f"recovered: {note}")
    tm = s["team_minutes"]
    typer.echo(f"team p50 sums: {tm['p50_sum_min']:.1f}..{tm['p50_sum_max']:.1f} "
               f"({tm['team_games_outside_band']} of {tm['team_games']} team-games outside [230, 260])")
    for w in group_warnings(s.get("warnings", [])):
        typer.echo(f"warning: {w}")


def _day_job(job: str, doc: str):
    """The morning run and the afternoon refresh are one job with a different instant: one signature."""

    def command(
        date: Annotated[str | None, typer.Option(help="Slate date YYYY-MM-DD (default: today in US/Eastern).")] = None,
        run_as_of_ts: RUN_AS_OF = None,
        source: SOURCE = "live",
        dataset_dir: DATASET_DIR = None,
        allow_missing_injuries: ALLOW_MISSING_INJURIES = False,
        allow_missing_odds: ALLOW_MISSING_ODDS = False,
        replace: REPLACE = False,
        lock_timeout: LOCK_TIMEOUT = 600.0,
        show: SHOW = 5,
    ) -> None:
        _run_day_job(job, date=date, run_as_of_ts=run_as_of_ts, source=source, dataset_dir=dataset_dir,
                     allow_missing_injuries=allow_missing_injuries, allow_missing_odds=allow_missing_odds,
                     replace=replace, lock_timeout=lock_timeout, show=show)

    command.__doc__ = doc
    command.__name__ = job
    return command


job_app.command("morning")(_day_job("morning", "Morning run: ingest, build, score and publish today's slate."))
job_app.command("afternoon")(
    _day_job("afternoon", "Afternoon refresh: the same job with fresher injury reports, lineups and odds.")
)


@job_app.command("overnight")
def overnight(
    run_as_of_ts: Annotated[str | None, typer.Option(help="ISO-8601 instant with an offset (default: now, UTC).")] = None,
    date: Annotated[str | None, typer.Option(
        help="The date to freeze YYYY-MM-DD (default: yesterday in US/Eastern).")] = None,
    source: SOURCE = "live",
    dataset_dir: DATASET_DIR = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Overnight: ingest yesterday's box scores (label freeze), rebuild gold, parity for yesterday, drift log."""
    from minutes_live.pipeline.overnight import run_overnight

    lock_timeout = cli_values.lock_timeout(lock_timeout)
    as_of = parse_ts(run_as_of_ts)
    day = parse_date(date, "--date") if date is not None else as_of.astimezone(LEAGUE_TZ).date() - timedelta(days=1)
    result = run_overnight(day, as_of, source=source, dataset_dir=dataset_dir, lock_timeout=lock_timeout)
    typer.echo(f"overnight {day}: labels ingested, gold rebuilt, parity ok ({result.parity.live_rows} rows)")
    drift = result.drift
    if drift:
        typer.echo(f"next-day validation: {drift['rows']} rows, MAE p50 {drift['mae_p50']:.3f} "
                   f"(played {drift['mae_p50_played']:.3f}), p10-p90 coverage {drift['coverage_p10_p90']:.3f}, "
                   f"{drift['unmatched_projections']} projections without a box score")
    else:
        typer.echo("next-day validation: no published live projections for that date")


_PIN_DATASET = Annotated[str | None, typer.Option(
    help="Dataset of the run: live, or a replay / synthetic dataset's name (nba, synthetic_league). Default: the "
         "only one with runs of --date, else the one with the most recent successful run of it.",
    show_default=False)]


def _publication(day, dataset: str | None):
    """The date's publication in the chosen dataset (minutes_live.runs.catalog.choose_dataset); exit 2 when the
    named dataset has no runs of the date."""
    from minutes_live.runs import catalog

    chosen, _ = catalog.choose_dataset(dataset, day)  # CatalogError is InvalidInput: exit 2
    catalog.select_dataset(chosen)
    return chosen, catalog.publication(day)


def pin_command(
    date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD.")],
    run_id: Annotated[str, typer.Option(help="Run id YYYYMMDDTHHMMSSZ to pin.")],
    reason: Annotated[str, typer.Option(help="Why, recorded with the pin (default: empty).", show_default=False)] = "",
    dataset: _PIN_DATASET = None,
) -> None:
    """Pin a run: every `latest` of the date (features, scores, reports) names it until unpinned."""
    day = parse_date(date)
    cli_values.parse_run_id(run_id)
    chosen, pub = _publication(day, dataset)
    served = pub.pin(run_id, reason)
    typer.echo(f"pinned {run_id} for {day} (dataset {chosen}); latest: {_describe(served)}")


def unpin_command(date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD.")],
                  dataset: _PIN_DATASET = None) -> None:
    """Remove the pin; every `latest` of the date moves to the complete run with the newest run_as_of_ts."""
    day = parse_date(date)
    chosen, pub = _publication(day, dataset)
    served = pub.unpin()
    typer.echo(f"unpinned {day} (dataset {chosen}); latest: {_describe(served)}")


def _describe(served: dict[str, str | None]) -> str:
    return ", ".join(f"{kind} -> {run_id or 'none'}" for kind, run_id in served.items())
