"""`minutes-live watch`: one long-lived process per slate day that re-projects the slate when its inputs change.

The loop (clock: minutes_live/watch/clock.py, sources: sources.py, alerts: alerts.py):
1. at the start instant, poll every kind; then wake at each kind's next publication time (a source that
   failed: at its backoff time instead), the due kinds polled in one step;
2. a kind changed when its extract's sha256 differs from the last poll's; the change feeds a game when that
   game's rows differ, and counts only if that game has not tipped at the poll instant;
3. then the slate is re-run at that instant through the job's lifecycle (minutes_live/pipeline/job.py
   `run_job`: registry attempt, one publication step, `latest`), job name `watch`, the polled extracts'
   hashes recorded in the registry (`watch.inputs`). A run whose inputs equal the served run's is never
   made. Tipped games keep their cutoff at their tip (the one time rule), so their projection stays the last
   pre-tip one;
4. after a publication, alerts for the players whose status changed or whose minutes_mean / p50 moved by
   at least `alert_min_delta` (the reason from `runs diff`); a failed run is an alert and the served run
   stays; a source that fails is retried with backoff (alert once; stale past its max age: alert);
5. the day ends at the last tip (or `until`); SIGTERM (`stop`) ends it between two steps.

Replayed days (`--source replay|synthetic`) run on a replayed clock: a poll at T sees the snapshots with
snapshot_ts <= T, and a run at T is the run (date, T). When a run takes longer than the clock, the next
polls are caught up in order, each at its own instant, so the runs' instants are the day's change instants.
A replayed run ingests the very extracts the watcher polled (roster, injuries, odds; written under
`<dataset>/watch/<date>/extracts/` and passed as the run's path overrides); a live run fetches as the job
does. A restart resumes from the registry: the newest `watch` run of the date gives the served inputs (and,
replayed, the instant the clock resumes at), so nothing is published twice.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.clock import LEAGUE_TZ
from foundation.guardrails import GuardrailError, InvalidInput, RunExistsError
from minutes_live.watch.alerts import Alerts, alerts_path
from minutes_live.watch.clock import ReplayClock, WallClock
from minutes_live.watch.sources import KINDS, RUN_INPUT_KINDS, LiveSource, Polled, ReplaySource

log = logging.getLogger(__name__)

JOB = "watch"
REPLAY_START_ET = time(9, 0)
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)


@dataclass
class WatchConfig:
    day: date
    source: str = "live"  # live | replay | synthetic
    dataset_dir: Path | None = None
    clock_speed: float = 600.0  # replayed days only; 0 = no waiting
    start: datetime | None = None  # default: 09:00 ET (replayed) or now (live)
    until: datetime | None = None  # default: the last tip
    alert_min_delta: float = 3.0
    webhook: str | None = None
    allow_missing_injuries: bool = False
    allow_missing_odds: bool = False
    injuries_max_age_hours: float | None = None
    odds_max_age_hours: float | None = None
    roster_max_age_hours: float | None = None
    warm: bool = True
    lock_timeout: float = 600.0
    bundle_config: Path | None = None

    @property
    def dataset(self) -> str:
        return settings.dataset_name(self.source, self.dataset_dir)

    @property
    def replayed(self) -> bool:
        return self.source in ("replay", "synthetic")


def watch_config(*, date: str | date | None, source: str, dataset_dir: Path | None = None,
                 clock_speed: float = 600.0, start: str | None = None, until: str | None = None,
                 alert_min_delta: float = 3.0, webhook: str | None = None, **rest) -> WatchConfig:
    """The checked config (foundation/cli_values.py: one line naming the flag, exit 2)."""
    from urllib.parse import urlsplit

    from foundation import cli_values

    if source not in ("live", "replay", "synthetic"):
        raise InvalidInput(f"--source {source!r} is not one of live, replay, synthetic")
    if date is None:
        if source != "live":
            raise InvalidInput("--date is required with --source replay|synthetic (the replayed day)")
        day = datetime.now(UTC).astimezone(LEAGUE_TZ).date()
    else:
        day = date if not isinstance(date, str) else cli_values.parse_date(date)
    cli_values.number_in_bounds(clock_speed, "--clock-speed")
    cli_values.number_in_bounds(alert_min_delta, "--alert-min-delta")
    if source == "live" and clock_speed != 600.0:
        raise InvalidInput("--clock-speed applies to replayed days only (--source replay|synthetic)")
    for flag, value in (("--injuries-max-age-hours", rest.get("injuries_max_age_hours")),
                        ("--odds-max-age-hours", rest.get("odds_max_age_hours")),
                        ("--roster-max-age-hours", rest.get("roster_max_age_hours"))):
        cli_values.max_age_hours(value, flag)
    if "lock_timeout" in rest:
        rest["lock_timeout"] = cli_values.lock_timeout(rest["lock_timeout"])
    starts = cli_values.parse_ts(start, "--start", default_now=False) if start else None
    ends = cli_values.parse_ts(until, "--until", default_now=False) if until else None
    if starts and ends and ends <= starts:
        raise InvalidInput(f"--until {until} is not after --start {start}")
    if webhook is not None:
        parts = urlsplit(webhook)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in webhook):
            raise InvalidInput(f"--webhook {webhook!r} is not an http(s) URL with a host")
    if source != "live":
        dataset_dir = Path(dataset_dir or settings.default_dataset_dir(source))
        if not dataset_dir.is_dir():
            raise InvalidInput(f"--dataset-dir {dataset_dir} does not exist")
    return WatchConfig(day=day, source=source, dataset_dir=dataset_dir, clock_speed=float(clock_speed), start=starts,
                       until=ends, alert_min_delta=float(alert_min_delta), webhook=webhook, **rest)


@dataclass
class WatchSummary:
    day: date
    start: datetime
    end: datetime
    runs: list[str] = field(default_factory=list)  # published by this process, in order
    failed: list[str] = field(default_factory=list)
    skipped_same_inputs: int = 0
    polls: int = 0
    stopped: bool = False  # SIGTERM (or stop()) before the end
    resumed_from: str | None = None
    alerts_path: Path | None = None
    refresh_seconds: list[float] = field(default_factory=list)  # each published run: the run itself
    latency_seconds: list[float] = field(default_factory=list)  # each published run: from its polls to published


@dataclass
class _SourceState:
    last_ok: datetime | None = None
    failures: int = 0
    stale_alerted: bool = False


class Watcher:
    def __init__(self, cfg: WatchConfig, *, source=None, clock=None) -> None:
        self.cfg = cfg
        self.source = source or (ReplaySource(cfg.dataset_dir, cfg.day) if cfg.replayed else LiveSource(cfg.day))
        tips = self.source.tips()
        if tips.empty:
            raise InvalidInput(f"no games on {cfg.day} in the {cfg.source} schedule: nothing to watch")
        self.tips = {int(g): ts.to_pydatetime() for g, ts in zip(tips["game_id"], tips["tip_ts"], strict=True)}
        self.last_tip = max(self.tips.values())
        self.stop = threading.Event()
        data_root = settings.data_root()
        self.registry_root = settings.registry_root(cfg.dataset, data_root)
        self.work_dir = settings.dataset_data_dir(cfg.dataset, data_root) / "watch" / cfg.day.isoformat()
        self.alerts = Alerts(alerts_path(cfg.dataset, cfg.day, data_root), cfg.day, cfg.webhook)
        self.polled: dict[str, Polled] = {}
        self.history_ingested = False  # the first run of the process replays history (schedule, box scores)
        self.sources = {k: _SourceState() for k in KINDS}
        self.served_run, self.served_inputs = None, None
        self.ingest_memo: dict = {}
        self.resumed_at = self._resume()
        start = cfg.start or (datetime.combine(cfg.day, REPLAY_START_ET, tzinfo=LEAGUE_TZ).astimezone(UTC)
                              if cfg.replayed else datetime.now(UTC).replace(microsecond=0))
        if self.resumed_at is not None and cfg.replayed and self.resumed_at > start:
            start = self.resumed_at
        self.start = start
        self.end = min(cfg.until, self.last_tip) if cfg.until else self.last_tip
        self.clock = clock or (ReplayClock(start, cfg.clock_speed) if cfg.replayed else WallClock())
        self.max_age = self._max_ages()

    # ----------------------------------------------------------------------------------------- state
    def _resume(self) -> datetime | None:
        """The newest succeeded `watch` run of the date in the registry: its inputs are the served inputs."""
        from foundation import registry

        mine = [a for a in registry.attempts(self.registry_root)
                if a.get("date") == self.cfg.day.isoformat() and a.get("job") == JOB and a.get("status") == "succeeded"
                and isinstance(a.get("watch"), dict)]
        if not mine:
            return None
        last = max(mine, key=lambda a: a["run_as_of_ts"])
        self.served_run, self.served_inputs = last["run_id"], last["watch"].get("inputs")
        log.info("watch %s: resuming after run %s (the registry's newest watch run)", self.cfg.day, self.served_run)
        return datetime.fromisoformat(last["run_as_of_ts"])

    def _max_ages(self) -> dict[str, timedelta]:
        from foundation.freshness import fail_minutes

        run_vars = {f"{k}_max_age_hours": getattr(self.cfg, f"{k}_max_age_hours") for k in ("injuries", "odds", "roster")
                    if getattr(self.cfg, f"{k}_max_age_hours") is not None}
        return {k: timedelta(minutes=m) for k, m in fail_minutes(run_vars).items()}

    def untipped(self, at: datetime) -> list[int]:
        return sorted(g for g, tip in self.tips.items() if tip > at)

    # ----------------------------------------------------------------------------------------- loop
    def run(self) -> WatchSummary:
        summary = WatchSummary(self.cfg.day, self.start, self.end, resumed_from=self.served_run,
                               alerts_path=self.alerts.path)
        catalog_select(self.cfg.dataset)
        due = {k: self.start for k in KINDS}
        log.info("watch %s (%s): from %s to %s, %d games, clock %s", self.cfg.day, self.cfg.source,
                 self.start.isoformat(), self.end.isoformat(), len(self.tips),
                 f"x{self.cfg.clock_speed:g}" if self.cfg.replayed else "wall")
        first = True
        while not self.stop.is_set():
            at = min(due.values())
            if at >= self.end:
                break
            if not self.clock.wait_until(at, self.stop):
                break
            kinds = [k for k, t in due.items() if t == at]
            landed = _time.perf_counter()
            changed_games: set[int] = set()
            for kind in kinds:
                if self.stop.is_set():
                    break
                polled = self._poll(kind, at, summary)
                nxt = self.source.next_publication(kind, at)
                if polled is None:  # failed: retry with backoff, but never later than its next publication
                    backoff = min(BACKOFF_FIRST * 2 ** (self.sources[kind].failures - 1), BACKOFF_MAX)
                    nxt = min(at + backoff, nxt)
                else:
                    changed_games |= self._changed_games(self.polled.get(kind), polled)
                    self.polled[kind] = polled
                due[kind] = nxt
            self._check_stale(at)
            if self.stop.is_set():
                break
            feeds = sorted(g for g in changed_games if self.tips.get(g, at) > at)
            ready = set(self.polled) == set(KINDS)
            if (first or feeds) and not ready:
                log.warning("watch %s: no run at %s until every source has answered once (missing: %s)",
                            self.cfg.day, at.isoformat(), ", ".join(sorted(set(KINDS) - set(self.polled))))
            elif first or feeds:
                why = "start" if first else f"input change for game(s) {feeds}"
                self._refresh(at, why, summary, landed)
            first = first and not ready  # the start's comparison waits for every source's first answer
        summary.stopped = self.stop.is_set()
        log.info("watch %s: %s; %d run(s) published, %d failed", self.cfg.day,
                 "stopped" if summary.stopped else "the last tip has passed" if self.end == self.last_tip else "until reached",
                 len(summary.runs), len(summary.failed))
        return summary

    def _poll(self, kind: str, at: datetime, summary: WatchSummary) -> Polled | None:
        st = self.sources[kind]
        summary.polls += 1
        try:
            polled = self.source.fetch(kind, at)
        except Exception as exc:  # noqa: BLE001 - an outage never ends the day: backoff, alert, keep serving
            st.failures += 1
            if st.failures == 1:
                self.alerts.emit("source_unreachable", at, f"{kind}: poll failed ({type(exc).__name__}: {exc}); "
                                 f"the served run stays, retrying with backoff", source=kind,
                                 error=f"{type(exc).__name__}: {exc}"[:400])
            return None
        if st.failures:
            self.alerts.emit("source_recovered", at, f"{kind}: answering again after {st.failures} failed poll(s)",
                             source=kind)
        st.last_ok, st.failures, st.stale_alerted = at, 0, False
        return polled

    def _changed_games(self, before: Polled | None, after: Polled) -> set[int]:
        if before is not None and before.sha256 == after.sha256:
            return set()
        old = before.games if before is not None else {}
        games = {g for g in set(old) | set(after.games) if old.get(g) != after.games.get(g)}
        if None in games:  # rows without a game feed every game
            return set(self.tips)
        return {int(g) for g in games}

    def _check_stale(self, at: datetime) -> None:
        for kind, max_age in self.max_age.items():
            st = self.sources[kind]
            since = st.last_ok or self.start  # never answered: stale counts from the start of the watch
            if st.stale_alerted or at - since <= max_age:
                continue
            st.stale_alerted = True
            age = (at - since).total_seconds() / 60
            self.alerts.emit("source_stale", at, f"{kind}: no successful poll for {age:.0f} min (max age "
                             f"{max_age.total_seconds() / 60:.0f} min)", source=kind, last_ok=st.last_ok.isoformat() if st.last_ok else None,
                             age_minutes=round(age, 1), max_age_minutes=max_age.total_seconds() / 60)

    # ----------------------------------------------------------------------------------------- runs
    def inputs(self) -> dict[str, str]:
        return {k: p.sha256 for k, p in sorted(self.polled.items())}

    def _overrides(self, at: datetime) -> dict[str, Path]:
        """The polled extracts a replayed run ingests (one file per content hash, written once). The first run
        of the process replays the schedule and box scores with their history window, as the job does; later
        runs take the day's schedule as polled and the day's box scores at the instant (none before its tips):
        history does not change during the day (late corrections are the overnight job's)."""
        if not self.cfg.replayed:
            return {}
        out = {}
        polled = dict(self.polled)
        if self.history_ingested:
            polled["box_scores"] = self.source.fetch("box_scores", at)
        kinds = (*RUN_INPUT_KINDS, "schedule", "box_scores") if self.history_ingested else RUN_INPUT_KINDS
        for kind in kinds:
            p = polled.get(kind)
            if p is None or not p.payload:
                continue
            path = self.work_dir / "extracts" / kind / f"{kind}_{p.sha256[:16]}.parquet"
            if not path.is_file():
                from foundation.atomic import replacing

                path.parent.mkdir(parents=True, exist_ok=True)
                with replacing(path) as tmp:
                    Path(tmp).write_bytes(p.payload)
            out[kind] = path
        return out

    def _refresh(self, at: datetime, trigger: str, summary: WatchSummary, landed: float | None = None) -> bool:
        """Re-run the slate at `at` unless the served run has these inputs; True when a run was published."""
        from minutes_live.pipeline.job import run_job
        from minutes_live.pipeline.live_build import live_config

        inputs = self.inputs()
        if inputs == self.served_inputs:
            summary.skipped_same_inputs += 1
            log.info("watch %s: no run at %s: the inputs equal the served run %s's", self.cfg.day, at.isoformat(),
                     self.served_run)
            return False
        c = self.cfg
        cfg = live_config(date=c.day, run_as_of_ts=at, source=c.source, dataset_dir=c.dataset_dir,
                          allow_missing_injuries=c.allow_missing_injuries, allow_missing_odds=c.allow_missing_odds,
                          injuries_max_age_hours=c.injuries_max_age_hours, odds_max_age_hours=c.odds_max_age_hours,
                          roster_max_age_hours=c.roster_max_age_hours, overrides=self._overrides(at))
        cfg.as_of_from_clock = not c.replayed  # live: the run's instant is taken after its own fetch
        cfg.ingest_memo = self.ingest_memo  # an unchanged polled extract is not ingested again on each refresh
        t0 = _time.perf_counter()
        try:
            result = run_job(cfg, job=JOB, bundle_config=c.bundle_config, lock_timeout=c.lock_timeout,
                             details={"watch": {"inputs": inputs, "trigger": trigger}})
        except RunExistsError as exc:
            if not self._published(cfg.run_id):  # e.g. an extract of this run id stored with other content
                self._failed(at, cfg.run_id, exc, summary)
                return False
            log.warning("watch %s: run %s exists already (%s); taken as served", c.day, cfg.run_id, exc)
            self.served_run, self.served_inputs = cfg.run_id, inputs
            return False
        except (GuardrailError, OSError) as exc:
            self._failed(at, cfg.run_id, exc, summary)
            return False
        except Exception as exc:  # noqa: BLE001 - a bug in one run is an alert; the day goes on
            log.exception("watch %s: run %s failed with a bug", c.day, cfg.run_id)
            self._failed(at, cfg.run_id, exc, summary)
            return False
        summary.refresh_seconds.append(round(_time.perf_counter() - t0, 3))
        summary.latency_seconds.append(round(_time.perf_counter() - (landed or t0), 3))
        self.history_ingested = True
        run_id = result.summary["run_id"]
        previous = self.served_run
        self.served_run, self.served_inputs = run_id, inputs
        summary.runs.append(run_id)
        self.alerts.emit("run_published", at, f"run {run_id} published ({trigger})", run_id=run_id, trigger=trigger,
                         seconds=summary.refresh_seconds[-1])
        if previous is not None:
            self._move_alerts(at, previous, run_id)
        return True

    def _published(self, run_id: str) -> bool:
        """Whether `run_id` is a complete run of the day in every kind (what a run id that exists must be to be
        taken as served)."""
        from foundation.publication import Publication, Roots

        pub = Publication(Roots.default(dataset=self.cfg.dataset), self.cfg.day, self.registry_root)
        return all(pub.is_complete(kind, run_id) for kind in pub.roots.kinds)

    def _failed(self, at: datetime, run_id: str, exc: BaseException, summary: WatchSummary) -> None:
        from foundation.errors import describe

        code, line = describe(exc)
        summary.failed.append(run_id)
        self.alerts.emit("run_failed", at, f"run {run_id} failed (exit {code}): {line}; the served run "
                         f"{self.served_run or '(none)'} stays", run_id=run_id, exit_code=code, error=line)

    def _move_alerts(self, at: datetime, run_a: str, run_b: str) -> None:
        from minutes_live.watch.moves import moves

        try:
            found = moves(self.cfg.day, run_a, run_b, self.cfg.dataset, self.cfg.alert_min_delta)
        except (GuardrailError, OSError) as exc:  # the previous run may be gone (retention): no diff
            log.warning("watch %s: no move alerts between %s and %s: %s", self.cfg.day, run_a, run_b, exc)
            return
        for kind, message, fields in found:
            self.alerts.emit(kind, at, message, **fields)


def catalog_select(dataset: str) -> None:
    from minutes_live.runs import catalog

    catalog.select_dataset(dataset)


def tip_frame(watcher: Watcher) -> pd.DataFrame:
    return pd.DataFrame({"game_id": list(watcher.tips), "tip_ts": list(watcher.tips.values())})
