"""`build_minutes_live` console script (flags from the CLI contract of ../shared/docs/architecture.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values, settings
from foundation.cli_values import parse_date, parse_ts
from foundation.guardrails import GuardrailError, InvalidInput
from foundation.locks import store_lock
from minutes_live.cli.options import DATASET_DIR_DEFAULT, bounded, choices
from minutes_live.pipeline.live_build import LiveBuildConfig, build_live, preflight_store, store_path

SOURCES = ("replay", "synthetic", "live", "none")


def config_from_flags(
    date: str,
    run_as_of_ts: str | None,
    source: str,
    dataset_dir: Path | None,
    history_days: int | None,
    roster_fallback_days: int | None,
    roster_max_age_hours: float | None,
    injuries_max_age_hours: float | None,
    odds_max_age_hours: float | None,
    allow_missing_injuries: bool,
    allow_missing_odds: bool,
    allow_started_slate: bool,
    replace: bool,
    out_root: Path | None,
    data_root: Path | None,
    overrides: dict[str, Path | None],
) -> LiveBuildConfig:
    """Check every flag (foundation/cli_values.py) before any work: scalars, then inputs, then output roots."""
    day = parse_date(date)
    as_of = parse_ts(run_as_of_ts)
    if source not in SOURCES:
        raise InvalidInput(f"--source {source!r} is not one of {', '.join(SOURCES)}")
    cli_values.int_in_bounds(history_days, "--history-days")
    cli_values.int_in_bounds(roster_fallback_days, "--roster-fallback-days")
    for flag, value in (
        ("--roster-max-age-hours", roster_max_age_hours),
        ("--injuries-max-age-hours", injuries_max_age_hours),
        ("--odds-max-age-hours", odds_max_age_hours),
    ):
        cli_values.max_age_hours(value, flag)
    if dataset_dir is None and source in ("replay", "synthetic"):
        dataset_dir = settings.real_dataset_dir() if source == "replay" else settings.synthetic_dataset_dir()
    if dataset_dir is not None and source in ("replay", "synthetic") and not Path(dataset_dir).is_dir():
        raise InvalidInput(f"--dataset-dir {dataset_dir} does not exist")
    path_overrides = {}
    for kind, p in overrides.items():
        if p is None:
            continue
        if not Path(p).is_file():
            raise InvalidInput(f"--{kind.replace('_', '-')}-path {p} is not a readable file")
        path_overrides[kind] = Path(p)
    out_root = cli_values.writable_dir(out_root, "--out-root")
    data_root = cli_values.writable_dir(data_root, "--data-root")
    return LiveBuildConfig(
        day=day,
        run_as_of_ts=as_of,
        source=source,
        dataset_dir=Path(dataset_dir) if dataset_dir else None,
        history_days=history_days,
        roster_fallback_days=roster_fallback_days,
        roster_max_age_hours=roster_max_age_hours,
        injuries_max_age_hours=injuries_max_age_hours,
        odds_max_age_hours=odds_max_age_hours,
        allow_missing_injuries=allow_missing_injuries,
        allow_missing_odds=allow_missing_odds,
        allow_started_slate=allow_started_slate,
        replace=replace,
        out_root=out_root,
        data_root=data_root,
        path_overrides=path_overrides,
        as_of_from_clock=run_as_of_ts is None,
        # one store per dataset (foundation.settings.dataset_name); `none` without --dataset-dir: the live store
        db_path=settings.store_path_for(source, dataset_dir, data_root),
    )


def command(
    date: Annotated[str | None, typer.Option(
        help="Slate date (US/Eastern) YYYY-MM-DD; required unless --parity-check-date is given.")] = None,
    run_as_of_ts: Annotated[str | None, typer.Option(help="ISO-8601 instant with an offset (default: now, UTC).")] = None,
    source: Annotated[str, typer.Option(
        metavar=choices(SOURCES), help="Where the snapshots come from; none = use the store as it is.")] = "replay",
    dataset_dir: Annotated[Path | None, typer.Option(help=f"Replay / synthetic dataset directory ({DATASET_DIR_DEFAULT}).")] = None,
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
    allow_missing_injuries: Annotated[bool, typer.Option(
        "--allow-missing-injuries", help="Run without a qualifying injury report (a warning, not exit 4).")] = False,
    allow_missing_odds: Annotated[bool, typer.Option(
        "--allow-missing-odds", help="Run without a qualifying odds quote (a warning, not exit 5).")] = False,
    allow_started_slate: Annotated[bool, typer.Option(
        "--allow-started-slate", help="Allow run_as_of_ts after every tip (not exit 8).")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Rebuild an existing run id deliberately (not exit 9).")] = False,
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
    lock_timeout: Annotated[float, typer.Option(help=bounded(
        "--lock-timeout", "Seconds to wait for another job or process holding the store."))] = 600.0,
    target: Annotated[str | None, typer.Option(
        metavar="embedded|spark|spark_cluster",
        help="dbt target (default $MINUTES_LIVE_DBT_TARGET or embedded DuckDB); docs/scale_out.md.")] = None,
) -> None:
    """Build live features for one slate as of run_as_of_ts and publish an immutable run directory."""
    try:
        from minutes_live.pipeline import spark_engine

        spark_engine.select_target(target)
        lock_timeout = cli_values.lock_timeout(lock_timeout)
        if parity_check_date is not None:
            from minutes_live.pipeline.live_gold_parity import run_parity

            pday = parse_date(parity_check_date, "--parity-check-date")
            pts = parse_ts(parity_run_as_of_ts, "--parity-run-as-of-ts", default_now=False)
            cfg = config_from_flags(
                parity_check_date, parity_run_as_of_ts, source, dataset_dir, history_days, roster_fallback_days,
                roster_max_age_hours, injuries_max_age_hours, odds_max_age_hours, True, True, True, True,
                out_root, data_root, {},
            )
            root = Path(cfg.data_root or settings.data_root())
            with store_lock(root, timeout=lock_timeout, what=f"parity {pday}"):
                from minutes_live.pipeline.live_build import ingest_snapshots

                preflight_store(cfg, lock_timeout)
                ingest_snapshots(cfg, store_path(cfg), root)
                res = run_parity(pday, pts, db_path=store_path(cfg),
                                 out_root=Path(cfg.out_root or settings.features_root(cfg.dataset)))
            typer.echo(f"parity ok for {pday}: {res.live_rows} live rows == {res.gold_rows} gold rows (report {res.report_dir})")
            return
        if date is None:
            raise InvalidInput("--date is required (YYYY-MM-DD), unless --parity-check-date is given")
        cfg = config_from_flags(
            date, run_as_of_ts, source, dataset_dir, history_days, roster_fallback_days, roster_max_age_hours,
            injuries_max_age_hours, odds_max_age_hours, allow_missing_injuries, allow_missing_odds,
            allow_started_slate, replace, out_root, data_root,
            {"schedule": schedule_path, "injuries": injuries_path, "odds": odds_path, "roster": roster_path},
        )
        with store_lock(Path(cfg.data_root or settings.data_root()), timeout=lock_timeout, what=f"build {cfg.day}"):
            result = build_live(cfg, wait_seconds=lock_timeout)
    except GuardrailError as exc:
        typer.echo(f"build_minutes_live: error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    s = result.summary
    typer.echo(f"features: {s['rows']} rows, {len(s['games'])} games -> {result.run_dir}")
    typer.echo(s["publication"])
    for w in s["warnings"]:
        typer.echo(f"warning: {w}")


def main() -> None:
    from foundation import logs

    logs.ensure_setup()  # level from $MINUTES_LIVE_LOG_LEVEL (default INFO)
    typer.run(command)
