"""`minutes-live gc`: move old runs and raw extracts into one compressed archive per date (registered in
minutes_live.cli.app). Thin: values are checked here, the work is minutes_live/runs/retention.py.

    minutes-live gc --keep-days N [--dataset live] [--dry-run] [--today YYYY-MM-DD] [--lock-timeout S]

`minutes-live runs restore RUN --date D` (minutes_live/cli/runs.py) brings a run back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from foundation import cli_values, settings
from foundation.clock import LEAGUE_TZ
from foundation.guardrails import InvalidInput
from minutes_live.cli.spine import LOCK_TIMEOUT

KEEP_DAYS_BOUNDS = (0, 3650)

GC_HELP = (
    "Archive old runs and raw extracts: every run folder (features, scores, reports) and raw-extract folder of a "
    "date older than --keep-days that is neither `latest`, pinned, nor the run the date would serve when "
    "unpinned, into <data root>/<dataset>/archive/<date>.tar.gz with a sha256 manifest. The archive is written and "
    "verified before any original is removed (a killed gc loses nothing; the next gc finishes it). Takes the "
    "store lock. Progress on stderr, the summary on stdout. `minutes-live runs restore RUN --date D` brings a "
    "run back byte-identical."
)


def parse_dataset(value: str, flag: str = "--dataset") -> str:
    try:
        settings.check_dataset_name(value)
    except ValueError as exc:
        raise InvalidInput(f"{flag}: {exc}") from None
    known = settings.known_datasets()
    if value not in known and value != settings.LIVE_DATASET:  # live with nothing yet: nothing to archive
        raise InvalidInput(f"{flag} {value}: no runs or registry for that dataset (datasets: {', '.join(known) or 'none'})")
    return value


def gc_command(
    keep_days: Annotated[int, typer.Option(help="Keep dates newer than this many days before --today untouched; "
                                                "older dates are archived except their served and pinned runs "
                                                "(0..3650). Required.", show_default=False)],
    dataset: Annotated[str, typer.Option(help="Dataset whose runs to archive: live, or a replay / synthetic "
                                              "dataset's name (nba, synthetic_league).")] = settings.LIVE_DATASET,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be archived and the bytes it "
                                                            "would free; write nothing, take no lock.")] = False,
    today: Annotated[str | None, typer.Option(help="The date ages are counted from, YYYY-MM-DD (default: today "
                                                   "in US/Eastern; a replayed season's dates are years old).",
                                              show_default=False)] = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Archive old runs and raw extracts (see --help)."""
    from minutes_live.runs import retention

    cli_values.int_in_bounds(keep_days, "--keep-days", KEEP_DAYS_BOUNDS)
    day0 = cli_values.parse_date(today, "--today") if today is not None else datetime.now(LEAGUE_TZ).date()
    lock_timeout = cli_values.lock_timeout(lock_timeout)
    dataset = parse_dataset(dataset)
    before = retention.cutoff(day0, keep_days)
    if dry_run:
        plans = retention.plan(dataset, day0, keep_days)
        total = sum(p.bytes for p in plans)
        for p in plans:
            kept = ", ".join(f"{r} ({why})" for r, why in sorted(p.kept.items())) or "none"
            typer.echo(f"{p.day}: would archive {len(p.runs)} runs and {len(p.extract_runs)} extract runs "
                       f"({sum(len(f.files) for f in p.folders)} files, {retention.human(p.bytes)}); keeps {kept}")
        typer.echo(f"gc dry run, dataset {dataset}, dates before {before}: {len(plans)} dates, "
                   f"{sum(len(p.runs) for p in plans)} runs, {sum(len(p.extract_runs) for p in plans)} extract runs, "
                   f"{retention.human(total)} ({total} bytes) would be freed before compression; nothing written")
        return
    results, notes = retention.collect(dataset, day0, keep_days, lock_timeout=lock_timeout,
                                       progress=lambda line: typer.echo(line, err=True))
    freed = sum(r.bytes_freed for r in results)
    grown = sum(r.archive_bytes - r.archive_bytes_before for r in results)
    for note in notes:
        typer.echo(f"recovered: {note}")
    typer.echo(f"gc dataset {dataset}, dates before {before}: {len(results)} dates archived, "
               f"{sum(len(r.runs) for r in results)} runs and {sum(len(r.extract_runs) for r in results)} extract "
               f"runs ({sum(r.files for r in results)} files); freed {retention.human(freed)} ({freed} bytes), "
               f"archives grew {retention.human(grown)}, net {retention.human(freed - grown)}"
               + (f" (ratio {grown / freed:.2f})" if freed else ""))
