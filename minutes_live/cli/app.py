"""`minutes-live`: the operator's umbrella command. Every sub-command is registered at the top; this module
holds `ingest`, `demo`, `synth` and `schedule`.

    minutes-live ingest --source replay|synthetic|live --date YYYY-MM-DD [--run-as-of-ts ISO]
        [--kind K ...] [--dataset-dir P] [--history-days N] [--backfill] [--allow-missing-injuries]

Every flag is validated (foundation/cli_values.py) before it reaches a path or SQL; a bad value is a
one-line error with exit code 2, a malformed dataset or extract exits 13 (foundation/guardrails.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values, logs, settings
from foundation.cli_values import int_in_bounds, parse_date, parse_ts, writable_dir
from foundation.guardrails import InvalidInput
from foundation.store import StoreDataset, writer_session
from minutes_live.cli.build import command as build_command
from minutes_live.cli.dashboard import dashboard_command
from minutes_live.cli.experiment import experiment_app
from minutes_live.cli.model import app as model_app
from minutes_live.cli.ops import job_app, pin_command, unpin_command
from minutes_live.cli.options import DATASET_DIR_DEFAULT, bounded, choices
from minutes_live.cli.retention import GC_HELP, gc_command
from minutes_live.cli.runs import runs_app
from minutes_live.cli.serve import serve_command
from minutes_live.cli.spine import LOCK_TIMEOUT, TARGET, App, fail
from minutes_live.cli.watch import watch_command
from snapshots_ingest.raw_store import KINDS as RAW_KINDS

app = App(
    name=None,
    help="Minutes Live: leak-free pre-game NBA player-minutes projections. Logging: --verbose / --quiet before "
         "the command, else $MINUTES_LIVE_LOG_LEVEL (DEBUG | INFO | WARNING | ERROR; default INFO); results on "
         "stdout, progress and log lines on stderr. `minutes-live schedule` prints the day's job times.",
)

# every sub-command, registered here at the top (each behind the one error boundary of minutes_live/cli/spine.py)
app.command("build", help="Build live features for a slate (same flags as build_minutes_live).")(build_command)
app.add_typer(job_app, name="job")
app.command("pin")(pin_command)
app.command("unpin")(unpin_command)
for _registered in model_app.registered_commands:  # train, promote, backtest: top-level commands
    app.command(_registered.name or _registered.callback.__name__.replace("_", "-"))(_registered.callback)
app.command("dashboard")(dashboard_command)
app.command("serve")(serve_command)  # the read API, its events and the dashboard (minutes_live.api)
app.add_typer(runs_app, name="runs")  # read-only: list, show, diff, export; and restore (from a gc archive)
app.command("gc", help=GC_HELP)(gc_command)  # retention: old runs and raw extracts into one archive per date
app.add_typer(experiment_app, name="experiment")  # the evaluation lab: reports under reports/experiments/
app.command("watch")(watch_command)  # the game-day watcher: minutes_live/watch

INGEST_SOURCES = ("replay", "synthetic", "live")


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Debug logging: every stage detail and every line dbt prints.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Warnings and errors only: no progress, heartbeat or stage lines.")] = False,
    target: TARGET = None,
) -> None:
    """Operator commands. Logging: --verbose / --quiet here (before the command), else $MINUTES_LIVE_LOG_LEVEL
    (DEBUG | INFO | WARNING | ERROR; default INFO). Results go to stdout, progress and log lines to stderr."""
    if verbose and quiet:
        raise fail("minutes-live", InvalidInput("--verbose and --quiet exclude each other"))
    try:
        logs.setup("DEBUG" if verbose else "WARNING" if quiet else None)
    except logs.InvalidLogLevel as exc:
        raise fail("minutes-live", InvalidInput(str(exc))) from None
    from minutes_live.pipeline import spark_engine

    try:
        spark_engine.select_target(target)
    except Exception as exc:  # the callback runs outside the commands' boundary
        raise fail("minutes-live", exc) from None


def _kinds(values: list[str] | None) -> list[str]:
    from snapshots_ingest.raw_store import KINDS

    kinds: list[str] = []
    for value in values or []:
        for kind in (v.strip() for v in value.split(",")):
            if kind not in KINDS:
                raise InvalidInput(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
            if kind not in kinds:
                kinds.append(kind)
    return kinds or list(KINDS)


@app.command()
def ingest(
    date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD (the US/Eastern date of the tips).")],
    source: Annotated[str, typer.Option(metavar=choices(INGEST_SOURCES), help="Where the snapshots come from.")] = "replay",
    run_as_of_ts: Annotated[str | None, typer.Option(
        help="ISO-8601 instant with an offset, e.g. 2022-01-10T23:00:00Z (default: now, UTC).")] = None,
    kind: Annotated[list[str] | None, typer.Option(
        metavar=choices(RAW_KINDS), help="Snapshot kind to ingest; repeat or comma-separate (default: every kind).")] = None,
    dataset_dir: Annotated[Path | None, typer.Option(help=f"Replay / synthetic dataset directory ({DATASET_DIR_DEFAULT}).")] = None,
    history_days: Annotated[int | None, typer.Option(
        help=bounded("--history-days", "Days of box scores / schedule before --date to replay (default: 365)."))] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Replay every snapshot with snapshot_ts <= --run-as-of-ts (all dates).")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Draw a progress bar (on a terminal only; a log gets one line).")] = True,
    allow_missing_injuries: Annotated[
        bool, typer.Option("--allow-missing-injuries", help="An injury report not covering the slate is a warning, not exit 13.")
    ] = False,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Fetch or replay snapshots for a slate into the raw store (raw extracts are kept on disk)."""
    from snapshots_ingest import ingest as engine

    day = parse_date(date)
    as_of = parse_ts(run_as_of_ts)
    if source not in INGEST_SOURCES:
        raise InvalidInput(f"--source {source!r} is not one of {', '.join(INGEST_SOURCES)}")
    kinds = _kinds(kind)
    int_in_bounds(history_days, "--history-days")
    if source != "live":
        if dataset_dir is None:
            dataset_dir = settings.real_dataset_dir() if source == "replay" else settings.synthetic_dataset_dir()
        if not Path(dataset_dir).is_dir():
            raise InvalidInput(f"--dataset-dir {dataset_dir} does not exist (source {source})")
    elif backfill:
        raise InvalidInput("--backfill needs --source replay or synthetic (live sources have no history)")
    lock_timeout = cli_values.lock_timeout(lock_timeout)
    # one store per dataset: data/<dataset>/minutes_live.duckdb (foundation.settings.dataset_name)
    data_root, db_path = settings.data_root(), settings.store_path_for(source, dataset_dir)
    allow = ("injuries",) if allow_missing_injuries else ()
    backfill_note = None
    # live: fetch and parse before the store lock (a slow or hostile upstream never holds the store)
    extracts = engine.fetch_live(day, as_of, kinds) if source == "live" else None
    with writer_session(db_path, data_root=data_root, dataset=StoreDataset.for_source(source, dataset_dir),
                        lock_timeout=lock_timeout, what=f"minutes-live ingest {source} {day}"):
        if source == "live":
            summary = engine.ingest_live(day, as_of, kinds, db_path=db_path, data_root=data_root, extracts=extracts,
                                         progress=progress, echo=typer.echo, allow_missing=allow)
        else:
            summary = engine.ingest_replay(
                Path(dataset_dir), day, as_of, kinds, history_days, backfill,
                db_path=db_path, data_root=data_root, progress=progress, echo=typer.echo, allow_missing=allow,
            )
            if backfill and set(kinds) == set(RAW_KINDS):
                from minutes_live.pipeline.gold import record_cli_backfill

                backfill_note = record_cli_backfill(Path(dataset_dir), source, db_path=db_path, run_as_of_ts=as_of,
                                                    run_id=summary.run_id, rows_inserted=summary.rows_inserted)
    typer.echo(f"run {summary.run_id} ({source}, {day}): {summary.rows_inserted:,} new rows in store {db_path} "
               f"(dataset {settings.dataset_name(source, dataset_dir)})")
    if backfill_note:
        typer.echo(backfill_note)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help=bounded("--seed", "Synthetic league seed."))] = 7,
    show: Annotated[int, typer.Option(help=bounded("--show", "Players per team in the slate summary, top by p50; 0 = all."))] = 5,
) -> None:
    """Run the whole day on the embedded synthetic league and print a summary of the slate's projections."""
    from minutes_live.demo import run_demo

    int_in_bounds(seed, "--seed")
    int_in_bounds(show, "--show")
    run_demo(seed, show)


@app.command()
def synth(
    out: Annotated[Path | None, typer.Option(help="Output directory (default: data/synthetic_league).")] = None,
    seed: Annotated[int, typer.Option(help=bounded("--seed", "League seed: the same seed gives byte-identical files."))] = 7,
    seasons: Annotated[int, typer.Option(min=1, max=6, help="Seasons to generate, from 2023-24 (1..6).")] = 2,
) -> None:
    """Generate the seeded synthetic league (same format as the real dataset)."""
    from snapshots_ingest.synthetic_league import generate_league

    int_in_bounds(seed, "--seed")
    target = writable_dir(out, "--out") or settings.synthetic_dataset_dir()
    summary = generate_league(Path(target), seed=seed, seasons=seasons)
    typer.echo(
        f"synthetic league -> {target}: seasons {', '.join(summary.seasons)}, {summary.games:,} games, "
        f"{summary.players} players, {len(summary.files)} files, {summary.elapsed_seconds:.1f}s"
    )



SCHEDULE_SOURCES = ("live", "replay", "synthetic")


@app.command()
def schedule(
    date: Annotated[str | None, typer.Option(
        help="Slate date YYYY-MM-DD (default: today in US/Eastern; with --due, the date the job works on).")] = None,
    source: Annotated[str, typer.Option(
        metavar=choices(SCHEDULE_SOURCES),
        help="Where the first tip is read: live = the date's published runs, else the live store (read-only, no "
             "wait); replay / synthetic = the dataset's schedule.")] = "live",
    dataset_dir: Annotated[Path | None, typer.Option(help=f"Replay / synthetic dataset directory ({DATASET_DIR_DEFAULT}).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    due: Annotated[str | None, typer.Option(
        metavar=choices(("morning", "afternoon", "pretip", "overnight")),
        help="Check one job instead of printing the plan: exit 0 when it is due now, 75 when not (deploy/due "
             "turns that into cron's and systemd's skip; default: print the plan).")] = None,
    now: Annotated[str | None, typer.Option(help="The instant --due is checked at, ISO-8601 (default: now).")] = None,
    window: Annotated[int, typer.Option(
        help="Minutes a fixed-time job (morning, afternoon, overnight) stays due after its time (1..720).")] = 15,
) -> None:
    """The day's job times (morning, afternoon, the refresh 45 min before the first tip, overnight) in ET and UTC."""
    from datetime import timedelta

    from minutes_live.pipeline import schedule as sched

    at = parse_ts(now, "--now")
    if source not in SCHEDULE_SOURCES:
        raise InvalidInput(f"--source {source!r} is not one of {', '.join(SCHEDULE_SOURCES)}")
    if due is not None and due not in sched.JOBS:
        raise InvalidInput(f"--due {due!r} is not one of {', '.join(sched.JOBS)}")
    if not 1 <= window <= 720:
        raise InvalidInput(f"--window {window} is out of range: expected 1..720 minutes")
    if date is not None:
        day = parse_date(date)
    else:
        day = sched.slate_day_for(due or "morning", at)
    if source != "live" and dataset_dir is not None and not Path(dataset_dir).is_dir():
        raise InvalidInput(f"--dataset-dir {dataset_dir} does not exist")
    plan = sched.plan_day(sched.slate_tips(day, source, dataset_dir))
    if due is not None:
        ok, why = sched.due(due, at, plan, timedelta(minutes=window),
                            sched.published_as_ofs(day) if due == "pretip" else None)
        typer.echo(why)
        raise typer.Exit(0 if ok else sched.NOT_DUE_EXIT)
    if json_out:
        typer.echo(sched.to_json(plan))
        return
    for line in sched.render(plan):
        typer.echo(line)


if __name__ == "__main__":
    app()
