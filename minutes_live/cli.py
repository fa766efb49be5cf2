"""`minutes-live`: the operator's umbrella command. This module holds the `ingest` command.

    minutes-live ingest --source replay|synthetic|live --date YYYY-MM-DD [--run-as-of-ts ISO]
        [--kind K ...] [--dataset-dir P] [--history-days N] [--backfill] [--allow-missing-injuries]

Every flag is validated (foundation/cli_values.py) before it reaches a path or SQL; a bad value is a
one-line error with exit code 2, a malformed dataset or extract exits 13 (foundation/guardrails.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values, settings
from foundation.cli_values import int_in_bounds, parse_date, parse_ts, writable_dir
from foundation.guardrails import DatasetInputError, GuardrailError, InvalidInput, RunExistsError
from foundation.locks import store_lock
from foundation.store import StoreDataset, ensure_store_usable

app = typer.Typer(
    name="minutes-live",
    help="Minutes Live: leak-free pre-game NBA player-minutes projections.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

INGEST_SOURCES = ("replay", "synthetic", "live")


@app.callback()
def main() -> None:
    """Operator commands (ingest, ...)."""


def _fail(exc: GuardrailError) -> typer.Exit:
    # dataset errors list one problem per line; the CLI prints one line
    typer.echo("error: " + str(exc).replace("\n  - ", "; ").replace("\n", " "), err=True)
    return typer.Exit(exc.exit_code)


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
    date: Annotated[str, typer.Option(help="slate date YYYY-MM-DD (US/Eastern date of the tips)")],
    source: Annotated[str, typer.Option(help="replay | synthetic | live")] = "replay",
    run_as_of_ts: Annotated[
        str | None, typer.Option(help="ISO-8601 instant with offset, e.g. 2022-01-10T23:00:00Z (default: now)")
    ] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="snapshot kind to ingest; repeat or comma-separate (default: all)")
    ] = None,
    dataset_dir: Annotated[
        Path | None, typer.Option(help="replay/synthetic dataset directory (default from settings)")
    ] = None,
    history_days: Annotated[
        int | None, typer.Option(help="days of box scores/schedule before --date to replay (default 365)")
    ] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="replay every snapshot with snapshot_ts <= run-as-of-ts (all dates)")
    ] = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
    allow_missing_injuries: Annotated[
        bool, typer.Option("--allow-missing-injuries", help="an injury report not covering the slate is a warning")
    ] = False,
    lock_timeout: Annotated[
        float, typer.Option(help="seconds to wait for another job or process holding the store")
    ] = 600.0,
) -> None:
    """Fetch or replay snapshots for a slate into the raw store (raw extracts are kept on disk)."""
    from snapshots_ingest import ingest as engine
    from snapshots_ingest.dataset import DatasetError

    try:
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
        with store_lock(data_root, timeout=lock_timeout, what=f"minutes-live ingest {source} {day}"):
            ensure_store_usable(db_path, lock_timeout, dataset=StoreDataset.for_source(source, dataset_dir))
            if source == "live":
                summary = engine.ingest_live(day, as_of, kinds, db_path=db_path, data_root=data_root,
                                             progress=progress, echo=typer.echo, allow_missing=allow)
            else:
                summary = engine.ingest_replay(
                    Path(dataset_dir), day, as_of, kinds, history_days, backfill,
                    db_path=db_path, data_root=data_root, progress=progress, echo=typer.echo, allow_missing=allow,
                )
    except GuardrailError as exc:
        raise _fail(exc) from None
    except engine.LiveSourcesMissing as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except engine.ExtractConflictError as exc:
        raise _fail(RunExistsError(str(exc))) from None
    except (DatasetError, engine.IngestError) as exc:
        raise _fail(DatasetInputError(str(exc))) from None
    typer.echo(f"run {summary.run_id} ({source}, {day}): {summary.rows_inserted:,} new rows")


# ----------------------------------------------------------------------------- the rest of the product
from minutes_live.build_cli import command as _build_command  # noqa: E402
from minutes_live.ops_cli import job_app, pin_command, unpin_command  # noqa: E402

app.command("build", help="Build live features for a slate (same flags as build_minutes_live).")(_build_command)
app.add_typer(job_app, name="job")
app.command("pin")(pin_command)
# model operations (train, promote, backtest)
from minutes_live.model_cli import app as _model_app  # noqa: E402

app.registered_commands.extend(_model_app.registered_commands)
app.command("unpin")(unpin_command)
from minutes_live.dashboard.command import dashboard_command  # noqa: E402

app.command("dashboard")(dashboard_command)
# inspecting runs (list, show, diff, export): read-only
from minutes_live.runs_cli import runs_app  # noqa: E402

app.add_typer(runs_app, name="runs")


@app.command()
def demo(seed: Annotated[int, typer.Option(help="Synthetic league seed.")] = 7) -> None:
    """Run the whole day on the embedded synthetic league and print the slate's projections."""
    from minutes_live.demo import run_demo

    try:
        int_in_bounds(seed, "--seed")
        run_demo(seed)
    except GuardrailError as exc:
        raise _fail(exc) from None


@app.command()
def synth(
    out: Annotated[Path | None, typer.Option(help="Output directory (default data/synthetic_league).")] = None,
    seed: Annotated[int, typer.Option()] = 7,
    seasons: Annotated[int, typer.Option(min=1, max=6)] = 2,
) -> None:
    """Generate the seeded synthetic league (same format as the real dataset)."""
    from snapshots_ingest.synthetic_league import generate_league

    try:
        int_in_bounds(seed, "--seed")
        target = writable_dir(out, "--out") or settings.synthetic_dataset_dir()
    except GuardrailError as exc:
        raise _fail(exc) from None
    summary = generate_league(Path(target), seed=seed, seasons=seasons)
    typer.echo(
        f"synthetic league -> {target}: seasons {', '.join(summary.seasons)}, {summary.games:,} games, "
        f"{summary.players} players, {len(summary.files)} files, {summary.elapsed_seconds:.1f}s"
    )


if __name__ == "__main__":
    app()
