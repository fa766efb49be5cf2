"""`minutes-live experiment what-if | history-window`: the evaluation lab (minutes_live/lab/experiment.py).

Every value is checked before any work (foundation/cli_values.py): a bad one is a one-line error, exit 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from foundation import cli_values, settings
from foundation.guardrails import InvalidInput
from minutes_live.cli.options import DATASET_DIR_DEFAULT, bounded
from minutes_live.cli.spine import LOCK_TIMEOUT, App

experiment_app = App(name="experiment",
                     help="Evaluation lab: what-if by lead time, rolling-window history length.")

OUT_ROOT = settings.reports_root() / "experiments"
BUNDLE_ROOT = settings.artifacts_root() / "minutes_v1" / "experiment_bundles"
SEASON = Annotated[str, typer.Option(help="Season to score, e.g. 2021-22 (the bundle trains on the seasons before it).")]
DATASET = Annotated[Path | None, typer.Option(help=f"Replay dataset directory ({DATASET_DIR_DEFAULT}).")]
OUT = Annotated[Path, typer.Option(help="Where report directories go.", show_default="reports/experiments")]
BUNDLES = Annotated[Path, typer.Option(help="Where the experiment's bundle goes.",
                                       show_default="artifacts/minutes_v1/experiment_bundles")]
SEED = Annotated[int, typer.Option(help=bounded("--seed", "LightGBM seed."))]
ROUNDS = Annotated[int | None, typer.Option(help=bounded(
    "--rounds", "Boosting rounds per model (default: the bundle recipe's, scoring/train.py); fewer = a quick look."))]


def _common(command: str, season: str, dataset_dir: Path | None, out_root: Path, bundle_root: Path, seed: int,
            rounds: int | None, lock_timeout: float) -> tuple[Path, Path, Path]:
    cli_values.parse_season(season)
    cli_values.int_in_bounds(seed, "--seed")
    cli_values.int_in_bounds(rounds, "--rounds")
    cli_values.lock_timeout(lock_timeout)
    dataset_dir = Path(dataset_dir or settings.real_dataset_dir())
    if not dataset_dir.is_dir():
        raise InvalidInput(f"--dataset-dir {dataset_dir} does not exist")
    return dataset_dir, cli_values.writable_dir(out_root, "--out-root"), cli_values.writable_dir(bundle_root, "--bundle-root")


@experiment_app.command("what-if")
def what_if(
    season: SEASON,
    leads: Annotated[str, typer.Option(help="Comma-separated gold leads in minutes before tip, each 0..1440, no repeats.")]
        = "30,60,120,240,720",
    train_lead: Annotated[int, typer.Option(help=bounded(
        "--lead", "Lead (minutes before tip) of the gold features the one bundle trains on; 60 = the dbt default gold_lead_minutes."))] = 60,
    live_dates: Annotated[int, typer.Option(help=bounded(
        "--live-dates", "Dates of the season for the live-path check (spread evenly; 0 = skip it)."))] = 20,
    live_leads: Annotated[str, typer.Option(help="Leads of the live-path check: runs at the slate's first tip minus each.")]
        = "120,30",
    dataset_dir: DATASET = None,
    out_root: OUT = OUT_ROOT,
    bundle_root: BUNDLES = BUNDLE_ROOT,
    seed: SEED = 7,
    rounds: ROUNDS = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Score one season at several leads with one bundle: accuracy, calibration, p50 deltas and what drives
    them, and a check of the live path against the gold path. Report: <out-root>/what_if_<season>/."""
    from minutes_live.lab.experiment import run_what_if

    started = time.perf_counter()
    lead_list = cli_values.int_list(leads, "--leads", "--lead")
    live_list = cli_values.int_list(live_leads, "--live-leads", "--lead")
    cli_values.int_in_bounds(train_lead, "--train-lead", cli_values.FLAG_BOUNDS["--lead"])
    cli_values.int_in_bounds(live_dates, "--live-dates")
    dataset_dir, out_root, bundle_root = _common("what-if", season, dataset_dir, out_root, bundle_root, seed,
                                                 rounds, lock_timeout)
    res = run_what_if(
        dataset_dir, season, lead_list, train_lead=train_lead, out_root=out_root, bundle_root=bundle_root,
        live_dates=live_dates, live_leads=tuple(live_list), seed=seed, rounds=rounds, lock_timeout=lock_timeout)
    m = res.metrics
    typer.echo(f"what-if {season}: one bundle trained at lead {train_lead} on {', '.join(m['bundle']['seasons'])}")
    for lead in sorted(lead_list, reverse=True):
        r = m["by_lead"][lead]
        typer.echo(f"  tip-{lead:<4} MAE {r['mae']:.3f}  played {r['mae_played']:.3f}  coverage {r['coverage_p10_p90']:.3f}")
    if m["headline_pair"]:
        s = m["pairs"][m["headline_pair"]]["stats"]
        typer.echo(f"  |p50 delta| tip-{m['headline_pair'].replace('->', ' -> tip-')}: median {s['median_abs']:.2f}, "
                   f"p90 {s['p90_abs']:.2f} over {s['rows']:,} rows")
    c = m["live_check"]
    if c:
        typer.echo(f"  live-path check ({len(c['dates'])} dates x {len(live_list)} leads): max |p50 diff| first-tip games "
                   f"{c['max_abs_diff_first_tip']}, later games {c['max_abs_diff_other']}")
    typer.echo(f"  wall time {time.perf_counter() - started:.0f} s -> {res.report_dir / 'report.md'}")


@experiment_app.command("history-window")
def history_window(
    season: SEASON,
    days: Annotated[str, typer.Option(help=bounded(
        "--history-days", "Comma-separated history_days windows, no repeats; 'full' = the largest allowed (no truncation)."))]
        = "30,60,120,365,full",
    lead: Annotated[int, typer.Option(help=bounded("--lead", "Gold lead (minutes before tip), also the live run's lead."))] = 60,
    slate_date: Annotated[str | None, typer.Option(
        help="Slate timed with a live build per window, YYYY-MM-DD (default: the season's busiest date).")] = None,
    dataset_dir: DATASET = None,
    out_root: OUT = OUT_ROOT,
    bundle_root: BUNDLES = BUNDLE_ROOT,
    seed: SEED = 7,
    rounds: ROUNDS = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """For each history_days window: live and gold build time, feature drift vs full history, and the accuracy
    of one bundle (trained with full history); recommends a default. Report: <out-root>/history_window_<season>/."""
    from minutes_live.lab.experiment import FULL_HISTORY_DAYS, run_history_window

    started = time.perf_counter()
    windows = cli_values.int_list(days, "--days", "--history-days", words={"full": FULL_HISTORY_DAYS})
    cli_values.int_in_bounds(lead, "--lead")
    day = cli_values.optional_date(slate_date, "--slate-date")
    dataset_dir, out_root, bundle_root = _common("history-window", season, dataset_dir, out_root, bundle_root,
                                                 seed, rounds, lock_timeout)
    res = run_history_window(
        dataset_dir, season, windows, lead=lead, out_root=out_root, bundle_root=bundle_root, slate_date=day,
        seed=seed, rounds=rounds, lock_timeout=lock_timeout)
    m = res.metrics
    typer.echo(f"history-window {season} (lead {lead}; live slate {m['slate']['date']}):")
    for r in m["windows"]:
        typer.echo(f"  {r['label']:>5} days: live build {r['live_build_seconds']:.1f} s, gold build {r['gold_build_seconds']:.1f} s, "
                   f"rows drifting {100 * r['drift']['share_rows_any_change']:.1f}%, MAE {r['mae']:.3f}, played "
                   f"{r['mae_played']:.3f}, coverage {r['coverage_p10_p90']:.3f}")
    for f in m["failed_windows"]:
        typer.echo(f"  {f['label']:>5} days: {f['stage']} failed: {f['error']}")
    typer.echo(f"  drift measured against {m['reference']['label']} days (the longest window that builds)")
    rec = m["recommendation"]
    typer.echo(f"  recommendation: {'change the default to' if rec['change'] else 'keep the default'} {rec['label']}")
    typer.echo(f"  wall time {time.perf_counter() - started:.0f} s -> {res.report_dir / 'report.md'}")
