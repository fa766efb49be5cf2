"""Gold (training / backtest) features: the same dbt models as live, with cutoff tip_ts - gold_lead_minutes.

`build_gold_features` replays a whole dataset directory into that dataset's store (append-only, idempotent;
`data/<dataset>/minutes_live.duckdb`, foundation.settings), runs one `dbt build` of the gold lineage with the
chosen lead, and reads the mart back: only the named dataset's rows, whatever else was ingested elsewhere.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from foundation import settings
from foundation.store import StoreDataset, connected, ensure_store_usable
from minutes_live import history

GOLD_MART = "features_minutes_v1"
log = logging.getLogger(__name__)


def dataset_end(dataset_dir: Path) -> datetime:
    """An instant after every snapshot of the dataset (its last game day + 2 days)."""
    from snapshots_ingest.dataset import load_dataset

    ds = load_dataset(dataset_dir)
    last = pd.Timestamp(ds.games["tip_ts"].max()).to_pydatetime()
    return (last + pd.Timedelta(days=2)).astimezone(UTC).replace(microsecond=0)


def ingest_backfill(dataset_dir: Path, *, db_path: Path, data_root: Path) -> dict:
    from snapshots_ingest import ingest as ingest_mod

    end = dataset_end(dataset_dir)
    return ingest_mod.ingest_replay(
        Path(dataset_dir), end.date(), end, kinds=None, backfill=True,
        db_path=db_path, data_root=data_root,
    )


def build_gold_features(
    dataset_dir: Path,
    gold_lead_minutes: int,
    db_path: Path | None = None,
    *,
    data_root: Path | None = None,
    seasons: list[str] | None = None,
    ingest: bool = True,
    extra_vars: dict | None = None,
    wait_seconds: float = 0.0,
) -> pd.DataFrame:
    """Replay `dataset_dir`, build the gold mart at `gold_lead_minutes` before tip, return it.

    The store (default: the dataset's own) is checked first (foundation.store.ensure_store_usable, waiting up
    to `wait_seconds` for another holder): busy -> StoreBusyError (exit 12), damaged -> StoreUnusableError,
    holding another dataset -> StoreDatasetMismatchError (exit 13). `seasons` filters the rows returned."""
    if gold_lead_minutes < 0:
        raise ValueError(f"gold_lead_minutes must be >= 0, got {gold_lead_minutes}")
    data_root = Path(data_root or settings.data_root())
    db_path = Path(db_path or settings.store_path_for("replay", dataset_dir, data_root))
    ensure_store_usable(db_path, wait_seconds, dataset=StoreDataset.for_source("replay", dataset_dir))
    t0 = time.perf_counter()
    if ingest:
        ingest_backfill(Path(dataset_dir), db_path=db_path, data_root=data_root)
    t1 = time.perf_counter()
    history.build("gold", {"gold_lead_minutes": int(gold_lead_minutes), **(extra_vars or {})}, db_path=db_path)
    t2 = time.perf_counter()
    with connected(db_path, read_only=True) as con:
        where = ""
        params: list = []
        if seasons:
            where = "where season in (" + ",".join("?" for _ in seasons) + ")"
            params = list(seasons)
        frame = con.execute(f"select * from main.{GOLD_MART} {where} order by game_date, game_id, team_id, player_id", params).df()
    log.info("gold features: %s rows (ingest %.1f s, dbt build %.1f s, read %.1f s)", f"{len(frame):,}", t1 - t0,
             t2 - t1, time.perf_counter() - t2)
    return frame

