"""Operator commands of the umbrella CLI: the daily jobs, pins, and parity (registered in minutes_live.cli.app)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pandas as pd
import typer

from foundation import cli_values, settings
from foundation import run_directory as rd
from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import GuardrailError, InvalidInput
from minutes_live.cli.build import SOURCES, config_from_flags
from minutes_live.cli.options import DATASET_DIR_DEFAULT, bounded, choices

ET = ZoneInfo("America/New_York")
job_app = typer.Typer(help="The scheduled jobs: morning run, afternoon refresh, overnight freeze.", no_args_is_help=True)

PROJECTION_COLUMNS = ["team_tricode", "player_name", "status", "play_prob", "minutes_p10", "minutes_p50", "minutes_p90"]


def _fail(exc: GuardrailError, what: str) -> typer.Exit:
    typer.echo(f"{what}: error: {exc}", err=True)
    return typer.Exit(exc.exit_code)


def eastern_today(ts: datetime) -> date:
    return ts.astimezone(ET).date()


def print_projections(minutes: pd.DataFrame, limit: int | None = None) -> None:
    """The slate table (team, player, status, play probability, p10/p50/p90), rotation players only."""
    cols = [c for c in PROJECTION_COLUMNS if c in minutes.columns]
    table = minutes.sort_values(["game_id", "team_tricode", "minutes_p50"], ascending=[True, True, False])
    shown = table[table["minutes_p90"] > 0][cols]
    if limit:
        shown = shown.head(limit)
    with pd.option_context("display.max_rows", None, "display.width", 140, "display.float_format", "{:.1f}".format):
        typer.echo(shown.to_string(index=False))
    hidden = len(table) - len(shown)
    if hidden:
        typer.echo(f"({hidden} more rows not shown: OUT players and deep bench with p90 = 0, or past --show)")


def _run_day_job(job: str, date_: str | None, run_as_of_ts: str | None, source: str, dataset_dir: Path | None,
                 allow_missing_injuries: bool, allow_missing_odds: bool, replace: bool, lock_timeout: float,
                 show: int) -> None:
    from minutes_live.pipeline.job import run_job

    try:
        lock_timeout = cli_values.lock_timeout(lock_timeout)
        cli_values.int_in_bounds(show, "--show")
        as_of = parse_ts(run_as_of_ts)
        day = date_ or eastern_today(as_of).isoformat()
        cfg = config_from_flags(day, as_of.isoformat(), source, dataset_dir, None, None, None, None, None,
                                allow_missing_injuries, allow_missing_odds, False, replace, None, None, {})
        cfg.as_of_from_clock = run_as_of_ts is None
        result = run_job(cfg, job=job, lock_timeout=lock_timeout)
    except GuardrailError as exc:
        raise _fail(exc, f"job {job}") from None
    s = result.summary
    typer.echo(f"{job} run {cfg.run_id} for {cfg.day}: {s['rows']} players in {s['games']} games")
    print_projections(result.minutes, show or None)
    typer.echo(f"features : {result.features_dir}")
    typer.echo(f"scores   : {result.scores_dir}")
    typer.echo(f"reports  : {result.report_dir}")
    typer.echo(s["publication"])
    for note in s.get("notes", []):
        typer.echo(f"recovered: {note}")
    tm = s["team_minutes"]
    typer.echo(f"team p50 sums: {tm['p50_sum_min']:.1f}..{tm['p50_sum_max']:.1f} "
               f"({tm['team_games_outside_band']} of {tm['team_games']} team-games outside [230, 260])")
    from minutes_live.runs.terminal import group_warnings

    for w in group_warnings(s.get("warnings", [])):
        typer.echo(f"warning: {w}")


_SOURCE = Annotated[str, typer.Option(
    metavar=choices(SOURCES), help="Where the snapshots come from; none = use the store as it is.")]
_DATASET_DIR = Annotated[Path | None, typer.Option(help=f"Replay / synthetic dataset directory ({DATASET_DIR_DEFAULT}).")]
_LOCK_TIMEOUT = Annotated[float, typer.Option(help=bounded(
    "--lock-timeout", "Seconds to wait for another job or process holding the store."))]


def _day_job(job: str, doc: str):
    """The morning run and the afternoon refresh are one job with a different instant: one signature."""

    def command(
        date: Annotated[str | None, typer.Option(help="Slate date YYYY-MM-DD (default: today in US/Eastern).")] = None,
        run_as_of_ts: Annotated[str | None, typer.Option(
            help="ISO-8601 instant with an offset (default: now, UTC, taken after a live fetch).")] = None,
        source: _SOURCE = "live",
        dataset_dir: _DATASET_DIR = None,
        allow_missing_injuries: Annotated[bool, typer.Option(
            "--allow-missing-injuries", help="Run without a qualifying injury report (a warning, not exit 4).")] = False,
        allow_missing_odds: Annotated[bool, typer.Option(
            "--allow-missing-odds", help="Run without a qualifying odds quote (a warning, not exit 5).")] = False,
        replace: Annotated[bool, typer.Option("--replace", help="Redo an existing run id deliberately (not exit 9).")] = False,
        lock_timeout: _LOCK_TIMEOUT = 600.0,
        show: Annotated[int, typer.Option(help=bounded("--show", "Rows of the projections table to print; 0 = all."))] = 0,
    ) -> None:
        _run_day_job(job, date, run_as_of_ts, source, dataset_dir, allow_missing_injuries, allow_missing_odds,
                     replace, lock_timeout, show)

    command.__doc__ = doc
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
    source: _SOURCE = "live",
    dataset_dir: _DATASET_DIR = None,
    lock_timeout: _LOCK_TIMEOUT = 600.0,
) -> None:
    """Overnight: ingest yesterday's box scores (label freeze), rebuild gold, parity for yesterday, drift log."""
    from foundation import registry
    from foundation.locks import store_lock
    from minutes_live.pipeline import history
    from minutes_live.pipeline.dbt_runner import DbtError
    from minutes_live.pipeline.job import next_day_validation
    from minutes_live.pipeline.live_build import (
        dbt_failure_to_guardrail,
        ingest_snapshots,
        preflight_store,
        store_path,
    )
    from minutes_live.pipeline.live_gold_parity import run_parity

    try:
        lock_timeout = cli_values.lock_timeout(lock_timeout)
        as_of = parse_ts(run_as_of_ts)
        day = parse_date(date, "--date") if date is not None else eastern_today(as_of) - timedelta(days=1)
        cfg = config_from_flags(day.isoformat(), as_of.isoformat(), source, dataset_dir, None, None, None, None, None,
                                True, True, True, False, None, None, {})
        data_root, db_path = settings.data_root(), store_path(cfg)
        registry_root = settings.registry_root(cfg.dataset, data_root)  # the dataset's registry and drift log
        attempt = registry.Attempt(registry_root, "overnight", day.isoformat(), rd.run_id_for(as_of),
                                   as_of.isoformat()).start(dataset=cfg.dataset)
        try:
            with store_lock(data_root, timeout=lock_timeout, what=f"overnight {day}"):
                preflight_store(cfg, lock_timeout)
                ingest_snapshots(cfg, db_path, data_root)
                try:
                    history.build("overnight", {}, db_path=db_path)
                except DbtError as exc:
                    raise dbt_failure_to_guardrail(exc, cfg) from None
                parity = run_parity(day, as_of, db_path=db_path, out_root=settings.features_root(cfg.dataset))
                drift = next_day_validation(day, db_path=db_path, data_root=registry_root, dataset=cfg.dataset)
        except BaseException as exc:
            code = exc.exit_code if isinstance(exc, GuardrailError) else 1
            attempt.finish("failed", exit_code=code, error=f"{type(exc).__name__}: {exc}")
            raise
        attempt.finish("succeeded", parity_report=str(parity.report_dir), drift=drift)
    except GuardrailError as exc:
        raise _fail(exc, "job overnight") from None
    typer.echo(f"overnight {day}: labels ingested, gold rebuilt, parity ok ({parity.live_rows} rows)")
    typer.echo(f"next-day validation: {drift if drift else 'no published live projections for that date'}")


_PIN_DATASET = Annotated[str | None, typer.Option(
    help="Dataset of the run: live, or a replay / synthetic dataset's name (nba, synthetic_league). Default: the "
         "only one with runs of --date, else the one with the most recent successful run of it.",
    show_default=False)]


def _publication(day, dataset: str | None):
    """The date's publication in the chosen dataset (minutes_live.runs.catalog.choose_dataset); exit 2 when the
    named dataset has no runs of the date."""
    from minutes_live.runs import catalog

    try:
        chosen, _ = catalog.choose_dataset(dataset, day)
    except catalog.CatalogError as exc:
        raise InvalidInput(str(exc)) from None
    catalog.select_dataset(chosen)
    return chosen, catalog.publication(day)


def pin_command(
    date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD.")],
    run_id: Annotated[str, typer.Option(help="Run id YYYYMMDDTHHMMSSZ to pin.")],
    reason: Annotated[str, typer.Option(help="Why, recorded with the pin (default: empty).", show_default=False)] = "",
    dataset: _PIN_DATASET = None,
) -> None:
    """Pin a run: every `latest` of the date (features, scores, reports) names it until unpinned."""
    from foundation.publication import PublicationError

    try:
        day = parse_date(date)
        cli_values.parse_run_id(run_id)
        chosen, pub = _publication(day, dataset)
        served = pub.pin(run_id, reason)
    except (rd.RunDirectoryError, PublicationError) as exc:
        raise _fail(InvalidInput(str(exc)), "pin") from None
    except GuardrailError as exc:
        raise _fail(exc, "pin") from None
    typer.echo(f"pinned {run_id} for {day} (dataset {chosen}); latest: {_describe(served)}")


def unpin_command(date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD.")],
                  dataset: _PIN_DATASET = None) -> None:
    """Remove the pin; every `latest` of the date moves to the complete run with the newest run_as_of_ts."""
    try:
        day = parse_date(date)
        chosen, pub = _publication(day, dataset)
    except InvalidInput as exc:
        raise _fail(exc, "unpin") from None
    served = pub.unpin()
    typer.echo(f"unpinned {day} (dataset {chosen}); latest: {_describe(served)}")


def _describe(served: dict[str, str | None]) -> str:
    return ", ".join(f"{kind} -> {run_id or 'none'}" for kind, run_id in served.items())
