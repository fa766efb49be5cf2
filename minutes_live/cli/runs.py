"""`minutes-live runs`: the runs of a date as an operator sees them (registered in minutes_live.cli.app).

    minutes-live runs list   [--dataset N] [--date D] [--json]
    minutes-live runs show   RUN|latest [--dataset N] [--date D] [--json]
    minutes-live runs diff   A B [--dataset N] [--date D] [--min-delta 3] [--json]
    minutes-live runs export RUN|latest [--dataset N] [--date D] --format csv|json|jsonl [--out P] [--force]
    minutes-live runs restore RUN --date D [--dataset N]     (a run archived by `minutes-live gc`)

`--slate NAME` (list, show, export) keeps the games of one slate of the date: all, early, main, late or a
custom slate (minutes_live/runs/slates.py); runs stay per date, a slate is a filter.

Every run belongs to a dataset (live, or a replay / synthetic dataset such as nba, synthetic_league: its own
roots and registry, foundation.settings); `--dataset` picks one, else minutes_live.runs.catalog.choose_dataset.

Read-only except `restore` (minutes_live.runs.catalog, minutes_live.runs.diff): nothing else here opens the
store, takes a lock or moves a pointer, so it can run while a job writes. Every value is checked first (foundation/cli_values.py);
a bad value, an unknown date or run exits 2 with one line naming the flag or listing what exists.
"""

from __future__ import annotations

import json
import math
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from foundation import atomic, cli_values, settings
from foundation.guardrails import InvalidInput
from minutes_live.cli.spine import LOCK_TIMEOUT, App
from minutes_live.runs import catalog as catalog
from minutes_live.runs import slates as slates
from minutes_live.runs.terminal import gtd_worlds_lines

runs_app = App(
    name="runs",
    help="Inspect the runs of a date: list them, show one, diff two, export one's projections (read-only).",
    no_args_is_help=True,
)

EXPORT_FORMATS = ("csv", "json", "jsonl")
DATE_HELP = "Slate date YYYY-MM-DD. Default: the newest date with a published run (else with runs) of the dataset."
DATASET_HELP = ("Dataset whose runs to read: live, or a replay / synthetic dataset's name (nba, synthetic_league). "
                "Default: the only one with runs (of --date), else the one with the most recent successful run.")
LIST_HELP = (
    "List the runs of a date (newest first) with status, latest/pin, rows, games, freshness, warnings.\n\n"
    "Freshness is the oldest selected snapshot per kind over the slate's games, at run_as_of_ts; `!` marks an age "
    "past the warning threshold (injuries and odds 6h, roster 18h), `(n missing)` the games without one."
)
DIFF_HELP = (
    "Why did projections move: players whose p50 moved or whose status changed between runs A and B.\n\n"
    "Each row gives the reasons read from the two runs' features: a status change, a lineup or starter change, "
    "teammates turning OUT (named, with their p50 in A: the vacated minutes), a new or moved line, a different "
    "model bundle; otherwise the model input that changed most."
)
EXPORT_HELP = (
    "Export one run's scored projections with run metadata, for downstream consumers.\n\n"
    "Every row carries run_id, run_as_of_ts, model_bundle_id, generated_at and features_sha256 (json: once at the "
    "top). --out is written atomically (temp file + rename) and never replaces an existing file without --force."
)
RUN_HELP = "A run id YYYYMMDDTHHMMSSZ, or `latest` (the run the date's scores `latest` serves)."
SLATE_HELP = ("Keep one slate's games: all, early (tips before 19:00 ET), main (19:00-21:59), late (22:00 and "
              "later), or a custom slate of the date (config/slates.json). Default: all.")
RESTORE_HELP = (
    "Bring back a run that `minutes-live gc` archived: its features, scores, reports and raw extracts, every "
    "file checked against the archive's sha256 manifest (byte-identical). `latest` is then recomputed by the "
    "rule. Takes the store lock; the registry records it."
)


class RunsError(InvalidInput):
    """An unknown date or run, or a run without what the command needs (exit 2)."""



# ------------------------------------------------------------------------------------------- values

def _day(value: str | None, dataset: str | None = None) -> date:
    """Picks the dataset (--dataset, or catalog.choose_dataset) for the rest of the command, then returns --date,
    or the dataset's newest date with a published run (else with runs); a date without runs lists the dates
    that have some."""
    asked = cli_values.parse_date(value, "--date") if value is not None else None
    try:
        chosen, _ = catalog.choose_dataset(dataset, asked)
    except catalog.CatalogError as exc:
        raise RunsError(str(exc)) from None
    catalog.select_dataset(chosen)
    known = catalog.dates()
    if value is None:
        if not known:
            raise RunsError(f"no runs yet (nothing under {catalog.publication(date.min).roots.features} "
                            "nor in the registry); run a job first")
        return catalog.default_day() or known[-1]
    day = asked
    if day not in known:
        raise RunsError(f"--date {day}: no runs for that date (dates with runs: {_listing([d.isoformat() for d in known])})")
    return day


def _slate(day: date, name: str | None) -> slates.Slate | None:
    """The date's slate `name` (None: every game, no filter); exit 2 listing the date's slates otherwise."""
    if name is None:
        return None
    try:
        return slates.find_slate(day, name, catalog.current_dataset())
    except slates.SlateError as exc:
        raise RunsError(f"--slate {name}: {exc}") from None


def _slate_line(chosen: slates.Slate | None) -> str:
    if chosen is None:
        return ""
    return f"; slate {chosen.name}: {len(chosen.game_ids)} games ({chosen.definition})"


def _listing(items: list[str], limit: int = 12) -> str:
    if not items:
        return "none"
    shown = items[-limit:]
    return ("..., " if len(items) > limit else "") + ", ".join(shown)


def _ref(value: str, flag: str) -> str:
    return value if value == "latest" else cli_values.parse_run_id(value, flag)


def _run(day: date, ref: str, flag: str, infos: list[catalog.RunInfo] | None = None) -> str:
    """A run of the date by id (recorded in the registry or on disk) or `latest`."""
    infos = catalog.list_runs(day) if infos is None else infos
    ids = [i.run_id for i in infos]
    if ref == "latest":
        try:
            return catalog.resolve(day, "latest")
        except catalog.CatalogError:
            raise RunsError(f"{flag} latest: nothing is published for {day} (runs: {_listing(sorted(ids))})") from None
    if ref not in ids:
        raise RunsError(f"{flag} {ref}: no such run for {day} (runs: {_listing(sorted(ids))})")
    return ref


# -------------------------------------------------------------------------------------------- format

def age(minutes: float | None) -> str:
    """Minutes as `8h30m` / `45m`; `-` for none."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return "-"
    m = int(round(minutes))
    return f"{m // 60}h{m % 60:02d}m" if m >= 60 else f"{m}m"


def freshness_cell(kind: str, minutes: float | None, missing: int = 0) -> str:
    """The worst age of a kind, `!` past its warning threshold, and how many games had none."""
    cell = age(minutes) + ("!" if catalog.freshness_flag(kind, minutes) == "warn" else "")
    return cell + (f" ({missing} missing)" if missing else "")


def table(rows: list[list[str]], header: list[str], right: set[int] = frozenset()) -> str:
    """Rows aligned under a header; columns in `right` are right-aligned."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = []
    for r in cells:
        parts = [r[i].rjust(widths[i]) if i in right else r[i].ljust(widths[i]) for i in range(len(header))]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def served_label(info: catalog.RunInfo, kinds: tuple[str, ...] = ("features", "scores", "reports")) -> str:
    if not info.latest:
        label = "-"
    elif set(info.latest) >= {k for k in kinds if k in info.kinds} and "scores" in info.latest:
        label = "latest"
    else:
        label = "latest(" + ",".join(info.latest) + ")"
    return label + (" pinned" if info.pinned else "")


def _ts(value: str | None) -> str:
    if not value:
        return "-"
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%MZ")


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


# ---------------------------------------------------------------------------------------------- list

@runs_app.command("list", help=LIST_HELP)
def list_command(
    date: Annotated[str | None, typer.Option(help=DATE_HELP, show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(help=DATASET_HELP, show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of the table.")] = False,
    slate: Annotated[str | None, typer.Option(help=SLATE_HELP, show_default=False)] = None,
) -> None:
    """List the runs of a date (newest first) with status, latest/pin, rows, games, freshness, warnings."""
    day = _day(date, dataset)
    chosen = _slate(day, slate)
    infos = catalog.list_runs(day)
    if chosen is not None:
        infos = [slates.restrict(i, chosen.game_ids) for i in infos]
    if as_json:
        typer.echo(json.dumps({"dataset": catalog.current_dataset(), "date": day.isoformat(),
                               "slate": None if chosen is None else chosen.as_dict(),
                               "runs": [_jsonable(i.as_dict()) for i in infos]}, indent=2))
        return
    served = next((i.run_id for i in infos if "scores" in i.latest), None)
    pin = next((i.run_id for i in infos if i.pinned), None)
    others = [d for d in settings.known_datasets() if d != catalog.current_dataset()]
    also = f"; other datasets: {', '.join(others)} (--dataset NAME)" if others else ""
    typer.echo(f"runs of {day} in dataset {catalog.current_dataset()}: {len(infos)} "
               f"(latest {served or 'none'}{', pinned' if pin else ''}){_slate_line(chosen)}{also}")
    rows = []
    for i in infos:
        note = ""
        if i.status in ("failed", "killed"):
            note = f"exit {i.exit_code}: {i.error}" if i.exit_code is not None else (i.error or "")
        elif i.note:
            note = i.note
        ages = {k: freshness_cell(k, i.worst_age_minutes.get(k), i.missing_games.get(k, 0)) if i.kinds else "-"
                for k in catalog.FRESHNESS_KINDS}
        rows.append([i.run_id, i.status, _ts(i.run_as_of_ts), i.job or "-", served_label(i),
                     "-" if i.rows is None else i.rows, "-" if i.games is None else i.games,
                     ages["injuries"], ages["odds"], ages["roster"], i.warnings, _short(note, 90)])
    header = ["RUN", "STATUS", "RUN_AS_OF_TS", "JOB", "SERVED", "ROWS", "GAMES", "INJURIES", "ODDS", "ROSTER",
              "WARN", "NOTE"]
    typer.echo(table(rows, header, right={5, 6, 10}))


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------- show

@runs_app.command("show")
def show_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help=RUN_HELP)] = "latest",
    date: Annotated[str | None, typer.Option(help=DATE_HELP, show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(help=DATASET_HELP, show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
    gtd: Annotated[int | None, typer.Option("--gtd", metavar="PLAYER_ID", min=1,
                                            help="Show this game-time decision's two worlds: his teammates' "
                                                 "minutes if he sits against if he plays (default: none).",
                                            show_default=False)] = None,
    slate: Annotated[str | None, typer.Option(help=SLATE_HELP, show_default=False)] = None,
) -> None:
    """Show one run: summary, per-game coverage and freshness, team minutes, game-time decisions, warnings,
    files."""
    ref = _ref(run, "RUN")
    day = _day(date, dataset)
    chosen = _slate(day, slate)
    run_id = _run(day, ref, "RUN")
    view = catalog.load_run(day, run_id)
    if chosen is not None:
        view = slates.restrict_view(view, chosen.game_ids)
    worlds = scenarios_of(view)
    if chosen is not None:
        worlds = slates.filter_games(worlds, chosen.game_ids)
    if gtd is not None and (worlds is None or gtd not in set(worlds["gtd_player_id"])):
        raise InvalidInput(f"--gtd {gtd}: not a game-time decision of run {run_id} (see the run's "
                           "'game-time decisions' list)")
    if as_json:
        payload = _show_payload(view)
        payload["slate"] = None if chosen is None else chosen.as_dict()
        payload["scenarios"] = None if worlds is None else worlds.astype(object).where(worlds.notna(), None).to_dict(
            "records")
        typer.echo(json.dumps(_jsonable(payload), indent=2, default=str))
        return
    for line in show_lines(view, chosen):
        typer.echo(line)
    if gtd is not None:
        typer.echo("")
        for line in gtd_worlds_lines(worlds, gtd, top=20):
            typer.echo(line)


def scenarios_of(view: catalog.RunView) -> pd.DataFrame | None:
    """The scores run's scenarios.parquet (game-time-decision worlds), or None (older runs, failed attempts)."""
    path = view.paths.get("scores")
    if path is None or not (Path(path) / "scenarios.parquet").is_file():
        return None
    return pd.read_parquet(Path(path) / "scenarios.parquet")


def gtd_summary_lines(worlds: pd.DataFrame | None) -> list[str]:
    """One line per game-time decision: plays with probability p; his expected minutes if he plays, and what his
    teammates gain if he sits."""
    if worlds is None or worlds.empty:
        return []
    out = ["", "game-time decisions (two worlds each; `--gtd PLAYER_ID` for his teammates):"]
    for g, part in worlds.groupby("gtd_player_id", sort=False):
        sits, plays = part[part["world"] == "sits"], part[part["world"] == "plays"]
        own = plays[plays["player_id"] == g]
        mates_gain = (sits[sits["player_id"] != g]["minutes_mean"].sum()
                      - plays[plays["player_id"] != g]["minutes_mean"].sum())
        first = part.iloc[0]
        out.append(f"  {int(g):>10}  {str(first['gtd_player_name'])[:24]:<24} {first['team_tricode']} "
                   f"{first['gtd_status']:<12} plays {plays['world_prob'].iloc[0]:.2f}; "
                   f"{own['minutes_mean'].iloc[0] if len(own) else float('nan'):.1f} min if he plays, teammates "
                   f"+{mates_gain:.1f} if he sits")
    return out


def _show_payload(view: catalog.RunView) -> dict:
    def records(frame: pd.DataFrame | None) -> list[dict] | None:
        return None if frame is None else frame.astype(object).where(frame.notna(), None).to_dict("records")

    return {"dataset": catalog.current_dataset(), "run": view.info.as_dict(), "paths": {k: str(v) for k, v in view.paths.items()},
            "features_summary": view.features_summary, "scores_summary": view.scores_summary,
            "coverage": records(view.coverage), "team_minutes": records(view.team_minutes)}


def show_lines(view: catalog.RunView, chosen: slates.Slate | None = None) -> list[str]:
    """The terminal rendering of one run (also used by the tests); `chosen`: the slate the view was cut to."""
    i, fs, ss = view.info, view.features_summary or {}, view.scores_summary or {}
    out = [f"run {i.run_id} of {i.day} in dataset {catalog.current_dataset()}: {i.status}" + (f" ({i.job})" if i.job else "")
           + (f", {i.attempts} attempts" if i.attempts > 1 else "")]
    if chosen is not None:
        players = "-" if view.projections is None else len(view.projections)
        out.append(f"  slate {chosen.name}: {i.games} games, {players} players ({chosen.definition}); the run "
                   "projects the whole date, tables below keep this slate's games")
    kv = [("run_as_of_ts", i.run_as_of_ts)]
    pub = catalog.publication(i.day).pinned() if i.pinned else None
    kv.append(("served", served_label(i) + (f" (reason: {pub.get('reason')})" if pub and pub.get("reason") else "")))
    if i.status in ("failed", "killed"):
        kv.append(("error", f"exit {i.exit_code}: {i.error}" if i.exit_code is not None else str(i.error)))
    if i.note:
        kv.append(("note", i.note))
    bundle = ss.get("bundle") or {}
    if ss:
        kv += [("bundle", f"{bundle.get('bundle_id', '-')} (trained {_windows(bundle)})"),
               ("generated at", ss.get("generated_at", "-"))]
    if fs:
        kv.append(("features sha", fs.get("features_sha256", "-")))
        counts = ss.get("counts") or {}
        status = fs.get("status_counts") or {}
        extra = ", ".join(f"{n} {s}" for s, n in sorted(status.items(), key=lambda kv: -kv[1]))
        starters = f"; {counts['starters']} starters" if "starters" in counts else ""
        kv.append(("slate", f"{fs.get('rows', '-')} players in {len(fs.get('games', []))} games ({extra}{starters})"))
        fb = fs.get("fallbacks") or {}
        kv.append(("fallbacks", ", ".join(filter(None, [
            "roster fallback" if fb.get("roster_fallback") else "",
            f"{len(fb.get('games_without_injuries') or [])} games without injuries" if fb.get("games_without_injuries") else "",
            f"{len(fb.get('games_without_odds') or [])} games without odds" if fb.get("games_without_odds") else "",
        ])) or "none"))
        kv.append(("freshness", "  ".join(f"{k} {freshness_cell(k, i.worst_age_minutes.get(k), i.missing_games.get(k, 0))}"
                                          for k in catalog.FRESHNESS_KINDS) + "  (worst game; ! = past warning)"))
    width = max(len(k) for k, _ in kv)
    out += [f"  {k.ljust(width)} : {v}" for k, v in kv]
    if view.coverage is not None:
        out += ["", "games (age of the selected snapshot at run_as_of_ts; team sums of expected minutes, reconciled to "
                    "240 + overtime, with the adjustment to the model's sum; p50 sums outside [230, 260] marked !)"]
        out.append(_games_table(view))
    worlds = scenarios_of(view)
    out += gtd_summary_lines(worlds if chosen is None else slates.filter_games(worlds, chosen.game_ids))
    warnings = fs.get("warnings", []) + ss.get("warnings", [])
    if warnings:
        from minutes_live.runs.terminal import group_warnings

        out += ["", f"warnings ({len(warnings)}):"] + [f"  - {w}" for w in group_warnings(warnings)]
    present = {k: p for k, p in view.paths.items() if p.is_dir()}
    if present:
        out += ["", "files:"] + [f"  {k.ljust(8)} {p}" for k, p in present.items()]
    elif i.status == "archived":
        out += ["", f"files: none on disk ({i.note})"]
    else:
        out += ["", "files: none (a failed or killed attempt leaves no run directory)"]
    return out


def _windows(bundle: dict) -> str:
    w = (bundle.get("windows") or {}).get("train")
    return f"{w[0]}..{w[1]}" if w else "-"


def _games_table(view: catalog.RunView) -> str:
    cov = view.coverage.copy()
    team = view.team_minutes
    teams = ((view.scores_summary or {}).get("team_minutes") or {}).get("teams")
    if team is None and teams:  # a scorer run without the job's reports: the scorer's own team sums
        team = pd.DataFrame(teams).rename(columns={"flag": "outside_230_260"})
    rows = []
    for g in cov.sort_values(["tip_ts", "game_id"]).itertuples():
        away, home = (str(g.matchup).split("@") + ["?"])[:2] if isinstance(g.matchup, str) else ("?", "?")
        sums, means = {}, {}
        if team is not None:
            for t in team[team["game_id"] == g.game_id].itertuples():
                sums[t.team_tricode] = f"{t.p50_sum:.1f}" + ("!" if bool(t.outside_230_260) else "")
                if getattr(t, "mean_sum", None) is not None and pd.notna(t.mean_sum):
                    means[t.team_tricode] = f"{t.mean_sum:.1f} ({t.adjustment:+.1f})"
        tip = pd.Timestamp(g.tip_ts)
        tip_et = tip.tz_convert("America/New_York").strftime("%H:%M") if tip.tzinfo else str(tip)
        cells = [g.game_id, g.matchup, tip_et]
        for kind in catalog.FRESHNESS_KINDS:
            covered = bool(getattr(g, f"{kind}_covered"))
            cells.append(freshness_cell(kind, getattr(g, f"{kind}_as_of_age_minutes")) if covered else "missing")
        cells += [f"{g.away_roster_players}/{g.away_not_out_players}", f"{g.home_roster_players}/{g.home_not_out_players}",
                  means.get(away, "-"), means.get(home, "-"), sums.get(away, "-"), sums.get(home, "-")]
        rows.append(cells)
    header = ["GAME", "MATCHUP", "TIP_ET", "INJURIES", "ODDS", "ROSTER", "AWAY_PLAYERS/NOT_OUT",
              "HOME_PLAYERS/NOT_OUT", "AWAY_MEAN (ADJ)", "HOME_MEAN (ADJ)", "AWAY_P50", "HOME_P50"]
    return table(rows, header, right={6, 7, 8, 9, 10, 11})


# ---------------------------------------------------------------------------------------------- diff

@runs_app.command("diff", help=DIFF_HELP)
def diff_command(
    a: Annotated[str, typer.Argument(metavar="A", help="The earlier run: " + RUN_HELP)],
    b: Annotated[str, typer.Argument(metavar="B", help="The later run: " + RUN_HELP)] = "latest",
    date: Annotated[str | None, typer.Option(help=DATE_HELP, show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(help=DATASET_HELP, show_default=False)] = None,
    min_delta: Annotated[float, typer.Option(help="Show players whose p50 moved by more than this many minutes "
                                                  "(and every status change); (0..48).")] = 3.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Why did projections move: players whose p50 moved or whose status changed between runs A and B."""
    from minutes_live.runs.diff import diff_runs

    ref_a, ref_b = _ref(a, "A"), _ref(b, "B")
    cli_values.number_in_bounds(min_delta, "--min-delta")
    day = _day(date, dataset)
    infos = catalog.list_runs(day)
    run_a, run_b = _run(day, ref_a, "A", infos), _run(day, ref_b, "B", infos)
    by_id = {i.run_id: i for i in infos}
    for flag, run_id in (("A", run_a), ("B", run_b)):
        info = by_id[run_id]
        if "scores" not in info.kinds:
            why = f"{info.status}, exit {info.exit_code}" if info.exit_code else info.status
            scored = sorted(i.run_id for i in infos if "scores" in i.kinds)
            raise RunsError(f"{flag} {run_id}: the run has no scores ({why}); scored runs: {_listing(scored)}")
    diff = diff_runs(day, run_a, run_b, min_delta)
    if as_json:
        payload = {**diff.attrs, "rows": diff.astype(object).where(diff.notna(), None).to_dict("records")}
        typer.echo(json.dumps(_jsonable(payload), indent=2, default=str))
        return
    for line in diff_lines(diff, infos):
        typer.echo(line)


def diff_lines(diff: pd.DataFrame, infos: list[catalog.RunInfo] | None = None) -> list[str]:
    from minutes_live.runs.diff import reason_counts

    at = {i.run_id: i.run_as_of_ts for i in infos or []}
    a, b = diff.attrs.get("run_a"), diff.attrs.get("run_b")
    head = (f"diff {diff.attrs.get('day')}: {a} ({_ts(at.get(a))}) -> {b} ({_ts(at.get(b))}); "
            f"{diff.attrs.get('compared', '?')} players compared, {len(diff)} moved by more than "
            f"{diff.attrs.get('min_delta', 3.0):g} min or changed status")
    if diff.empty:
        return [head]
    rows = []
    for r in diff.itertuples():
        status = str(r.status_a) if str(r.status_a) == str(r.status_b) else f"{_na(r.status_a)}->{_na(r.status_b)}"
        delta = "-" if pd.isna(r.delta) else f"{r.delta:+.1f}"
        rows.append([r.team_tricode, r.player_name, _num(r.p50_a), _num(r.p50_b), delta, status, r.reasons[0]])
        for more in r.reasons[1:]:
            rows.append(["", "", "", "", "", "", more])
    header = ["TEAM", "PLAYER", "P50_A", "P50_B", "DELTA", "STATUS", "WHY"]
    counts = ", ".join(f"{k} {n}" for k, n in reason_counts(diff).items())
    return [head, table(rows, header, right={2, 3, 4}), f"first reason: {counts}"]


def _na(x) -> str:
    return "-" if x is None or (not isinstance(x, str) and pd.isna(x)) else str(x)


def _num(x) -> str:
    return "-" if x is None or pd.isna(x) else f"{x:.1f}"


# -------------------------------------------------------------------------------------------- export

@runs_app.command("export", help=EXPORT_HELP)
def export_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help=RUN_HELP)] = "latest",
    date: Annotated[str | None, typer.Option(help=DATE_HELP, show_default=False)] = None,
    dataset: Annotated[str | None, typer.Option(help=DATASET_HELP, show_default=False)] = None,
    format: Annotated[str, typer.Option("--format", help="csv | json (one document) | jsonl (one object per "
                                                         "player, metadata on each line)")] = "csv",
    out: Annotated[Path | None, typer.Option(help="Write here (atomically; default: stdout).",
                                             show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    scenarios: Annotated[bool, typer.Option("--scenarios", help="Export the game-time-decision worlds (one row "
                                                                "per GTD player, world and teammate) instead of "
                                                                "the projections.")] = False,
    slate: Annotated[str | None, typer.Option(help=SLATE_HELP, show_default=False)] = None,
) -> None:
    """Export one run's scored projections (or, with --scenarios, its game-time-decision worlds) with run
    metadata, for downstream consumers."""
    ref = _ref(run, "RUN")
    if format not in EXPORT_FORMATS:
        raise InvalidInput(f"--format {format!r} is not one of {', '.join(EXPORT_FORMATS)}")
    target = _out_path(out, force)
    day = _day(date, dataset)
    chosen = _slate(day, slate)
    run_id = _run(day, ref, "RUN")
    text = export_text(day, run_id, format, scenarios, chosen)
    if target is None:
        sys.stdout.write(text)
        return
    write_atomic(target, text, force)
    typer.echo(f"exported run {run_id} of {day} ({format}) -> {target}", err=True)


def _out_path(out: Path | None, force: bool) -> Path | None:
    if out is None:
        return None
    if out.is_dir():
        raise InvalidInput(f"--out {out} is a directory (name a file)")
    if not out.parent.is_dir():
        raise InvalidInput(f"--out {out}: directory {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK):
        raise InvalidInput(f"--out {out}: directory {out.parent} is not writable")
    if out.exists() and not force:
        raise InvalidInput(f"--out {out} already exists (pass --force to replace it)")
    return out


def export_frame(day: date, run_id: str, scenarios: bool = False,
                 chosen: slates.Slate | None = None) -> tuple[pd.DataFrame, dict]:
    """The run's minutes.parquet (or scenarios.parquet) with its metadata columns, and the metadata; with a
    slate, its games only and a `slate` column."""
    frame, meta = _export_frame(day, run_id, scenarios)
    if chosen is None:
        return frame, meta
    frame = slates.filter_games(frame, chosen.game_ids)
    frame["slate"] = chosen.name
    return frame, {**meta, "slate": chosen.name, "slate_games": sorted(chosen.game_ids)}


def _export_frame(day: date, run_id: str, scenarios: bool = False) -> tuple[pd.DataFrame, dict]:
    view = catalog.load_run(day, run_id)
    if view.projections is None:
        status = view.info.status + (f", exit {view.info.exit_code}" if view.info.exit_code else "")
        raise RunsError(f"run {run_id} of {day} has no scores to export ({status})")
    ss, fs = view.scores_summary or {}, view.features_summary or {}
    meta = {
        "date": day.isoformat(),
        "run_id": run_id,
        "run_as_of_ts": view.info.run_as_of_ts,
        "bundle_id": (ss.get("bundle") or {}).get("bundle_id"),
        "generated_at": ss.get("generated_at"),
        "features_sha256": ss.get("features_sha256") or fs.get("features_sha256"),
    }
    if scenarios:
        worlds = scenarios_of(view)
        if worlds is None:
            raise RunsError(f"run {run_id} of {day} has no scenarios.parquet (scored before Minutes V1.2)")
        frame = worlds.drop(columns=[c for c in ("run_id", "model_bundle_id") if c in worlds]).copy()
        for key in ("run_id", "run_as_of_ts", "bundle_id", "generated_at", "features_sha256"):
            frame[key] = meta[key]
        return frame.reset_index(drop=True), meta
    frame = view.projections.copy()
    for key in ("run_id", "run_as_of_ts", "bundle_id", "generated_at", "features_sha256"):
        if key == "bundle_id" and "model_bundle_id" in frame:
            continue  # the scores carry it as model_bundle_id
        frame[key] = meta[key]
    sort = [c for c in ("game_id", "team_tricode", "minutes_p50", "player_id") if c in frame]
    frame = frame.sort_values(sort, ascending=[c != "minutes_p50" for c in sort], kind="stable")
    return frame.reset_index(drop=True), meta


def export_text(day: date, run_id: str, fmt: str, scenarios: bool = False, chosen: slates.Slate | None = None) -> str:
    frame, meta = export_frame(day, run_id, scenarios, chosen)
    for col in frame.columns:  # a date stored as a midnight timestamp (game_date) is written as a date
        s = frame[col]
        if pd.api.types.is_datetime64_dtype(s) and s.dt.tz is None and s.dropna().eq(s.dropna().dt.normalize()).all():
            frame[col] = s.dt.strftime("%Y-%m-%d")
    if fmt == "csv":
        return frame.to_csv(index=False)
    records = [_jsonable(r) for r in frame.astype(object).where(frame.notna(), None).to_dict("records")]
    if fmt == "jsonl":
        return "".join(json.dumps(r, default=str) + "\n" for r in records)
    key = "scenarios" if scenarios else "projections"
    return json.dumps({**meta, "rows": len(records), key: records}, indent=2, default=str) + "\n"


def write_atomic(target: Path, text: str, force: bool) -> None:
    """foundation/atomic.py: never a half-written file; without `force` an existing file is never replaced."""
    atomic.write_text(target, text, overwrite=force, refuse_symlink=True)


# --------------------------------------------------------------------------------------------- restore

@runs_app.command("restore", help=RESTORE_HELP)
def restore_command(
    run: Annotated[str, typer.Argument(metavar="RUN", help="The archived run's id YYYYMMDDTHHMMSSZ.")],
    date: Annotated[str, typer.Option(help="Slate date YYYY-MM-DD of the run. Required.", show_default=False)],
    dataset: Annotated[str | None, typer.Option(help=DATASET_HELP, show_default=False)] = None,
    lock_timeout: LOCK_TIMEOUT = 600.0,
) -> None:
    """Bring back a run archived by `minutes-live gc`, byte-identical."""
    from minutes_live.runs import retention

    run_id = cli_values.parse_run_id(run, "RUN")
    lock_timeout = cli_values.lock_timeout(lock_timeout)
    day = _day(date, dataset)
    result = retention.restore(catalog.current_dataset(), day, run_id, lock_timeout=lock_timeout,
                               progress=lambda line: typer.echo(line, err=True))
    latest = sorted({v for v in result.served.values() if v})
    typer.echo(f"restored run {run_id} of {day} (dataset {catalog.current_dataset()}): {', '.join(result.kinds)}; "
               f"{result.files} files, {result.bytes} bytes, each matching its sha256; latest: "
               f"{', '.join(latest) or 'none'}")
