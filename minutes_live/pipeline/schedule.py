"""The day's job times, from the slate's first tip (`minutes-live schedule`), and the due check the
schedulers use (`minutes-live schedule --due JOB`, wrapped by deploy/due).

Times are US/Eastern wall-clock (America/New_York, DST included), printed in ET and UTC:

    morning    10:30 ET                      minutes-live job morning --source live
    afternoon  17:00 ET                      minutes-live job afternoon --source live
    pretip     first tip - 45 min            minutes-live job afternoon --source live (the refresh before tip)
    overnight  04:00 ET the next day         minutes-live job overnight --source live (freezes the date)

The first tip of a date (postponed games excluded) is read, in order, from:
  - `--source live` (production): the date's published features runs (coverage.csv `tip_ts`; files only,
    the store is not opened), else the live store's `raw.schedule` (a read-only look that does not wait: a
    busy store means "unknown for now");
  - `--source replay | synthetic`: the dataset's schedule.

Due (`--due JOB`): morning, afternoon and overnight are due during the `--window` minutes (default 15) from
their time; pretip is due from first tip - 45 min until the first tip, unless a run of the date with
run_as_of_ts at or after that time is already published (so a check every 15 minutes starts it once, and an
afternoon run that is already late enough counts). Exit 0 = due, 75 = not due (EX_TEMPFAIL), anything else
= the check itself failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.clock import LEAGUE_TZ as ET
from foundation.clock import season_label

NOT_DUE_EXIT = 75  # EX_TEMPFAIL: deploy/due turns it into "skip" for cron and systemd ExecCondition
FIXED_TIMES_ET = {"morning": time(10, 30), "afternoon": time(17, 0), "overnight": time(4, 0)}
PRETIP_LEAD = timedelta(minutes=45)
JOBS = ("morning", "afternoon", "pretip", "overnight")
COMMANDS = {
    "morning": "minutes-live job morning --source live",
    "afternoon": "minutes-live job afternoon --source live",
    "pretip": "minutes-live job afternoon --source live",
    "overnight": "minutes-live job overnight --source live",
}


@dataclass(frozen=True)
class SlateTips:
    day: date
    games: int
    first_tip: datetime | None  # UTC
    last_tip: datetime | None
    source: str  # where the tips were read


@dataclass(frozen=True)
class PlannedJob:
    job: str
    at: datetime  # UTC
    command: str
    note: str = ""

    def as_dict(self) -> dict:
        return {"job": self.job, "et": self.at.astimezone(ET).isoformat(), "utc": self.at.isoformat(),
                "command": self.command, "note": self.note}


@dataclass
class DayPlan:
    tips: SlateTips
    jobs: list[PlannedJob] = field(default_factory=list)

    def job(self, name: str) -> PlannedJob | None:
        return next((j for j in self.jobs if j.job == name), None)

    def as_dict(self) -> dict:
        t = self.tips
        return {"date": t.day.isoformat(), "games": t.games, "tips_from": t.source,
                "first_tip_utc": t.first_tip.isoformat() if t.first_tip else None,
                "last_tip_utc": t.last_tip.isoformat() if t.last_tip else None,
                "jobs": [j.as_dict() for j in self.jobs]}


def eastern(day: date, at: time) -> datetime:
    """`day` at Eastern wall-clock `at`, as a UTC instant (the offset of that date: EST or EDT)."""
    return datetime.combine(day, at, tzinfo=ET).astimezone(UTC)


def plan_day(tips: SlateTips) -> DayPlan:
    """The four jobs of `tips.day` in time order (pretip only when the first tip is known)."""
    day = tips.day
    jobs = [
        PlannedJob("morning", eastern(day, FIXED_TIMES_ET["morning"]), COMMANDS["morning"]),
        PlannedJob("afternoon", eastern(day, FIXED_TIMES_ET["afternoon"]), COMMANDS["afternoon"]),
        PlannedJob("overnight", eastern(day + timedelta(days=1), FIXED_TIMES_ET["overnight"]),
                   COMMANDS["overnight"], f"the next morning: freezes {day} (labels, gold, parity, drift)"),
    ]
    if tips.first_tip is not None:
        at = tips.first_tip - PRETIP_LEAD
        note = f"{int(PRETIP_LEAD.total_seconds() // 60)} min before the first tip"
        if at <= jobs[0].at:
            note += "; before the morning run"
        jobs.append(PlannedJob("pretip", at, COMMANDS["pretip"], note))
    if tips.first_tip is not None and jobs[1].at >= tips.first_tip:
        jobs[1] = PlannedJob("afternoon", jobs[1].at, jobs[1].command,
                             "after the first tip: started games keep their tip as cutoff")
    return DayPlan(tips, sorted(jobs, key=lambda j: j.at))


# ------------------------------------------------------------------------------------------- first tip


def tips_of_frame(frame: pd.DataFrame, day: date, source: str) -> SlateTips:
    """The first and last tip of the games in `frame` (game_id, tip_ts). A tip outside the date's US/Eastern
    day +- 12 h (snapshots_ingest.raw_store.implausible_tips, e.g. a game of 2025-01-03 tipping in 2262) is
    left out, and `source` says how many were: the pre-tip refresh is never placed on a garbage tip."""
    from snapshots_ingest.raw_store import implausible_tips

    if frame.empty:
        return SlateTips(day, 0, None, None, source)
    absurd = implausible_tips(frame.assign(game_date=day))
    if not absurd.empty:
        source += f"; {len(absurd)} tip{'s' if len(absurd) != 1 else ''} outside {day} +- 12 h left out"
    tips = pd.to_datetime(frame.drop(index=absurd.index)["tip_ts"], utc=True, errors="coerce").dropna()
    if tips.empty:
        return SlateTips(day, int(frame["game_id"].nunique()), None, None, source)
    return SlateTips(day, int(frame["game_id"].nunique()), tips.min().to_pydatetime(), tips.max().to_pydatetime(), source)


_tips_frame = tips_of_frame


def tips_from_published(day: date, features_root: Path | None = None) -> SlateTips | None:
    """The date's tips from its newest published features run whose coverage.csv reads; None when nothing is
    published. A damaged coverage.csv is a warning naming it, and the next older run is read instead."""
    from foundation import state

    root = Path(features_root or settings.features_root()) / day.isoformat()
    runs = sorted(p for p in root.glob("run=*") if (p / "coverage.csv").is_file()) if root.is_dir() else []
    for run in reversed(runs):
        try:
            coverage = state.read_table(run / "coverage.csv", usecols=["game_id", "tip_ts"])
            return _tips_frame(coverage, day, f"published run {run.name.removeprefix('run=')} ({run})")
        except (state.DamagedStateError, ValueError, TypeError) as exc:
            state.warn(run / "coverage.csv", f"no first tip read from it ({state.one_reason(exc)}); trying an older run")
    return None


def tips_from_store(day: date, db_path: Path) -> SlateTips | None:
    """The date's tips from the store's newest schedule state per game (postponed excluded), read-only and
    without waiting; None when the store is missing, busy or has no schedule table."""
    import duckdb

    from foundation.guardrails import GuardrailError
    from foundation.store import connected, latest_row

    if not Path(db_path).is_file():
        return None
    try:
        with connected(db_path, read_only=True) as con:
            frame = con.execute(latest_row(
                "select game_id, tip_ts, game_status from raw.schedule where game_date = ?", ["game_id"]),
                [day]).df()
    except (GuardrailError, duckdb.Error):
        return None
    frame = frame[frame["game_status"] != "postponed"]
    return _tips_frame(frame, day, f"store {db_path}")


def tips_from_dataset(day: date, dataset_dir: Path) -> SlateTips:
    from snapshots_ingest.dataset import DatasetError, load_dataset

    try:
        games = load_dataset(dataset_dir, seasons=[season_label(day)]).games
    except DatasetError:
        games = load_dataset(dataset_dir).games
    frame = games[pd.to_datetime(games["game_date"]).dt.date == day]
    if "game_status" in frame:
        frame = frame[frame["game_status"] != "postponed"]
    return _tips_frame(frame, day, f"dataset {dataset_dir}")


def slate_tips(day: date, source: str = "live", dataset_dir: Path | None = None) -> SlateTips:
    if source in ("replay", "synthetic"):
        dataset_dir = Path(dataset_dir or settings.default_dataset_dir(source))
        return tips_from_dataset(day, dataset_dir)
    published = tips_from_published(day)
    if published is not None and published.first_tip is not None:
        return published
    stored = tips_from_store(day, settings.store_path_for("live" if source == "live" else source, dataset_dir))
    if stored is not None:
        return stored
    return SlateTips(day, 0, None, None, "unknown: no published run and no readable schedule in the store")


# ------------------------------------------------------------------------------------------------- due


def published_as_ofs(day: date, features_root: Path | None = None) -> list[datetime]:
    """run_as_of_ts of every published features run of the date (from the run ids)."""
    from foundation.run_directory import RUN_ID_RE

    root = Path(features_root or settings.features_root()) / day.isoformat()
    out = []
    for p in root.glob("run=*") if root.is_dir() else []:
        run_id = p.name.removeprefix("run=")
        if RUN_ID_RE.fullmatch(run_id):
            out.append(datetime.strptime(run_id, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
    return sorted(out)


def slate_day_for(job: str, now: datetime) -> date:
    """The slate date a job run at `now` works on: today in US/Eastern (overnight: it freezes yesterday, but
    its time belongs to today, so the plan of yesterday holds it)."""
    today = now.astimezone(ET).date()
    return today - timedelta(days=1) if job == "overnight" else today


def due(job: str, now: datetime, plan: DayPlan, window: timedelta,
        published: list[datetime] | None = None) -> tuple[bool, str]:
    """(due?, why) for `job` at `now` in `plan` (see the module docstring)."""
    planned = plan.job(job)
    if planned is None:
        return False, f"{job}: no time for {plan.tips.day} (first tip unknown: {plan.tips.source})"
    at = planned.at
    when = f"{at.astimezone(ET):%Y-%m-%d %H:%M %Z}"
    if job != "pretip":
        if at <= now < at + window:
            return True, f"{job}: due ({when}, window {int(window.total_seconds() // 60)} min)"
        return False, f"{job}: not due at {now.astimezone(ET):%H:%M %Z} (scheduled {when})"
    first_tip = plan.tips.first_tip
    if now < at:
        return False, f"pretip: not yet (scheduled {when}, first tip {first_tip.astimezone(ET):%H:%M %Z})"
    if now >= first_tip:
        return False, f"pretip: the first tip ({first_tip.astimezone(ET):%H:%M %Z}) has passed"
    done = [ts for ts in (published or []) if ts >= at]
    if done:
        return False, f"pretip: run {done[0]:%Y%m%dT%H%M%SZ} is already at or after {when}"
    return True, f"pretip: due ({when}, first tip {first_tip.astimezone(ET):%H:%M %Z})"


# ------------------------------------------------------------------------------------------- printing


def render(plan: DayPlan) -> list[str]:
    t = plan.tips
    if t.first_tip is not None:
        head = (f"{t.day}: {t.games} game{'s' if t.games != 1 else ''}, first tip "
                f"{t.first_tip.astimezone(ET):%H:%M %Z} ({t.first_tip:%H:%M} UTC), from {t.source}")
    else:
        head = f"{t.day}: first tip unknown ({t.source}); the pre-tip refresh cannot be placed"
    lines = [head, f"{'job':<10} {'ET':<21} {'UTC':<18} command"]
    for j in plan.jobs:
        et = j.at.astimezone(ET)
        lines.append(f"{j.job:<10} {et:%Y-%m-%d %H:%M %Z}  {j.at:%Y-%m-%d %H:%M}Z  {j.command}"
                     + (f"   # {j.note}" if j.note else ""))
    return lines


def to_json(plan: DayPlan) -> str:
    return json.dumps(plan.as_dict(), indent=2)
