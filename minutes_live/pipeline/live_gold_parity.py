"""Parity: the live path rebuilt for a past date must equal the gold rows of that date.

A live build with `run_as_of_ts` after the slate's last tip uses cutoff = tip for every game, which is
exactly the gold cutoff with `gold_lead_minutes = 0`. Both marts are built in one `dbt build`, then
compared row by row on (game_id, player_id, team_id) and column by column, ignoring the columns below.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from foundation import run_directory as rd
from foundation.guardrails import DbtBuildError, ParityError
from minutes_live.pipeline import history
from minutes_live.pipeline.dbt_runner import DbtError
from minutes_live.pipeline.live_build import GOLD_MART, LIVE_MART, read_mart

KEYS = ["game_id", "player_id", "team_id"]

# Columns expected to differ between a live row and the gold row of the same player-game:
#  - minutes: the label; NULL in live rows by construction.
#  - roster_game_date_source, label_source: provenance (roster stub in live, box score in gold).
PARITY_IGNORED_COLUMNS = ("minutes", "roster_game_date_source", "label_source")


@dataclass
class ParityResult:
    ok: bool
    live_rows: int
    gold_rows: int
    only_live: pd.DataFrame
    only_gold: pd.DataFrame
    column_diffs: pd.DataFrame  # column, rows_differing, example key
    report_dir: Path


def values_equal(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Elementwise equality where NULL == NULL; floats compare within 1e-9, everything else exactly
    (also the engine parity of minutes_live/pipeline/engine_parity.py)."""
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        av = pd.to_numeric(a, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        bv = pd.to_numeric(b, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        same = np.isclose(av, bv, rtol=0, atol=1e-9, equal_nan=False)
    else:
        av = a.astype(object).to_numpy()
        bv = b.astype(object).to_numpy()
        same = np.array([(not an and not bn) and x == y for x, y, an, bn in zip(av, bv, a_na, b_na, strict=True)], dtype=bool)
    return (a_na & b_na) | (same & ~a_na & ~b_na)


def compare(live: pd.DataFrame, gold: pd.DataFrame, ignore: tuple[str, ...] = PARITY_IGNORED_COLUMNS):
    merged = live.merge(gold, on=KEYS, how="outer", suffixes=("_live", "_gold"), indicator=True)
    only_live = merged.loc[merged["_merge"] == "left_only", KEYS]
    only_gold = merged.loc[merged["_merge"] == "right_only", KEYS]
    both = merged[merged["_merge"] == "both"]
    diffs = []
    for col in live.columns:
        if col in KEYS or col in ignore or col not in gold.columns:
            continue
        eq = values_equal(both[f"{col}_live"].reset_index(drop=True), both[f"{col}_gold"].reset_index(drop=True))
        n = int((~eq).sum())
        if n:
            first = both.iloc[int(np.argmax(~eq))]
            diffs.append(
                {
                    "column": col,
                    "rows_differing": n,
                    "example_key": f"game {first.game_id} player {first.player_id} team {first.team_id}",
                    "example_live": str(first[f"{col}_live"]),
                    "example_gold": str(first[f"{col}_gold"]),
                }
            )
    return only_live, only_gold, pd.DataFrame(diffs, columns=["column", "rows_differing", "example_key", "example_live", "example_gold"])


def run_parity(day: date, run_as_of_ts: datetime, *, db_path: Path, out_root: Path, extra_vars: dict | None = None) -> ParityResult:
    t0 = time.perf_counter()
    vars_ = {"target_date": day.isoformat(), "run_as_of_ts": run_as_of_ts.isoformat(), "gold_lead_minutes": 0,
             "build_gold": True, **(extra_vars or {})}
    try:
        history.build("parity", vars_, db_path=db_path)
    except DbtError as exc:
        raise DbtBuildError(str(exc)) from None
    live = read_mart(db_path, LIVE_MART)
    gold = read_mart(db_path, GOLD_MART, "where game_date = ?", [day])
    only_live, only_gold, diffs = compare(live, gold)
    ok = only_live.empty and only_gold.empty and diffs.empty and len(live) > 0
    report_dir = Path(out_root) / day.isoformat() / "parity" / f"run={rd.run_id_for(run_as_of_ts)}"
    report_dir.mkdir(parents=True, exist_ok=True)
    diffs.to_csv(report_dir / "column_diffs.csv", index=False)
    pd.concat([only_live.assign(side="live_only"), only_gold.assign(side="gold_only")]).to_csv(
        report_dir / "row_diffs.csv", index=False
    )
    (report_dir / "parity.json").write_text(
        json.dumps(
            {
                "date": day.isoformat(),
                "run_as_of_ts": run_as_of_ts.isoformat(),
                "ok": ok,
                "live_rows": len(live),
                "gold_rows": len(gold),
                "rows_only_live": len(only_live),
                "rows_only_gold": len(only_gold),
                "columns_differing": diffs["column"].tolist(),
                "ignored_columns": list(PARITY_IGNORED_COLUMNS),
                "seconds": round(time.perf_counter() - t0, 2),
            },
            indent=2,
        )
        + "\n"
    )
    result = ParityResult(ok, len(live), len(gold), only_live, only_gold, diffs, report_dir)
    if not ok:
        what = []
        if len(live) == 0:
            what.append("the live build produced no rows")
        if len(only_live) or len(only_gold):
            what.append(f"{len(only_live)} rows only in live, {len(only_gold)} only in gold")
        if len(diffs):
            what.append("columns differ: " + ", ".join(f"{r.column} ({r.rows_differing} rows)" for r in diffs.itertuples()))
        raise ParityError(f"parity failed for {day}: " + "; ".join(what) + f" (report: {report_dir})")
    return result


def parity_check(cfg, day: date, run_as_of_ts: datetime, *, lock_timeout: float) -> ParityResult:
    """`build_minutes_live --parity-check-date`: ingest what the date needs, then rebuild it live-style and diff
    it against gold, in one writer session of the store."""
    from foundation import settings
    from minutes_live.pipeline.live_build import ingest_snapshots, store_session

    with store_session(cfg, lock_timeout=lock_timeout, what=f"parity {day}") as session:
        ingest_snapshots(cfg, session.db_path, session.data_root)
        return run_parity(day, run_as_of_ts, db_path=session.db_path,
                          out_root=Path(cfg.out_root or settings.features_root(cfg.dataset)))
