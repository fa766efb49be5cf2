"""Gold (training / backtest) features: the same dbt models as live, with cutoff tip_ts - gold_lead_minutes.

`build_gold_features` replays a whole dataset directory into that dataset's store (append-only, idempotent;
`data/<dataset>/minutes_live.duckdb`, foundation.settings), runs one `dbt build` of the gold lineage with the
chosen lead, and reads the mart back: only the named dataset's rows, whatever else was ingested elsewhere.
Both steps are skipped when nothing they read changed: the backfill when the dataset directory matches the
fingerprint recorded after the last backfill (snapshots_ingest.backfill_state), the dbt build when a mart of
the same lead was built from the same raw rows and project files (minutes_live.pipeline.gold_cache).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.store import StoreDataset, connected, ensure_store_usable
from minutes_live.pipeline import gold_cache, history, spark_engine

GOLD_MART = "features_minutes_v1"
GOLD_ORDER = "game_date, game_id, team_id, player_id"
log = logging.getLogger(__name__)


@dataclass
class GoldFeatures:
    """The gold frame and what it took: per stage, seconds and whether it ran or was skipped / reused."""

    frame: pd.DataFrame
    stages: dict[str, dict] = field(default_factory=dict)  # ingest | dbt | read -> {seconds, action, reason}


def dataset_end(dataset_dir: Path) -> datetime:
    """An instant after every snapshot of the dataset (its last game day + 2 days)."""
    from snapshots_ingest.dataset import load_dataset

    ds = load_dataset(dataset_dir)
    last = pd.Timestamp(ds.games["tip_ts"].max()).to_pydatetime()
    return (last + pd.Timedelta(days=2)).astimezone(UTC).replace(microsecond=0)


def ingest_backfill(dataset_dir: Path, *, db_path: Path, data_root: Path, run_as_of_ts: datetime | None = None):
    """Replay every snapshot of the dataset into the store as of `run_as_of_ts` (default: `dataset_end`)."""
    from snapshots_ingest import ingest as ingest_mod

    end = run_as_of_ts or dataset_end(dataset_dir)
    return ingest_mod.ingest_replay(
        Path(dataset_dir), end.date(), end, kinds=None, backfill=True,
        db_path=db_path, data_root=data_root,
    )


def record_cli_backfill(dataset_dir: Path, source: str, *, db_path: Path, run_as_of_ts: datetime, run_id: str,
                        rows_inserted: int) -> str:
    """After `minutes-live ingest --backfill` of every kind: record the dataset's fingerprint (as
    `backfill_unless_current` does) when the backfill's instant is at or after the dataset's end, so it holds
    every snapshot and `train` / `backtest` reuse it instead of backfilling again. Returns a one-line note."""
    from snapshots_ingest import backfill_state

    dataset = StoreDataset.for_source(source, dataset_dir).name
    end = dataset_end(Path(dataset_dir))
    if run_as_of_ts < end:
        return (f"backfill as of {run_as_of_ts.isoformat()} stops before the end of dataset '{dataset}' "
                f"({end.isoformat()}): not recorded as complete, so train / backtest will backfill it again; backfill "
                f"as of {end.isoformat()} or later to have it reused")
    fp = backfill_state.fingerprint(Path(dataset_dir))
    with connected(db_path) as con:
        backfill_state.record(con, dataset, fp, run_id=run_id, run_as_of_ts=run_as_of_ts, rows_inserted=rows_inserted)
    return (f"backfill of dataset '{dataset}' recorded ({len(fp.files)} files, fingerprint {fp.digest[:12]}): "
            "train / backtest reuse it")


def backfill_unless_current(dataset_dir: Path, *, db_path: Path, data_root: Path, force: bool = False) -> dict:
    """`ingest_backfill` unless the store already holds this dataset directory's backfill (module docstring);
    records the fingerprint after a successful backfill. Returns {action: ingested | skipped, reason}."""
    from snapshots_ingest import backfill_state

    dataset = StoreDataset.for_source("replay", dataset_dir).name
    fp = backfill_state.fingerprint(Path(dataset_dir))
    with connected(db_path) as con:
        recorded = backfill_state.last_backfill(con, dataset)
    check = backfill_state.compare(dataset, recorded, fp)
    if check.current and not force:
        log.info("backfill ingest skipped: %s", check.reason)
        return {"action": "skipped", "reason": check.reason}
    reason = f"asked to rebuild ({check.reason})" if check.current else check.reason
    at = backfill_state.backfill_instant(recorded, fp, dataset_end(Path(dataset_dir)))
    log.info("backfill ingest of %s as of %s: %s", dataset_dir, at.isoformat(), reason)
    summary = ingest_backfill(Path(dataset_dir), db_path=db_path, data_root=data_root, run_as_of_ts=at)
    with connected(db_path) as con:
        backfill_state.record(con, dataset, fp, run_id=summary.run_id, run_as_of_ts=at,
                              rows_inserted=summary.rows_inserted)
    return {"action": "ingested", "reason": reason, "rows_inserted": summary.rows_inserted, "run_id": summary.run_id}


def gold_features(
    dataset_dir: Path,
    gold_lead_minutes: int,
    db_path: Path | None = None,
    *,
    data_root: Path | None = None,
    seasons: list[str] | None = None,
    ingest: bool = True,
    extra_vars: dict | None = None,
    wait_seconds: float = 0.0,
    reuse: bool = True,
) -> GoldFeatures:
    """Replay `dataset_dir`, build the gold mart at `gold_lead_minutes` before tip, return it with stage times.

    The store (default: the dataset's own) is checked first (foundation.store.ensure_store_usable, waiting up
    to `wait_seconds` for another holder): busy -> StoreBusyError (exit 12), damaged -> StoreUnusableError,
    holding another dataset -> StoreDatasetMismatchError (exit 13). `seasons` filters the rows returned.
    `reuse=False` backfills and runs dbt even when nothing they read changed."""
    if gold_lead_minutes < 0:
        raise ValueError(f"gold_lead_minutes must be >= 0, got {gold_lead_minutes}")
    data_root = Path(data_root or settings.data_root())
    db_path = Path(db_path or settings.store_path_for("replay", dataset_dir, data_root))
    ensure_store_usable(db_path, wait_seconds, dataset=StoreDataset.for_source("replay", dataset_dir))
    stages: dict[str, dict] = {}
    t0 = time.perf_counter()
    if ingest:
        stages["ingest"] = backfill_unless_current(Path(dataset_dir), db_path=db_path, data_root=data_root,
                                                   force=not reuse)
    else:
        stages["ingest"] = {"action": "not asked"}
    t1 = time.perf_counter()
    stages["ingest"]["seconds"] = round(t1 - t0, 2)
    dbt_vars = {"gold_lead_minutes": int(gold_lead_minutes), **(extra_vars or {})}
    # the key is read before dbt runs: rows ingested meanwhile make the next key differ (a rebuild, never a stale hit)
    # a mart built on another dbt target is another cache entry
    key_vars = dbt_vars if not spark_engine.is_spark() else {**dbt_vars, "dbt_target": spark_engine.dbt_target()}
    with connected(db_path, read_only=True) as con:
        key = gold_cache.GoldKey(GOLD_MART, int(gold_lead_minutes), key_vars, gold_cache.raw_state(con),
                                 gold_cache.project_sha256())
    cached = gold_cache.lookup(db_path, key) if reuse else None
    if cached is not None:
        reason = f"built before from the same raw rows, dbt project and vars (key {key.digest})"
        log.info("dbt build skipped: gold mart for lead %d reused from %s: %s", gold_lead_minutes, cached, reason)
        stages["dbt"] = {"action": "reused", "reason": reason, "path": str(cached)}
    else:
        reason = "asked to rebuild" if not reuse else f"no mart built from these raw rows, dbt project and vars yet (key {key.digest})"
        history.build("gold", dbt_vars, db_path=db_path)
        with connected(db_path, read_only=True) as con:
            cached = gold_cache.save(con, db_path, key, GOLD_ORDER, spark_engine.mart_relation(db_path, GOLD_MART))
        stages["dbt"] = {"action": "built", "reason": reason, "path": str(cached)}
    t2 = time.perf_counter()
    stages["dbt"]["seconds"] = round(t2 - t1, 2)
    frame = gold_cache.read(cached, GOLD_ORDER, seasons)
    stages["read"] = {"seconds": round(time.perf_counter() - t2, 2), "rows": len(frame)}
    log.info("gold features: %s rows (ingest %s %.1f s, dbt build %s %.1f s, read %.1f s)", f"{len(frame):,}",
             stages["ingest"]["action"], stages["ingest"]["seconds"], stages["dbt"]["action"], stages["dbt"]["seconds"],
             stages["read"]["seconds"])
    return GoldFeatures(frame, stages)


def build_gold_features(dataset_dir: Path, gold_lead_minutes: int, db_path: Path | None = None, **kwargs) -> pd.DataFrame:
    """The gold frame of `gold_features` (same arguments)."""
    return gold_features(dataset_dir, gold_lead_minutes, db_path, **kwargs).frame

