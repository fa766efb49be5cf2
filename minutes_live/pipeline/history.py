"""History that is computed once: decide, before a dbt build, whether the stored history tables can serve it.

The history models (tag `history`: int_box_scores_deduped, int_player_history, int_team_games,
int_team_history, and int_history_state last) depend only on stored box scores and the schedule states of
played games, never on a run's slate or cutoff. A build rebuilds them only when they are stale; otherwise it
runs the `*_on_history` selection (selectors.yml), which builds what depends on the run on top of them.

Which box scores history is computed from (run parameter `history_as_of`, models/run/run_context.sql):
- `all`: every stored one. Exact for a run at R when nothing stored after R changes a game whose box score
  was published by R (no later box-score copy, no later schedule state of it): rows published after R then
  have available_ts > R >= every cutoff, so no target reads them, and every history aggregate looks back
  only (docs/features.md, "History").
- `run`: those known at R, as a plain `dbt build --vars` does. Used when the check above fails (a replay of
  a past date on a store that also holds a later correction).

History is fresh when int_history_state matches the raw store now: the same cap, the same project version
(a sha256 of the dbt project's files), and the same raw rows (counts and newest ingested_at of the box
scores and of the schedule states of played games; raw tables are append-only). A late box-score
correction adds a row, so the next run rebuilds. Before a build that rebuilds history, the state table is
dropped: a build that fails half-way leaves no state, and the next run rebuilds again.

The check runs against the engine that holds history. On DuckDB it reads the store's int_history_state; on
the Spark targets (minutes_live/pipeline/spark_engine.py) the Spark schema's, through the cluster's Thrift
server or the session target's warehouse (`spark_engine.history_state`), and the state is dropped there before
a rebuild. What it is compared with is the same on both: the raw store, which the Spark raw export copies
row for row (and `history_as_of` is decided from it too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd

from foundation.settings import PROJECT_ROOT
from foundation.store import connected
from minutes_live.pipeline.dbt_runner import BUILD_SELECTORS

log = logging.getLogger(__name__)

STATE_TABLE = "main.int_history_state"
HISTORY_TABLES = ("int_box_scores_deduped", "int_player_history", "int_team_games", "int_team_history",
                  "int_team_standings_history")

@dataclass(frozen=True)
class HistoryPlan:
    history_as_of: str  # all | run
    rebuild: bool
    reason: str
    project_sha: str = ""  # the project version the build records (set by plan())

    def selector(self, kind: str) -> str:
        stale, fresh = BUILD_SELECTORS[kind]
        return stale if self.rebuild else fresh

    def params(self) -> dict:
        return {"history_as_of": self.history_as_of, "project_sha": self.project_sha}


def project_sha(root: Path = PROJECT_ROOT) -> str:
    """The dbt project's version: the gold cache's hash (models, macros, seeds, dbt tests, dbt_project.yml,
    selectors, profile, the runner, dbt and DuckDB versions), so both stores of derived state agree on it."""
    from minutes_live.pipeline.gold_cache import project_sha256

    return project_sha256(root)


def _fingerprint(con: duckdb.DuckDBPyConnection, cap: datetime | None) -> tuple:
    """What int_history_state records for this cap, computed from the raw store now (same definitions)."""
    return con.execute(
        """
        with box_scores as (
            select game_id, ingested_at from raw.box_scores where snapshot_ts <= coalesce(?, snapshot_ts)
        ),
        played_schedules as (
            select ingested_at from raw.schedule
            where snapshot_ts <= coalesce(?, snapshot_ts) and game_id in (select game_id from box_scores)
        )
        select (select count(*) from box_scores), (select max(ingested_at) from box_scores),
               (select count(*) from played_schedules), (select max(ingested_at) from played_schedules)
        """,
        [cap, cap],
    ).fetchone()


def later_changes(con: duckdb.DuckDBPyConnection, run_as_of_ts: datetime) -> int:
    """Rows stored for after `run_as_of_ts` that change a game whose box score was published by then."""
    return con.execute(
        """
        with published as (
            select game_id from raw.box_scores group by game_id having min(snapshot_ts) <= ?
        )
        select (select count(*) from raw.box_scores
                where snapshot_ts > ? and game_id in (select game_id from published))
             + (select count(*) from raw.schedule
                where snapshot_ts > ? and game_id in (select game_id from published))
        """,
        [run_as_of_ts, run_as_of_ts, run_as_of_ts],
    ).fetchone()[0]


def _state(con: duckdb.DuckDBPyConnection) -> dict | None:
    try:
        row = con.execute(
            f"select history_cap_ts, project_sha, box_score_rows, box_scores_max_ingested_at, played_schedule_rows, "
            f"played_schedules_max_ingested_at from {STATE_TABLE}").fetchall()
    except duckdb.CatalogException:
        return None
    if len(row) != 1:
        return None
    cap, sha, *fingerprint = row[0]
    return {"cap": cap, "project_sha": sha, "fingerprint": tuple(fingerprint)}


def _comparable(value):
    """A cap or fingerprint value (an instant or a count) as both engines can give it: instants as UTC ISO text (the Thrift server returns them as
    text in the UTC session zone, DuckDB as datetimes), counts as int."""
    if value is None:
        return None
    if isinstance(value, datetime | str):
        ts = pd.Timestamp(value)
        return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return value


def _stored_history(con: duckdb.DuckDBPyConnection, db_path: Path) -> tuple[dict | None, set[str], str]:
    """(int_history_state as a dict or None, the tables of the schema holding history, the engine's name),
    read from the engine of this process's dbt target."""
    from minutes_live.pipeline import spark_engine

    if spark_engine.is_spark():
        tables, rows = spark_engine.history_state(db_path)
        where = f"the Spark schema {spark_engine.schema()} ({spark_engine.dbt_target()})"
        if len(rows) != 1:
            return None, tables, where
        cap, sha, *fingerprint = rows[0]
        return {"cap": cap, "project_sha": sha, "fingerprint": tuple(fingerprint)}, tables, where
    stored = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
    return _state(con), stored, "the store"


def plan(db_path: Path, run_as_of_ts: datetime | None) -> HistoryPlan:
    """How a build at `run_as_of_ts` (None = gold: every stored row) gets its history, on the engine of this
    process's dbt target; read-only."""
    sha = project_sha()
    return replace(_plan(db_path, run_as_of_ts, sha), project_sha=sha)


def _plan(db_path: Path, run_as_of_ts: datetime | None, sha: str) -> HistoryPlan:
    with connected(db_path, read_only=True) as con:
        try:
            later = 0 if run_as_of_ts is None else later_changes(con, run_as_of_ts)
        except duckdb.CatalogException:  # no raw tables yet: dbt reports what is missing
            return HistoryPlan("all", True, "the store holds no box scores or schedule yet")
        as_of = "run" if later else "all"
        cap = run_as_of_ts if as_of == "run" else None
        from minutes_live.pipeline.spark_engine import SparkTargetError

        try:
            state, stored, where = _stored_history(con, db_path)
        except SparkTargetError as exc:
            return HistoryPlan(as_of, True, f"stored history unknown ({exc})")
        if state is None:
            held = "" if where == "the store" else f" in {where}"
            return HistoryPlan(as_of, True, f"no stored history{held} (first build, or the last one did not finish)")
        missing = [t for t in HISTORY_TABLES if t not in stored]
        if missing:
            return HistoryPlan(as_of, True, f"history table(s) {', '.join(missing)} missing from {where}")
        if state["project_sha"] != sha:
            return HistoryPlan(as_of, True, "the dbt project changed since history was built")
        if _comparable(state["cap"]) != _comparable(cap):
            what = "every stored box score" if cap is None else f"box scores known at {cap.isoformat()}"
            why = f" ({later} stored row(s) after the run change earlier games)" if later else ""
            return HistoryPlan(as_of, True, f"this build needs history from {what}{why}")
        now = _fingerprint(con, cap)
        if tuple(map(_comparable, state["fingerprint"])) != tuple(map(_comparable, now)):
            return HistoryPlan(as_of, True, f"box scores or played games' schedule changed ({now[0]} box-score rows "
                                            f"now, {state['fingerprint'][0]} when history was built)")
    return HistoryPlan(as_of, False, f"stored history is fresh ({now[0]} box-score rows)")


def prepare(db_path: Path, history: HistoryPlan) -> None:
    """Before a build that rebuilds history: drop the state table on the engine that holds it, so an
    unfinished build leaves none."""
    from minutes_live.pipeline import spark_engine

    if not history.rebuild:
        return
    if spark_engine.is_spark():
        spark_engine.drop_history_state(db_path)
        return
    with connected(db_path) as con:
        con.execute(f"drop table if exists {STATE_TABLE}")


def _only_slate_tests_failed(exc: BaseException) -> bool:
    """True when dbt failed only data tests of models that are not history (a slate's checks): the history
    it built stays usable. Anything else (a seed, a model, a hook, a history test, an interruption) is not."""
    from minutes_live.pipeline.dbt_runner import DbtError

    if not isinstance(exc, DbtError) or not exc.failures:
        return False
    return all(f.resource_type == "test" and (f.attached_node or "").rsplit(".", 1)[-1] not in HISTORY_TABLES
               for f in exc.failures)


def build(kind: str, params: dict, *, db_path: Path) -> HistoryPlan:
    """One `dbt build` of `kind` (live | gold | overnight | parity) with run parameters `params` (the keys of
    the dbt vars), on stored history when it is fresh; the overnight build always rebuilds it.
    Raises minutes_live.pipeline.dbt_runner.DbtError as run_dbt does."""
    from minutes_live.pipeline import spark_engine
    from minutes_live.pipeline.dbt_runner import run_dbt

    as_of = params.get("run_as_of_ts")
    on_spark = spark_engine.is_spark()
    if on_spark:
        spark_engine.check_installed()
    history = plan(db_path, datetime.fromisoformat(str(as_of)) if as_of else None)
    if kind == "overnight" and not history.rebuild:
        history = replace(history, rebuild=True, reason="the overnight build rebuilds history")
    log.info("history: %s -> %s (--selector %s)", history.reason,
             "rebuild" if history.rebuild else "reuse", history.selector(kind))
    if on_spark:
        spark_engine.export_raw(db_path)
        spark_engine.clear_exports(db_path)
    prepare(db_path, history)
    try:
        run_dbt(["build", "--selector", history.selector(kind)], params={**params, **history.params()},
                db_path=db_path, quiet=True)
    except BaseException as exc:
        # dbt builds every node it can: a rebuild that failed elsewhere (a seed, say) may still have written
        # int_history_state, and the next build would reuse history built beside the failure
        if history.rebuild and not _only_slate_tests_failed(exc):
            prepare(db_path, history)
        raise
    return history
