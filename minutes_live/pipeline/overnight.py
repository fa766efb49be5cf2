"""The overnight job: ingest yesterday's box scores (label freeze), rebuild history and gold, the live-gold
parity check for yesterday, and the next-day validation appended to the drift log. One registry attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from foundation import registry, settings
from foundation import run_directory as rd
from foundation.errors import describe
from minutes_live.pipeline import history
from minutes_live.pipeline.dbt_runner import DbtError
from minutes_live.pipeline.job import next_day_validation
from minutes_live.pipeline.live_build import (
    dbt_failure_to_guardrail,
    ingest_snapshots,
    live_config,
    store_session,
)
from minutes_live.pipeline.live_gold_parity import ParityResult, run_parity


@dataclass
class OvernightResult:
    day: date
    parity: ParityResult
    drift: dict | None


def run_overnight(day: date, as_of: datetime, *, source: str = "live", dataset_dir=None,
                  lock_timeout: float = 600.0) -> OvernightResult:
    cfg = live_config(date=day, run_as_of_ts=as_of, source=source, dataset_dir=dataset_dir,
                      allow_missing_injuries=True, allow_missing_odds=True, allow_started_slate=True)
    registry_root = settings.registry_root(cfg.dataset, settings.data_root())  # the dataset's registry and drift log
    attempt = registry.Attempt(registry_root, "overnight", day.isoformat(), rd.run_id_for(as_of),
                               as_of.isoformat()).start(dataset=cfg.dataset)
    try:
        with store_session(cfg, lock_timeout=lock_timeout, what=f"overnight {day}") as session:
            ingest_snapshots(cfg, session.db_path, session.data_root)
            try:
                history.build("overnight", {}, db_path=session.db_path)
            except DbtError as exc:
                raise dbt_failure_to_guardrail(exc, cfg) from None
            parity = run_parity(day, as_of, db_path=session.db_path, out_root=settings.features_root(cfg.dataset))
            drift = next_day_validation(day, db_path=session.db_path, data_root=registry_root, dataset=cfg.dataset)
    except BaseException as exc:
        code, line = describe(exc)
        attempt.finish("failed", exit_code=code, error=line)
        raise
    attempt.finish("succeeded", parity_report=str(parity.report_dir), drift=drift)
    return OvernightResult(day, parity, drift)
