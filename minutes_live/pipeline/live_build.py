"""build_minutes_live: ingest what the run needs, one `dbt build`, export an immutable run directory.

    build_minutes_live --date 2022-01-15 --run-as-of-ts 2022-01-15T22:00:00Z --source replay

Steps (each timed into the summary): validate flags -> ingest snapshots (skip what is materialized;
`--*-path` overrides read a given extract) -> schedule guardrails -> `dbt build` of the live lineage with
the run's vars -> read `features_minutes_v1_live` -> coverage + freshness guardrails -> write
`<out-root>/<date>/run=<run_id>/{features.parquet, scenario_features.parquet, ids.csv, summary.json, coverage.csv}`
(scenario_features.parquet: the slate's game-time-decision worlds, `features_minutes_v1_live_scenarios`) -> publish (the
`latest` rule of foundation/publication.py; every attempt is in the registry, foundation/lifecycle.py).
Exit codes are in foundation/guardrails.py (rendered in docs/operations.md).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from foundation import run_directory as rd
from foundation import settings
from foundation.faults import boundary
from foundation.freshness import WARN_AGE_MINUTES
from foundation.guardrails import (
    DatasetInputError,
    DbtBuildError,
    GuardrailError,
    InjuryCoverageError,
    OddsCoverageError,
    RosterCoverageError,
    RunExistsError,
    ScheduleCoverageError,
    SlateStartedError,
)
from foundation.lifecycle import run_attempt
from foundation.publication import Publication, Roots, sha256_file
from foundation.settings import SOURCES
from foundation.store import StoreDataset, connected, latest_row, writer_session
from minutes_live.pipeline import history, provenance, spark_engine
from minutes_live.pipeline.dbt_runner import DbtError
from snapshots_ingest.raw_store import implausible_tips

log = logging.getLogger(__name__)

LIVE_MART = "features_minutes_v1_live"
SCENARIOS_MART = "features_minutes_v1_live_scenarios"
SCENARIO_COLUMNS = {"scenario_id": "int64", "scenario_gtd_player_ids": "object", "scenario_out_player_ids": "object"}
GOLD_MART = "features_minutes_v1"

# Freshness warning thresholds (minutes between run_as_of_ts and the selected snapshot). Older than the
# kind's max age means "not selected" (dbt), which the coverage guardrails then report as missing.


@dataclass
class LiveBuildConfig:
    day: date
    run_as_of_ts: datetime
    source: str = "replay"  # replay | synthetic | live | none (use what is already in the store)
    dataset_dir: Path | None = None
    history_days: int | None = None
    roster_fallback_days: int | None = None
    roster_max_age_hours: float | None = None
    injuries_max_age_hours: float | None = None
    odds_max_age_hours: float | None = None
    allow_missing_injuries: bool = False
    allow_missing_odds: bool = False
    allow_started_slate: bool = False
    replace: bool = False
    out_root: Path | None = None
    data_root: Path | None = None
    db_path: Path | None = None
    path_overrides: dict[str, Path] = field(default_factory=dict)  # kind -> extract file
    as_of_from_clock: bool = False  # run_as_of_ts defaulted to now (live runs then take it after the fetch)
    # live extracts fetched (and the injury PDF parsed) before the store lock: `prefetch_live`
    prefetched: list | None = field(default=None, repr=False)
    # a long-lived caller's memo of the override files already ingested into this store (the watcher's: its
    # polled extracts are content-addressed files): `_ingest_kinds` reuses their summaries instead of
    # ingesting the same bytes again on every refresh
    ingest_memo: dict | None = field(default=None, repr=False)

    @property
    def run_id(self) -> str:
        return rd.run_id_for(self.run_as_of_ts)

    @property
    def dataset(self) -> str:
        """The dataset the run reads (foundation.settings.dataset_name): it names the store and every output
        root of the run (raw extracts, features, scores, reports, registry)."""
        return settings.dataset_name(self.source, self.dataset_dir)

    def dbt_vars(self) -> dict:
        # build_gold false: a live run computes only the target date's rows (the gold mart stays as built)
        out: dict = {"target_date": self.day.isoformat(), "run_as_of_ts": self.run_as_of_ts.isoformat(),
                     "build_gold": False}
        optional = {
            "history_days": self.history_days,
            "roster_fallback_days": self.roster_fallback_days,
            "roster_max_age_hours": self.roster_max_age_hours,
            "injuries_max_age_hours": self.injuries_max_age_hours,
            "odds_max_age_hours": self.odds_max_age_hours,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        out["allow_missing_injuries"] = self.allow_missing_injuries
        out["allow_missing_odds"] = self.allow_missing_odds
        return out


def live_config(
    *,
    date: str | date,
    run_as_of_ts: str | datetime | None = None,
    source: str = "replay",
    dataset_dir: Path | None = None,
    history_days: int | None = None,
    roster_fallback_days: int | None = None,
    roster_max_age_hours: float | None = None,
    injuries_max_age_hours: float | None = None,
    odds_max_age_hours: float | None = None,
    allow_missing_injuries: bool = False,
    allow_missing_odds: bool = False,
    allow_started_slate: bool = False,
    replace: bool = False,
    out_root: Path | None = None,
    data_root: Path | None = None,
    overrides: dict[str, Path | None] | None = None,
) -> LiveBuildConfig:
    """The checked config of one run, from option values (keywords only). Every value is checked before any
    work (foundation/cli_values.py): scalars, then inputs, then output roots; a bad one is InvalidInput (exit 2)."""
    from foundation import cli_values
    from foundation.guardrails import InvalidInput

    day = date if not isinstance(date, str) else cli_values.parse_date(date)
    as_of = run_as_of_ts if isinstance(run_as_of_ts, datetime) else cli_values.parse_ts(run_as_of_ts)
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
    for kind, p in (overrides or {}).items():
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


@dataclass
class LiveBuildResult:
    run_dir: Path | None  # set once the run is published
    summary: dict
    features: pd.DataFrame
    coverage: pd.DataFrame
    # the game-time-decision worlds of the slate (SCENARIOS_MART): the live mart's columns + SCENARIO_COLUMNS
    scenarios: pd.DataFrame | None = None


def slate_schedule(con: duckdb.DuckDBPyConnection, day: date, as_of: datetime) -> pd.DataFrame:
    """The newest schedule row per game of the slate known at `as_of` (for the pre-dbt guardrails)."""
    newest = latest_row("""
        select game_id, source_game_id, tip_ts, home_tricode, away_tricode, game_status
        from raw.schedule
        where game_date = ? and snapshot_ts <= ?""", ["game_id"])
    return con.execute(f"select * from ({newest}) order by tip_ts, game_id", [day, as_of]).df()


def check_schedule(schedule: pd.DataFrame, cfg: LiveBuildConfig) -> list[str]:
    warnings: list[str] = []
    if schedule.empty:
        raise ScheduleCoverageError(
            f"no schedule rows for {cfg.day} known at {cfg.run_as_of_ts.isoformat()}: ingest the schedule "
            "(--source ...) or check the date"
        )
    postponed = schedule[schedule["game_status"] == "postponed"]
    for _, g in postponed.iterrows():
        warnings.append(f"game {g.game_id} ({g.away_tricode}@{g.home_tricode}) is postponed and was left out")
    active = schedule[schedule["game_status"] != "postponed"]
    no_tip = active[active["tip_ts"].isna()]
    if not no_tip.empty:
        g = no_tip.iloc[0]
        raise ScheduleCoverageError(
            f"game {g.game_id} ({g.away_tricode}@{g.home_tricode}) on {cfg.day} has no tip time in the schedule"
        )
    absurd = implausible_tips(active.assign(game_date=cfg.day))  # stored before the ingest refused such rows
    if not absurd.empty:
        g = absurd.iloc[0]
        raise ScheduleCoverageError(
            f"game {g.game_id} ({g.away_tricode}@{g.home_tricode}) on {cfg.day} has tip {g.tip_ts}, outside the "
            "date's US/Eastern day +- 12 h: not a believable tip; ingest a corrected schedule")
    tips = pd.to_datetime(active["tip_ts"], utc=True)
    if len(tips) and (tips <= pd.Timestamp(cfg.run_as_of_ts)).all() and not cfg.allow_started_slate:
        raise SlateStartedError(
            f"run_as_of_ts {cfg.run_as_of_ts.isoformat()} is after every tip of {cfg.day} "
            f"(last tip {tips.max().isoformat()}); pass --allow-started-slate for a deliberate after-the-fact build"
        )
    started = active[tips <= pd.Timestamp(cfg.run_as_of_ts)]
    if len(started) and len(started) < len(active):
        warnings.append(f"{len(started)} of {len(active)} games had tipped at run_as_of_ts; their cutoff is their tip")
    return warnings


def read_mart(db_path: Path, mart: str, where: str = "", params: list | None = None) -> pd.DataFrame:
    """A mart as the last build of this process's dbt target left it: the store's table, or on Spark the
    parquet export its post-hook wrote (minutes_live/pipeline/spark_engine.py), read the same way (DuckDB, UTC)."""
    with connected(db_path, read_only=True) as con:
        return con.execute(f"select * from {spark_engine.mart_relation(db_path, mart)} {where}", params or []).df()


def store_path(cfg: LiveBuildConfig) -> Path:
    """The store a build reads and writes: `cfg.db_path`, else the store of the dataset it reads."""
    return Path(cfg.db_path or settings.store_path_for(cfg.source, cfg.dataset_dir, cfg.data_root))


def store_session(cfg: LiveBuildConfig, *, lock_timeout: float, what: str):
    """The one writer session of a run's store (foundation.store.writer_session): the data root's lock, then
    the store checked (busy -> 12, damaged / another dataset -> 13). `--source live` fetches and parses first,
    before the lock is taken (prefetch_live: a slow or hostile upstream never holds the store)."""
    prefetch_live(cfg)
    return writer_session(store_path(cfg), data_root=Path(cfg.data_root or settings.data_root()),
                          dataset=StoreDataset.for_source(cfg.source, cfg.dataset_dir),
                          lock_timeout=lock_timeout, what=what)


def game_coverage(features: pd.DataFrame, run_as_of_ts: datetime) -> pd.DataFrame:
    """Per game: injury/odds/roster coverage and freshness, plus per-team roster counts."""
    as_of = pd.Timestamp(run_as_of_ts)
    # only the columns read below: slicing the ~90-column mart per game cost a tenth of a second per run
    features = features[["game_id", "tip_ts", "home_flag", "team_tricode", "injury_as_of_ts", "odds_as_of_ts",
                         "roster_as_of_ts", "status", "roster_game_date_source"]]
    # A report lists only players with a status: a game whose teams have nobody on it is covered by the
    # slate's report (the newest report stamp seen for any game of the slate, if before this game's cutoff).
    slate_report_ts = features["injury_as_of_ts"].max()
    rows = []
    for game_id, g in features.groupby("game_id", sort=True):
        tip = g["tip_ts"].iloc[0]
        rec: dict = {
            "game_id": int(game_id),
            "matchup": f"{g.loc[g.home_flag == 0, 'team_tricode'].iloc[0] if (g.home_flag == 0).any() else '?'}"
            f"@{g.loc[g.home_flag == 1, 'team_tricode'].iloc[0] if (g.home_flag == 1).any() else '?'}",
            "tip_ts": tip,
        }
        rec["injuries_listed_players"] = int(g["injury_as_of_ts"].notna().sum())
        for kind, col in (("injuries", "injury_as_of_ts"), ("odds", "odds_as_of_ts"), ("roster", "roster_as_of_ts")):
            latest = g[col].max()
            if kind == "injuries" and pd.isna(latest) and pd.notna(slate_report_ts) and slate_report_ts <= min(as_of, tip):
                latest = slate_report_ts
            rec[f"{kind}_covered"] = bool(pd.notna(latest))
            rec[f"{kind}_snapshot_ts"] = latest
            if pd.notna(latest):
                rec[f"{kind}_as_of_age_minutes"] = round((as_of - latest).total_seconds() / 60.0, 2)
                rec[f"{kind}_snapshot_to_tip_minutes"] = round((tip - latest).total_seconds() / 60.0, 2)
            else:
                rec[f"{kind}_as_of_age_minutes"] = None
                rec[f"{kind}_snapshot_to_tip_minutes"] = None
        for flag, team in ((1, "home"), (0, "away")):
            t = g[g.home_flag == flag]
            rec[f"{team}_roster_players"] = int(len(t))
            rec[f"{team}_not_out_players"] = int((t["status"] != "OUT").sum())
        rec["roster_game_date_source"] = ",".join(sorted(g["roster_game_date_source"].dropna().unique()))
        rows.append(rec)
    return pd.DataFrame(rows)


def check_coverage(coverage: pd.DataFrame, cfg: LiveBuildConfig) -> list[str]:
    warnings: list[str] = []
    for kind, allowed, err in (
        ("injuries", cfg.allow_missing_injuries, InjuryCoverageError),
        ("odds", cfg.allow_missing_odds, OddsCoverageError),
    ):
        missing = coverage[~coverage[f"{kind}_covered"]]
        if missing.empty:
            continue
        names = ", ".join(f"{r.game_id} ({r.matchup})" for r in missing.itertuples())
        if not allowed:
            raise err(f"no qualifying {kind} snapshot for {len(missing)} game(s) on {cfg.day}: {names}")
        warnings.append(f"ran without {kind} for {len(missing)} game(s): {names}")
    for kind, limit in WARN_AGE_MINUTES.items():
        stale = coverage[coverage[f"{kind}_as_of_age_minutes"].fillna(0) > limit]
        for r in stale.itertuples():
            warnings.append(f"{kind} snapshot for game {r.game_id} is {getattr(r, f'{kind}_as_of_age_minutes'):.0f} min old")
    return warnings


def summarize(cfg: LiveBuildConfig, features: pd.DataFrame, coverage: pd.DataFrame, warnings: list[str],
              durations: dict[str, float], mode: str = "live") -> dict:
    as_of = pd.Timestamp(cfg.run_as_of_ts)

    def kind_age(col: str) -> dict | None:
        latest = features[col].max() if len(features) else pd.NaT
        if pd.isna(latest):
            return None
        return {"latest_ts": latest.isoformat(), "age_minutes": round((as_of - latest).total_seconds() / 60, 2)}

    sources = sorted(features["roster_game_date_source"].dropna().unique()) if len(features) else []
    fallback = [s for s in sources if s != "target_date"]
    # the oldest selected roster is the staleness that matters (fallback teams), the newest is reported too
    roster_oldest = features["roster_as_of_ts"].min() if len(features) else pd.NaT
    roster_newest = features["roster_as_of_ts"].max() if len(features) else pd.NaT
    return {
        "date": cfg.day.isoformat(),
        "run_as_of_ts": cfg.run_as_of_ts.isoformat(),
        "run_id": cfg.run_id,
        "mode": mode,
        "source": cfg.source,
        "dataset": cfg.dataset,
        "dbt_target": spark_engine.dbt_target(),  # embedded (DuckDB) | spark | spark_cluster
        "rows": int(len(features)),
        "games": sorted(int(g) for g in features["game_id"].unique()) if len(features) else [],
        "teams": int(features["team_id"].nunique()) if len(features) else 0,
        "roster": {
            # the oldest roster date used (per team the newest available within the fallback window)
            "source_date": min(f.split(":", 1)[1] for f in fallback) if fallback else cfg.day.isoformat(),
            "roster_game_date_source": sources,
            "snapshot_ts": None if pd.isna(roster_oldest) else roster_oldest.isoformat(),
            "snapshot_age_minutes": None if pd.isna(roster_oldest) else round((as_of - roster_oldest).total_seconds() / 60, 2),
            "newest_snapshot_ts": None if pd.isna(roster_newest) else roster_newest.isoformat(),
        },
        "snapshots": {
            "injuries": kind_age("injury_as_of_ts"),
            "odds": kind_age("odds_as_of_ts"),
            "roster": kind_age("roster_as_of_ts"),
        },
        "fallbacks": {
            "roster_fallback": bool(fallback),
            "games_without_injuries": coverage.loc[~coverage["injuries_covered"], "game_id"].tolist() if len(coverage) else [],
            "games_without_odds": coverage.loc[~coverage["odds_covered"], "game_id"].tolist() if len(coverage) else [],
        },
        "status_counts": features["status"].value_counts().to_dict() if len(features) else {},
        "vars": cfg.dbt_vars(),
        "durations_seconds": {k: round(v, 2) for k, v in durations.items()},
        "warnings": warnings,
    }


def ingest_snapshots(cfg: LiveBuildConfig, db_path: Path, data_root: Path) -> dict:
    """Ingest the run's snapshots; ingest/dataset failures become DatasetInputError (exit 13)."""
    from snapshots_ingest import ingest as ingest_mod
    from snapshots_ingest.dataset import DatasetError

    try:
        return _ingest_kinds(cfg, db_path, data_root, ingest_mod)
    except ingest_mod.ExtractConflictError as exc:
        raise RunExistsError(str(exc)) from None
    except (DatasetError, ingest_mod.IngestError) as exc:
        raise DatasetInputError(str(exc).replace("\n", " ")) from None


def ingest_warnings(results: dict) -> list[str]:
    """Input problems the run allowed (e.g. an injury report not covering the slate with
    --allow-missing-injuries), from the per-kind ingest summaries: they go into summary.json `warnings`."""
    return [w for ks in results.values() for w in getattr(ks, "warnings", [])]


def live_kinds(cfg: LiveBuildConfig) -> list[str]:
    return [k for k in ("schedule", "roster", "injuries", "odds", "box_scores") if k not in cfg.path_overrides]


def prefetch_live(cfg: LiveBuildConfig) -> None:
    """For `--source live`: fetch every kind now (HTTP deadline and body cap; the injury PDF parsed in its
    limited child process), before the caller takes the store lock; `compute_live` then ingests these
    extracts instead of fetching under the lock. A source failure is exit 13 here, before any lock or store."""
    from snapshots_ingest import ingest as ingest_mod

    if cfg.source != "live" or not live_kinds(cfg) or cfg.prefetched is not None:
        return
    try:
        cfg.prefetched = ingest_mod.fetch_live(cfg.day, cfg.run_as_of_ts, live_kinds(cfg))
    except ingest_mod.IngestError as exc:
        raise DatasetInputError(str(exc).replace("\n", " ")) from None


def _ingest_kinds(cfg: LiveBuildConfig, db_path: Path, data_root: Path, ingest_mod) -> dict:
    results: dict = {}
    allow = tuple(k for k, ok in (("injuries", cfg.allow_missing_injuries), ("odds", cfg.allow_missing_odds)) if ok)
    memo = cfg.ingest_memo
    for kind, path in cfg.path_overrides.items():
        key = (kind, str(Path(path).resolve()), str(Path(db_path).resolve()), cfg.day, allow)
        if memo is not None and key in memo:
            results[kind] = memo[key].reused()
            continue
        results[kind] = ingest_mod.ingest_file(kind, Path(path), cfg.day, cfg.run_as_of_ts, db_path=db_path,
                                               data_root=data_root, allow_missing=allow, dataset=cfg.dataset)
        if memo is not None:
            memo[key] = results[kind]
    kinds = live_kinds(cfg)
    if cfg.source == "none" or not kinds:
        return results
    if cfg.source == "live":
        results.update(ingest_mod.ingest_live(cfg.day, cfg.run_as_of_ts, kinds, db_path=db_path, data_root=data_root,
                                              allow_missing=allow, extracts=cfg.prefetched))
    else:
        results.update(
            ingest_mod.ingest_replay(
                cfg.dataset_dir,
                cfg.day,
                cfg.run_as_of_ts,
                kinds=kinds,
                **({"history_days": cfg.history_days} if cfg.history_days is not None else {}),
                db_path=db_path,
                data_root=data_root,
                allow_missing=allow,
            )
        )
    return results


# dbt data tests that enforce a guardrail inside the build, by test name (a singular test's name or a
# generic test's macro name, from minutes_live.pipeline.dbt_runner's DbtNodeFailure), and the exit they map to
DBT_TEST_GUARDRAILS = (
    ("assert_live_slate_has_injury_report", InjuryCoverageError,
     "no qualifying injury report for any game of {day} (pass --allow-missing-injuries to run without)"),
    ("assert_live_slate_has_odds", OddsCoverageError,
     "no qualifying odds quote for any game of {day} (pass --allow-missing-odds to run without)"),
    ("min_available_per_team", RosterCoverageError,
     "a team of {day} has fewer not-OUT roster players than min_active_roster"),
)


def dbt_failure_to_guardrail(exc: DbtError, cfg: LiveBuildConfig | None = None, *, day: date | None = None) -> GuardrailError:
    """The guardrail a failed dbt invocation means, with a one-line message naming the failing node.

    A failed guardrail test (DBT_TEST_GUARDRAILS, matched on the structured test name) maps to its exit
    code; any other failed model or test, or an error before any node ran (e.g. an invalid var), is
    DbtBuildError (exit 10)."""
    day = day or (cfg.day if cfg is not None else None)
    guardrails = {name: (err, message) for name, err, message in DBT_TEST_GUARDRAILS}
    failures = exc.failures
    others = len(failures) - 1
    more = f" (+{others} more failed dbt node(s))" if others > 0 else ""
    for f in failures:
        if f.resource_type == "test" and f.status == "fail" and f.test_name in guardrails:
            err, message = guardrails[f.test_name]
            return err(f"dbt {f.describe()} failed: {message.format(day=day)}; dbt: {f.message}{more}")
    # a model error explains the tests it skipped: name it first
    for f in sorted(failures, key=lambda f: f.resource_type != "model"):
        return DbtBuildError(f"dbt {f.describe()} failed: {f.message}{more}")
    return DbtBuildError(str(exc))


def compute_live(cfg: LiveBuildConfig, *, db_path: Path, data_root: Path) -> LiveBuildResult:
    """Ingest, check the schedule, `dbt build` the live lineage and read the mart: everything a run
    needs except writing it. The caller stages and publishes (`build_live`, or the job)."""
    durations: dict[str, float] = {}
    t0 = time.perf_counter()
    ingested = ingest_snapshots(cfg, db_path, data_root)
    durations["ingest"] = time.perf_counter() - t0
    if cfg.source == "live" and cfg.as_of_from_clock:
        # "now" means "everything this run fetched": live rows without a publication time are stamped
        # with their fetch time, seconds after the run started, so the run's instant is taken after the fetch
        cfg.run_as_of_ts = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    boundary("after_ingest")

    t0 = time.perf_counter()
    with connected(db_path, read_only=True) as con:
        try:
            schedule = slate_schedule(con, cfg.day, cfg.run_as_of_ts)
        except duckdb.CatalogException:
            raise ScheduleCoverageError(
                f"no schedule rows for {cfg.day}: the store {db_path} holds no snapshots yet; ingest the schedule "
                "(--source replay|synthetic|live, or --schedule-path) or check --dataset-dir"
            ) from None
    warnings = ingest_warnings(ingested) + check_schedule(schedule, cfg)
    durations["schedule_checks"] = time.perf_counter() - t0
    first_tip = pd.to_datetime(schedule["tip_ts"], utc=True).min()
    log.info("schedule %s: %d game(s), first tip %s, run_as_of_ts %s", cfg.day, len(schedule),
             first_tip.isoformat() if pd.notna(first_tip) else "unknown", cfg.run_as_of_ts.isoformat())

    t0 = time.perf_counter()
    try:
        history.build("live", cfg.dbt_vars(), db_path=db_path)
    except DbtError as exc:
        raise dbt_failure_to_guardrail(exc, cfg) from None
    durations["dbt_build"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    features = read_mart(db_path, LIVE_MART, "order by game_id, team_id, player_id")
    if features.empty:
        raise RosterCoverageError(
            f"the live mart has no rows for {cfg.day}: no roster snapshot for the slate's teams within "
            f"roster_max_age_hours (and roster_fallback_days); ingest rosters or widen --roster-fallback-days"
        )
    missing_games = sorted(set(schedule.loc[schedule.game_status != "postponed", "game_id"]) - set(features["game_id"]))
    if missing_games:
        raise RosterCoverageError(f"no roster rows for game(s) {missing_games} on {cfg.day} at {cfg.run_as_of_ts.isoformat()}")
    coverage = game_coverage(features, cfg.run_as_of_ts)
    warnings += check_coverage(coverage, cfg)
    durations["coverage_checks"] = time.perf_counter() - t0
    log.info("features %s: %d rows, %d games, %d warning(s)", cfg.day, len(features), features["game_id"].nunique(),
             len(warnings))
    scenarios = read_scenarios(db_path, features)
    summary = summarize(cfg, features, coverage, warnings, durations)
    summary["scenario_rows"] = int(len(scenarios))
    summary["code_version"] = provenance.code_version()
    summary["inputs"] = provenance.recorded_inputs(db_path, features, coverage)
    boundary("after_dbt")
    return LiveBuildResult(None, summary, features, coverage, scenarios)


def read_scenarios(db_path: Path, features: pd.DataFrame) -> pd.DataFrame:
    """The slate's game-time-decision worlds (SCENARIOS_MART, built by the same live selection). A Spark
    export of an empty mart may hold no parquet file: then an empty frame with the live mart's columns and
    the scenario columns."""
    try:
        return read_mart(db_path, SCENARIOS_MART, "order by scenario_id, game_id, team_id, player_id")
    except spark_engine.SparkTargetError:
        if not spark_engine.is_spark():
            raise
        empty = features.iloc[0:0].copy()
        for name, dtype in SCENARIO_COLUMNS.items():
            empty[name] = pd.Series(dtype=dtype)
        return empty


def write_features_run(directory: Path, result: LiveBuildResult) -> Path:
    """features.parquet, scenario_features.parquet, ids.csv, coverage.csv and summary.json (with the parquet's
    sha256, which a score run of the same id records too) into a staged run directory."""
    t0 = time.perf_counter()
    result.features.to_parquet(directory / "features.parquet", index=False)
    scenarios = result.scenarios
    if scenarios is None:  # a result built without the worlds: an empty file with the right columns
        scenarios = result.features.iloc[0:0].copy()
        for name, dtype in SCENARIO_COLUMNS.items():
            scenarios[name] = pd.Series(dtype=dtype)
    scenarios.to_parquet(directory / "scenario_features.parquet", index=False)
    result.features[["game_id", "player_id", "team_id"]].to_csv(directory / "ids.csv", index=False)
    result.coverage.to_csv(directory / "coverage.csv", index=False)
    summary = result.summary
    summary["features_sha256"] = sha256_file(directory / "features.parquet")
    summary["scenario_rows"] = int(len(scenarios))
    summary["durations_seconds"]["export"] = round(time.perf_counter() - t0, 2)
    (directory / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return directory


def build_features(run, cfg: LiveBuildConfig, session) -> tuple[LiveBuildResult, Path]:
    """The one "build features" step of every writer (build_minutes_live and the job): ingest what the run
    needs, dbt, read the marts, stage the features run directory. Returns the result and the staged folder."""
    result = compute_live(cfg, db_path=session.db_path, data_root=session.data_root)
    if run.run_id != cfg.run_id:  # a live "now" run takes its instant after the fetch
        run.retarget(cfg.run_as_of_ts)
    staged = write_features_run(run.stage("features"), result)
    boundary("after_features")
    return result, staged


def build_live(cfg: LiveBuildConfig, *, job: str = "build", lock_timeout: float = 600.0) -> LiveBuildResult:
    """build_minutes_live: compute the features of (date, run_as_of_ts), write the run and publish it
    under the `latest` rule (foundation.publication). One registry attempt (foundation.lifecycle)."""
    data_root = Path(cfg.data_root or settings.data_root())
    pub = Publication(Roots.default(features=cfg.out_root, dataset=cfg.dataset), cfg.day,
                      settings.registry_root(cfg.dataset, data_root))
    with run_attempt(pub, job=job, run_as_of_ts=cfg.run_as_of_ts, kinds=("features",), replace=cfg.replace,
                     source=cfg.source, dataset=cfg.dataset) as run:
        with store_session(cfg, lock_timeout=lock_timeout, what=f"{job} {cfg.day}") as session:
            result, _ = build_features(run, cfg, session)
            outcome = run.publish()
        result.run_dir = pub.run_dir("features", run.run_id)
        result.summary["publication"] = outcome.describe(cfg.day)
        run.details.update(paths={"features": str(result.run_dir)}, rows=result.summary["rows"],
                           warnings=result.summary["warnings"])
    return result
